// Accepts TCP connections on one address and starts an HttpSession for each, on its own
// strand. The public and the admin address each have a Listener with their own Router.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "config/Config.hpp"
#include "http/BodyBudget.hpp"
#include "http/Router.hpp"
#include "http/UpgradeHandler.hpp"
#include "metrics/Metrics.hpp"

namespace chat::http {

struct SessionContext {
    const config::Config& cfg;
    const Router& router;
    UpgradeHandler* upgrader;  // null: upgrades are refused
    metrics::Metrics& metrics;
    const char* name;    // "public" or "admin", for logs
    BodyBudget& bodies;  // request bodies held at once, across listeners
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(boost::asio::io_context& io, SessionContext context);
    // Binds and listens; throws std::runtime_error with a readable reason.
    void open(const config::Endpoint& endpoint);
    void run();
    void stop();
    boost::asio::ip::tcp::endpoint localEndpoint() const;

private:
    void doAccept();

    boost::asio::io_context& io_;
    SessionContext context_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retryTimer_;
};

}  // namespace chat::http
