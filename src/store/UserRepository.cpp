#include "store/UserRepository.hpp"

namespace chat::store {

std::optional<std::int64_t> UserRepository::insert(const std::string& mobile, const std::string& passwordHash,
                                                   const std::string& salt, const std::string& nickname,
                                                   const std::string& avatar) {
    try {
        db_.execute("INSERT INTO users (mobile, passwd, salt, nickname, avatar) VALUES (?, ?, ?, ?, ?)",
                    {mobile, passwordHash, salt, nickname, avatar});
    } catch (const DbError& e) {
        // uk_users_mobile is the only unique key a new row can collide with.
        if (e.errorCode() == DbError::kDuplicateEntry) return std::nullopt;
        throw;
    }
    return static_cast<std::int64_t>(db_.lastInsertId());
}

std::optional<UserCredentials> UserRepository::findByMobile(const std::string& mobile) {
    auto rows = db_.query(
        "SELECT id, mobile, nickname, avatar, memo, sex, CAST(UNIX_TIMESTAMP(created) * 1000 AS SIGNED), passwd, salt "
        "FROM users WHERE mobile = ?",
        {mobile});
    if (rows.empty()) return std::nullopt;
    return UserCredentials{fromRow(rows[0]), asText(rows[0][7]), asText(rows[0][8])};
}

std::optional<UserRecord> UserRepository::findById(std::int64_t id) {
    auto rows = db_.query(
        "SELECT id, mobile, nickname, avatar, memo, sex, CAST(UNIX_TIMESTAMP(created) * 1000 AS SIGNED) "
        "FROM users WHERE id = ?",
        {id});
    if (rows.empty()) return std::nullopt;
    return fromRow(rows[0]);
}

std::optional<std::int64_t> UserRepository::idByMobile(const std::string& mobile) {
    auto rows = db_.query("SELECT id FROM users WHERE mobile = ?", {mobile});
    if (rows.empty()) return std::nullopt;
    return asInt(rows[0][0]);
}

bool UserRepository::exists(std::int64_t id) {
    return !db_.query("SELECT 1 FROM users WHERE id = ?", {id}).empty();
}

void UserRepository::setNickname(std::int64_t id, const std::string& nickname) {
    db_.execute("UPDATE users SET nickname = ? WHERE id = ?", {nickname, id});
}

UserRecord UserRepository::fromRow(const Row& row, std::size_t first) {
    if (row.size() < first + 7) throw DbError("user row too short", 0, false);
    UserRecord user;
    user.id = asInt(row[first]);
    user.mobile = asText(row[first + 1]);
    user.nickname = asText(row[first + 2]);
    user.avatar = asText(row[first + 3]);
    user.memo = asText(row[first + 4]);
    user.sex = static_cast<int>(asInt(row[first + 5]));
    user.createdMs = asInt(row[first + 6]);
    return user;
}

}  // namespace chat::store
