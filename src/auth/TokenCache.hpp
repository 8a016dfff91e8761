// Recently checked tokens (by digest), so an authenticated request or a WebSocket connect
// usually costs no database round trip. Entries live `ttl`; a logout anywhere in the
// cluster removes its token at once (the bus carries the revocation to every node), and for a
// ttl after it the token is not cached again: a lookup that read it just before the logout's
// DELETE may answer after the revocation, and must not bring it back.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace chat::auth {

struct Identity {
    std::int64_t userId = 0;
    std::int64_t tokenId = 0;
};

class TokenCache {
public:
    using Clock = std::chrono::steady_clock;

    TokenCache(std::chrono::seconds ttl, std::size_t capacity = 100000) : ttl_(ttl), capacity_(capacity) {}

    std::optional<Identity> get(const std::string& digest, Clock::time_point now = Clock::now());
    void put(const std::string& digest, Identity identity, Clock::time_point now = Clock::now());
    void revoke(std::int64_t tokenId, Clock::time_point now = Clock::now());

private:
    struct Entry {
        Identity identity;
        Clock::time_point expires;
    };

    std::chrono::seconds ttl_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::unordered_map<std::int64_t, Clock::time_point> revoked_;  // token id -> until when
};

}  // namespace chat::auth
