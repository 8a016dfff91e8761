// The cluster bus's datagram layout. Every datagram is a fixed 32-byte header followed by
// the payload. The header names the target, so a node that holds no recipient drops a
// datagram after reading 32 bytes, without parsing any JSON.
//
//   offset size field
//        0    4 magic        "CHAT" (0x43 0x48 0x41 0x54)
//        4    1 version      kDatagramVersion
//        5    1 kind         DatagramKind
//        6    1 targetKind   TargetKind
//        7    1 flags        reserved, 0
//        8    4 origin       node id of the sender
//       12    4 length       payload bytes that follow the header
//       16    8 target       user id, group id or token id (see kind)
//       24    8 sender       the user on whose behalf the node sent it
//       32    … payload
// All integers are big-endian.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::proto {

inline constexpr std::uint32_t kDatagramMagic = 0x43484154;  // "CHAT"
inline constexpr std::uint8_t kDatagramVersion = 1;
inline constexpr std::size_t kDatagramHeaderSize = 32;
// The largest UDP payload over IPv4; the bus refuses anything bigger at the sender.
inline constexpr std::size_t kMaxDatagramSize = 65507;
inline constexpr std::size_t kMaxDatagramPayload = kMaxDatagramSize - kDatagramHeaderSize;

enum class DatagramKind : std::uint8_t {
    Chat = 1,    // payload: the stamped message JSON, exactly as clients receive it
    Join = 2,    // sender joined group `target`; no payload
    Revoke = 3,  // token `target` of user `sender` was revoked; no payload
};

enum class TargetKind : std::uint8_t { None = 0, User = 1, Group = 2 };

struct DatagramHeader {
    DatagramKind kind = DatagramKind::Chat;
    TargetKind targetKind = TargetKind::None;
    std::uint32_t origin = 0;
    std::uint32_t length = 0;
    std::int64_t target = 0;
    std::int64_t sender = 0;
};

enum class DecodeError { TooShort, BadMagic, BadVersion, BadLength, BadKind };

struct DecodedDatagram {
    DatagramHeader header;
    std::string_view payload;  // points into the decoded buffer
};

class Datagram {
public:
    static std::string encode(const DatagramHeader& header, std::string_view payload);
    static void encodeHeader(const DatagramHeader& header, std::array<std::uint8_t, kDatagramHeaderSize>& out);
    // Either the datagram or why it was refused.
    struct Result {
        std::optional<DecodedDatagram> datagram;
        DecodeError error = DecodeError::TooShort;
    };
    static Result decode(std::string_view bytes);
};

}  // namespace chat::proto
