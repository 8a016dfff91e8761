#include "proto/IdGenerator.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace chat::proto {

IdGenerator::IdGenerator(std::uint32_t nodeId, std::int64_t clockOffsetMs)
    : nodeId_(nodeId), clockOffsetMs_(clockOffsetMs) {
    if (nodeId > kMaxNodeId) throw std::invalid_argument("node id must be 0..63");
}

std::int64_t IdGenerator::next() {
    auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return nextAt(now + clockOffsetMs_);
}

std::int64_t IdGenerator::nextAt(std::int64_t unixMs) {
    std::int64_t wanted = std::max<std::int64_t>(0, unixMs - kEpochMs) << kSeqBits;
    std::int64_t last = lastTick_.load(std::memory_order_relaxed);
    std::int64_t tick;
    do {
        tick = std::max(wanted, last + 1);
    } while (!lastTick_.compare_exchange_weak(last, tick, std::memory_order_relaxed));
    std::int64_t ms = tick >> kSeqBits;
    std::int64_t seq = tick & ((1 << kSeqBits) - 1);
    return (ms << (kNodeBits + kSeqBits)) | (static_cast<std::int64_t>(nodeId_) << kSeqBits) | seq;
}

std::int64_t IdGenerator::unixMsOf(std::int64_t id) {
    return (id >> (kNodeBits + kSeqBits)) + kEpochMs;
}

std::uint32_t IdGenerator::nodeOf(std::int64_t id) {
    return static_cast<std::uint32_t>((id >> kSeqBits) & kMaxNodeId);
}

}  // namespace chat::proto
