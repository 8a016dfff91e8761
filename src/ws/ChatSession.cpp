#include "ws/ChatSession.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <utility>

#include "store/ContactRepository.hpp"
#include "store/MessageRepository.hpp"
#include "store/UserRepository.hpp"

namespace chat::ws {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using proto::ClientFrame;

namespace {

// Frames beyond this are not even drained: the connection is closed with 1009.
constexpr std::size_t kHardCapFactor = 16;
// Reads take what has arrived, this much at a time: small, because an idle connection keeps
// its read buffer; a large frame just takes more reads.
constexpr std::size_t kReadChunk = 2048;
// A buffer grown past this by a large frame is given back once the frame is handled.
constexpr std::size_t kReadBufferKept = 16 * 1024;
// One gathered write: a header and a payload buffer per frame, within the 64 buffers Asio
// hands to one sendmsg; and not much more than a socket buffer's worth of bytes.
constexpr std::size_t kBatchFrames = 31;
constexpr std::size_t kBatchBytes = 256 * 1024;

metrics::InCmd inCmdOf(proto::Cmd cmd) {
    switch (cmd) {
        case proto::Cmd::Heartbeat:
            return metrics::InCmd::Heartbeat;
        case proto::Cmd::Single:
            return metrics::InCmd::Single;
        case proto::Cmd::Group:
            return metrics::InCmd::Group;
        default:
            return metrics::InCmd::Other;
    }
}

}  // namespace

// One page of a device's stream from the history, and where the stream stood then.
struct ChatSession::SyncPage {
    std::uint64_t after = 0;  // the page holds positions after this one
    std::vector<store::StoredMessage> messages;
    std::uint64_t committed = 0;
    bool more = false;  // the stream goes on after this page
};

struct ChatSession::Opening {
    std::vector<std::int64_t> groups;
    SyncPage firstPage;
};

ChatSession::ChatSession(beast::tcp_stream&& stream, auth::Identity identity, std::string client, ChatServices services)
    : Recipient(identity.userId, identity.tokenId),
      ws_(stream.release_socket()),
      services_(services),
      client_(std::move(client)),
      opened_(std::chrono::steady_clock::now()),
      sync_(services_.cfg.maxQueueBytes) {}

ChatSession::~ChatSession() = default;

void ChatSession::start(http::BeastRequest request, std::optional<std::uint64_t> since) {
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = services_.cfg.handshakeTimeout;
    timeouts.idle_timeout = services_.cfg.idleTimeout;
    timeouts.keep_alive_pings = true;  // a ping at half the idle timeout keeps proxies and NATs open
    ws_.set_option(timeouts);
    ws_.read_message_max(kHardCapFactor * services_.cfg.maxFrameBytes);
    ws_.auto_fragment(false);
    // Registered before memberships are loaded, so a join announced meanwhile is not lost;
    // live frames are held from here on until the history has been sent.
    startSync(since);
    registered_ = true;
    services_.hub.add(shared_from_this());
    open(std::make_shared<http::BeastRequest>(std::move(request)));
}

// One database job gets the user's groups and the first page of its stream: the handshake
// completes only once the groups are known, so when the client sees the connection open,
// every message for it, single or group, reaches it.
void ChatSession::open(std::shared_ptr<http::BeastRequest> request) {
    auto self = shared_from_this();
    pageInFlight_ = true;
    std::uint64_t after = 0;
    {
        std::lock_guard lock(queueMutex_);
        after = sync_.last();
    }
    services_.db.run<Opening>(
        [user = userId(), after, recent = std::exchange(syncRecent_, false),
         &cfg = services_.cfg](store::Connection& c) {
            auto memberships = store::ContactRepository(c).memberships(user);
            // Groups and position were read together: in no group then, in none before it.
            auto parts = memberships.groups.empty() ? store::MessageRepository::StreamParts::SinglesOnly
                                                    : store::MessageRepository::StreamParts::All;
            return Opening{std::move(memberships.groups),
                           readSyncPage(c, user, after, recent, cfg, memberships.streamPosition, parts)};
        },
        [self, request](store::Outcome<Opening> r) {
            net::post(self->ws_.get_executor(), [self, request, r = std::move(r)]() mutable {
                std::optional<SyncPage> page;
                if (r.ok()) {
                    page = std::move(r.value->firstPage);
                    // A group message released while the job ran went past this connection
                    // before its groups were known: the history has it, page on.
                    if (self->services_.hub.addGroups(self->userId(), r.value->groups) > page->committed)
                        page->more = true;
                } else {
                    spdlog::warn("ws: could not load the groups and history of user {}", self->userId());
                }
                self->ws_.async_accept(*request, [self, request, page = std::move(page)](beast::error_code ec) mutable {
                    self->onAccept(ec, std::move(page));
                });
            });
        });
}

void ChatSession::onAccept(beast::error_code ec, std::optional<SyncPage> firstPage) {
    if (ec) {
        spdlog::info("ws: handshake with {} failed: {}", client_, ec.message());
        return finish(ec);
    }
    spdlog::info("ws: open user={} from={}", userId(), client_);
    {
        std::lock_guard lock(queueMutex_);
        ws_.next_layer().divert(*this);
        accepted_ = true;
        if (!queue_.empty() && !writing_) {
            writing_ = true;
            net::post(ws_.get_executor(), [self = shared_from_this()] { self->doWrite(); });
        }
    }
    if (firstPage)
        onSyncPage(std::move(*firstPage));
    else
        startClose({websocket::close_code::try_again_later, "service unavailable"});
    doRead();  // also receives the peer's answer to a close
}

// Between messages the read waits with an empty buffer: Beast reads the next frame's header,
// and what arrives of its payload, into the 1.5 KiB buffer inside every stream, so an idle
// connection holds no read buffer of its own (a read into readBuffer_ prepares 1.5 KiB up
// front). The message itself is then read into readBuffer_, starting from Beast's copy.
void ChatSession::doRead() {
    if (!ws_.is_message_done() || readBuffer_.size() != 0) return readMessage();
    // Empty but not null: Beast 1.74's UTF-8 check of an empty range at address 0 reads through it.
    ws_.async_read_some(net::mutable_buffer(this, 0), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec || self->ws_.is_message_done()) return self->onRead(ec);  // an error, or an empty message
        self->readMessage();
    });
}

void ChatSession::readMessage() {
    ws_.async_read_some(readBuffer_, kReadChunk,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
}

void ChatSession::onRead(beast::error_code ec) {
    if (ec) return finish(ec);
    // An oversized frame is drained and dropped in pieces: memory stays bounded and the
    // client gets an error instead of losing its connection.
    if (oversized_ || readBuffer_.size() > services_.cfg.maxFrameBytes) {
        oversized_ = true;
        readBuffer_.clear();
    }
    if (!ws_.is_message_done()) return doRead();
    if (oversized_) {
        oversized_ = false;
        badFrame(413, "frame too large", {});
        return doRead();
    }
    if (!ws_.got_text()) {
        readBuffer_.clear();
        badFrame(400, "frames must be JSON text", {});
        return doRead();
    }
    handleFrame();
}

void ChatSession::handleFrame() {
    auto data = readBuffer_.cdata();
    auto parsed = proto::FrameParser::parse(std::string_view(static_cast<const char*>(data.data()), data.size()));
    readBuffer_.clear();
    if (readBuffer_.capacity() > kReadBufferKept) readBuffer_.shrink_to_fit();
    if (auto* error = std::get_if<proto::FrameError>(&parsed)) {
        services_.metrics.count(metrics::InCmd::Other);
        badFrame(error->code, error->msg, error->cid);
        return doRead();
    }
    auto& frame = std::get<ClientFrame>(parsed);
    services_.metrics.count(inCmdOf(frame.message.cmd));
    switch (frame.message.cmd) {
        case proto::Cmd::Single:
            return checkRecipient(std::move(frame));
        case proto::Cmd::Group:
            if (!services_.hub.isMember(userId(), frame.message.dstid)) {
                reply(proto::MessageCodec::error(403, "not a member of this group", frame.cid));
                return doRead();
            }
            return publish(std::move(frame));
        case proto::Cmd::Sync:
            if (startSync(frame.since))
                fetchSyncPage();
            else
                reply(proto::MessageCodec::error(409, "a sync is already running", frame.cid));
            return doRead();
        case proto::Cmd::Watch: {
            auto state = services_.presence.watch(shared_from_this(), std::move(frame.watch));
            reply(proto::MessageCodec::presence(state.online, state.offline));
            return doRead();
        }
        default:
            return doRead();  // heartbeat: its arrival already reset the idle timer
    }
}

void ChatSession::checkRecipient(ClientFrame frame) {
    auto dst = frame.message.dstid;
    if (services_.knownUsers.contains(dst)) return publish(std::move(frame));
    auto self = shared_from_this();
    services_.db.run<bool>(
        [dst](store::Connection& c) { return store::UserRepository(c).exists(dst); },
        [self, frame = std::move(frame)](store::Outcome<bool> r) mutable {
            net::post(self->ws_.get_executor(), [self, r, frame = std::move(frame)]() mutable {
                if (!r.ok()) {
                    self->reply(proto::MessageCodec::error(503, "service unavailable, try again", frame.cid));
                    return self->doRead();
                }
                if (!*r.value) {
                    self->reply(proto::MessageCodec::error(404, "no such user", frame.cid));
                    return self->doRead();
                }
                self->services_.knownUsers.add(frame.message.dstid);
                self->publish(std::move(frame));
            });
        });
}

void ChatSession::publish(ClientFrame frame) {
    auto& m = frame.message;
    m.id = services_.ids.next();
    m.createat = proto::IdGenerator::unixMsOf(m.id);
    m.userid = userId();
    auto cid = frame.cid;
    auto result = services_.dispatcher.publish(
        m, proto::MessageCodec::encode(m), weak_from_this(), cid,
        [self = shared_from_this(), cid](std::optional<std::uint64_t> pos) {
            net::post(self->ws_.get_executor(),
                      [self, cid, stored = pos.has_value()] { self->onCommitted(stored, cid); });
        });
    switch (result) {
        case hub::PublishResult::Queued:
            ++unacked_;
            break;
        case hub::PublishResult::TooLarge:
            reply(proto::MessageCodec::error(413, "message too large", cid));
            break;
        case hub::PublishResult::Busy:
            reply(proto::MessageCodec::error(503, "service busy, try again", cid));
            break;
    }
    if (unacked_ < services_.cfg.maxUnacked) return doRead();
    readPaused_ = true;  // the next commit resumes reading
}

// The ack itself comes through the stream, in order; only a failure is answered here.
void ChatSession::onCommitted(bool stored, const std::string& cid) {
    --unacked_;
    if (!stored) reply(proto::MessageCodec::error(503, "message not stored, try again", cid));
    resumeReading();
}

void ChatSession::resumeReading() {
    if (!readPaused_ || closing_) return;
    readPaused_ = false;
    doRead();
}

// Live frames are held from here until finishSync(); a device without a position gets the
// recent part of its stream. False if a sync runs already.
bool ChatSession::startSync(std::optional<std::uint64_t> since) {
    std::lock_guard lock(queueMutex_);
    if (sync_.syncing()) return false;
    syncRecent_ = !since || *since == 0;
    sync_.begin(since.value_or(0));
    return true;
}

void ChatSession::resync() {
    {
        std::lock_guard lock(queueMutex_);
        // A running sync pages on to the history's end, across the hole.
        if (stopped_ || sync_.syncing()) return;
        sync_.begin(sync_.last());
    }
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->fetchSyncPage(); });
}

void ChatSession::fetchSyncPage() {
    if (pageInFlight_ || syncWaitsForQueue_ || closing_ || !accepted_) return;
    std::uint64_t after = 0;
    {
        std::lock_guard lock(queueMutex_);
        if (!sync_.syncing()) return;
        after = sync_.last();
    }
    pageInFlight_ = true;
    auto self = shared_from_this();
    services_.db.run<SyncPage>(
        [user = userId(), after, recent = std::exchange(syncRecent_, false),
         &cfg = services_.cfg](store::Connection& c) {
            return readSyncPage(c, user, after, recent, cfg, store::MessageRepository(c).committedPosition(),
                                store::MessageRepository::StreamParts::All);
        },
        [self](store::Outcome<SyncPage> r) {
            net::post(self->ws_.get_executor(), [self, r = std::move(r)]() mutable {
                if (!r.ok()) {
                    // Without the history the device would have a hole: it reconnects later instead.
                    spdlog::warn("ws: could not read the history of user {}", self->userId());
                    return self->startClose({websocket::close_code::try_again_later, "service unavailable"});
                }
                self->onSyncPage(std::move(*r.value));
            });
        });
}

// `committed` was read before: whatever commits later has a larger position.
ChatSession::SyncPage ChatSession::readSyncPage(store::Connection& c, std::int64_t user, std::uint64_t after,
                                                bool recent, const config::Config& cfg, std::uint64_t committed,
                                                store::MessageRepository::StreamParts parts) {
    store::MessageRepository history(c);
    SyncPage page;
    page.committed = committed;
    if (recent && cfg.syncRecent <= cfg.syncPage) {
        // The newest messages are the stream's end: one query, and nothing more to page.
        page.messages = history.recent(user, cfg.syncRecent, parts);
        page.after = page.messages.empty() ? committed : page.messages.front().pos - 1;
        return page;
    }
    page.after = recent ? history.recentStart(user, cfg.syncRecent, parts) : after;
    page.messages = history.streamAfter(user, page.after, cfg.syncPage, parts);
    page.more = page.messages.size() >= cfg.syncPage;
    return page;
}

void ChatSession::onSyncPage(SyncPage page) {
    pageInFlight_ = false;
    if (closing_) return;
    const bool more = page.more;
    {
        std::lock_guard lock(queueMutex_);
        if (stopped_) return;
        sync_.skipTo(page.after);  // a recent-only sync starts there
        for (const auto& m : page.messages) {
            enqueue(std::make_shared<const std::string>(proto::MessageCodec::withPos(m.frame, m.pos)));
            sync_.sent(m.pos);
        }
        if (!more) sync_.reachedEnd(page.committed);
        services_.metrics.syncFrames.fetch_add(page.messages.size(), std::memory_order_relaxed);
        // A long history goes out a page at a time, each once the previous one has drained.
        if (more && queuedBytes_ > services_.cfg.maxQueueBytes / 2) {
            syncWaitsForQueue_ = true;
            return;
        }
    }
    if (more) return fetchSyncPage();
    finishSync();
}

void ChatSession::finishSync() {
    std::lock_guard lock(queueMutex_);
    auto held = sync_.finish();
    if (!held) {
        // Live frames overflowed the hold while paging: the history has them, page on.
        net::post(ws_.get_executor(), [self = shared_from_this()] { self->fetchSyncPage(); });
        return;
    }
    enqueue(std::make_shared<const std::string>(proto::MessageCodec::syncEnd(sync_.last())));
    for (auto& frame : *held) enqueue(std::move(frame));
}

void ChatSession::badFrame(int code, const std::string& msg, const std::string& cid) {
    services_.metrics.count(metrics::ErrorKind::BadFrame);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(badFrames_, [&](auto t) { return now - t > services_.cfg.badFramesWindow; });
    badFrames_.push_back(now);
    if (badFrames_.size() > services_.cfg.badFramesMax) {
        spdlog::warn("ws: user={} from={} sent too many invalid frames", userId(), client_);
        return startClose({websocket::close_code::policy_error, "too many invalid frames"});
    }
    reply(proto::MessageCodec::error(code, msg, cid));
}

void ChatSession::reply(std::string text) {
    queueLive(std::make_shared<const std::string>(std::move(text)), 0, false);
}

void ChatSession::deliver(const hub::SharedFrame& frame, std::uint64_t pos) {
    queueLive(frame, pos, false);
}

void ChatSession::acknowledge(const hub::SharedFrame& ack, std::uint64_t pos) {
    queueLive(ack, pos, true);
}

void ChatSession::queueLive(const hub::SharedFrame& frame, std::uint64_t pos, bool ack) {
    {
        std::lock_guard lock(queueMutex_);
        if (stopped_) return;
        if (sync_.live(frame, pos, ack) != StreamSync::Live::Send) return;
        if (queuedBytes_ + frame->size() <= services_.cfg.maxQueueBytes) return enqueue(frame);
        stopped_ = true;
    }
    services_.metrics.slowConsumerDisconnects.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("ws: user={} from={} is a slow consumer, closing", userId(), client_);
    close(hub::CloseCode::PolicyViolation, "slow consumer");
}

void ChatSession::enqueue(hub::SharedFrame frame) {
    queuedBytes_ += frame->size();
    queue_.push(std::move(frame));
    if (writing_ || !accepted_) return;
    writing_ = true;
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->doWrite(); });
}

void ChatSession::doWrite() {
    bool control = control_ != nullptr;
    std::size_t frames = 0;
    {
        std::lock_guard lock(queueMutex_);
        if (control) batch_.push_back(net::buffer(control_->frame));
        if (gatherBatch()) frames = batchHeaders_.size();
        if (!control && frames == 0) {
            writing_ = false;
            releaseBatch();
            return;
        }
    }
    net::async_write(beast::get_lowest_layer(ws_), batch_,
                     net::bind_executor(ws_.get_executor(), [self = shared_from_this(), frames, control](
                                                                beast::error_code ec, std::size_t) {
                         self->onWrite(ec, frames, control);
                     }));
}

// Takes the frames at the head of the queue, up to what one sendmsg carries; they stay queued
// (and their bytes alive) until written.
bool ChatSession::gatherBatch() {
    if (closing_ || closeSent_ || queue_.empty()) return false;
    const std::size_t frames = std::min(queue_.size(), kBatchFrames);
    batchHeaders_.reserve(frames);
    batch_.reserve(batch_.size() + 2 * frames);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < frames && bytes < kBatchBytes; ++i) {
        const auto& payload = *queue_.at(i);
        batchHeaders_.push_back(FrameHeader::text(payload.size()));
        batch_.push_back(net::buffer(batchHeaders_.back().data(), batchHeaders_.back().size()));
        batch_.push_back(net::buffer(payload));
        bytes += payload.size();
    }
    return true;
}

void ChatSession::onWrite(beast::error_code ec, std::size_t frames, bool control) {
    bool nextSyncPage = false;
    {
        std::lock_guard lock(queueMutex_);
        for (std::size_t i = 0; i < frames; ++i) {
            queuedBytes_ -= queue_.front()->size();
            queue_.pop();
        }
        if (syncWaitsForQueue_ && queuedBytes_ <= services_.cfg.maxQueueBytes / 4) {
            syncWaitsForQueue_ = false;
            nextSyncPage = true;
        }
    }
    batch_.clear();
    batchHeaders_.clear();
    if (control) {
        // Beast may write its next frame from inside this call: it then waits for the next batch.
        auto done = std::move(control_->done);
        control_.reset();
        done(ec);
    }
    if (!ec) {
        services_.metrics.socketWrites.fetch_add(1, std::memory_order_relaxed);
        services_.metrics.framesWritten.fetch_add(frames, std::memory_order_relaxed);
    }
    if (nextSyncPage && !ec) fetchSyncPage();
    if (ec) {
        writeError_ = ec;
        if (control_) net::post(ws_.get_executor(), [done = std::move(control_->done), ec] { done(ec); });
        control_.reset();
        std::lock_guard lock(queueMutex_);
        writing_ = false;
        stopped_ = true;
        releaseBatch();
        return;  // the read side notices the broken connection and finishes
    }
    doWrite();
}

// An idle connection keeps no batch memory.
void ChatSession::releaseBatch() {
    batch_ = {};
    batchHeaders_ = {};
}

void ChatSession::sendControl(std::string frame, std::function<void(beast::error_code)> done) {
    if (writeError_) {
        net::post(ws_.get_executor(), [done = std::move(done), ec = writeError_] { done(ec); });
        return;
    }
    // The frame's opcode: after a close frame the connection carries nothing else of ours.
    if (!frame.empty() && (static_cast<unsigned char>(frame[0]) & 0x0f) == 0x8) closeSent_ = true;
    control_ = std::make_unique<Control>(Control{std::move(frame), std::move(done)});
    {
        std::lock_guard lock(queueMutex_);
        if (writing_) return;  // the write in flight is followed by this frame
        writing_ = true;
    }
    doWrite();
}

void ChatSession::close(hub::CloseCode code, std::string_view reason) {
    net::dispatch(ws_.get_executor(), [self = shared_from_this(), code, reason = std::string(reason)] {
        self->startClose({static_cast<websocket::close_code>(code), reason});
    });
}

void ChatSession::startClose(websocket::close_reason reason) {
    if (closing_) return;
    closing_ = true;
    {
        std::lock_guard lock(queueMutex_);
        stopped_ = true;
    }
    if (!accepted_) {  // still loading groups: there is no WebSocket to close yet
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).close(ignored);
        return;
    }
    // A peer that never answers the close (or never reads) loses its socket after the deadline.
    closeTimer_ = std::make_unique<net::steady_timer>(ws_.get_executor(), services_.cfg.closeTimeout);
    closeTimer_->async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).close(ignored);
    });
    ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {});
}

void ChatSession::finish(beast::error_code ec) {
    if (closeTimer_) closeTimer_->cancel();
    {
        std::lock_guard lock(queueMutex_);
        stopped_ = true;
    }
    if (!registered_) return;
    registered_ = false;
    services_.hub.remove(*this);
    services_.presence.unwatch(*this);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - opened_).count();
    auto how = ec == websocket::error::closed ? "close " + std::to_string(ws_.reason().code) : ec.message();
    spdlog::info("ws: closed user={} from={} after {}s ({})", userId(), client_, seconds, how);
}

}  // namespace chat::ws
