#include "store/TokenRepository.hpp"

namespace chat::store {

std::int64_t TokenRepository::insert(std::int64_t userId, const std::string& tokenDigest) {
    db_.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {userId, tokenDigest});
    return static_cast<std::int64_t>(db_.lastInsertId());
}

std::optional<TokenRepository::Found> TokenRepository::find(const std::string& tokenDigest) {
    auto rows = db_.query("SELECT id, user_id FROM tokens WHERE token_hash = ?", {tokenDigest});
    if (rows.empty()) return std::nullopt;
    return Found{asInt(rows[0][0]), asInt(rows[0][1])};
}

bool TokenRepository::remove(std::int64_t tokenId) {
    return db_.execute("DELETE FROM tokens WHERE id = ?", {tokenId}) > 0;
}

}  // namespace chat::store
