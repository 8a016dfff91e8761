// The layer Beast's WebSocket stream runs on. The session writes its own frames to the socket,
// many queued frames in one gathered write; the few frames Beast writes itself after the
// handshake (pings, pongs, the close frame) must not interleave with those bytes, so from the
// handshake on they are handed to a ControlSink — the session's writer — instead of the socket.
// Reads, and everything before the handshake, go straight to the socket.
#pragma once
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace chat::ws {

class ControlSink {
public:
    // Writes a frame Beast framed, in order with the session's frames; `done` runs on the
    // stream's executor once the bytes are written or the connection failed.
    virtual void sendControl(std::string frame, std::function<void(boost::beast::error_code)> done) = 0;

protected:
    ~ControlSink() = default;
};

class QueuedStream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;

    explicit QueuedStream(boost::asio::ip::tcp::socket&& next) : next_(std::move(next)) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    boost::asio::ip::tcp::socket& next_layer() noexcept { return next_; }
    const boost::asio::ip::tcp::socket& next_layer() const noexcept { return next_; }

    // From here on Beast's writes go to `sink`, which outlives this stream.
    void divert(ControlSink& sink) noexcept { sink_ = &sink; }

    template <class MutableBuffers, class ReadHandler>
    auto async_read_some(const MutableBuffers& buffers, ReadHandler&& handler) {
        return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }

    template <class ConstBuffers, class WriteHandler>
    auto async_write_some(const ConstBuffers& buffers, WriteHandler&& handler) {
        return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
            [this](auto h, const ConstBuffers& b) {
                if (!sink_) return next_.async_write_some(b, std::move(h));
                std::string frame(boost::asio::buffer_size(b), '\0');
                boost::asio::buffer_copy(boost::asio::buffer(frame), b);
                auto size = frame.size();
                // std::function needs a copyable callable; Beast's handlers are move-only.
                auto shared = std::make_shared<decltype(h)>(std::move(h));
                sink_->sendControl(std::move(frame),
                                   [shared, size](boost::beast::error_code ec) { (*shared)(ec, ec ? 0 : size); });
            },
            handler, buffers);
    }

private:
    boost::asio::ip::tcp::socket next_;
    ControlSink* sink_ = nullptr;
};

// Closing the WebSocket ends with the TCP teardown, by argument-dependent lookup.
inline void teardown(boost::beast::role_type role, QueuedStream& stream, boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, QueuedStream& stream, TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace chat::ws
