// One receiver's view of one sender's stream: which sequence numbers arrived, so the load
// generator can tell a first delivery from a duplicate and an in-order one from a late one.
// A bitmap, because losses, duplicates and reordering are counted per message, not guessed
// from counts.
#pragma once
#include <cstdint>
#include <vector>

namespace bench {

class StreamTracker {
public:
    enum class Outcome { InOrder, Late, Duplicate, Invalid };

    // Sequence numbers at or above this are treated as garbage rather than grown into.
    static constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 26;

    Outcome record(std::uint64_t seq);
    std::uint64_t unique() const { return unique_; }
    // First deliveries among 0 .. count-1: what the sender's `count` messages produced.
    std::uint64_t uniqueBelow(std::uint64_t count) const;

private:
    std::vector<std::uint64_t> seen_;
    std::uint64_t unique_ = 0;
    std::uint64_t next_ = 0;  // one past the highest sequence number seen
};

}  // namespace bench
