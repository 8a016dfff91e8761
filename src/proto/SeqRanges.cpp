#include "proto/SeqRanges.hpp"

namespace chat::proto {

namespace {

void put64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t get64(std::string_view s) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

}  // namespace

std::string SeqRanges::encode(const std::vector<SeqRange>& ranges) {
    std::string out;
    out.reserve(ranges.size() * 16);
    for (std::size_t i = 0; i < ranges.size() && i < kMaxRanges; ++i) {
        put64(out, ranges[i].first);
        put64(out, ranges[i].last);
    }
    return out;
}

std::optional<std::vector<SeqRange>> SeqRanges::decode(std::string_view payload) {
    if (payload.size() % 16 != 0 || payload.size() / 16 > kMaxRanges) return std::nullopt;
    std::vector<SeqRange> ranges;
    for (std::size_t off = 0; off < payload.size(); off += 16) {
        SeqRange r{get64(payload.substr(off)), get64(payload.substr(off + 8))};
        if (r.first == 0 || r.last < r.first) return std::nullopt;
        ranges.push_back(r);
    }
    return ranges;
}

}  // namespace chat::proto
