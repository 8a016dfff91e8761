// Ids of users known to exist, so a single chat to a familiar recipient needs no database
// round trip. Accounts are never deleted, so a positive answer never goes stale; the set
// is bounded and simply forgets everything when full (the database answers again).
#pragma once
#include <cstdint>
#include <mutex>
#include <unordered_set>

namespace chat::hub {

class KnownUsers {
public:
    explicit KnownUsers(std::size_t capacity = 1u << 20) : capacity_(capacity) {}
    bool contains(std::int64_t user) const;
    void add(std::int64_t user);

private:
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_set<std::int64_t> users_;
};

}  // namespace chat::hub
