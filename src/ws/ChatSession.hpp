// One WebSocket connection of an authenticated user. Reads frames one at a time (the next
// read starts when the previous frame is handled, which keeps a client's messages in
// order and pushes back on fast senders), validates and stamps them, and hands them to
// the Dispatcher. Outgoing frames go through a bounded queue; a client that stops reading
// is closed as a slow consumer instead of holding anyone else up.
#pragma once
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

#include "http/UpgradeHandler.hpp"
#include "hub/Recipient.hpp"
#include "proto/FrameParser.hpp"
#include "ws/ChatServices.hpp"

namespace chat::ws {

class ChatSession : public hub::Recipient, public std::enable_shared_from_this<ChatSession> {
public:
    ChatSession(boost::beast::tcp_stream&& stream, auth::Identity identity, std::string client, ChatServices services);
    ~ChatSession() override;

    void start(http::BeastRequest request);

    void deliver(const hub::SharedFrame& frame) override;
    void close(hub::CloseCode code, std::string_view reason) override;

private:
    void loadGroups(std::shared_ptr<http::BeastRequest> request);
    void onAccept(boost::beast::error_code ec, bool groupsLoaded);
    void doRead();
    void onRead(boost::beast::error_code ec);
    void handleFrame();
    void checkRecipient(proto::ClientFrame frame);
    void publish(proto::ClientFrame frame);
    void reply(std::string text);
    void badFrame(int code, const std::string& msg, const std::string& cid);
    void doWrite();
    void onWrite(boost::beast::error_code ec);
    void startClose(boost::beast::websocket::close_reason reason);
    void finish(boost::beast::error_code ec);

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::flat_buffer readBuffer_;
    boost::asio::steady_timer closeTimer_;
    ChatServices services_;
    std::string client_;
    std::chrono::steady_clock::time_point opened_;
    bool oversized_ = false;
    bool registered_ = false;
    bool closing_ = false;  // strand only
    std::deque<std::chrono::steady_clock::time_point> badFrames_;

    // The send queue is shared with delivering threads.
    std::mutex queueMutex_;
    std::deque<hub::SharedFrame> queue_;
    std::size_t queuedBytes_ = 0;
    bool writing_ = false;
    bool accepted_ = false;  // frames are written only after the handshake
    bool stopped_ = false;   // no more deliveries accepted
};

}  // namespace chat::ws
