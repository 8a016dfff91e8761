// Reads the few fields a load client needs (cmd, content, cid) out of a server frame by
// scanning for the key, without building a JSON tree: the clients share two cores with the
// server they measure, so every cycle they spend is one the server does not get. Correct for
// the frames the chat protocol sends, whose string values here never contain quotes.
#pragma once
#include <optional>
#include <string_view>

namespace bench {

class FrameScanner {
public:
    // The integer value of "cmd", if present.
    static std::optional<long long> cmd(std::string_view frame);
    // The raw characters of the string value of `key` (no unescaping), if present.
    static std::optional<std::string_view> string(std::string_view frame, std::string_view key);
    // The integer value of `key`, if present.
    static std::optional<long long> integer(std::string_view frame, std::string_view key);

private:
    static std::string_view::size_type valueStart(std::string_view frame, std::string_view key);
};

}  // namespace bench
