// The node's counters, gauges and histograms, rendered in the Prometheus text format on
// the admin address. Lock-free on the update side; one Metrics object per node, passed down.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace chat::metrics {

using Counter = std::atomic<std::uint64_t>;
using Gauge = std::atomic<std::int64_t>;

// Fixed buckets keep observe() to a few comparisons and one atomic add.
class Histogram {
public:
    static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    void observe(std::chrono::nanoseconds d);
    void render(std::string& out, const std::string& name) const;

private:
    std::array<Counter, kBounds.size() + 1> buckets_{};
    Counter count_{0};
    Counter sumMicros_{0};
};

enum class InCmd : std::size_t { Heartbeat, Single, Group, Other, Count };
enum class DropReason : std::size_t {
    Malformed,
    Version,
    BadMac,
    Replay,
    Stale,
    Overflow,
    SelfOrigin,
    NoRecipient,
    Oversize,
    Count
};
enum class ErrorKind : std::size_t { BadFrame, Http, Db, Bus, Internal, Count };

class Metrics {
public:
    Gauge connections{0};
    Gauge onlineUsers{0};  // users with a connection on any node, as this node knows
    std::array<Counter, static_cast<std::size_t>(InCmd::Count)> messagesIn{};
    Counter deliveries{0};
    Counter busSent{0};
    Counter busReceived{0};
    std::array<Counter, static_cast<std::size_t>(DropReason::Count)> busDropped{};
    Counter busRetransmits{0};  // datagrams this node sent again after a NAK
    Counter busNaksSent{0};
    Counter busLost{0};  // datagrams given up after a gap could not be filled
    Gauge busPeers{0};
    Counter slowConsumerDisconnects{0};
    Counter socketWrites{0};   // gathered writes to client sockets
    Counter framesWritten{0};  // the chat frames they carried
    std::array<Counter, static_cast<std::size_t>(ErrorKind::Count)> errors{};
    Counter httpRequests{0};
    Counter loginsRateLimited{0};
    Counter registrationsRateLimited{0};
    Gauge bodyBytesHeld{0};    // request body bytes taken from max-body-memory now
    Counter bodiesRefused{0};  // requests refused while the node held its budget of request bodies
    Counter uploads{0};
    Histogram dbLatency;
    Counter historyStored{0};        // messages committed to the history
    Counter historyFailed{0};        // messages whose batch could not be committed
    Counter historyBatches{0};       // commits tried, each one batch
    Histogram historyCommitLatency;  // from append to the batch's commit
    Counter streamFetched{0};        // positions fetched from the history to fill holes
    Counter streamGivenUp{0};        // positions given up (devices were told to re-sync)
    Counter syncFrames{0};           // frames sent to catching-up devices from the history

    void count(InCmd c) { messagesIn[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed); }
    void count(DropReason r) { busDropped[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
    void count(ErrorKind k) { errors[static_cast<std::size_t>(k)].fetch_add(1, std::memory_order_relaxed); }

    std::string render() const;
};

}  // namespace chat::metrics
