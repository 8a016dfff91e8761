#include "store/CommunityRepository.hpp"

#include "store/ContactRepository.hpp"

namespace chat::store {

namespace {

CommunityRecord fromRow(const Row& row) {
    if (row.size() < 7) throw DbError("community row too short", 0, false);
    CommunityRecord community;
    community.id = asInt(row[0]);
    community.name = asText(row[1]);
    community.owner = asInt(row[2]);
    community.icon = asText(row[3]);
    community.memo = asText(row[4]);
    community.category = static_cast<int>(asInt(row[5]));
    community.createdMs = asInt(row[6]);
    return community;
}

}  // namespace

CommunityRepository::Created CommunityRepository::create(std::int64_t owner, const std::string& name,
                                                         const std::string& icon, const std::string& memo) {
    Transaction transaction(db_);
    db_.execute("INSERT INTO communities (name, owner, icon, memo) VALUES (?, ?, ?, ?)", {name, owner, icon, memo});
    const auto id = static_cast<std::int64_t>(db_.lastInsertId());
    auto joined = ContactRepository(db_).join(owner, id);
    auto community = find(id);
    if (!community || !joined) throw DbError("community missing right after its insert", 0, false);
    transaction.commit();
    return {std::move(*community), *joined};
}

std::optional<CommunityRecord> CommunityRepository::find(std::int64_t id) {
    auto rows = db_.query(
        "SELECT id, name, owner, icon, memo, category, CAST(UNIX_TIMESTAMP(created) * 1000 AS SIGNED) "
        "FROM communities WHERE id = ?",
        {id});
    if (rows.empty()) return std::nullopt;
    return fromRow(rows[0]);
}

std::vector<CommunityRecord> CommunityRepository::forUser(std::int64_t user) {
    auto rows = db_.query(
        "SELECT c.id, c.name, c.owner, c.icon, c.memo, c.category, CAST(UNIX_TIMESTAMP(c.created) * 1000 AS SIGNED) "
        "FROM contacts t JOIN communities c ON c.id = t.target WHERE t.owner = ? AND t.category = 2 ORDER BY c.id",
        {user});
    std::vector<CommunityRecord> communities;
    communities.reserve(rows.size());
    for (const Row& row : rows) communities.push_back(fromRow(row));
    return communities;
}

}  // namespace chat::store
