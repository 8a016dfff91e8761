#include "proto/IdList.hpp"

#include "proto/BigEndian.hpp"

namespace chat::proto {

std::string IdList::encode(const std::vector<std::int64_t>& ids) {
    std::string out;
    out.reserve(ids.size() * 8);
    for (auto id : ids) appendBigEndian(out, static_cast<std::uint64_t>(id));
    return out;
}

std::optional<std::vector<std::int64_t>> IdList::decode(std::string_view payload) {
    if (payload.size() % 8 != 0 || payload.size() / 8 > kMaxIds) return std::nullopt;
    std::vector<std::int64_t> ids;
    ids.reserve(payload.size() / 8);
    for (std::size_t i = 0; i < payload.size(); i += 8) {
        auto id = static_cast<std::int64_t>(readBigEndian<std::uint64_t>(payload, i));
        if (id <= 0) return std::nullopt;
        ids.push_back(id);
    }
    return ids;
}

}  // namespace chat::proto
