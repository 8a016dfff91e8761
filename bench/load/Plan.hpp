// What one load worker does, read from the JSON file the suite driver writes
// (bench/suite/plan.mjs builds it): the workload's pacing and limits, and this worker's
// share of the connections, each with its user, token, node, source address, what it sends
// and whose messages it must receive.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct ConnSpec {
    std::int64_t user = 0;
    std::string token;
    std::string host;  // the node's address
    std::uint16_t port = 0;
    std::string source;  // 127.0.0.x: spreads connections over several ephemeral-port ranges
    int cmd = 0;         // 10 single, 11 group; 0: this connection only receives
    std::int64_t dst = 0;
    std::vector<std::int64_t> expect;  // senders whose every message this connection must receive
    bool slow = false;                 // stops reading when the workload starts
};

enum class Pacing {
    Rate,   // every sender sends ratePerSender messages/s for durationMs
    Burst,  // every sender sends messagesPerSender as fast as acks allow, window unacknowledged
    Hold,   // nobody sends: connections are only opened and held
};

struct Plan {
    std::string tag;  // marks this run's messages
    Pacing pacing = Pacing::Hold;
    double ratePerSender = 0;
    std::uint64_t durationMs = 0;
    std::uint64_t messagesPerSender = 0;
    unsigned window = 32;
    std::size_t contentBytes = 64;
    unsigned connectConcurrency = 256;  // handshakes in flight per worker
    std::uint64_t connectTimeoutMs = 60000;
    std::uint64_t syncTimeoutMs = 3000;  // a node that sends no cmd 13 (older ones, the baseline) is not waited for
    std::uint64_t drainTimeoutMs = 20000;
    std::uint64_t slowResumeMs = 3000;  // how long the slow reader reads again at the end to see how it was closed
    int slowReceiveBuffer = 8192;       // SO_RCVBUF of the slow reader: a phone on a bad link, not a 6 MB window
    std::vector<ConnSpec> connections;

    static Plan load(const std::string& path);
};

}  // namespace bench
