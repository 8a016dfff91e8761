// The cluster bus: one UDP socket that broadcasts this node's datagrams to the subnet and
// receives every node's, made trustworthy: every datagram is signed (Sealer), numbered and
// kept for retransmission (Sequencer); every other node's stream is put back in order,
// de-duplicated and repaired with NAKs (Membership, PeerStream). Heartbeats announce each
// node's latest seq so that a lost last datagram is noticed too.
//
// Bound to the wildcard address with SO_REUSEADDR/SO_REUSEPORT so several nodes on one host
// all receive each broadcast. The bus has a thread of its own that blocks in the receive
// call, with the timers' tick as its timeout: a datagram is received and handled on the
// thread that saw it arrive, with no readiness wait and no hand-over. Receiving, NAKs, timers
// and views run on that thread; broadcast() may be called from any thread.
#pragma once
#include <netinet/in.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

    // `incarnation` numbers this start of the node: larger than any earlier start's, so other
    // nodes take it for a restart and not for a replay (store::RunRegistry).
    UdpBus(const config::Config& cfg, metrics::Metrics& metrics, std::uint64_t incarnation);
    ~UdpBus() override;
    UdpBus(const UdpBus&) = delete;
    UdpBus& operator=(const UdpBus&) = delete;

    // Opens and binds the socket; throws std::runtime_error with a readable reason.
    void open();
    // Starts the bus's thread.
    void start(Sink sink, LossSink lossSink, PeerSink peerSink = nullptr);
    // Returns once the bus's thread has ended; broadcasts fail from then on.
    void stop();
    bool isOpen() const { return open_.load(); }

    bool broadcast(const proto::DatagramHeader& header, std::string_view payload) override;
    // The bus's view of the cluster as JSON (for GET /bus), built on the bus's thread and
    // handed to `done` there. False (and `done` never called) once that thread has ended.
    bool view(const std::function<void(std::string)>& done);

private:
    void configureSocket();
    void filterOwnDatagrams();
    void send(const SharedBytes& datagram);
    void run();
    void receive();
    void answerViews(bool last);
    void onDatagram(std::string_view bytes, bool truncated);
    void handle(const proto::DecodedDatagram& d, Clock::time_point now, std::vector<Delivery>& out);
    void answerNak(const proto::DecodedDatagram& d, Clock::time_point now);
    void sendHeartbeat(Clock::time_point now);
    void onTick(Clock::time_point now);
    void deliver();

    const config::Config& cfg_;
    metrics::Metrics& metrics_;
    const std::uint64_t incarnation_;
    Sealer sealer_;
    Sequencer sequencer_;
    int fd_ = -1;
    sockaddr_in target_{};
    std::atomic<bool> open_{false};
    std::atomic<bool> running_{false};
    std::thread thread_;
    std::mutex viewsMutex_;
    std::vector<std::function<void(std::string)>> views_;  // waiting for the bus's thread
    std::atomic<bool> viewsWaiting_{false};
    bool viewsClosed_ = false;  // the bus's thread has answered its last
    // The bus's thread only:
    Membership membership_;
    DatagramReceiver receiver_;
    std::vector<Delivery> delivered_;  // what one datagram or tick made whole; empty between them
    Clock::time_point lastHeartbeat_{};
    bool warnedDuplicateId_ = false;
    Sink sink_;
    LossSink lossSink_;
    PeerSink peerSink_;
};

}  // namespace chat::bus
