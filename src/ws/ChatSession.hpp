// One WebSocket connection of an authenticated user. Reads frames in order, validates and
// stamps them and hands them to the Dispatcher, which stores them and delivers them in the
// cluster's order; up to max-unacked of the connection's messages may wait for their commit
// before reading pauses (which pushes back on fast senders). On connecting, and when the
// client asks (cmd 12), the session first sends what the device missed from the history,
// then {"cmd":13}, then live frames, with StreamSync making the hand-over seamless.
// Outgoing frames go through a bounded queue, and whatever is queued when the socket can take
// more leaves in one gathered write; a client that stops reading is closed as a slow consumer
// instead of holding anyone else up.
#pragma once
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
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
#include "ws/QueuedStream.hpp"
#include "ws/StreamSync.hpp"

namespace chat::ws {

class ChatSession : public hub::Recipient, public ControlSink, public std::enable_shared_from_this<ChatSession> {
public:
    ChatSession(boost::beast::tcp_stream&& stream, auth::Identity identity, std::string client, ChatServices services);
    ~ChatSession() override;

    // `since`: the last stream position the device holds; nullopt: it holds none (it gets the
    // recent part of its stream only).
    void start(http::BeastRequest request, std::optional<std::uint64_t> since);

    void deliver(const hub::SharedFrame& frame, std::uint64_t pos) override;
    void acknowledge(const hub::SharedFrame& ack, std::uint64_t pos) override;
    void resync() override;
    void close(hub::CloseCode code, std::string_view reason) override;
    void sendControl(std::string frame, std::function<void(boost::beast::error_code)> done) override;

private:
    struct SyncPage;
    struct Opening;

    void open(std::shared_ptr<http::BeastRequest> request);
    void onAccept(boost::beast::error_code ec, std::optional<SyncPage> firstPage);
    void doRead();
    void readMessage();
    void onRead(boost::beast::error_code ec);
    void handleFrame();
    void checkRecipient(proto::ClientFrame frame);
    void publish(proto::ClientFrame frame);
    void onCommitted(bool stored, const std::string& cid);
    void resumeReading();
    bool startSync(std::optional<std::uint64_t> since);
    void fetchSyncPage();
    static SyncPage readSyncPage(store::Connection& c, std::int64_t user, std::uint64_t after, bool recent,
                                 const config::Config& cfg, std::uint64_t committed,
                                 store::MessageRepository::StreamParts parts);
    void onSyncPage(SyncPage page);
    void finishSync();
    void reply(std::string text);
    void badFrame(int code, const std::string& msg, const std::string& cid);
    void queueLive(const hub::SharedFrame& frame, std::uint64_t pos, bool ack);
    void enqueue(hub::SharedFrame frame);  // queueMutex_ held
    void doWrite();
    bool gatherBatch();  // queueMutex_ held
    void onWrite(boost::beast::error_code ec, std::size_t frames, bool control);
    void releaseBatch();
    void startClose(boost::beast::websocket::close_reason reason);
    void finish(boost::beast::error_code ec);

    // On the socket itself, not on the HTTP session's tcp_stream: the WebSocket keeps its own
    // handshake and idle timers, and the tcp_stream's would cost ~0.5 KiB of state and another
    // layer in every pending read.
    boost::beast::websocket::stream<QueuedStream> ws_;
    boost::beast::flat_buffer readBuffer_;
    std::unique_ptr<boost::asio::steady_timer> closeTimer_;  // made when closing: most connections never wait
    ChatServices services_;
    std::string client_;
    std::chrono::steady_clock::time_point opened_;
    bool oversized_ = false;
    bool registered_ = false;
    bool closing_ = false;                                          // strand only
    std::vector<std::chrono::steady_clock::time_point> badFrames_;  // within the window, oldest first
    // Strand only: messages waiting for their commit, and whether reading waits for them.
    std::size_t unacked_ = 0;
    bool readPaused_ = false;
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
    bool writing_ = false;
    // Strand only: the write in flight, and a frame of Beast's waiting to go first.
    std::vector<FrameHeader> batchHeaders_;
    std::vector<boost::asio::const_buffer> batch_;
    struct Control {
        std::string frame;
        std::function<void(boost::beast::error_code)> done;
    };
    std::unique_ptr<Control> control_;     // rare (a ping every half idle timeout): no room kept for it
    bool closeSent_ = false;               // no data frame may follow a close frame
    boost::beast::error_code writeError_;  // the socket failed: Beast's writes fail at once
    bool accepted_ = false;                // frames are written only after the handshake
    bool stopped_ = false;                 // no more deliveries accepted
};

}  // namespace chat::ws
