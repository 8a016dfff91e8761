#include "proto/IdList.hpp"

namespace chat::proto {

std::string IdList::encode(const std::vector<std::int64_t>& ids) {
    std::string out;
    out.reserve(ids.size() * 8);
    for (auto id : ids) {
        auto v = static_cast<std::uint64_t>(id);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
    }
    return out;
}

std::optional<std::vector<std::int64_t>> IdList::decode(std::string_view payload) {
    if (payload.size() % 8 != 0 || payload.size() / 8 > kMaxIds) return std::nullopt;
    std::vector<std::int64_t> ids;
    ids.reserve(payload.size() / 8);
    for (std::size_t i = 0; i < payload.size(); i += 8) {
        std::uint64_t v = 0;
        for (std::size_t b = 0; b < 8; ++b) v = (v << 8) | static_cast<unsigned char>(payload[i + b]);
        auto id = static_cast<std::int64_t>(v);
        if (id <= 0) return std::nullopt;
        ids.push_back(id);
    }
    return ids;
}

}  // namespace chat::proto
