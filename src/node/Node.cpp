#include "node/Node.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

namespace chat::node {

namespace net = boost::asio;

namespace {

auth::LoginLimiter::Limits limitsOf(const config::Config& c) {
    auth::LoginLimiter::Limits l;
    l.perMobile = c.loginFailuresPerMobile;
    l.mobileWindow = c.loginMobileWindow;
    l.perAddress = c.loginFailuresPerAddress;
    l.addressWindow = c.loginAddressWindow;
    return l;
}

unsigned threadCount(const config::Config& c) {
    return c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Node::Node(const config::Config& cfg)
    : cfg_(cfg),
      db_(cfg, metrics_),
      auth_(db_, cfg.tokenCacheTtl),
      limiter_(limitsOf(cfg)),
      hasher_(cfg.pbkdf2Iterations),
      ids_(cfg.nodeId),
      hub_(metrics_),
      bus_(io_, cfg, metrics_),
      dispatcher_(cfg.busMaxMessage, hub_, bus_, metrics_),
      apiContext_{cfg,         db_,      auth_,
                  limiter_,    hasher_,  dispatcher_,
                  knownUsers_, metrics_, [this](std::function<void()> job) { net::post(files_, std::move(job)); }},
      userApi_(apiContext_),
      contactApi_(apiContext_),
      attachApi_(apiContext_),
      adminApi_(metrics_, db_, bus_),
      chatEndpoint_(ws::ChatServices{cfg, hub_, dispatcher_, knownUsers_, ids_, db_, auth_, metrics_}),
      assets_(cfg.assetDir, "/asset/"),
      uploads_(cfg.uploadDir, "/mnt/"),
      web_(cfg.webDir, "/web/"),
      signals_(io_, SIGINT, SIGTERM),
      shutdownTimer_(io_) {
    dispatcher_.onRevoke([this](std::int64_t tokenId) { auth_.forget(tokenId); });
}

Node::~Node() {
    files_.join();
    db_.stop();
}

void Node::installRoutes() {
    userApi_.install(publicRouter_);
    contactApi_.install(publicRouter_);
    attachApi_.install(publicRouter_);
    publicRouter_.addPrefix("GET", "/asset/", assets_.handler());
    publicRouter_.addPrefix("GET", "/mnt/", uploads_.handler());
    publicRouter_.addPrefix("GET", "/web/", web_.handler());
    auto chatPage = http::StaticFiles::file(cfg_.viewDir / "chat.html");
    publicRouter_.add("GET", "/", chatPage);
    publicRouter_.add("GET", "/chat", chatPage);
    publicRouter_.add("GET", "/chat/index.shtml", chatPage);
    publicRouter_.add("GET", "/user/login.shtml", http::StaticFiles::file(cfg_.viewDir / "login.html"));
    publicRouter_.add("GET", "/user/register.shtml", http::StaticFiles::file(cfg_.viewDir / "register.html"));
    adminApi_.install(adminRouter_);
}

void Node::openListeners() {
    public_ = std::make_shared<http::Listener>(
        io_, http::SessionContext{cfg_, publicRouter_, &chatEndpoint_, metrics_, "public"});
    admin_ =
        std::make_shared<http::Listener>(io_, http::SessionContext{cfg_, adminRouter_, nullptr, metrics_, "admin"});
    public_->open(cfg_.listen);
    admin_->open(cfg_.adminListen);
    public_->run();
    admin_->run();
}

int Node::run() {
    spdlog::info("node {}: starting", cfg_.nodeId);
    installRoutes();
    bus_.open();
    openListeners();
    db_.start();
    bus_.start([this](const proto::DatagramHeader& h, std::string_view payload) { dispatcher_.receive(h, payload); },
               [this](std::uint64_t lost) { dispatcher_.lost(lost); });
    awaitSignal();

    std::vector<std::thread> threads;
    auto n = threadCount(cfg_);
    for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { io_.run(); });
    spdlog::info("node {}: ready with {} network threads", cfg_.nodeId, n);
    io_.run();
    for (auto& t : threads) t.join();
    files_.join();
    db_.stop();
    spdlog::info("node {}: stopped", cfg_.nodeId);
    return 0;
}

void Node::awaitSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("node {}: signal {} received, shutting down", cfg_.nodeId, signal);
        shutdown();
    });
}

void Node::shutdown() {
    public_->stop();
    admin_->stop();
    hub_.closeAll(hub::CloseCode::GoingAway, "server shutting down");
    waitForSessions(std::chrono::steady_clock::now() + cfg_.shutdownTimeout);
}

// Sessions finish their close handshakes on the network threads; the bus and the loop
// stop once they are gone or the deadline passes.
void Node::waitForSessions(std::chrono::steady_clock::time_point deadline) {
    if (hub_.connectionCount() > 0 && std::chrono::steady_clock::now() < deadline) {
        shutdownTimer_.expires_after(std::chrono::milliseconds(20));
        shutdownTimer_.async_wait([this, deadline](const boost::system::error_code&) { waitForSessions(deadline); });
        return;
    }
    if (auto left = hub_.connectionCount())
        spdlog::warn("node {}: {} connections did not close in time", cfg_.nodeId, left);
    bus_.stop();
    io_.stop();
}

}  // namespace chat::node
