// One HTTP connection: reads requests (header first, so oversized bodies are refused
// before they are read), hands them to the Router, writes the answers, and passes
// WebSocket upgrades on. Every read and write runs under a deadline.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "http/Listener.hpp"
#include "http/Request.hpp"

namespace chat::http {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, SessionContext context);
    void run();

private:
    using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
    using FileSerializer = boost::beast::http::response_serializer<boost::beast::http::file_body>;

    void doReadHeader();
    void onHeader(boost::beast::error_code ec);
    void doReadBody();
    void readBodySome();
    void onBody(boost::beast::error_code ec);
    bool takeBodyShare(std::size_t limit);
    void dispatch();
    void refuse(int status, const char* msg);
    void write(Response response);
    void writeFileSome(const std::shared_ptr<FileSerializer>& sr, bool keepAlive);
    void onWrite(boost::beast::error_code ec, bool keepAlive);
    void lingeringClose();
    void doDrain();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    SessionContext context_;
    std::optional<Parser> parser_;
    std::string peer_;
    std::string client_;
    std::string method_, path_;
    bool closeAfterWrite_ = false;
    std::shared_ptr<void> pending_;               // the response being written
    std::optional<BodyBudget::Share> bodyShare_;  // the request body's share, until answered
    std::shared_ptr<std::array<char, 16384>> drain_;
    std::size_t drained_ = 0;
};

}  // namespace chat::http
