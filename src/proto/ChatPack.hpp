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
    // True if the payload is a whole sequence of entries, each aimed at a user or a group, at a
    // position, with a frame.
    static bool valid(std::string_view payload);
    // Calls visit(entry) for each entry in order, frames pointing into the payload, and nothing
    // for a payload that is not valid(): a malformed pack delivers none of its entries. Nothing
    // is allocated, since every node reads every pack.
    template <class Visit>
    static bool forEach(std::string_view payload, Visit&& visit) {
        if (!valid(payload)) return false;
        for (std::size_t at = 0; at < payload.size();) visit(*read(payload, at));
        return true;
    }

private:
    // The entry at `at`, moving `at` past it; nullopt if it is not whole and well formed.
    static std::optional<PackedChat> read(std::string_view payload, std::size_t& at);
};

}  // namespace chat::proto
