#include "proto/SeqRanges.hpp"

#include "proto/BigEndian.hpp"

namespace chat::proto {

std::string SeqRanges::encode(const std::vector<SeqRange>& ranges) {
    std::string out;
    out.reserve(ranges.size() * 16);
    for (std::size_t i = 0; i < ranges.size() && i < kMaxRanges; ++i) {
        appendBigEndian<std::uint64_t>(out, ranges[i].first);
        appendBigEndian<std::uint64_t>(out, ranges[i].last);
    }
    return out;
}

std::optional<std::vector<SeqRange>> SeqRanges::decode(std::string_view payload) {
    if (payload.size() % 16 != 0 || payload.size() / 16 > kMaxRanges) return std::nullopt;
    std::vector<SeqRange> ranges;
    for (std::size_t off = 0; off < payload.size(); off += 16) {
        SeqRange r{readBigEndian<std::uint64_t>(payload, off), readBigEndian<std::uint64_t>(payload, off + 8)};
        if (r.first == 0 || r.last < r.first) return std::nullopt;
        ranges.push_back(r);
    }
    return ranges;
}

}  // namespace chat::proto
