#include "node/Node.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "store/DbError.hpp"
#include "store/MessageRepository.hpp"
#include "store/RunRegistry.hpp"

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

auth::RegistrationThrottle::Limits registrationLimitsOf(const config::Config& c) {
    auth::RegistrationThrottle::Limits l;
    l.perAddress = c.registrationsPerAddress;
    l.window = c.registrationWindow;
    return l;
}

unsigned threadCount(const config::Config& c) {
    return c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
}

store::MessageWriter::Limits writerLimitsOf(const config::Config& c) {
    store::MessageWriter::Limits l;
    l.batchMax = c.historyBatch;
    l.queueMax = c.historyQueueMax;
    return l;
}

hub::Dispatcher::Limits dispatchLimitsOf(const config::Config& c) {
    hub::Dispatcher::Limits l;
    l.maxMessage = c.busMaxMessage;
    l.stream.maxHeld = c.streamMaxHeld;
    l.stream.holeWait = c.streamHoleWait;
    l.stream.holeTimeout = c.streamHoleTimeout;
    return l;
}

store::NewMessage newMessageOf(const proto::ChatMessage& m, const std::string& frame) {
    store::NewMessage n;
    n.id = m.id;
    n.sender = m.userid;
    n.kind = m.cmd == proto::Cmd::Group ? store::ConversationKind::Group : store::ConversationKind::Single;
    n.target = m.dstid;
    n.media = static_cast<int>(m.media);
    n.createat = m.createat;
    n.frame = frame;
    return n;
}

// The history between two positions, as the stream orderer takes it: messages and joins.
std::vector<hub::StreamEntry> streamEntries(store::MessageRepository& history, std::uint64_t first,
                                            std::uint64_t last) {
    std::vector<hub::StreamEntry> out;
    for (auto& m : history.range(first, last)) {
        hub::StreamEntry e;
        e.pos = m.pos;
        e.targetKind = m.kind == store::ConversationKind::Group ? proto::TargetKind::Group : proto::TargetKind::User;
        e.target = m.target;
        e.sender = m.sender;
        e.frame = std::move(m.frame);
        out.push_back(std::move(e));
    }
    for (const auto& j : history.joinsIn(first, last)) {
        hub::StreamEntry e;
        e.pos = j.pos;
        e.event = hub::StreamEvent::Join;
        e.targetKind = proto::TargetKind::Group;
        e.target = j.group;
        e.sender = j.user;
        out.push_back(std::move(e));
    }
    return out;
}

// How often the stream looks for holes to fetch or give up (a fraction of stream-hole-wait).
constexpr auto kStreamTick = std::chrono::milliseconds(20);
// Retention deletes in slices, so one run never holds the table for long.
constexpr std::size_t kRetentionSlice = 10000;

// MariaDB numbers each start past every earlier one; without it, the clock must do.
std::uint64_t incarnationOf(const config::Config& cfg) {
    const auto clock = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    try {
        store::Connection connection(cfg.mysql, cfg.dbTimeout);
        return store::RunRegistry(connection).next(cfg.nodeId, clock);
    } catch (const store::DbError& e) {
        spdlog::warn("node {}: MariaDB did not number this start ({}); the clock does", cfg.nodeId, e.what());
        return clock;
    }
}

}  // namespace

Node::Node(const config::Config& cfg)
    : cfg_(cfg),
      db_(cfg, metrics_),
      auth_(db_, cfg.tokenCacheTtl),
      limiter_(limitsOf(cfg)),
      registrations_(registrationLimitsOf(cfg)),
      hasher_(cfg.pbkdf2Iterations),
      ids_(cfg.nodeId, cfg.clockOffsetMs),
      presence_(cfg.nodeId),
      hub_(metrics_, &presence_),
      bus_(cfg, metrics_, incarnationOf(cfg)),
      writer_(writerLimitsOf(cfg), cfg.mysql, cfg.dbTimeout, metrics_),
      dispatcher_(
          dispatchLimitsOf(cfg), hub_, presence_, bus_,
          [this](const proto::ChatMessage& m, const std::string& frame, hub::Dispatcher::Committed done) {
              return journal(m, frame, std::move(done));
          },
          [this](std::uint64_t first, std::uint64_t last) { fetchStream(first, last); }, metrics_),
      apiContext_{cfg,
                  db_,
                  auth_,
                  limiter_,
                  registrations_,
                  hasher_,
                  dispatcher_,
                  knownUsers_,
                  metrics_,
                  [this](std::function<void()> job) { net::post(files_, std::move(job)); }},
      userApi_(apiContext_),
      contactApi_(apiContext_),
      messageApi_(apiContext_),
      attachApi_(apiContext_),
      adminApi_(metrics_, db_, bus_),
      chatEndpoint_(ws::ChatServices{cfg, hub_, dispatcher_, presence_, knownUsers_, ids_, db_, auth_, metrics_}),
      assets_(cfg.assetDir, "/asset/"),
      uploads_(cfg.uploadDir, "/mnt/"),
      web_(cfg.webDir, "/web/"),
      bodies_(cfg.maxBodyMemory, &metrics_.bodyBytesHeld),
      signals_(io_, SIGINT, SIGTERM),
      shutdownTimer_(io_),
      streamTimer_(io_),
      pollTimer_(io_),
      presenceTimer_(io_),
      retentionTimer_(io_) {
    dispatcher_.onRevoke([this](std::int64_t tokenId) { auth_.forget(tokenId); });
    writer_.onBatchAnswered([this] { dispatcher_.flushCommitted(); });
}

// The bus's thread delivers into the dispatcher and the hub, so it ends before they do (after a
// normal shutdown it has already).
Node::~Node() {
    bus_.stop();
    files_.join();
    writer_.stop();
    db_.stop();
}

void Node::installRoutes() {
    userApi_.install(publicRouter_);
    contactApi_.install(publicRouter_);
    messageApi_.install(publicRouter_);
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
        io_, http::SessionContext{cfg_, publicRouter_, &chatEndpoint_, metrics_, "public", bodies_});
    admin_ = std::make_shared<http::Listener>(
        io_, http::SessionContext{cfg_, adminRouter_, nullptr, metrics_, "admin", bodies_});
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
    writer_.start();
    // What the bus cannot recover, the stream fetches from the history: no loss sink.
    bus_.start([this](const proto::DatagramHeader& h, std::string_view payload) { dispatcher_.receive(h, payload); },
               nullptr, [this](std::uint32_t node, bool present) { dispatcher_.peerChanged(node, present); });
    pollStream();
    tickStream();
    tickPresence(std::chrono::steady_clock::now());
    runRetention();
    awaitSignal();

    // Named, so that top -H, perf and a debugger tell the node's threads apart.
    net::post(files_, [] { ::pthread_setname_np(::pthread_self(), "chat-files"); });
    std::vector<std::thread> threads;
    auto n = threadCount(cfg_);
    for (unsigned i = 1; i < n; ++i)
        threads.emplace_back([this] {
            ::pthread_setname_np(::pthread_self(), "chat-io");
            io_.run();
        });
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
    // Messages already queued are committed and broadcast before the bus closes.
    writer_.stop();
    bus_.stop();
    io_.stop();
}

bool Node::journal(const proto::ChatMessage& m, const std::string& frame, hub::Dispatcher::Committed done) {
    return writer_.append(newMessageOf(m, frame), std::move(done));
}

void Node::fetchStream(std::uint64_t first, std::uint64_t last) {
    db_.run<std::vector<hub::StreamEntry>>(
        [first, last](store::Connection& c) {
            store::MessageRepository history(c);
            return streamEntries(history, first, last);
        },
        [this, first, last](store::Outcome<std::vector<hub::StreamEntry>> r) {
            if (r.ok()) metrics_.streamFetched.fetch_add(last - first + 1, std::memory_order_relaxed);
            dispatcher_.filled(first, last, r.ok() ? std::move(*r.value) : std::vector<hub::StreamEntry>{}, r.ok());
        });
}

// The history's latest position: the first answer anchors the stream (until then every
// message is held back), later ones reveal positions that never came over the bus.
void Node::pollStream() {
    db_.run<std::uint64_t>([](store::Connection& c) { return store::MessageRepository(c).committedPosition(); },
                           [this](store::Outcome<std::uint64_t> r) {
                               if (!r.ok()) return;
                               if (dispatcher_.nextPosition() == 0)
                                   spdlog::info("node {}: the stream starts after position {}", cfg_.nodeId, *r.value);
                               dispatcher_.anchor(*r.value);
                               dispatcher_.noteCommitted(*r.value);
                           });
    pollTimer_.expires_after(cfg_.streamPoll);
    pollTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) pollStream();
    });
}

void Node::tickStream() {
    dispatcher_.tick(std::chrono::steady_clock::now());
    streamTimer_.expires_after(kStreamTick);
    streamTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tickStream();
    });
}

// Presence changes go out in batches; the whole list now and then repairs what a lost
// announcement (or a node that joined unheard) left wrong.
void Node::tickPresence(std::chrono::steady_clock::time_point lastWhole) {
    dispatcher_.announcePresence();
    auto now = std::chrono::steady_clock::now();
    if (now - lastWhole >= cfg_.presenceRefresh) {
        dispatcher_.announceWholePresence();
        lastWhole = now;
    }
    presenceTimer_.expires_after(cfg_.presenceInterval);
    presenceTimer_.async_wait([this, lastWhole](const boost::system::error_code& ec) {
        if (!ec) tickPresence(lastWhole);
    });
}

void Node::runRetention() {
    if (cfg_.retentionDays > 0 || cfg_.retentionCount > 0) {
        auto cutoffMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch() -
                            std::chrono::hours(24) * static_cast<int>(cfg_.retentionDays))
                            .count();
        db_.run<std::uint64_t>(
            [days = cfg_.retentionDays, keep = cfg_.retentionCount, cutoffMs](store::Connection& c) {
                store::MessageRepository history(c);
                std::uint64_t removed = 0;
                if (days > 0) removed += history.deleteOlderThan(cutoffMs, kRetentionSlice);
                if (keep > 0) removed += history.deleteBeyondNewest(keep, kRetentionSlice);
                return removed;
            },
            [](store::Outcome<std::uint64_t> r) {
                if (r.ok() && *r.value > 0) spdlog::info("history: retention removed {} messages", *r.value);
            });
    }
    retentionTimer_.expires_after(cfg_.retentionInterval);
    retentionTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) runRetention();
    });
}

}  // namespace chat::node
