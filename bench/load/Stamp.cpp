// See Stamp.hpp.
#include "load/Stamp.hpp"

#include <charconv>
#include <ctime>

namespace bench {

namespace {

// Parses an unsigned number at the front of `s` and drops it and one following separator.
template <typename T>
bool take(std::string_view& s, T& out, char separator) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc{}) return false;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    if (!s.empty()) {
        if (s.front() != separator) return false;
        s.remove_prefix(1);
    }
    return true;
}

}  // namespace

std::uint64_t monotonicNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string Stamp::content(std::string_view tag, const Stamp& s, std::size_t bytes) {
    std::string out;
    out.reserve(bytes + 64);
    out.append(tag).append(" ");
    out.append(std::to_string(s.sender)).append(" ");
    out.append(std::to_string(s.seq)).append(" ");
    out.append(std::to_string(s.sentNs)).append(" ");
    if (out.size() < bytes) out.append(bytes - out.size(), 'x');
    return out;
}

std::optional<Stamp> Stamp::fromContent(std::string_view content, std::string_view tag) {
    if (content.size() <= tag.size() || content.substr(0, tag.size()) != tag || content[tag.size()] != ' ')
        return std::nullopt;
    content.remove_prefix(tag.size() + 1);
    Stamp s;
    if (!take(content, s.sender, ' ') || !take(content, s.seq, ' ') || !take(content, s.sentNs, ' '))
        return std::nullopt;
    return s;
}

std::string Stamp::cid(const Stamp& s) {
    return std::to_string(s.seq) + "." + std::to_string(s.sentNs);
}

std::optional<Stamp> Stamp::fromCid(std::string_view cid) {
    Stamp s;
    if (!take(cid, s.seq, '.') || !take(cid, s.sentNs, ' ')) return std::nullopt;
    return s;
}

}  // namespace bench
