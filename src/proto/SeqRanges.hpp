// The payload of Nak and Gone datagrams: inclusive ranges of sequence numbers, 16 bytes
// each (first, last; big-endian). Pure encode/decode, used by the bus.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

struct SeqRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool operator==(const SeqRange&) const = default;
};

class SeqRanges {
public:
    // Fits one datagram with room to spare.
    static constexpr std::size_t kMaxRanges = 64;
    static std::string encode(const std::vector<SeqRange>& ranges);
    // nullopt for a payload that is not a whole number of well-formed ranges, or too many.
    static std::optional<std::vector<SeqRange>> decode(std::string_view payload);
};

}  // namespace chat::proto
