// The cluster bus: one UDP socket that broadcasts this node's datagrams to the subnet and
// receives every node's. Bound to the wildcard address with SO_REUSEADDR/SO_REUSEPORT so
// several nodes on one host all receive each broadcast.
#pragma once
#include <array>
#include <atomic>
#include <functional>
#include <mutex>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/io_context.hpp>

#include "config/Config.hpp"
#include "hub/Broadcaster.hpp"
#include "metrics/Metrics.hpp"
#include "proto/Datagram.hpp"

namespace chat::bus {

class UdpBus : public hub::Broadcaster {
public:
    using Sink = std::function<void(const proto::DecodedDatagram&)>;

    UdpBus(boost::asio::io_context& io, const config::Config& cfg, metrics::Metrics& metrics);

    // Opens and binds the socket; throws std::runtime_error with a readable reason.
    void open();
    void start(Sink sink);
    void stop();
    bool isOpen() const { return open_.load(); }

    bool broadcast(const proto::DatagramHeader& header, std::string_view payload) override;

private:
    void doReceive();
    void onReceive(const boost::system::error_code& ec, std::size_t bytes);

    const config::Config& cfg_;
    metrics::Metrics& metrics_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::ip::udp::endpoint target_;
    boost::asio::ip::udp::endpoint from_;
    std::mutex sendMutex_;
    Sink sink_;
    std::atomic<bool> open_{false};
    // Fits the largest UDP datagram, so nothing is ever truncated.
    std::array<char, 65536> buffer_{};
};

}  // namespace chat::bus
