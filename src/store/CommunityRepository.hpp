// Groups in the `communities` table. Synchronous: used only inside Database::run jobs, by api
// (create, list, show).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/Connection.hpp"
#include "store/Records.hpp"

namespace chat::store {

class CommunityRepository {
public:
    explicit CommunityRepository(Connection& connection) : db_(connection) {}

    struct Created {
        CommunityRecord community;
        std::uint64_t ownerJoinedAt = 0;  // the stream position of the owner's membership
    };
    // The community and its owner's membership, in one transaction.
    Created create(std::int64_t owner, const std::string& name, const std::string& icon, const std::string& memo);
    std::optional<CommunityRecord> find(std::int64_t id);
    std::vector<CommunityRecord> forUser(std::int64_t user);  // the groups the user belongs to, by id

private:
    Connection& db_;
};

}  // namespace chat::store
