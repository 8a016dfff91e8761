// A whole chat node: builds every part from the Config, wires them together, runs the
// network threads until SIGTERM/SIGINT, then shuts down in order (stop accepting, close
// sessions with 1001, stop the bus, drain the database pool).
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>

#include "api/AdminApi.hpp"
#include "api/AttachApi.hpp"
#include "api/ContactApi.hpp"
#include "api/MessageApi.hpp"
#include "api/UserApi.hpp"
#include "auth/Authenticator.hpp"
#include "auth/LoginLimiter.hpp"
#include "auth/PasswordHasher.hpp"
#include "auth/RegistrationThrottle.hpp"
#include "bus/UdpBus.hpp"
#include "config/Config.hpp"
#include "http/Listener.hpp"
#include "http/Router.hpp"
#include "http/StaticFiles.hpp"
#include "hub/Dispatcher.hpp"
#include "hub/Hub.hpp"
#include "hub/KnownUsers.hpp"
#include "metrics/Metrics.hpp"
#include "proto/IdGenerator.hpp"
#include "store/Database.hpp"
#include "store/MessageWriter.hpp"
#include "ws/ChatEndpoint.hpp"

namespace chat::node {

class Node {
public:
    explicit Node(const config::Config& cfg);
    ~Node();
    // Blocks until the node has shut down; returns the process exit code.
    int run();

private:
    void installRoutes();
    void openListeners();
    void awaitSignal();
    void shutdown();
    void waitForSessions(std::chrono::steady_clock::time_point deadline);
    bool journal(const proto::ChatMessage& m, const std::string& frame, hub::Dispatcher::Committed done);
    void fetchStream(std::uint64_t first, std::uint64_t last);
    void pollStream();
    void tickPresence(std::chrono::steady_clock::time_point lastWhole);
    void tickStream();
    void runRetention();

    const config::Config& cfg_;
    boost::asio::io_context io_;
    metrics::Metrics metrics_;
    store::Database db_;
    auth::Authenticator auth_;
    auth::LoginLimiter limiter_;
    auth::RegistrationThrottle registrations_;
    auth::PasswordHasher hasher_;
    proto::IdGenerator ids_;
    hub::KnownUsers knownUsers_;
    hub::Presence presence_;
    hub::Hub hub_;
    bus::UdpBus bus_;
    store::MessageWriter writer_;
    hub::Dispatcher dispatcher_;
    boost::asio::thread_pool files_{1};
    api::ApiContext apiContext_;
    api::UserApi userApi_;
    api::ContactApi contactApi_;
    api::MessageApi messageApi_;
    api::AttachApi attachApi_;
    api::AdminApi adminApi_;
    ws::ChatEndpoint chatEndpoint_;
    http::StaticFiles assets_, uploads_, web_;
    http::Router publicRouter_, adminRouter_;
    http::BodyBudget bodies_;
    std::shared_ptr<http::Listener> public_, admin_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer shutdownTimer_;
    boost::asio::steady_timer streamTimer_;
    boost::asio::steady_timer pollTimer_;
    boost::asio::steady_timer presenceTimer_;
    boost::asio::steady_timer retentionTimer_;
};

}  // namespace chat::node
