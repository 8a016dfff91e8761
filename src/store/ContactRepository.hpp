// Friendships and group memberships in the `contacts` table (category 1: friend, the target is
// a user; 2: member, the target is a community). Synchronous: used only inside Database::run
// jobs, by api (friends, join) and at login (which groups a user's sockets follow).
#pragma once
#include <cstdint>
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
    std::vector<UserRecord> friends(std::int64_t owner);   // ordered by nickname, then id
    bool join(std::int64_t user, std::int64_t community);  // false: already a member
    bool isMember(std::int64_t user, std::int64_t community);
    std::vector<std::int64_t> communityIds(std::int64_t user);  // ascending

private:
    Connection& db_;
};

}  // namespace chat::store
