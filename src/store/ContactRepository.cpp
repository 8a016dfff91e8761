#include "store/ContactRepository.hpp"

#include <algorithm>

#include "store/MessageRepository.hpp"
#include "store/UserRepository.hpp"

namespace chat::store {

namespace {

// "id = id" changes nothing, so an existing row reports 0 affected rows and a new one 1
// (the connection does not set CLIENT_FOUND_ROWS). Unlike INSERT IGNORE, other errors still fail.
constexpr std::string_view kAddFriend =
    "INSERT INTO contacts (owner, target, category) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE id = id";

}  // namespace

ContactRepository::AddFriend ContactRepository::addFriend(std::int64_t a, std::int64_t b) {
    // The same row first whoever asks: two opposite requests then wait on one lock instead of
    // each holding the row the other needs.
    const std::int64_t low = std::min(a, b);
    const std::int64_t high = std::max(a, b);
    Transaction transaction(db_);
    std::uint64_t added = db_.execute(kAddFriend, {low, high});
    added += db_.execute(kAddFriend, {high, low});
    transaction.commit();
    return added > 0 ? AddFriend::Added : AddFriend::AlreadyFriends;
}

std::vector<UserRecord> ContactRepository::friends(std::int64_t owner) {
    auto rows = db_.query(
        "SELECT u.id, u.mobile, u.nickname, u.avatar, u.memo, u.sex, CAST(UNIX_TIMESTAMP(u.created) * 1000 AS SIGNED) "
        "FROM contacts c JOIN users u ON u.id = c.target WHERE c.owner = ? AND c.category = 1 "
        "ORDER BY u.nickname, u.id",
        {owner});
    std::vector<UserRecord> users;
    users.reserve(rows.size());
    for (const Row& row : rows) users.push_back(UserRepository::fromRow(row));
    return users;
}

std::optional<std::uint64_t> ContactRepository::join(std::int64_t user, std::int64_t community) {
    if (!db_.inTransaction()) throw DbError("join outside a transaction", 0, false);
    // The stream's lock first: it serialises joins with each other and with message commits, so
    // the membership check below cannot race another join of the same user.
    db_.query("SELECT pos FROM message_seq WHERE id = 1 FOR UPDATE", {});
    if (isMember(user, community)) return std::nullopt;
    const auto pos = MessageRepository(db_).reservePositions(1);
    db_.execute("INSERT INTO contacts (owner, target, category, joined_pos) VALUES (?, ?, 2, ?)",
                {user, community, static_cast<std::int64_t>(pos)});
    return pos;
}

bool ContactRepository::isMember(std::int64_t user, std::int64_t community) {
    return !db_.query("SELECT 1 FROM contacts WHERE owner = ? AND category = 2 AND target = ?", {user, community})
                .empty();
}

ContactRepository::Memberships ContactRepository::memberships(std::int64_t user) {
    Memberships m;
    for (const Row& row : db_.query("SELECT s.pos, c.target FROM message_seq s LEFT JOIN contacts c ON c.owner = ? "
                                    "AND c.category = 2 WHERE s.id = 1 ORDER BY c.target",
                                    {user})) {
        m.streamPosition = static_cast<std::uint64_t>(asInt(row[0]));
        if (row[1]) m.groups.push_back(asInt(row[1]));
    }
    return m;
}

}  // namespace chat::store
