#include "http/Listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>

#include "http/HttpSession.hpp"

namespace chat::http {

namespace net = boost::asio;
using net::ip::tcp;

Listener::Listener(net::io_context& io, SessionContext context)
    : io_(io), context_(context), acceptor_(net::make_strand(io)), retryTimer_(acceptor_.get_executor()) {}

void Listener::open(const config::Endpoint& endpoint) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(endpoint.host, ec);
    if (ec)
        throw std::runtime_error(std::string(context_.name) + " address '" + endpoint.host + "' is not an IP address");
    tcp::endpoint ep(address, endpoint.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep, ec);
    if (ec) throw std::runtime_error("cannot listen on " + endpoint.str() + ": " + ec.message());
    acceptor_.listen(net::socket_base::max_listen_connections);
    spdlog::info("{}: listening on {}:{}", context_.name, localEndpoint().address().to_string(),
                 localEndpoint().port());
}

tcp::endpoint Listener::localEndpoint() const {
    return acceptor_.local_endpoint();
}

void Listener::run() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->doAccept(); });
}

void Listener::stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
        self->retryTimer_.cancel();
    });
}

void Listener::doAccept() {
    acceptor_.async_accept(
        net::make_strand(io_), [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
            if (ec) {
                // Out of file descriptors and the like: retrying at once would spin, so pause.
                spdlog::warn("{}: accept failed: {}", self->context_.name, ec.message());
                self->retryTimer_.expires_after(std::chrono::milliseconds(100));
                self->retryTimer_.async_wait([self](boost::system::error_code) { self->doAccept(); });
                return;
            }
            // Frames are gathered into whole writes already; Nagle's algorithm would only hold a
            // small one back until the previous is acknowledged (up to a delayed-ACK period).
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<HttpSession>(std::move(socket), self->context_)->run();
            self->doAccept();
        });
}

}  // namespace chat::http
