#include "bus/UdpBus.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace chat::bus {

namespace net = boost::asio;
using net::ip::udp;
using proto::DatagramKind;

namespace {

using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Each start of a node is a new incarnation, larger than any before it on this host's
// clock, so other nodes take a restart for a new stream rather than a replay.
std::uint64_t newIncarnation() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

StreamLimits streamLimitsOf(const config::Config& c) {
    StreamLimits l;
    l.maxPending = c.busMaxPending;
    l.maxMessage = c.busMaxMessage;
    l.nakDelay = c.busNakDelay;
    l.nakInterval = c.busNakInterval;
    l.gapTimeout = c.busGapTimeout;
    return l;
}

// A socket filter sees a UDP datagram from its UDP header on.
constexpr std::uint32_t kUdpHeader = 8;

// Classic BPF: a datagram that starts with our magic, origin and incarnation is dropped (0
// bytes kept), anything else kept whole.
std::array<sock_filter, 12> ownDatagramFilter(std::uint32_t origin, std::uint64_t incarnation) {
    constexpr std::uint32_t kKeep = 0xffffffff;
    auto ld = [](std::uint32_t offset) { return sock_filter{BPF_LD | BPF_W | BPF_ABS, 0, 0, kUdpHeader + offset}; };
    // Compares the loaded word with k: on to the next instruction if equal, else to "keep".
    auto same = [](std::uint32_t k, std::uint8_t toKeep) {
        return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, 0, toKeep, k};
    };
    return {{
        {BPF_LD | BPF_W | BPF_LEN, 0, 0, 0},
        {BPF_JMP | BPF_JGE | BPF_K, 0, 9, kUdpHeader + 24},  // shorter than the fields read: keep
        ld(0),
        same(proto::kDatagramMagic, 7),
        ld(12),
        same(origin, 5),
        ld(16),
        same(static_cast<std::uint32_t>(incarnation >> 32), 3),
        ld(20),
        same(static_cast<std::uint32_t>(incarnation), 1),
        {BPF_RET | BPF_K, 0, 0, 0},
        {BPF_RET | BPF_K, 0, 0, kKeep},
    }};
}

// Datagram batches taken per wake-up before other work on the strand gets its turn.
constexpr int kBatchesPerWake = 8;

// Timers look for due NAKs this often; a fraction of the NAK interval keeps repair prompt.
constexpr auto kTick = std::chrono::milliseconds(10);

}  // namespace

UdpBus::UdpBus(net::io_context& io, const config::Config& cfg, metrics::Metrics& metrics)
    : cfg_(cfg),
      metrics_(metrics),
      incarnation_(newIncarnation()),
      sealer_(cfg.busKey, cfg.busKeyPrevious),
      sequencer_(cfg.nodeId, incarnation_, sealer_,
                 RetransmitLimits{cfg.busRetransmitCount, cfg.busRetransmitBytes, cfg.busRetransmitAge,
                                  cfg.busNakInterval / 2},
                 cfg.busMaxMessage),
      membership_(streamLimitsOf(cfg), cfg.busPeerTimeout, cfg.nodeId, incarnation_, metrics),
      strand_(net::make_strand(io)),
      socket_(strand_),
      tick_(strand_) {}

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
    if (ec)
        throw std::runtime_error("cannot bind the bus to " + cfg_.busBind + ":" + std::to_string(cfg_.busPort) + ": " +
                                 ec.message());
    filterOwnDatagrams();
    open_ = true;
    spdlog::info("bus: listening on {}:{}, broadcasting to {}, incarnation {}", cfg_.busBind, cfg_.busPort,
                 cfg_.busBroadcast, incarnation_);
}

// Our own broadcasts come back to us, one per datagram we send: the kernel drops them, so
// they never wake the bus's thread. handle() still drops any that get through.
void UdpBus::filterOwnDatagrams() {
    auto program = ownDatagramFilter(cfg_.nodeId, incarnation_);
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    if (setsockopt(socket_.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
        spdlog::warn("bus: no socket filter for our own datagrams ({}); they are dropped after reading instead",
                     std::strerror(errno));
}

void UdpBus::start(Sink sink, LossSink lossSink, PeerSink peerSink) {
    sink_ = std::move(sink);
    lossSink_ = std::move(lossSink);
    peerSink_ = std::move(peerSink);
    net::dispatch(strand_, [this] {
        doReceive();
        onTick();  // announces this incarnation at once
    });
}

void UdpBus::stop() {
    open_ = false;
    net::post(strand_, [this] {
        boost::system::error_code ignored;
        tick_.cancel();
        socket_.close(ignored);
    });
}

void UdpBus::send(const SharedBytes& datagram) {
    boost::system::error_code ec;
    {
        std::lock_guard lock(sendMutex_);
        socket_.send_to(net::buffer(*datagram), target_, 0, ec);
    }
    if (ec) {
        metrics_.count(metrics::ErrorKind::Bus);
        spdlog::warn("bus: send failed: {}", ec.message());
        return;
    }
    metrics_.busSent.fetch_add(1, std::memory_order_relaxed);
}

bool UdpBus::broadcast(const proto::DatagramHeader& header, std::string_view payload) {
    if (!open_) return false;
    auto datagrams = sequencer_.seal(header, payload, Clock::now());
    if (datagrams.empty()) {
        metrics_.count(metrics::DropReason::Oversize);
        return false;
    }
    // A datagram lost here (full socket buffer) is recovered like one lost on the wire.
    for (const auto& d : datagrams) send(d);
    return true;
}

// Waits for the socket to be readable, then takes what is waiting in batches: one wake-up and
// one system call for all the datagrams that arrived meanwhile, and no failed speculative
// read per datagram (an async receive tries one before it waits).
void UdpBus::doReceive() {
    socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) { onReadable(ec); });
}

void UdpBus::onReadable(const boost::system::error_code& ec) {
    if (ec == net::error::operation_aborted || !socket_.is_open()) return;
    if (ec) {
        metrics_.count(metrics::ErrorKind::Bus);
        spdlog::warn("bus: waiting for datagrams failed: {}", ec.message());
        return doReceive();
    }
    // Bounded, so the tick and NAK answers on this strand are not starved by a flood.
    for (int batches = 0; batches < kBatchesPerWake; ++batches) {
        std::error_code error;
        const auto n = receiver_.receive(socket_.native_handle(), error);
        if (error) {
            metrics_.count(metrics::ErrorKind::Bus);
            spdlog::warn("bus: receive failed: {}", error.message());
        }
        for (std::size_t i = 0; i < n; ++i) onDatagram(receiver_.datagram(i), receiver_.truncated(i));
        if (n < DatagramReceiver::kBatch) break;
    }
    doReceive();
}

void UdpBus::onDatagram(std::string_view bytes, bool truncated) {
    metrics_.busReceived.fetch_add(1, std::memory_order_relaxed);
    if (truncated) return metrics_.count(metrics::DropReason::Malformed);  // longer than any of ours
    auto result = proto::Datagram::decode(bytes);
    if (!result.datagram) {
        metrics_.count(result.error == proto::DecodeError::BadVersion ? metrics::DropReason::Version
                                                                      : metrics::DropReason::Malformed);
        return;
    }
    std::vector<Delivery> out;
    auto now = Clock::now();
    handle(*result.datagram, now, out);
    // Before anything a newcomer hears from us because it joined: it learns where our
    // stream stands from this answer, and takes what follows.
    for (const auto& a : membership_.takeAnswers())
        send(sequencer_.control(DatagramKind::Heartbeat, a.node, static_cast<std::int64_t>(a.incarnation), {}));
    deliver(out);
}

void UdpBus::handle(const proto::DecodedDatagram& d, Clock::time_point now, std::vector<Delivery>& out) {
    const auto& h = d.header;
    // Our own broadcasts come back to us; they were delivered locally when published.
    if (h.origin == cfg_.nodeId && h.incarnation == incarnation_)
        return metrics_.count(metrics::DropReason::SelfOrigin);
    if (!sealer_.verify(h.keyId, d.signedBytes, d.mac)) return metrics_.count(metrics::DropReason::BadMac);
    if (h.origin == cfg_.nodeId) {
        if (!warnedDuplicateId_)
            spdlog::error("bus: another node signs with node id {}; node ids must be unique", h.origin);
        warnedDuplicateId_ = true;
        return metrics_.count(metrics::DropReason::Stale);
    }
    if (proto::isSequenced(h.kind)) return membership_.onSequenced(d, now, out);
    switch (h.kind) {
        case DatagramKind::Heartbeat:
            return membership_.onHeartbeat(h, now, out);
        case DatagramKind::Nak:
            return answerNak(d, now);
        case DatagramKind::Gone:
            if (auto ranges = proto::SeqRanges::decode(d.payload)) return membership_.onGone(h, *ranges, now, out);
            return metrics_.count(metrics::DropReason::Malformed);
        default:
            return;
    }
}

void UdpBus::answerNak(const proto::DecodedDatagram& d, Clock::time_point now) {
    const auto& h = d.header;
    if (h.target != static_cast<std::int64_t>(cfg_.nodeId) || static_cast<std::uint64_t>(h.sender) != incarnation_)
        return;
    auto ranges = proto::SeqRanges::decode(d.payload);
    if (!ranges) return metrics_.count(metrics::DropReason::Malformed);
    std::vector<proto::SeqRange> gone;
    auto again = sequencer_.resend(*ranges, now, gone);
    for (const auto& datagram : again) send(datagram);
    metrics_.busRetransmits.fetch_add(again.size(), std::memory_order_relaxed);
    if (!gone.empty()) send(sequencer_.control(DatagramKind::Gone, 0, 0, proto::SeqRanges::encode(gone)));
}

void UdpBus::sendHeartbeat(Clock::time_point now) {
    send(sequencer_.control(DatagramKind::Heartbeat, kAnswersNobody, membership_.waitingToJoin() ? kAsksForAnswers : 0,
                            {}));
    lastHeartbeat_ = now;
}

void UdpBus::scheduleTick() {
    tick_.expires_after(kTick);
    tick_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) onTick();
    });
}

void UdpBus::onTick() {
    if (!socket_.is_open()) return;
    auto now = Clock::now();
    if (now - lastHeartbeat_ >= cfg_.busHeartbeat) sendHeartbeat(now);
    for (const auto& nak : membership_.dueNaks(now)) {
        send(sequencer_.control(DatagramKind::Nak, nak.origin, static_cast<std::int64_t>(nak.incarnation),
                                proto::SeqRanges::encode(nak.ranges)));
        metrics_.busNaksSent.fetch_add(1, std::memory_order_relaxed);
    }
    std::vector<Delivery> out;
    membership_.expire(now, out);
    deliver(out);
    scheduleTick();
}

void UdpBus::deliver(std::vector<Delivery>& out) {
    for (const auto& d : out) sink_(d.header, d.payload);
    for (auto [node, present] : membership_.takePeerChanges())
        if (peerSink_) peerSink_(node, present);
    if (auto lost = membership_.takeLost()) {
        metrics_.busLost.fetch_add(lost, std::memory_order_relaxed);
        spdlog::warn("bus: {} datagram(s) could not be recovered", lost);
        if (lossSink_) lossSink_(lost);
    }
}

void UdpBus::view(std::function<void(std::string)> done) {
    net::post(strand_, [this, done = std::move(done)] {
        nlohmann::json j{{"node", cfg_.nodeId},
                         {"incarnation", incarnation_},
                         {"lastSeq", sequencer_.lastSeq()},
                         {"retransmitBuffer", sequencer_.buffered()},
                         {"retransmits", metrics_.busRetransmits.load()},
                         {"naksSent", metrics_.busNaksSent.load()},
                         {"lost", metrics_.busLost.load()},
                         {"peers", nlohmann::json::parse(membership_.view(Clock::now()))}};
        done(j.dump());
    });
}

}  // namespace chat::bus
