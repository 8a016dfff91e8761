// Where an HTTP session hands a WebSocket upgrade request, with its socket. Implemented
// by ws::ChatEndpoint; the admin listener has none and refuses upgrades.
#pragma once
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace chat::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

class UpgradeHandler {
public:
    virtual ~UpgradeHandler() = default;
    virtual void upgrade(boost::beast::tcp_stream stream, BeastRequest request, std::string clientAddress) = 0;
};

}  // namespace chat::http
