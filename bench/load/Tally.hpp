// Everything one lane (and, merged, one worker) counted: the connect phase, what its senders
// sent and got acknowledged, and what its receivers got — first deliveries, duplicates, late
// ones, latencies — kept apart for slow readers, whose losses are the point of their test.
// Merged by the Worker and printed as one JSON object; the suite driver sums the workers'.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "load/Histogram.hpp"

namespace bench {

struct ReceiveTally {
    std::uint64_t expected = 0;  // messages the senders sent that these receivers should get
    std::uint64_t unique = 0;    // first deliveries of those
    std::uint64_t duplicates = 0;
    std::uint64_t late = 0;  // first deliveries that came after a later message of the same sender
    Histogram latency;       // send → receipt, µs

    void merge(const ReceiveTally& o);
    nlohmann::json toJson() const;
};

struct Tally {
    // connect phase
    std::uint64_t opened = 0;
    std::uint64_t failed = 0;
    std::map<std::string, std::uint64_t> failures;  // reason -> count
    std::uint64_t synced = 0;                       // received cmd 13 within the sync timeout
    std::uint64_t firstStartNs = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t lastOpenNs = 0;
    std::uint64_t lastSyncNs = 0;
    Histogram connectLatency;  // connect + upgrade (token check included), µs
    Histogram syncLatency;     // open → cmd 13, µs

    // senders
    std::uint64_t issued = 0;
    std::uint64_t skipped = 0;  // due but not sent: the connection was closed or its queue full
    std::uint64_t acked = 0;
    std::map<long long, std::uint64_t> errorCodes;  // cmd 99 code -> count
    std::uint64_t firstSendNs = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t lastSendNs = 0;
    Histogram ackLatency;

    // receivers
    ReceiveTally receivers;
    ReceiveTally slow;
    std::uint64_t slowClients = 0;
    std::uint64_t slowClosed = 0;
    std::map<int, std::uint64_t> slowCloseCodes;
    std::uint64_t unexpected = 0;  // this run's messages from a sender the receiver does not expect
    std::uint64_t foreign = 0;     // chat frames of other runs (history replayed at connect)
    std::uint64_t invalid = 0;     // this run's tag with an unreadable stamp
    std::uint64_t gapNotices = 0;  // cmd 14
    std::uint64_t otherFrames = 0;
    std::uint64_t lastReceiveNs = 0;
    std::uint64_t closedEarly = 0;  // open connections (not slow readers) the server closed
    std::map<int, std::uint64_t> closeCodes;

    void merge(const Tally& o);
    nlohmann::json connectJson() const;
    nlohmann::json toJson() const;
};

}  // namespace bench
