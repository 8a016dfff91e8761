// The stamp every benchmark message carries: who sent it, its sequence number in that
// sender's stream, and when it was sent (CLOCK_MONOTONIC, shared by every process on the
// machine). It travels in the message's `content` as "<tag> <sender> <seq> <ns> xxx…" and
// in the client id (`cid`, echoed by the ack) as "<seq>.<ns>". The run tag keeps messages of
// earlier runs, which the server may replay from its history, out of this run's counts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

struct Stamp {
    std::int64_t sender = 0;
    std::uint64_t seq = 0;
    std::uint64_t sentNs = 0;

    // The content, padded with 'x' to at least `bytes` characters.
    static std::string content(std::string_view tag, const Stamp& s, std::size_t bytes);
    static std::optional<Stamp> fromContent(std::string_view content, std::string_view tag);

    static std::string cid(const Stamp& s);
    static std::optional<Stamp> fromCid(std::string_view cid);
};

// Now on CLOCK_MONOTONIC, in nanoseconds.
std::uint64_t monotonicNs();

}  // namespace bench
