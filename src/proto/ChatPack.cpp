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

std::optional<std::vector<PackedChat>> ChatPack::decode(std::string_view payload) {
    std::vector<PackedChat> chats;
    chats.reserve(payload.size() / (kEntryOverhead + 64));
    std::size_t at = 0;
    while (at < payload.size()) {
        if (payload.size() - at < kEntryOverhead) return std::nullopt;
        PackedChat c;
        auto kind = static_cast<TargetKind>(payload[at]);
        if (kind != TargetKind::User && kind != TargetKind::Group) return std::nullopt;
        c.targetKind = kind;
        c.target = static_cast<std::int64_t>(readBigEndian<std::uint64_t>(payload, at + 1));
        c.sender = static_cast<std::int64_t>(readBigEndian<std::uint64_t>(payload, at + 9));
        c.pos = readBigEndian<std::uint64_t>(payload, at + 17);
        auto length = readBigEndian<std::uint32_t>(payload, at + 25);
        at += kEntryOverhead;
        if (c.pos == 0 || length == 0 || length > payload.size() - at) return std::nullopt;
        c.frame = payload.substr(at, length);
        at += length;
        chats.push_back(c);
    }
    if (chats.empty()) return std::nullopt;
    return chats;
}

}  // namespace chat::proto
