// Session tokens: generation, the digest that the database stores, and a cheap shape check
// done before any lookup. Used by the Authenticator and the login/logout handlers.
#pragma once
#include <string>
#include <string_view>

namespace chat::auth {

class Tokens {
public:
    // 128 random bits as 32 lowercase hex chars; throws std::runtime_error if the generator fails.
    static std::string generate();

    // SHA-256 as 64 lowercase hex chars. Only digests are stored, so a leaked table grants no sessions.
    static std::string digest(std::string_view token);

    // Exactly 32 hex chars (either case); anything else is rejected before touching the cache or DB.
    static bool wellFormed(std::string_view token);
};

}  // namespace chat::auth
