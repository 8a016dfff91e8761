// Friendships and group memberships in the `contacts` table (category 1: friend, the target is
// a user; 2: member, the target is a community). Synchronous: used only inside Database::run
// jobs, by api (friends, join) and at login (which groups a user's sockets follow).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "store/Connection.hpp"
#include "store/Records.hpp"

namespace chat::store {

class ContactRepository {
public:
    explicit ContactRepository(Connection& connection) : db_(connection) {}

    enum class AddFriend { Added, AlreadyFriends };

    // Both directions in one transaction; repairs a half-made friendship (counts as Added).
    AddFriend addFriend(std::int64_t a, std::int64_t b);
    std::vector<UserRecord> friends(std::int64_t owner);  // ordered by nickname, then id
    // Makes the user a member at the next stream position, which orders the join among the
    // messages: the member sees exactly the group's messages after it. Returns that position,
    // or nullopt if the user was a member already (no position is taken). Must run inside a
    // transaction: the position's row lock is held to its commit.
    std::optional<std::uint64_t> join(std::int64_t user, std::int64_t community);
    bool isMember(std::int64_t user, std::int64_t community);

    // The user's groups (ascending) and where the message stream stood when they were read, in
    // one round trip: what a connecting session needs before it reads the history.
    struct Memberships {
        std::vector<std::int64_t> groups;
        std::uint64_t streamPosition = 0;
    };
    Memberships memberships(std::int64_t user);

private:
    Connection& db_;
};

}  // namespace chat::store
