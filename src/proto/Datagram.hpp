// The cluster bus's datagram layout. Every datagram is a fixed 64-byte header, the payload,
// and a 32-byte HMAC-SHA256 over both. The header names the target, so a node that holds no
// recipient drops a chat datagram without parsing any JSON.
//
//   offset size field
//        0    4 magic        "CHAT" (0x43 0x48 0x41 0x54)
//        4    1 version      kDatagramVersion
//        5    1 kind         DatagramKind
//        6    1 targetKind   TargetKind
//        7    1 flags        reserved, 0
//        8    1 keyId        which cluster key made the MAC (first byte of SHA-256 of the key)
//        9    3 reserved     0
//       12    4 origin       node id of the sender
//       16    8 incarnation  the sender's run: a restarted node starts a new one, with a larger value
//       24    8 seq          sequenced kinds: position in the origin's stream (from 1);
//                            Heartbeat: the origin's latest seq; others: 0
//       32    2 fragIndex    this datagram's piece of a message (0-based)
//       34    2 fragCount    pieces of the message (1 when it fits one datagram)
//       36    4 length       payload bytes that follow the header
//       40    8 target       user id, group id, token id; Nak/Gone: the node asked
//       48    8 sender       the user on whose behalf the node sent it; Nak/Gone: that node's incarnation
//       56    8 pos          Chat, Join: the event's position in the cluster's stream (taken at its
//                            commit); others: 0 (a ChatPack's entries carry their own)
//       64    … payload
//   64+length 32 mac         HMAC-SHA256(key, bytes 0 .. 64+length)
// All integers are big-endian. A datagram is at most 1472 bytes, which fits a 1500-byte
// Ethernet MTU after the IPv4 and UDP headers: the bus never relies on IP fragmentation.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto {

inline constexpr std::uint32_t kDatagramMagic = 0x43484154;  // "CHAT"
inline constexpr std::uint8_t kDatagramVersion = 5;
inline constexpr std::size_t kDatagramHeaderSize = 64;
inline constexpr std::size_t kDatagramMacSize = 32;
inline constexpr std::size_t kMaxDatagramSize = 1472;
inline constexpr std::size_t kMaxFragmentPayload = kMaxDatagramSize - kDatagramHeaderSize - kDatagramMacSize;
static_assert(kMaxFragmentPayload == 1376, "the layout above is pinned");

enum class DatagramKind : std::uint8_t {
    Chat = 1,       // payload: (a piece of) the stamped message JSON, exactly as clients receive it
    Join = 2,       // user `sender` joined group `target` at stream position `pos`
    Revoke = 3,     // token `target` of user `sender` was revoked
    Heartbeat = 4,  // "I am alive, my latest seq is `seq`"; payload empty
    Nak = 5,        // "node `target` (incarnation `sender`), please resend": payload = seq ranges
    Gone = 6,       // "those seqs are no longer in my retransmit buffer": payload = seq ranges
    Notice = 7,     // payload: a frame for every connection of user `target` (read marks)
    Presence = 8,   // payload: user ids (IdList); `target`: PresenceList
    ChatPack = 9,   // payload: several committed chat messages, each with its own target (ChatPack)
};

// What the user ids of a Presence datagram say about its origin node.
enum class PresenceList : std::int64_t {
    Offline = 0,  // these users' last connection there closed
    Online = 1,   // these users' first connection there opened
    Part = 2,     // part of the origin's whole list; more parts follow
    Whole = 3,    // the last part of the origin's whole list: it replaces what the origin said
};

// All but Heartbeat, Nak and Gone are numbered, ordered, recovered and delivered exactly once.
inline bool isSequenced(DatagramKind k) {
    return k == DatagramKind::Chat || k == DatagramKind::Join || k == DatagramKind::Revoke ||
           k == DatagramKind::Notice || k == DatagramKind::Presence || k == DatagramKind::ChatPack;
}

enum class TargetKind : std::uint8_t { None = 0, User = 1, Group = 2 };

struct DatagramHeader {
    DatagramKind kind = DatagramKind::Chat;
    TargetKind targetKind = TargetKind::None;
    std::uint8_t keyId = 0;
    std::uint32_t origin = 0;
    std::uint64_t incarnation = 0;
    std::uint64_t seq = 0;
    std::uint16_t fragIndex = 0;
    std::uint16_t fragCount = 1;
    std::uint32_t length = 0;
    std::int64_t target = 0;
    std::int64_t sender = 0;
    std::uint64_t pos = 0;
};

enum class DecodeError { TooShort, BadMagic, BadVersion, BadLength, BadKind, BadFragment };

struct DecodedDatagram {
    DatagramHeader header;
    std::string_view payload;  // these views point into the decoded buffer
    std::string_view signedBytes;
    std::string_view mac;
};

class Datagram {
public:
    using HeaderBytes = std::array<std::uint8_t, kDatagramHeaderSize>;
    static void encodeHeader(const DatagramHeader& header, HeaderBytes& out);
    struct Result {
        std::optional<DecodedDatagram> datagram;  // layout checked; the MAC is the caller's to verify
        DecodeError error = DecodeError::TooShort;
    };
    static Result decode(std::string_view bytes);
};

}  // namespace chat::proto
