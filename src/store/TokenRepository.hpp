// Login tokens in the `tokens` table, kept only as SHA-256 digests. Synchronous: used only
// inside Database::run jobs, by auth (login, token check, logout).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "store/Connection.hpp"

namespace chat::store {

class TokenRepository {
public:
    explicit TokenRepository(Connection& connection) : db_(connection) {}

    struct Found {
        std::int64_t tokenId;
        std::int64_t userId;
    };

    std::int64_t insert(std::int64_t userId, const std::string& tokenDigest);  // the token row's id
    std::optional<Found> find(const std::string& tokenDigest);
    bool remove(std::int64_t tokenId);  // false: no such token

private:
    Connection& db_;
};

}  // namespace chat::store
