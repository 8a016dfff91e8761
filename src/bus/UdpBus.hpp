// The cluster bus: one UDP socket that broadcasts this node's datagrams to the subnet and
// receives every node's, made trustworthy: every datagram is signed (Sealer), numbered and
// kept for retransmission (Sequencer); every other node's stream is put back in order,
// de-duplicated and repaired with NAKs (Membership, PeerStream). Heartbeats announce each
// node's latest seq so that a lost last datagram is noticed too.
//
// Bound to the wildcard address with SO_REUSEADDR/SO_REUSEPORT so several nodes on one host
// all receive each broadcast. Receiving, NAKs and timers run on the bus's strand; broadcast()
// may be called from any thread.
#pragma once
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <mutex>

#include "bus/DatagramReceiver.hpp"
#include "bus/Membership.hpp"
#include "bus/Sealer.hpp"
#include "bus/Sequencer.hpp"
#include "config/Config.hpp"
#include "hub/Broadcaster.hpp"
#include "metrics/Metrics.hpp"

namespace chat::bus {

class UdpBus : public hub::Broadcaster {
public:
    // A message from another node, whole and in its origin's order.
    using Sink = std::function<void(const proto::DatagramHeader&, std::string_view payload)>;
    // Datagrams that could not be recovered: some recipients here may have missed messages.
    using LossSink = std::function<void(std::uint64_t lost)>;
    // A node joined or restarted (true), or went silent (false).
    using PeerSink = std::function<void(std::uint32_t node, bool present)>;

    UdpBus(boost::asio::io_context& io, const config::Config& cfg, metrics::Metrics& metrics);

    // Opens and binds the socket; throws std::runtime_error with a readable reason.
    void open();
    void start(Sink sink, LossSink lossSink, PeerSink peerSink = nullptr);
    void stop();
    bool isOpen() const { return open_.load(); }

    bool broadcast(const proto::DatagramHeader& header, std::string_view payload) override;
    // The bus's view of the cluster as JSON (for GET /bus), built on the bus's strand.
    void view(std::function<void(std::string)> done);

private:
    void filterOwnDatagrams();
    void send(const SharedBytes& datagram);
    void doReceive();
    void onReadable(const boost::system::error_code& ec);
    void onDatagram(std::string_view bytes, bool truncated);
    void handle(const proto::DecodedDatagram& d, Clock::time_point now, std::vector<Delivery>& out);
    void answerNak(const proto::DecodedDatagram& d, Clock::time_point now);
    void sendHeartbeat(Clock::time_point now);
    void scheduleTick();
    void onTick();
    void deliver(std::vector<Delivery>& out);

    const config::Config& cfg_;
    metrics::Metrics& metrics_;
    const std::uint64_t incarnation_;
    Sealer sealer_;
    Sequencer sequencer_;
    Membership membership_;  // strand only
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::steady_timer tick_;
    boost::asio::ip::udp::endpoint target_;
    Clock::time_point lastHeartbeat_{};
    std::mutex sendMutex_;
    Sink sink_;
    LossSink lossSink_;
    PeerSink peerSink_;
    std::atomic<bool> open_{false};
    bool warnedDuplicateId_ = false;
    DatagramReceiver receiver_;  // strand only
};

}  // namespace chat::bus
