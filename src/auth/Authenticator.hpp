// Turns a token (and, optionally, the user id the client claims) into an Identity.
// Answers from the TokenCache when it can, otherwise asks the database on its pool; the
// callback may therefore run on a database thread, and callers post back to their own.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "auth/TokenCache.hpp"
#include "store/Database.hpp"

namespace chat::auth {

enum class AuthStatus { Ok, Invalid, Unavailable };

class Authenticator {
public:
    using Done = std::function<void(AuthStatus, Identity)>;

    Authenticator(store::Database& db, std::chrono::seconds cacheTtl) : db_(db), cache_(cacheTtl) {}

    // claimedUser: the id the client sent, if any; a mismatch is Invalid.
    void check(const std::string& token, std::optional<std::int64_t> claimedUser, Done done);
    void forget(std::int64_t tokenId) { cache_.revoke(tokenId); }

private:
    store::Database& db_;
    TokenCache cache_;
};

}  // namespace chat::auth
