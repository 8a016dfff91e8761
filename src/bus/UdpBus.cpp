#include "bus/UdpBus.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/ip/address.hpp>
#include <spdlog/spdlog.h>

namespace chat::bus {

namespace net = boost::asio;
using net::ip::udp;

namespace {

using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

UdpBus::UdpBus(net::io_context& io, const config::Config& cfg, metrics::Metrics& metrics)
    : cfg_(cfg), metrics_(metrics), strand_(net::make_strand(io)), socket_(strand_) {}

void UdpBus::open() {
    boost::system::error_code ec;
    auto broadcast = net::ip::make_address_v4(cfg_.busBroadcast, ec);
    if (ec) throw std::runtime_error("bus-broadcast '" + cfg_.busBroadcast + "' is not an IPv4 address");
    auto bind = net::ip::make_address_v4(cfg_.busBind, ec);
    if (ec) throw std::runtime_error("bus-bind '" + cfg_.busBind + "' is not an IPv4 address");
    target_ = udp::endpoint(broadcast, cfg_.busPort);

    socket_.open(udp::v4());
    socket_.set_option(net::socket_base::reuse_address(true));
    socket_.set_option(ReusePort(true));
    socket_.set_option(net::socket_base::broadcast(true));
    socket_.set_option(net::socket_base::receive_buffer_size(static_cast<int>(cfg_.busSocketBuffer)));
    socket_.set_option(net::socket_base::send_buffer_size(static_cast<int>(cfg_.busSocketBuffer)));
    socket_.bind(udp::endpoint(bind, cfg_.busPort), ec);
    if (ec) throw std::runtime_error("cannot bind the bus to " + cfg_.busBind + ":" + std::to_string(cfg_.busPort) + ": " + ec.message());
    open_ = true;
    spdlog::info("bus: listening on {}:{}, broadcasting to {}", cfg_.busBind, cfg_.busPort, cfg_.busBroadcast);
}

void UdpBus::start(Sink sink) {
    sink_ = std::move(sink);
    net::dispatch(strand_, [this] { doReceive(); });
}

void UdpBus::stop() {
    open_ = false;
    net::post(strand_, [this] {
        boost::system::error_code ignored;
        socket_.close(ignored);
    });
}

bool UdpBus::broadcast(const proto::DatagramHeader& header, std::string_view payload) {
    if (payload.size() > proto::kMaxDatagramPayload) {
        metrics_.count(metrics::DropReason::Oversize);
        return false;
    }
    proto::DatagramHeader h = header;
    h.length = static_cast<std::uint32_t>(payload.size());
    std::array<std::uint8_t, proto::kDatagramHeaderSize> head{};
    proto::Datagram::encodeHeader(h, head);
    std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(payload.data(), payload.size())};
    boost::system::error_code ec;
    {
        std::lock_guard lock(sendMutex_);
        socket_.send_to(buffers, target_, 0, ec);
    }
    if (ec) {
        metrics_.count(metrics::ErrorKind::Bus);
        spdlog::warn("bus: send failed: {}", ec.message());
        return false;
    }
    metrics_.busSent.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void UdpBus::doReceive() {
    socket_.async_receive_from(net::buffer(buffer_), from_,
                               [this](const boost::system::error_code& ec, std::size_t n) { onReceive(ec, n); });
}

void UdpBus::onReceive(const boost::system::error_code& ec, std::size_t bytes) {
    if (ec == net::error::operation_aborted || !socket_.is_open()) return;
    if (ec) {
        metrics_.count(metrics::ErrorKind::Bus);
        spdlog::warn("bus: receive failed: {}", ec.message());
        doReceive();
        return;
    }
    metrics_.busReceived.fetch_add(1, std::memory_order_relaxed);
    auto result = proto::Datagram::decode(std::string_view(buffer_.data(), bytes));
    if (!result.datagram) {
        metrics_.count(result.error == proto::DecodeError::BadVersion ? metrics::DropReason::Version
                                                                       : metrics::DropReason::Malformed);
    } else {
        sink_(*result.datagram);
    }
    doReceive();
}

}  // namespace chat::bus
