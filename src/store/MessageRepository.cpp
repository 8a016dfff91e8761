#include "store/MessageRepository.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <string>

namespace chat::store {

namespace {

constexpr std::size_t kColumnsPerRow = 10;
// Rows per INSERT: powers of two up to this, so a batch of any size uses a few cached
// statements. 64 rows of the largest frames stay far below MariaDB's 16 MiB packet limit.
constexpr std::size_t kMaxRowsPerInsert = 64;
constexpr std::size_t kMaxBytesPerInsert = 4u << 20;

const std::string& insertSql(std::size_t rows) {
    static const auto texts = [] {
        std::array<std::string, 7> out;
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::string sql =
                "INSERT INTO messages (pos, id, sender, kind, target, conv_a, conv_b, media, createat, frame) VALUES ";
            for (std::size_t r = 0; r < (std::size_t{1} << i); ++r)
                sql += r ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)";
            out[i] = std::move(sql);
        }
        return out;
    }();
    return texts[static_cast<std::size_t>(std::countr_zero(rows))];
}

std::int64_t asPos(std::uint64_t pos) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(pos, std::numeric_limits<std::int64_t>::max()));
}

// The two users of a single chat, smaller first, or the group and 0.
std::pair<std::int64_t, std::int64_t> convKey(ConversationKind kind, std::int64_t a, std::int64_t b) {
    if (kind == ConversationKind::Group) return {b, 0};
    return {std::min(a, b), std::max(a, b)};
}

StoredMessage fromRow(const Row& row) {
    if (row.size() < 5) throw DbError("message row too short", 0, false);
    StoredMessage m;
    m.pos = static_cast<std::uint64_t>(asInt(row[0]));
    m.sender = asInt(row[1]);
    m.kind = static_cast<ConversationKind>(asInt(row[2]));
    m.target = asInt(row[3]);
    m.frame = asText(row[4]);
    return m;
}

std::vector<StoredMessage> fromRows(const std::vector<Row>& rows) {
    std::vector<StoredMessage> out;
    out.reserve(rows.size());
    for (const Row& row : rows) out.push_back(fromRow(row));
    return out;
}

// A user's stream: single chats addressed to them, single chats they sent (but not those to
// themselves, already in the first part), and their groups' messages since they joined.
// Each part is bounded before the union, so the server never sorts more than 3 x limit rows.
// `after`: the parts start after a position; `newestFirst`: they take the newest rows. The
// group part is left out for a user in no group: its join costs MariaDB a temporary table
// even when it finds nothing, most of what a connect costs the database.
std::string streamSql(const std::vector<std::string_view>& columns, bool after, bool newestFirst, bool groups,
                      std::string_view outer) {
    auto list = [&](std::string_view prefix) {
        std::string out;
        for (auto c : columns) (((out += out.empty() ? "" : ", ") += prefix) += c);
        return out;
    };
    const std::string order = newestFirst ? " ORDER BY pos DESC LIMIT ?)" : " ORDER BY pos LIMIT ?)";
    const std::string since = after ? " AND pos > ?" : "";
    std::string sql = "SELECT " + list("") + " FROM (";
    sql += " (SELECT " + list("") + " FROM messages WHERE kind = 1 AND target = ?" + since + order;
    sql += " UNION ALL (SELECT " + list("") + " FROM messages WHERE sender = ? AND kind = 1 AND target <> ?" + since +
           order;
    if (groups) {
        sql += " UNION ALL (SELECT " + list("m.") +
               " FROM contacts c JOIN messages m ON m.kind = 2 AND m.conv_a = c.target AND m.conv_b = 0 AND m.pos > " +
               (after ? "GREATEST(?, c.joined_pos)" : "c.joined_pos") + " WHERE c.owner = ? AND c.category = 2" +
               (newestFirst ? " ORDER BY m.pos DESC LIMIT ?)" : " ORDER BY m.pos LIMIT ?)");
    }
    return sql + ") s " + std::string(outer);
}

const std::vector<std::string_view> kMessageColumns{"pos", "sender", "kind", "target", "frame"};

// The three stream queries, each with and without the group part.
struct StreamSql {
    std::string all;
    std::string singles;
    const std::string& operator()(MessageRepository::StreamParts parts) const {
        return parts == MessageRepository::StreamParts::All ? all : singles;
    }
};

const StreamSql& streamAfterSql() {
    static const StreamSql sql{streamSql(kMessageColumns, true, false, true, "ORDER BY pos LIMIT ?"),
                               streamSql(kMessageColumns, true, false, false, "ORDER BY pos LIMIT ?")};
    return sql;
}

const StreamSql& recentStartSql() {
    static const StreamSql sql{streamSql({"pos"}, false, true, true, "ORDER BY pos DESC LIMIT 1 OFFSET ?"),
                               streamSql({"pos"}, false, true, false, "ORDER BY pos DESC LIMIT 1 OFFSET ?")};
    return sql;
}

const StreamSql& recentSql() {
    static const StreamSql sql{streamSql(kMessageColumns, false, true, true, "ORDER BY pos DESC LIMIT ?"),
                               streamSql(kMessageColumns, false, true, false, "ORDER BY pos DESC LIMIT ?")};
    return sql;
}

}  // namespace

std::uint64_t MessageRepository::append(const std::vector<NewMessage>& batch) {
    if (batch.empty()) return 0;
    if (!db_.inTransaction()) throw DbError("append outside a transaction", 0, false);
    db_.execute("UPDATE message_seq SET pos = pos + ? WHERE id = 1", {static_cast<std::int64_t>(batch.size())});
    auto rows = db_.query("SELECT pos FROM message_seq WHERE id = 1", {});
    if (rows.empty()) throw DbError("message_seq has no row", 0, false);
    const auto first = static_cast<std::uint64_t>(asInt(rows[0][0])) - batch.size() + 1;
    for (std::size_t done = 0; done < batch.size();) {
        auto bytesOf = [&](std::size_t count) {
            std::size_t bytes = 0;
            for (std::size_t i = 0; i < count; ++i) bytes += batch[done + i].frame.size();
            return bytes;
        };
        std::size_t count = std::bit_floor(std::min(batch.size() - done, kMaxRowsPerInsert));
        while (count > 1 && bytesOf(count) > kMaxBytesPerInsert) count /= 2;
        insertRows(batch, done, count, first + done);
        done += count;
    }
    return first;
}

void MessageRepository::insertRows(const std::vector<NewMessage>& batch, std::size_t from, std::size_t count,
                                   std::uint64_t firstPos) {
    std::vector<Param> params;
    params.reserve(count * kColumnsPerRow);
    for (std::size_t i = 0; i < count; ++i) {
        const NewMessage& m = batch[from + i];
        auto [a, b] = convKey(m.kind, m.sender, m.target);
        params.insert(params.end(), {Param{asPos(firstPos + i)}, Param{m.id}, Param{m.sender},
                                     Param{static_cast<std::int64_t>(m.kind)}, Param{m.target}, Param{a}, Param{b},
                                     Param{static_cast<std::int64_t>(m.media)}, Param{m.createat}, Param{m.frame}});
    }
    db_.execute(insertSql(count), std::span<const Param>(params));
}

std::uint64_t MessageRepository::committedPosition() {
    auto rows = db_.query("SELECT pos FROM message_seq WHERE id = 1", {});
    return rows.empty() ? 0 : static_cast<std::uint64_t>(asInt(rows[0][0]));
}

std::vector<StoredMessage> MessageRepository::range(std::uint64_t first, std::uint64_t last) {
    return fromRows(
        db_.query("SELECT pos, sender, kind, target, frame FROM messages WHERE pos BETWEEN ? AND ? ORDER BY pos",
                  {asPos(first), asPos(last)}));
}

std::vector<StoredJoin> MessageRepository::joinsIn(std::uint64_t first, std::uint64_t last) {
    std::vector<StoredJoin> out;
    for (const Row& row : db_.query("SELECT joined_pos, owner, target FROM contacts WHERE category = 2 AND joined_pos "
                                    "BETWEEN ? AND ? ORDER BY joined_pos",
                                    {asPos(first), asPos(last)}))
        out.push_back({static_cast<std::uint64_t>(asInt(row[0])), asInt(row[1]), asInt(row[2])});
    return out;
}

std::vector<StoredMessage> MessageRepository::streamAfter(std::int64_t user, std::uint64_t after, std::size_t limit,
                                                          StreamParts parts) {
    const auto p = asPos(after);
    const auto n = static_cast<std::int64_t>(limit);
    std::vector<Param> params{user, p, n, user, user, p, n};
    if (parts == StreamParts::All) params.insert(params.end(), {p, user, n});
    params.emplace_back(n);
    return fromRows(db_.query(streamAfterSql()(parts), params));
}

std::uint64_t MessageRepository::recentStart(std::int64_t user, std::size_t count, StreamParts parts) {
    const auto n = static_cast<std::int64_t>(count + 1);
    std::vector<Param> params{user, n, user, user, n};
    if (parts == StreamParts::All) params.insert(params.end(), {user, n});
    params.emplace_back(static_cast<std::int64_t>(count));
    auto rows = db_.query(recentStartSql()(parts), params);
    return rows.empty() ? 0 : static_cast<std::uint64_t>(asInt(rows[0][0]));
}

std::vector<StoredMessage> MessageRepository::recent(std::int64_t user, std::size_t count, StreamParts parts) {
    const auto n = static_cast<std::int64_t>(count);
    std::vector<Param> params{user, n, user, user, n};
    if (parts == StreamParts::All) params.insert(params.end(), {user, n});
    params.emplace_back(n);
    auto messages = fromRows(db_.query(recentSql()(parts), params));
    std::reverse(messages.begin(), messages.end());
    return messages;
}

std::optional<std::uint64_t> MessageRepository::joinedAt(std::int64_t user, std::int64_t group) {
    auto rows =
        db_.query("SELECT joined_pos FROM contacts WHERE owner = ? AND category = 2 AND target = ?", {user, group});
    if (rows.empty()) return std::nullopt;
    return static_cast<std::uint64_t>(asInt(rows[0][0]));
}

std::optional<HistoryPage> MessageRepository::history(std::int64_t user, Conversation conversation,
                                                      std::optional<std::uint64_t> before, std::size_t limit) {
    std::uint64_t after = 0;
    if (conversation.kind == ConversationKind::Group) {
        auto joined = joinedAt(user, conversation.peer);
        if (!joined) return std::nullopt;
        after = *joined;
    }
    auto [a, b] = convKey(conversation.kind, user, conversation.peer);
    auto rows = db_.query(
        "SELECT pos, sender, kind, target, frame FROM messages WHERE kind = ? AND conv_a = ? AND conv_b = ? "
        "AND pos < ? AND pos > ? ORDER BY pos DESC LIMIT ?",
        {static_cast<std::int64_t>(conversation.kind), a, b,
         asPos(before.value_or(std::numeric_limits<std::uint64_t>::max())), asPos(after),
         static_cast<std::int64_t>(limit + 1)});
    HistoryPage page;
    page.more = rows.size() > limit;
    if (page.more) rows.pop_back();
    page.messages = fromRows(rows);
    std::reverse(page.messages.begin(), page.messages.end());
    return page;
}

std::vector<ConversationSummary> MessageRepository::conversations(std::int64_t user, std::size_t limit) {
    struct Latest {
        Conversation conversation;
        std::uint64_t last;
        std::uint64_t joined;
    };
    std::vector<Latest> latest;
    for (const Row& row : db_.query("SELECT peer, MAX(pos) AS last FROM ("
                                    " SELECT sender AS peer, pos FROM messages WHERE kind = 1 AND target = ?"
                                    " UNION ALL SELECT target AS peer, pos FROM messages WHERE sender = ? AND kind = 1"
                                    ") s GROUP BY peer ORDER BY last DESC LIMIT ?",
                                    {user, user, static_cast<std::int64_t>(limit)}))
        latest.push_back({{ConversationKind::Single, asInt(row[0])}, static_cast<std::uint64_t>(asInt(row[1])), 0});
    for (const Row& row : db_.query("SELECT c.target, c.joined_pos, (SELECT MAX(m.pos) FROM messages m WHERE m.kind = 2"
                                    " AND m.conv_a = c.target AND m.conv_b = 0 AND m.pos > c.joined_pos)"
                                    " FROM contacts c WHERE c.owner = ? AND c.category = 2",
                                    {user})) {
        if (!row[2]) continue;  // no message since the user joined
        latest.push_back({{ConversationKind::Group, asInt(row[0])},
                          static_cast<std::uint64_t>(asInt(row[2])),
                          static_cast<std::uint64_t>(asInt(row[1]))});
    }
    std::sort(latest.begin(), latest.end(), [](const Latest& x, const Latest& y) { return x.last > y.last; });
    if (latest.size() > limit) latest.resize(limit);

    std::vector<ConversationSummary> out;
    out.reserve(latest.size());
    for (const Latest& l : latest) {
        auto last = range(l.last, l.last);
        if (last.empty()) continue;  // removed by retention meanwhile
        auto mark = db_.query("SELECT pos FROM read_marks WHERE user_id = ? AND kind = ? AND peer = ?",
                              {user, static_cast<std::int64_t>(l.conversation.kind), l.conversation.peer});
        std::uint64_t read = mark.empty() ? 0 : static_cast<std::uint64_t>(asInt(mark[0][0]));
        out.push_back({l.conversation, std::move(last[0]), unread(user, l.conversation, std::max(read, l.joined))});
    }
    return out;
}

std::uint64_t MessageRepository::unread(std::int64_t user, Conversation conversation, std::uint64_t after) {
    auto [a, b] = convKey(conversation.kind, user, conversation.peer);
    auto rows = db_.query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE kind = ? AND conv_a = ? AND conv_b = ? AND pos > ? "
        "AND sender <> ? LIMIT ?) s",
        {static_cast<std::int64_t>(conversation.kind), a, b, asPos(after), user,
         static_cast<std::int64_t>(kUnreadCap)});
    return rows.empty() ? 0 : static_cast<std::uint64_t>(asInt(rows[0][0]));
}

void MessageRepository::markRead(std::int64_t user, Conversation conversation, std::uint64_t pos) {
    db_.execute(
        "INSERT INTO read_marks (user_id, kind, peer, pos) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE pos = GREATEST(pos, VALUES(pos))",
        {user, static_cast<std::int64_t>(conversation.kind), conversation.peer, asPos(pos)});
}

std::uint64_t MessageRepository::deleteOlderThan(std::int64_t cutoffMs, std::size_t limit) {
    return db_.execute("DELETE FROM messages WHERE createat < ? LIMIT ?", {cutoffMs, static_cast<std::int64_t>(limit)});
}

std::uint64_t MessageRepository::deleteBeyondNewest(std::uint64_t keep, std::size_t limit) {
    return db_.execute(
        "DELETE FROM messages WHERE pos + ? <= (SELECT pos FROM message_seq WHERE id = 1) ORDER BY pos LIMIT ?",
        {asPos(keep), static_cast<std::int64_t>(limit)});
}

}  // namespace chat::store
