// Accounts in the `users` table. Synchronous: used only inside Database::run jobs, by auth
// (register, login) and api (profiles, friend lookup).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "store/Connection.hpp"
#include "store/Records.hpp"

namespace chat::store {

class UserRepository {
public:
    explicit UserRepository(Connection& connection) : db_(connection) {}

    // nullopt: the mobile is taken.
    std::optional<std::int64_t> insert(const std::string& mobile, const std::string& passwordHash,
                                       const std::string& salt, const std::string& nickname, const std::string& avatar);
    std::optional<UserCredentials> findByMobile(const std::string& mobile);
    std::optional<UserRecord> findById(std::int64_t id);
    std::optional<std::int64_t> idByMobile(const std::string& mobile);
    bool exists(std::int64_t id);
    void setNickname(std::int64_t id, const std::string& nickname);

    // Reads id, mobile, nickname, avatar, memo, sex, created-in-ms from row[first...], the column
    // order every user query of the store selects.
    static UserRecord fromRow(const Row& row, std::size_t first = 0);

private:
    Connection& db_;
};

}  // namespace chat::store
