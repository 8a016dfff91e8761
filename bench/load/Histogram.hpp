// A latency histogram in microseconds with about 1.6 % resolution (log-linear buckets, as in
// HdrHistogram): constant memory, O(1) record, and cheap to merge across threads and worker
// processes. Workers print it sparse ([value, count] pairs) and the suite driver merges the
// pairs of every worker before taking percentiles, which averaging percentiles cannot give.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

namespace bench {

class Histogram {
public:
    void record(std::uint64_t micros);
    void merge(const Histogram& other);

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    // The smallest bucket value v such that at least q (0..1) of the samples are <= v.
    std::uint64_t percentile(double q) const;

    // [[bucket value in µs, count], ...] for the non-empty buckets, smallest first.
    nlohmann::json toJson() const;

private:
    // Values below kLinear get a bucket each; every octave above is split into kLinear / 2.
    static constexpr unsigned kLinearBits = 7;
    static constexpr std::uint64_t kLinear = 1u << kLinearBits;
    static constexpr std::size_t kBuckets = 64 * 64;

    static std::size_t indexOf(std::uint64_t v);
    static std::uint64_t valueOf(std::size_t index);

    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace bench
