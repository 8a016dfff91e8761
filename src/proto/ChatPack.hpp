// The payload of ChatPack datagrams: several committed chat messages in one datagram. A
// batch of commits then costs every node a few datagrams (a wake-up, a MAC and a system call
// each) instead of one per message. Each entry carries the fields a Chat datagram's header
// has, so a node still decides who receives a message from fixed fields, never from its JSON.
//
//   size field
//      1 targetKind  User or Group
//      8 target      user id or group id
//      8 sender      the sending user
//      8 pos         the message's stream position
//      4 length      frame bytes that follow
//      … frame       the stamped message JSON with its position, as clients receive it
// All integers are big-endian; entries follow each other to the end of the payload. Pure
// encode/decode, used by the Dispatcher.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/Datagram.hpp"

namespace chat::proto {

struct PackedChat {
    TargetKind targetKind = TargetKind::User;
    std::int64_t target = 0;
    std::int64_t sender = 0;
    std::uint64_t pos = 0;
    std::string_view frame;  // decode(): points into the payload
};

class ChatPack {
public:
    static constexpr std::size_t kEntryOverhead = 1 + 8 + 8 + 8 + 4;

    static std::size_t entrySize(std::size_t frameBytes) { return kEntryOverhead + frameBytes; }
    static void append(std::string& payload, const PackedChat& chat);
    // nullopt unless the payload is a whole sequence of entries, each aimed at a user or a
    // group, at a position, with a frame.
    static std::optional<std::vector<PackedChat>> decode(std::string_view payload);
};

}  // namespace chat::proto
