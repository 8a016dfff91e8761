// Parses and validates one client frame. Pure: no I/O, no state; the WebSocket session
// calls it for every text frame and turns a FrameError into a cmd 99 reply.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/ChatMessage.hpp"

namespace chat::proto {

struct ClientFrame {
    ChatMessage message;              // id, userid and createat are left for the node to stamp
    std::string cid;                  // the client's own id as JSON text, empty if none
    std::uint64_t since = 0;          // cmd 12: the last stream position the device holds
    std::vector<std::int64_t> watch;  // cmd 16: the users whose presence the device follows
};

struct FrameError {
    int code;  // 400 invalid, 413 too large
    std::string msg;
    std::string cid;
};

class FrameParser {
public:
    static constexpr std::size_t kMaxContentChars = 8192;
    static constexpr std::size_t kMaxUrlChars = 2048;
    static constexpr std::size_t kMaxMemoChars = 1024;
    static constexpr std::size_t kMaxCidChars = 64;
    static constexpr std::int64_t kMaxAmount = 2147483647;
    static constexpr std::size_t kMaxWatch = 1000;

    static std::variant<ClientFrame, FrameError> parse(std::string_view text);
    // http(s) URL or a path served by this node; never javascript:, data: or //host.
    static bool isSafeUrl(std::string_view url);
    // A stream position as clients send it ("since", "pos"): a whole number 0 .. 2^53-1, as a
    // JSON number or a decimal string. nullopt when it is anything else.
    static std::optional<std::uint64_t> position(std::string_view text);
};

}  // namespace chat::proto
