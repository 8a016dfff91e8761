#include "proto/ChatPack.hpp"

#include "proto/BigEndian.hpp"

namespace chat::proto {

void ChatPack::append(std::string& payload, const PackedChat& chat) {
    payload.push_back(static_cast<char>(chat.targetKind));
    appendBigEndian(payload, static_cast<std::uint64_t>(chat.target));
    appendBigEndian(payload, static_cast<std::uint64_t>(chat.sender));
    appendBigEndian(payload, chat.pos);
    appendBigEndian(payload, static_cast<std::uint32_t>(chat.frame.size()));
    payload.append(chat.frame);
}

std::optional<PackedChat> ChatPack::read(std::string_view payload, std::size_t& at) {
    if (payload.size() - at < kEntryOverhead) return std::nullopt;
    PackedChat c;
    c.targetKind = static_cast<TargetKind>(payload[at]);
    if (c.targetKind != TargetKind::User && c.targetKind != TargetKind::Group) return std::nullopt;
    c.target = static_cast<std::int64_t>(readBigEndian<std::uint64_t>(payload, at + 1));
    c.sender = static_cast<std::int64_t>(readBigEndian<std::uint64_t>(payload, at + 9));
    c.pos = readBigEndian<std::uint64_t>(payload, at + 17);
    auto length = readBigEndian<std::uint32_t>(payload, at + 25);
    at += kEntryOverhead;
    if (c.pos == 0 || length == 0 || length > payload.size() - at) return std::nullopt;
    c.frame = payload.substr(at, length);
    at += length;
    return c;
}

bool ChatPack::valid(std::string_view payload) {
    if (payload.empty()) return false;
    for (std::size_t at = 0; at < payload.size();)
        if (!read(payload, at)) return false;
    return true;
}

}  // namespace chat::proto
