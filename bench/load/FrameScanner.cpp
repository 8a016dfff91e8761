// See FrameScanner.hpp.
#include "load/FrameScanner.hpp"

#include <charconv>
#include <string>

namespace bench {

std::string_view::size_type FrameScanner::valueStart(std::string_view frame, std::string_view key) {
    // Looks for "key": — the quotes and colon keep "id" from matching inside "userid".
    std::string pattern;
    pattern.reserve(key.size() + 3);
    pattern.append("\"").append(key).append("\":");
    auto at = frame.find(pattern);
    if (at == std::string_view::npos) return at;
    at += pattern.size();
    while (at < frame.size() && frame[at] == ' ') ++at;
    return at;
}

std::optional<long long> FrameScanner::integer(std::string_view frame, std::string_view key) {
    auto at = valueStart(frame, key);
    if (at == std::string_view::npos) return std::nullopt;
    long long v = 0;
    auto [end, ec] = std::from_chars(frame.data() + at, frame.data() + frame.size(), v);
    if (ec != std::errc{}) return std::nullopt;
    return v;
}

std::optional<long long> FrameScanner::cmd(std::string_view frame) {
    return integer(frame, "cmd");
}

std::optional<std::string_view> FrameScanner::string(std::string_view frame, std::string_view key) {
    auto at = valueStart(frame, key);
    if (at == std::string_view::npos || at >= frame.size() || frame[at] != '"') return std::nullopt;
    auto end = frame.find('"', at + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return frame.substr(at + 1, end - at - 1);
}

}  // namespace bench
