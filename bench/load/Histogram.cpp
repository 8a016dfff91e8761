// See Histogram.hpp.
#include "load/Histogram.hpp"

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>

namespace bench {

std::size_t Histogram::indexOf(std::uint64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    // Keep the leading one and the kLinearBits - 1 bits below it: 64 buckets per octave.
    unsigned shift = static_cast<unsigned>(std::bit_width(v)) - kLinearBits;
    auto index = shift * (kLinear / 2) + (v >> shift);
    return std::min<std::size_t>(index, kBuckets - 1);
}

std::uint64_t Histogram::valueOf(std::size_t index) {
    if (index < kLinear) return index;
    auto shift = index / (kLinear / 2) - 1;
    auto mantissa = index % (kLinear / 2) + kLinear / 2;
    return mantissa << shift;
}

void Histogram::record(std::uint64_t micros) {
    ++buckets_[indexOf(micros)];
    ++count_;
    max_ = std::max(max_, micros);
}

void Histogram::merge(const Histogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double q) const {
    if (count_ == 0) return 0;
    auto wanted = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.5);
    wanted = std::clamp<std::uint64_t>(wanted, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen >= wanted) return std::min(valueOf(i), max_);
    }
    return max_;
}

nlohmann::json Histogram::toJson() const {
    auto out = nlohmann::json::array();
    for (std::size_t i = 0; i < kBuckets; ++i)
        if (buckets_[i]) out.push_back({valueOf(i), buckets_[i]});
    return out;
}

}  // namespace bench
