// Message ids: unique across the cluster, increasing with time on each node, and below
// 2^53 so that browsers read them exactly as JSON numbers.
//
//   id = milliseconds since 2024-01-01 (40 bits, until 2058) << 13 | node id (6 bits) << 7 | sequence (7 bits)
//
// More than 128 messages in one millisecond borrow the next millisecond, so ids never
// repeat and never go backwards even when the wall clock does.
#pragma once
#include <atomic>
#include <cstdint>

namespace chat::proto {

class IdGenerator {
public:
    static constexpr std::int64_t kEpochMs = 1704067200000;  // 2024-01-01T00:00:00Z
    static constexpr int kNodeBits = 6;
    static constexpr int kSeqBits = 7;
    static constexpr std::uint32_t kMaxNodeId = (1u << kNodeBits) - 1;

    // `clockOffsetMs` shifts the wall clock (tests prove that nothing relies on node clocks).
    explicit IdGenerator(std::uint32_t nodeId, std::int64_t clockOffsetMs = 0);
    std::int64_t next();
    std::int64_t nextAt(std::int64_t unixMs);  // for tests: the clock as a parameter

    static std::int64_t unixMsOf(std::int64_t id);
    static std::uint32_t nodeOf(std::int64_t id);

private:
    std::uint32_t nodeId_;
    std::int64_t clockOffsetMs_;
    std::atomic<std::int64_t> lastTick_{0};  // (ms since epoch) << kSeqBits | sequence
};

}  // namespace chat::proto
