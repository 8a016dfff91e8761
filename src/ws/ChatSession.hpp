// One WebSocket connection of an authenticated user. Reads frames in order, validates and
// stamps them and hands them to the Dispatcher, which stores them and delivers them in the
// cluster's order; up to max-unacked of the connection's messages may wait for their commit
// before reading pauses (which pushes back on fast senders). On connecting, and when the
// client asks (cmd 12), the session first sends what the device missed from the history,
// then {"cmd":13}, then live frames, with StreamSync making the hand-over seamless.
// Outgoing frames go through a bounded queue, and whatever is queued when the socket can take
// more leaves in one gathered write; a client that stops reading is closed as a slow consumer
// instead of holding anyone else up.
//
// The session speaks RFC 6455 itself, on the bare socket: Handshake answers the upgrade,
// FrameReader reads the client's frames, FrameHeader frames ours. Between messages it holds
// no buffer at all (it waits for the socket to be readable), which is most of what keeps an
// idle connection small; one timer serves the keep-alive pings, the idle timeout and the
// wait for the answer to a close.
#pragma once
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/UpgradeHandler.hpp"
#include "hub/Recipient.hpp"
#include "proto/FrameParser.hpp"
#include "store/MessageRepository.hpp"
#include "ws/ChatServices.hpp"
#include "ws/FrameHeader.hpp"
#include "ws/FrameQueue.hpp"
#include "ws/FrameReader.hpp"
#include "ws/StreamSync.hpp"

namespace chat::ws {

class ChatSession : public hub::Recipient, public std::enable_shared_from_this<ChatSession> {
public:
    ChatSession(boost::beast::tcp_stream&& stream, auth::Identity identity, std::string client, ChatServices services);
    ~ChatSession() override;

    // `since`: the last stream position the device holds; nullopt: it holds none (it gets the
    // recent part of its stream only).
    void start(http::BeastRequest request, std::optional<std::uint64_t> since);

    void deliver(const hub::SharedFrame& frame, std::uint64_t pos, hub::Fanout fanout) override;
    void acknowledge(const hub::SharedFrame& ack, std::uint64_t pos) override;
    void resync() override;
    void close(hub::CloseCode code, std::string_view reason) override;

private:
    struct SyncPage;
    struct Opening;

    void open(std::string handshake);
    void onOpened(std::string handshake, std::optional<SyncPage> firstPage);
    void doRead();
    void receive();
    void readInbox();
    bool onEvent(FrameReader::Event event);  // true: read on
    void handleFrame();
    void onPeerClose();
    void checkRecipient(proto::ClientFrame frame);
    void publish(proto::ClientFrame frame);
    void onCommitted(bool stored, const std::string& cid);
    void resumeReading();
    bool startSync(std::optional<std::uint64_t> since);
    void fetchSyncPage();
    static Opening readOpening(store::Connection& c, std::int64_t user, std::uint64_t after, bool recent,
                               const config::Config& cfg);
    static SyncPage readSyncPage(store::Connection& c, std::int64_t user, std::uint64_t after, bool recent,
                                 const config::Config& cfg, std::uint64_t committed,
                                 store::MessageRepository::StreamParts parts);
    void onSyncPage(SyncPage page);
    void finishSync();
    void reply(std::string text);
    void badFrame(int code, const std::string& msg, const std::string& cid);
    void queueLive(const hub::SharedFrame& frame, std::uint64_t pos, bool ack, hub::Fanout fanout);
    void enqueue(hub::SharedFrame frame);          // queueMutex_ held
    bool idle() const;                             // queueMutex_ held
    void writeNow(const hub::SharedFrame& frame);  // queueMutex_ held
    void sendControl(unsigned char opcode, std::string_view payload);
    void answerPing();
    void sendClose(std::uint16_t code, std::string_view reason);
    void sendRaw(std::string bytes);
    void doWrite();
    bool gatherBatch();  // queueMutex_ held
    void writeRest(std::size_t written, std::size_t frames, bool control);
    bool wrote(boost::system::error_code ec, std::size_t frames, bool control);
    void releaseBatch();
    void armTimer();
    void onTimer();
    void startClose(std::uint16_t code, std::string_view reason);
    void closeSocket(boost::system::error_code why);
    void finish(boost::system::error_code ec);

    // The bare socket: reads wait for readability and take what has arrived (no buffer is
    // held between messages), writes are gathered batches of whole frames.
    boost::asio::ip::tcp::socket socket_;
    // Keep-alive pings and the idle timeout while open; the wait for a close answer after.
    boost::asio::steady_timer timer_;
    FrameReader reader_;
    std::string inbox_;  // bytes read and not parsed yet; empty between reads
    std::size_t inboxPos_ = 0;
    std::chrono::steady_clock::time_point lastHeard_;
    bool pingSent_ = false;
    std::uint16_t peerCloseCode_ = 0;  // the code of the peer's close frame, for the log
    ChatServices services_;
    std::string client_;
    std::chrono::steady_clock::time_point opened_;
    bool registered_ = false;
    bool closing_ = false;                                          // strand only
    std::vector<std::chrono::steady_clock::time_point> badFrames_;  // within the window, oldest first
    // Messages waiting for their commit: counted up on the strand, down by the commits.
    std::atomic<std::size_t> unacked_{0};
    bool readPaused_ = false;  // strand only: reading waits for commits
    // Strand only: a history page is being read, or waits for the queue to drain. Whether a
    // sync runs at all is sync_.syncing(), under the queue mutex.
    bool pageInFlight_ = false;
    bool syncWaitsForQueue_ = false;
    bool syncRecent_ = false;  // the device gave no position: start from its recent messages

    // The send queue and the stream hand-over are shared with delivering threads.
    std::mutex queueMutex_;
    FrameQueue queue_;
    std::size_t queuedBytes_ = 0;
    StreamSync sync_;
    bool writing_ = false;      // the strand writes (or will): nobody else may
    std::size_t headSent_ = 0;  // bytes of the queue's first frame already written
    // Strand only: the write in flight, and bytes of our own (the handshake's answer, pings,
    // pongs, the close frame) that go before the next batch's frames.
    std::vector<FrameHeader> batchHeaders_;
    std::vector<boost::asio::const_buffer> batch_;
    std::string control_;
    std::optional<std::pair<std::size_t, std::size_t>> pongAt_;  // an unsent pong in control_: offset, size
    std::string controlInFlight_;
    bool closeQueued_ = false;      // no data frame may follow a close frame
    bool closeInFlight_ = false;    // the close frame is in the write in flight
    bool closeAfterWrite_ = false;  // the connection ends once the close frame is written
    bool accepted_ = false;         // frames are written only after the handshake
    bool stopped_ = false;          // no more deliveries accepted
};

}  // namespace chat::ws
