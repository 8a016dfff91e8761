// Plain rows of the store, shared by the repositories and their callers (auth, api).
#pragma once
#include <cstdint>
#include <string>

namespace chat::store {

struct UserRecord {
    std::int64_t id = 0;
    std::string mobile, nickname, avatar, memo;
    int sex = 0;
    std::int64_t createdMs = 0;  // milliseconds since the Unix epoch
};

struct UserCredentials {
    UserRecord user;
    std::string passwordHash, salt;
};

struct CommunityRecord {
    std::int64_t id = 0;
    std::string name;
    std::int64_t owner = 0;
    std::string icon, memo;
    int category = 1;
    std::int64_t createdMs = 0;  // milliseconds since the Unix epoch
};

}  // namespace chat::store
