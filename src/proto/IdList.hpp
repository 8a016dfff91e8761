// The payload of Presence datagrams: user ids, 8 bytes each, big-endian. Pure encode/decode,
// used by the Dispatcher.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

class IdList {
public:
    // Ids per datagram message: 32 KiB, well inside the bus's largest message.
    static constexpr std::size_t kMaxIds = 4096;
    static std::string encode(const std::vector<std::int64_t>& ids);
    // nullopt for a payload that is not a whole number of positive ids, or too many.
    static std::optional<std::vector<std::int64_t>> decode(std::string_view payload);
};

}  // namespace chat::proto
