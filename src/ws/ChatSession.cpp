#include "ws/ChatSession.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <utility>

#include "store/ContactRepository.hpp"
#include "store/MessageRepository.hpp"
#include "store/UserRepository.hpp"
#include "ws/Handshake.hpp"

namespace chat::ws {

namespace beast = boost::beast;
namespace net = boost::asio;
using boost::system::error_code;
using Event = FrameReader::Event;
using proto::ClientFrame;

namespace {

// Frames beyond this are not even drained: the connection is closed with 1009.
constexpr std::size_t kHardCapFactor = 16;
// Reads take what has arrived, this much at a time; the buffer lives only while it is parsed.
constexpr std::size_t kReadChunk = 16 * 1024;
// Close codes of ours (RFC 6455 section 7.4).
constexpr std::uint16_t kPolicyViolation = 1008;
constexpr std::uint16_t kTryAgainLater = 1013;
// One gathered write: a header and a payload buffer per frame, within the 64 buffers Asio
// hands to one sendmsg; and not much more than a socket buffer's worth of bytes.
constexpr std::size_t kBatchFrames = 31;
constexpr std::size_t kBatchBytes = 256 * 1024;
// Batches written in a row before the strand's other handlers run.
constexpr int kWritesInARow = 8;

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

// A sync's share of the queue bound: its history pages fill at most this much, and the live
// frames held meanwhile the other half, so catching up never looks like a slow consumer.
std::size_t syncShare(const config::Config& cfg) {
    return cfg.maxQueueBytes / 2;
}

std::string controlFrame(unsigned char opcode, std::string_view payload) {
    auto header = FrameHeader::of(opcode, payload.size());
    std::string frame(reinterpret_cast<const char*>(header.data()), header.size());
    frame.append(payload);
    return frame;
}

}  // namespace

// One page of a device's stream from the history, and where the stream stood then.
struct ChatSession::SyncPage {
    std::uint64_t after = 0;  // the page holds positions after this one
    std::vector<store::StoredMessage> messages;
    std::uint64_t committed = 0;
    bool more = false;  // the stream goes on after this page

    // The stream's newest messages: its end, so nothing more to page.
    static SyncPage newest(std::vector<store::StoredMessage> messages, std::uint64_t committed) {
        const auto after = messages.empty() ? committed : messages.front().pos - 1;
        return {after, std::move(messages), committed, false};
    }
    // Up to `limit` messages after a position: a full page may have more behind it.
    static SyncPage following(std::uint64_t after, std::vector<store::StoredMessage> messages, std::size_t limit,
                              std::uint64_t committed) {
        const bool more = messages.size() >= limit;
        return {after, std::move(messages), committed, more};
    }
};

struct ChatSession::Opening {
    std::vector<std::int64_t> groups;
    SyncPage firstPage;
};

ChatSession::ChatSession(beast::tcp_stream&& stream, auth::Identity identity, std::string client, ChatServices services)
    : Recipient(identity.userId, identity.tokenId),
      socket_(stream.release_socket()),
      timer_(socket_.get_executor()),
      reader_(services.cfg.maxFrameBytes, kHardCapFactor * services.cfg.maxFrameBytes),
      services_(services),
      client_(std::move(client)),
      opened_(std::chrono::steady_clock::now()),
      sync_(syncShare(services_.cfg)) {}

ChatSession::~ChatSession() = default;

void ChatSession::start(http::BeastRequest request, std::optional<std::uint64_t> since) {
    error_code ec;
    socket_.non_blocking(true, ec);  // reads take what has arrived after a readiness wait
    Handshake handshake(request);
    if (ec || !handshake.accepted()) {
        spdlog::info("ws: bad upgrade request from {}", client_);
        closeQueued_ = closeAfterWrite_ = true;  // the refusal is the last thing sent
        return sendRaw(handshake.response());
    }
    // Registered before memberships are loaded, so a join announced meanwhile is not lost;
    // live frames are held from here on until the history has been sent.
    startSync(since);
    registered_ = true;
    services_.hub.add(shared_from_this());
    open(handshake.response());
}

// One database job gets the user's groups and the first page of its stream: the handshake
// completes only once the groups are known, so when the client sees the connection open,
// every message for it, single or group, reaches it.
void ChatSession::open(std::string handshake) {
    auto self = shared_from_this();
    pageInFlight_ = true;
    std::uint64_t after = 0;
    {
        std::lock_guard lock(queueMutex_);
        after = sync_.last();
    }
    services_.db.run<Opening>(
        [user = userId(), after, recent = std::exchange(syncRecent_, false),
         &cfg = services_.cfg](store::Connection& c) { return readOpening(c, user, after, recent, cfg); },
        [self, handshake = std::move(handshake)](store::Outcome<Opening> r) mutable {
            net::post(self->socket_.get_executor(),
                      [self, handshake = std::move(handshake), r = std::move(r)]() mutable {
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
                          self->onOpened(std::move(handshake), std::move(page));
                      });
        });
}

// The 101 answer goes first, then whatever was queued meanwhile; no page means the history
// was unreachable: the connection opens and closes at once with 1013.
void ChatSession::onOpened(std::string handshake, std::optional<SyncPage> firstPage) {
    if (closing_ || !socket_.is_open()) return finish(net::error::operation_aborted);
    spdlog::info("ws: open user={} from={}", userId(), client_);
    // The 101 answer and what the first page queues leave together, in one write.
    bool idle = false;
    {
        std::lock_guard lock(queueMutex_);
        accepted_ = true;
        idle = !std::exchange(writing_, true);
    }
    control_.append(handshake);
    lastHeard_ = std::chrono::steady_clock::now();
    armTimer();
    if (firstPage) {
        onSyncPage(std::move(*firstPage));
    } else {
        startClose(kTryAgainLater, "service unavailable");
    }
    if (idle) doWrite();
    doRead();  // also receives the peer's answer to a close
}

// Between messages nothing is held: the read waits for the socket to be readable, then takes
// what has arrived into a buffer that lives until it is parsed.
void ChatSession::doRead() {
    if (inboxPos_ < inbox_.size()) {
        // Bytes of the last read wait: parse them from the strand's queue, not from this call.
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->readInbox(); });
        return;
    }
    std::string().swap(inbox_);
    inboxPos_ = 0;
    socket_.async_wait(net::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
        if (ec) return self->closeSocket(ec);
        self->receive();
    });
}

void ChatSession::receive() {
    // One buffer per network thread; the session keeps only what it has not parsed yet.
    thread_local std::array<char, kReadChunk> scratch;
    error_code ec;
    const auto n = socket_.read_some(net::buffer(scratch), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) return doRead();
    if (ec) return closeSocket(ec);  // the peer went away (eof) or the connection broke
    inbox_.assign(scratch.data(), n);
    lastHeard_ = std::chrono::steady_clock::now();
    pingSent_ = false;
    readInbox();
}

void ChatSession::readInbox() {
    // A handler that ran before this posted parse may have ended the connection: what is
    // left unread must not register anything (a presence watch) for a session that is gone.
    if (!socket_.is_open()) return;
    while (inboxPos_ < inbox_.size()) {
        auto [event, taken] = reader_.feed(std::string_view(inbox_).substr(inboxPos_));
        inboxPos_ += taken;
        if (event == Event::None) continue;
        const bool readOn = onEvent(event);
        reader_.release();
        if (!readOn) return;  // the event's handler reads on when it is done, or the connection ends
    }
    doRead();
}

bool ChatSession::onEvent(Event event) {
    switch (event) {
        case Event::Ping:
            answerPing();
            return true;
        case Event::Close:
            onPeerClose();
            return false;
        case Event::Failed:
            spdlog::info("ws: user={} from={} broke the protocol: {}", userId(), client_, reader_.closeReason());
            closeAfterWrite_ = true;
            startClose(reader_.closeCode(), reader_.closeReason());
            return false;
        case Event::TooLarge:
            if (!closing_) badFrame(413, "frame too large", {});
            return true;
        case Event::Binary:
            if (!closing_) badFrame(400, "frames must be JSON text", {});
            return true;
        case Event::Text:
            if (closing_) return true;  // what arrives after our close frame is not read any more
            handleFrame();
            return false;
        default:
            return true;  // a pong: its arrival was all that mattered
    }
}

// The peer's close frame: the answer to ours, which ends the connection, or its own, which we
// answer with the same code before closing.
void ChatSession::onPeerClose() {
    peerCloseCode_ = reader_.closeCode();
    if (closeQueued_) return closeSocket(net::error::eof);
    closing_ = true;
    {
        std::lock_guard lock(queueMutex_);
        stopped_ = true;
    }
    closeAfterWrite_ = true;
    armTimer();  // the close deadline, should our answer not get through
    if (peerCloseCode_ == 1005) return sendControl(FrameHeader::kClose, {});  // it gave no code
    sendClose(peerCloseCode_, {});
}

void ChatSession::handleFrame() {
    auto parsed = proto::FrameParser::parse(reader_.message());
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
            net::post(self->socket_.get_executor(), [self, r, frame = std::move(frame)]() mutable {
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
    // A commit wakes the strand only when it has something to do there: an error to answer,
    // or reading to resume. The ack itself comes through the stream.
    auto result = services_.dispatcher.publish(
        m, proto::MessageCodec::encode(m), weak_from_this(), cid,
        [self = shared_from_this(), cid](std::optional<std::uint64_t> pos) {
            const bool paused = self->unacked_.fetch_sub(1) >= self->services_.cfg.maxUnacked;
            if (pos && !paused) return;
            net::post(self->socket_.get_executor(),
                      [self, cid, stored = pos.has_value()] { self->onCommitted(stored, cid); });
        });
    // Only this strand counts up, and it pauses at the count it reached: whichever commit
    // counts down from there finds the pause and resumes reading.
    std::size_t inFlight = unacked_.load();
    switch (result) {
        case hub::PublishResult::Queued:
            inFlight = unacked_.fetch_add(1) + 1;
            break;
        case hub::PublishResult::TooLarge:
            reply(proto::MessageCodec::error(413, "message too large", cid));
            break;
        case hub::PublishResult::Busy:
            reply(proto::MessageCodec::error(503, "service busy, try again", cid));
            break;
    }
    if (inFlight < services_.cfg.maxUnacked) return doRead();
    readPaused_ = true;  // the next commit resumes reading
}

void ChatSession::onCommitted(bool stored, const std::string& cid) {
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
        if (stopped_) return;
        // A running sync may already have read the end it pages to, below the hole: it pages
        // on once more instead of handing over the frames held beyond the hole.
        if (sync_.syncing()) return sync_.pageOn();
        sync_.begin(sync_.last());
    }
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->fetchSyncPage(); });
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
            net::post(self->socket_.get_executor(), [self, r = std::move(r)]() mutable {
                if (!r.ok()) {
                    // Without the history the device would have a hole: it reconnects later instead.
                    spdlog::warn("ws: could not read the history of user {}", self->userId());
                    return self->startClose(kTryAgainLater, "service unavailable");
                }
                self->onSyncPage(std::move(*r.value));
            });
        });
}

// The groups and the first page: in one statement when the page is one read (the newest
// messages, or those after the device's position), otherwise the groups with the position
// first and the page up to it.
ChatSession::Opening ChatSession::readOpening(store::Connection& c, std::int64_t user, std::uint64_t after, bool recent,
                                              const config::Config& cfg) {
    if (!recent || cfg.syncRecent <= cfg.syncPage) {
        const std::size_t limit = recent ? cfg.syncRecent : cfg.syncPage;
        auto o = store::MessageRepository(c).opening(user, recent ? std::nullopt : std::optional(after), limit);
        return Opening{std::move(o.groups),
                       recent ? SyncPage::newest(std::move(o.messages), o.committed)
                              : SyncPage::following(after, std::move(o.messages), limit, o.committed)};
    }
    auto memberships = store::ContactRepository(c).memberships(user);
    // Groups and position were read together: in no group then, in none before it.
    auto parts = memberships.groups.empty() ? store::MessageRepository::StreamParts::SinglesOnly
                                            : store::MessageRepository::StreamParts::All;
    return Opening{std::move(memberships.groups),
                   readSyncPage(c, user, after, recent, cfg, memberships.streamPosition, parts)};
}

// `committed` was read before: the page stops there, and whatever commits later has a larger
// position and arrives live.
ChatSession::SyncPage ChatSession::readSyncPage(store::Connection& c, std::int64_t user, std::uint64_t after,
                                                bool recent, const config::Config& cfg, std::uint64_t committed,
                                                store::MessageRepository::StreamParts parts) {
    store::MessageRepository history(c);
    if (recent && cfg.syncRecent <= cfg.syncPage)
        return SyncPage::newest(history.recent(user, cfg.syncRecent, parts, committed), committed);
    const auto from = recent ? history.recentStart(user, cfg.syncRecent, parts, committed) : after;
    return SyncPage::following(from, history.streamAfter(user, from, cfg.syncPage, parts, committed), cfg.syncPage,
                               committed);
}

void ChatSession::onSyncPage(SyncPage page) {
    pageInFlight_ = false;
    if (closing_) return;
    bool more = page.more;
    {
        std::lock_guard lock(queueMutex_);
        if (stopped_) return;
        sync_.skipTo(page.after);  // a recent-only sync starts there
        // What does not fit the sync's share comes with the next page, read after the last sent.
        std::size_t taken = 0;
        for (const auto& m : page.messages) {
            if (taken > 0 && queuedBytes_ + m.frame.size() > syncShare(services_.cfg)) break;
            enqueue(std::make_shared<const std::string>(proto::MessageCodec::withPos(m.frame, m.pos)));
            sync_.sent(m.pos);
            ++taken;
        }
        const bool cut = taken < page.messages.size();
        more = more || cut;
        if (!more) sync_.reachedEnd(page.committed);
        services_.metrics.syncFrames.fetch_add(taken, std::memory_order_relaxed);
        // A long history goes out a page at a time, each once the previous one has drained.
        if (more && (cut || queuedBytes_ > syncShare(services_.cfg))) {
            syncWaitsForQueue_ = true;
            return;
        }
    }
    if (more) return fetchSyncPage();
    finishSync();
}

void ChatSession::finishSync() {
    std::lock_guard lock(queueMutex_);
    // cmd 13 names what is queued before it: the held frames after it carry their own
    // positions, and a device cut off before they leave must not skip them on reconnecting.
    const auto syncedTo = sync_.last();
    auto held = sync_.finish();
    if (!held) {
        // Live frames overflowed the hold while paging: the history has them, page on.
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->fetchSyncPage(); });
        return;
    }
    enqueue(std::make_shared<const std::string>(proto::MessageCodec::syncEnd(syncedTo)));
    for (auto& frame : *held) enqueue(std::move(frame));
}

void ChatSession::badFrame(int code, const std::string& msg, const std::string& cid) {
    services_.metrics.count(metrics::ErrorKind::BadFrame);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(badFrames_, [&](auto t) { return now - t > services_.cfg.badFramesWindow; });
    badFrames_.push_back(now);
    if (badFrames_.size() > services_.cfg.badFramesMax) {
        spdlog::warn("ws: user={} from={} sent too many invalid frames", userId(), client_);
        return startClose(kPolicyViolation, "too many invalid frames");
    }
    reply(proto::MessageCodec::error(code, msg, cid));
}

void ChatSession::reply(std::string text) {
    queueLive(std::make_shared<const std::string>(std::move(text)), 0, false, hub::Fanout::One);
}

void ChatSession::deliver(const hub::SharedFrame& frame, std::uint64_t pos, hub::Fanout fanout) {
    queueLive(frame, pos, false, fanout);
}

void ChatSession::acknowledge(const hub::SharedFrame& ack, std::uint64_t pos) {
    queueLive(ack, pos, true, hub::Fanout::One);
}

void ChatSession::queueLive(const hub::SharedFrame& frame, std::uint64_t pos, bool ack, hub::Fanout fanout) {
    {
        std::lock_guard lock(queueMutex_);
        if (stopped_) return;
        if (sync_.live(frame, pos, ack) != StreamSync::Live::Send) return;
        if (queuedBytes_ + frame->size() <= services_.cfg.maxQueueBytes) {
            if (fanout == hub::Fanout::One && idle()) return writeNow(frame);
            return enqueue(frame);
        }
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
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->doWrite(); });
}

// Nothing is queued or being written, and the socket is open (closing it stops deliveries
// first, under the same lock): a frame may leave from whichever thread delivers it.
bool ChatSession::idle() const {
    return accepted_ && !stopped_ && !writing_ && queue_.empty();
}

// One non-blocking sendmsg from the delivering thread, on the bare descriptor: the strand
// writes nothing meanwhile (idle), and the socket cannot close while the queue mutex is held.
// What the socket does not take is queued, with the part it took noted, for the strand to
// finish; an error is left for the strand's write to meet and close the connection on.
void ChatSession::writeNow(const hub::SharedFrame& frame) {
    const auto header = FrameHeader::text(frame->size());
    std::array<iovec, 2> parts{{{const_cast<unsigned char*>(header.data()), header.size()},
                                {const_cast<char*>(frame->data()), frame->size()}}};
    msghdr message{};
    message.msg_iov = parts.data();
    message.msg_iovlen = parts.size();
    ssize_t sent = 0;
    do {
        sent = ::sendmsg(socket_.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent > 0) services_.metrics.socketWrites.fetch_add(1, std::memory_order_relaxed);
    if (sent == static_cast<ssize_t>(header.size() + frame->size())) {
        services_.metrics.framesWritten.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    headSent_ = sent > 0 ? static_cast<std::size_t>(sent) : 0;
    enqueue(frame);
}

// The batch goes out with a non-blocking write on the strand: when the socket takes all of it,
// as it usually does, no completion is queued and handed to a thread. Only what the socket
// cannot take now waits for it. A few batches in a row, then other work on the strand gets its turn.
void ChatSession::doWrite() {
    for (int round = 0; round < kWritesInARow; ++round) {
        bool control = false;
        std::size_t frames = 0;
        {
            std::lock_guard lock(queueMutex_);
            // A frame begun by writeNow() is finished before any bytes of our own go out.
            control = !control_.empty() && headSent_ == 0;
            if (control) {
                controlInFlight_ = std::exchange(control_, {});
                pongAt_.reset();
                closeInFlight_ = closeQueued_;
                batch_.push_back(net::buffer(controlInFlight_));
            }
            if (gatherBatch()) frames = batchHeaders_.size();
            if (!control && frames == 0) {
                writing_ = false;
                releaseBatch();
                return;
            }
        }
        error_code ec;
        const std::size_t written = socket_.write_some(batch_, ec);
        if (ec == net::error::would_block || ec == net::error::try_again) {
            ec = {};
        } else if (ec) {
            wrote(ec, frames, control);
            return;
        }
        if (written < net::buffer_size(batch_)) return writeRest(written, frames, control);
        if (!wrote({}, frames, control)) return;
    }
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->doWrite(); });
}

// The part of the batch the socket did not take leaves once it can.
void ChatSession::writeRest(std::size_t written, std::size_t frames, bool control) {
    auto sent = batch_.begin();
    for (; sent != batch_.end() && written >= sent->size(); ++sent) written -= sent->size();
    batch_.erase(batch_.begin(), sent);
    batch_.front() += written;
    net::async_write(socket_, batch_,
                     net::bind_executor(socket_.get_executor(),
                                        [self = shared_from_this(), frames, control](error_code ec, std::size_t) {
                                            if (self->wrote(ec, frames, control)) self->doWrite();
                                        }));
}

// Takes the frames at the head of the queue, up to what one sendmsg carries; they stay queued
// (and their bytes alive) until written.
bool ChatSession::gatherBatch() {
    if (!accepted_ || queue_.empty()) return false;
    // Once closing, only a frame already begun is finished, so that the close frame cannot cut it.
    const bool closing = closing_ || closeQueued_;
    if (closing && headSent_ == 0) return false;
    const std::size_t frames = closing ? 1 : std::min(queue_.size(), kBatchFrames);
    batchHeaders_.reserve(frames);
    batch_.reserve(batch_.size() + 2 * frames);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < frames && bytes < kBatchBytes; ++i) {
        const auto& payload = *queue_.at(i);
        batchHeaders_.push_back(FrameHeader::text(payload.size()));
        net::const_buffer header(batchHeaders_.back().data(), batchHeaders_.back().size());
        net::const_buffer body = net::buffer(payload);
        if (i == 0 && headSent_ > 0) {  // the start of this frame left in writeNow()
            const std::size_t skip = std::min(headSent_, header.size());
            header += skip;
            body += headSent_ - skip;
        }
        batch_.push_back(header);
        batch_.push_back(body);
        bytes += payload.size();
    }
    return true;
}

// A batch has left (or the connection broke): its frames leave the queue. False when nothing
// more is to be written.
bool ChatSession::wrote(error_code ec, std::size_t frames, bool control) {
    bool nextSyncPage = false;
    {
        std::lock_guard lock(queueMutex_);
        for (std::size_t i = 0; i < frames; ++i) {
            queuedBytes_ -= queue_.front()->size();
            queue_.pop();
        }
        if (frames > 0) headSent_ = 0;  // a frame begun by writeNow() was the first to leave
        if (syncWaitsForQueue_ && queuedBytes_ <= services_.cfg.maxQueueBytes / 4) {
            syncWaitsForQueue_ = false;
            nextSyncPage = true;
        }
    }
    batch_.clear();
    batchHeaders_.clear();
    if (control) std::string().swap(controlInFlight_);
    if (ec) {
        {
            std::lock_guard lock(queueMutex_);
            writing_ = false;
            stopped_ = true;
            releaseBatch();
        }
        closeSocket(ec);
        return false;
    }
    services_.metrics.socketWrites.fetch_add(1, std::memory_order_relaxed);
    services_.metrics.framesWritten.fetch_add(frames, std::memory_order_relaxed);
    if (control && std::exchange(closeInFlight_, false) && closeAfterWrite_) {
        std::lock_guard lock(queueMutex_);
        writing_ = false;
        releaseBatch();
        // Our close frame ends a connection that failed or that the peer closed: no answer to wait for.
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->closeSocket(net::error::eof); });
        return false;
    }
    if (nextSyncPage) fetchSyncPage();
    return true;
}

// An idle connection keeps no batch memory.
void ChatSession::releaseBatch() {
    batch_ = {};
    batchHeaders_ = {};
}

void ChatSession::sendControl(unsigned char opcode, std::string_view payload) {
    if (closeQueued_) return;  // nothing of ours follows a close frame
    if (opcode == FrameHeader::kClose) closeQueued_ = true;
    sendRaw(controlFrame(opcode, payload));
}

// Only the latest ping is answered while a pong still waits to be written (RFC 6455 5.5.3):
// a peer that pings without reading cannot make the unsent pongs grow.
void ChatSession::answerPing() {
    if (closeQueued_ || !socket_.is_open()) return;
    auto pong = controlFrame(FrameHeader::kPong, reader_.control());
    if (pongAt_) {
        control_.replace(pongAt_->first, pongAt_->second, pong);
        pongAt_->second = pong.size();
        return;
    }
    pongAt_.emplace(control_.size(), pong.size());
    sendRaw(std::move(pong));
}

// A close frame's body: the code in two bytes, then as much of the reason as fits.
void ChatSession::sendClose(std::uint16_t code, std::string_view reason) {
    std::string body{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    body.append(reason.substr(0, 123));  // a control frame carries at most 125 bytes
    sendControl(FrameHeader::kClose, body);
}

// Bytes of our own go out before the next batch's frames, after the write in flight.
void ChatSession::sendRaw(std::string bytes) {
    if (!socket_.is_open()) return;
    control_.append(bytes);
    {
        std::lock_guard lock(queueMutex_);
        if (writing_) return;
        writing_ = true;
    }
    doWrite();
}

// While open: a ping once the peer has been silent for half the idle timeout, and the end of
// the connection once silent for all of it. While closing: the end once the close deadline
// passes without an answer.
void ChatSession::armTimer() {
    using namespace std::chrono;
    const auto idle = duration_cast<steady_clock::duration>(services_.cfg.idleTimeout);
    auto due = closing_ ? steady_clock::now() + services_.cfg.closeTimeout : lastHeard_ + (pingSent_ ? idle : idle / 2);
    timer_.expires_at(due);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) self->onTimer();
    });
}

void ChatSession::onTimer() {
    if (!socket_.is_open()) return;
    if (closing_) {
        spdlog::info("ws: user={} from={} did not answer the close in time", userId(), client_);
        return closeSocket(net::error::timed_out);
    }
    const auto silent = std::chrono::steady_clock::now() - lastHeard_;
    if (silent >= services_.cfg.idleTimeout) {
        spdlog::info("ws: user={} from={} went silent", userId(), client_);
        return closeSocket(net::error::timed_out);
    }
    if (silent >= services_.cfg.idleTimeout / 2 && !pingSent_) {
        pingSent_ = true;
        sendControl(FrameHeader::kPing, {});
    }
    armTimer();
}

void ChatSession::close(hub::CloseCode code, std::string_view reason) {
    net::dispatch(socket_.get_executor(), [self = shared_from_this(), code, reason = std::string(reason)] {
        self->startClose(static_cast<std::uint16_t>(code), reason);
    });
}

void ChatSession::startClose(std::uint16_t code, std::string_view reason) {
    if (closing_) return;
    closing_ = true;
    {
        std::lock_guard lock(queueMutex_);
        stopped_ = true;
    }
    if (!accepted_) {  // still loading groups: there is no WebSocket to close yet
        error_code ignored;
        socket_.close(ignored);
        return;  // the job's end finishes
    }
    sendClose(code, reason);
    // A peer that never answers the close (or never reads) loses its socket after the deadline.
    armTimer();
    // Reading paused for commits would never see the peer's answer; what else arrives is
    // ignored now anyway.
    if (std::exchange(readPaused_, false)) doRead();
}

void ChatSession::closeSocket(error_code why) {
    {
        std::lock_guard lock(queueMutex_);  // no writeNow() holds the descriptor or takes it after
        stopped_ = true;
    }
    error_code ignored;
    timer_.cancel();
    socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    finish(why);
}

void ChatSession::finish(error_code ec) {
    timer_.cancel();
    {
        std::lock_guard lock(queueMutex_);
        stopped_ = true;
    }
    if (!registered_) return;
    registered_ = false;
    services_.hub.remove(*this);
    services_.presence.unwatch(*this);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - opened_).count();
    auto how = peerCloseCode_ ? "close " + std::to_string(peerCloseCode_) : ec.message();
    spdlog::info("ws: closed user={} from={} after {}s ({})", userId(), client_, seconds, how);
}

}  // namespace chat::ws
