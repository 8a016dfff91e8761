// See StreamTracker.hpp.
#include "load/StreamTracker.hpp"

#include <bit>

namespace bench {

StreamTracker::Outcome StreamTracker::record(std::uint64_t seq) {
    if (seq >= kMaxSeq) return Outcome::Invalid;
    auto word = seq / 64;
    auto bit = std::uint64_t{1} << (seq % 64);
    if (word >= seen_.size()) seen_.resize(word + 1 + word / 2, 0);
    if (seen_[word] & bit) return Outcome::Duplicate;
    seen_[word] |= bit;
    ++unique_;
    if (seq + 1 >= next_) {
        next_ = seq + 1;
        return Outcome::InOrder;
    }
    return Outcome::Late;
}

std::uint64_t StreamTracker::uniqueBelow(std::uint64_t count) const {
    if (count >= next_) return unique_;
    std::uint64_t n = 0;
    auto full = count / 64;
    for (std::uint64_t w = 0; w < full && w < seen_.size(); ++w) n += static_cast<unsigned>(std::popcount(seen_[w]));
    if (full < seen_.size() && count % 64)
        n += static_cast<unsigned>(std::popcount(seen_[full] & ((std::uint64_t{1} << (count % 64)) - 1)));
    return n;
}

}  // namespace bench
