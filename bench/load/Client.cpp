// See Client.hpp.
#include "load/Client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>

namespace bench {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// Generous, because tens of thousands of handshakes may queue behind each other's token checks.
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);

class WsClient final : public Client, public std::enable_shared_from_this<WsClient> {
public:
    WsClient(net::io_context& io, const ConnSpec& spec, int receiveBuffer, ClientListener& listener, std::size_t index)
        : ws_(io), spec_(spec), receiveBuffer_(receiveBuffer), listener_(listener), index_(index) {}

    void start() override {
        beast::error_code ec;
        if (!openSocket(ec)) return failed("socket: " + ec.message());
        tcp::endpoint to(net::ip::make_address_v4(spec_.host, ec), spec_.port);
        if (ec) return failed("bad node address " + spec_.host);
        ws_.next_layer().async_connect(to, [self = shared_from_this()](beast::error_code ec) { self->onConnect(ec); });
    }

    void send(std::string text) override {
        if (!open_) return;
        out_.push_back(std::move(text));
        if (!writing_) doWrite();
    }

    std::size_t queued() const override { return out_.size(); }

    void pauseReading() override { paused_ = true; }

    void resumeReading() override {
        paused_ = false;
        doRead();
    }

    void abort() override {
        beast::error_code ignored;
        ws_.next_layer().close(ignored);
    }

private:
    // Binding the source address without a port (IP_BIND_ADDRESS_NO_PORT) lets the kernel pick
    // the port at connect time per destination, so one source address serves more than the
    // ~28k ephemeral ports it would get with a plain bind.
    bool openSocket(beast::error_code& ec) {
        auto& s = ws_.next_layer();
        s.open(tcp::v4(), ec);
        if (ec) return false;
        int one = 1;
        ::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        // Set before connecting, so the advertised window is small from the first segment.
        if (spec_.slow) s.set_option(net::socket_base::receive_buffer_size(receiveBuffer_), ec);
        s.bind(tcp::endpoint(net::ip::make_address_v4(spec_.source, ec), 0), ec);
        return !ec;
    }

    void onConnect(beast::error_code ec) {
        if (ec) return failed("connect: " + ec.message());
        ws_.next_layer().set_option(tcp::no_delay(true), ec);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = kHandshakeTimeout;
        timeouts.idle_timeout = websocket::stream_base::none();
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "chat-load"); }));
        auto target = "/chat?id=" + std::to_string(spec_.user) + "&token=" + spec_.token;
        ws_.async_handshake(response_, spec_.host + ":" + std::to_string(spec_.port), target,
                            [self = shared_from_this()](beast::error_code ec) { self->onHandshake(ec); });
    }

    void onHandshake(beast::error_code ec) {
        if (ec) {
            auto status = response_.result_int();
            return failed(status && status != 101 ? "upgrade refused: HTTP " + std::to_string(status)
                                                  : "handshake: " + ec.message());
        }
        open_ = true;
        listener_.onOpen(index_);
        doRead();
    }

    void doRead() {
        if (paused_ || reading_ || !open_) return;
        reading_ = true;
        ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(beast::error_code ec) {
        reading_ = false;
        if (ec) return closed(ec);
        auto data = in_.cdata();
        listener_.onFrame(index_, std::string_view(static_cast<const char*>(data.data()), data.size()));
        in_.consume(in_.size());
        doRead();
    }

    void doWrite() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(net::buffer(out_.front()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
    }

    void onWrite(beast::error_code ec) {
        writing_ = false;
        if (!out_.empty()) out_.pop_front();
        if (ec) {
            out_.clear();  // the read side sees the broken connection and reports it
            return;
        }
        if (!out_.empty() && open_) doWrite();
    }

    void failed(const std::string& why) {
        if (reported_) return;
        reported_ = true;
        listener_.onFailed(index_, why);
    }

    void closed(beast::error_code ec) {
        if (!open_) return;
        open_ = false;
        // A write in flight still reads the front frame; drop only what waits behind it.
        if (writing_)
            out_.erase(std::next(out_.begin()), out_.end());
        else
            out_.clear();
        if (ec == websocket::error::closed) return listener_.onClosed(index_, ws_.reason().code, "close frame");
        listener_.onClosed(index_, -1, ec.message());
    }

    websocket::stream<tcp::socket> ws_;
    websocket::response_type response_;
    beast::flat_buffer in_;
    std::deque<std::string> out_;
    const ConnSpec& spec_;
    int receiveBuffer_;
    ClientListener& listener_;
    std::size_t index_;
    bool open_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool paused_ = false;
    bool reported_ = false;
};

}  // namespace

std::shared_ptr<Client> Client::create(net::io_context& io, const ConnSpec& spec, int receiveBuffer,
                                       ClientListener& listener, std::size_t index) {
    return std::make_shared<WsClient>(io, spec, receiveBuffer, listener, index);
}

}  // namespace bench
