// The server's side of the WebSocket opening handshake (RFC 6455, section 4.2.2), for a
// request the HTTP session already found to be an upgrade: the 101 answer when the key and
// version are right, else the refusal to send instead.
#pragma once
#include <string>
#include <string_view>

#include "http/UpgradeHandler.hpp"

namespace chat::ws {

class Handshake {
public:
    explicit Handshake(const http::BeastRequest& request);

    bool accepted() const { return accepted_; }
    // The bytes to send: "101 Switching Protocols", or a 400 / 426 refusal that closes.
    const std::string& response() const { return response_; }

    // base64(SHA-1(key + the RFC's GUID)), the Sec-WebSocket-Accept value for `key`.
    static std::string acceptKey(std::string_view key);

private:
    bool accepted_ = false;
    std::string response_;
};

}  // namespace chat::ws
