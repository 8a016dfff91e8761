#include "store/MessageRepository.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>
#include <limits>
#include <span>
#include <string>

namespace chat::store {

namespace {

constexpr std::size_t kColumnsPerRow = 10;
// Rows per INSERT: powers of two up to this, so a batch of any size uses a few cached
// statements. 64 rows of the largest frames stay far below MariaDB's 16 MiB packet limit.
constexpr std::size_t kMaxRowsPerInsert = 64;
constexpr std::size_t kMaxBytesPerInsert = 4u << 20;

// Batches up to this many rows (and kMaxBytesPerInsert) are stored in one round trip, by one
// compound statement per row count (so this many cached statements). A bound below the batches
// a busy writer takes would cost them four more round trips, and so larger batches still.
constexpr std::size_t kOneTripRows = kMaxRowsPerInsert;

// An INSERT of `rows` rows: each row's position is `position(r)` (a parameter, or computed in
// SQL), its other values are parameters in appendValues' order.
template <class Position>
std::string insertRowsSql(std::size_t rows, Position position) {
    std::string sql =
        "INSERT INTO messages (pos, id, sender, kind, target, conv_a, conv_b, media, createat, frame) VALUES ";
    for (std::size_t r = 0; r < rows; ++r) sql.append(r ? ",(" : "(").append(position(r)).append(",?,?,?,?,?,?,?,?,?)");
    return sql;
}

// The positions, the rows and the commit in one statement. Its texts differ by row count only:
// every value is a parameter, and each row's position is computed from the one reserved.
const std::string& oneTripSql(std::size_t rows) {
    static const auto texts = [] {
        std::array<std::string, kOneTripRows> out;
        for (std::size_t n = 1; n <= out.size(); ++n) {
            std::string sql = "BEGIN NOT ATOMIC UPDATE message_seq SET pos = LAST_INSERT_ID(pos + " + std::to_string(n);
            sql +=
                ") WHERE id = 1; IF ROW_COUNT() <> 1 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = "
                "'message_seq has no row'; END IF; ";
            sql += insertRowsSql(
                n, [n](std::size_t r) { return std::string("LAST_INSERT_ID() - ").append(std::to_string(n - 1 - r)); });
            sql.append("; COMMIT; SELECT LAST_INSERT_ID(); END");
            out[n - 1] = std::move(sql);
        }
        return out;
    }();
    return texts[rows - 1];
}

const std::string& insertSql(std::size_t rows) {
    static const auto texts = [] {
        std::array<std::string, 7> out;
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = insertRowsSql(std::size_t{1} << i, [](std::size_t) { return "?"; });
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

// A row's values after its position, in insertSql's and oneTripSql's column order.
void appendValues(std::vector<Param>& params, const NewMessage& m) {
    auto [a, b] = convKey(m.kind, m.sender, m.target);
    params.insert(params.end(),
                  {Param{m.id}, Param{m.sender}, Param{static_cast<std::int64_t>(m.kind)}, Param{m.target}, Param{a},
                   Param{b}, Param{static_cast<std::int64_t>(m.media)}, Param{m.createat}, Param{m.frame}});
}

std::size_t frameBytes(std::span<const NewMessage> messages) {
    std::size_t bytes = 0;
    for (const auto& m : messages) bytes += m.frame.size();
    return bytes;
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

// A user's stream has three parts: single chats addressed to them, single chats they sent (but
// not those to themselves, already in the first part), and their groups' messages since they
// joined. Each part is a bounded SELECT of its own; they travel as one UNION ALL without an
// outer ORDER BY, which MariaDB streams part after part, and are merged here. (An outer ORDER
// BY costs a derived table and a sort on every execution: ~370 us against ~110 us.) The
// group part's join costs even when it finds nothing, so a user in no group is spared it.
enum class Part { ToMe, FromMe, Groups };

// `after`: the part starts after a position; otherwise it takes the newest rows. Every part
// stops at an upper bound, a committed position.
std::string partSql(Part part, bool after, bool positionsOnly) {
    const bool join = part == Part::Groups;
    const std::string p = join ? "m." : "";
    std::string sql =
        "SELECT " +
        (positionsOnly ? p + "pos" : p + "pos, " + p + "sender, " + p + "kind, " + p + "target, " + p + "frame");
    switch (part) {
        case Part::ToMe:
            sql += " FROM messages WHERE kind = 1 AND target = ?";
            break;
        case Part::FromMe:
            sql += " FROM messages WHERE sender = ? AND kind = 1 AND target <> ?";
            break;
        case Part::Groups:
            sql +=
                " FROM contacts c JOIN messages m ON m.kind = 2 AND m.conv_a = c.target AND m.conv_b = 0 AND m.pos > ";
            sql += after ? "GREATEST(?, c.joined_pos)" : "c.joined_pos";
            sql += " AND m.pos <= ? WHERE c.owner = ? AND c.category = 2";
            break;
    }
    if (!join) sql += after ? " AND pos > ? AND pos <= ?" : " AND pos <= ?";
    return sql + " ORDER BY " + p + "pos" + (after ? "" : " DESC") + " LIMIT ?";
}

// The values for one part's placeholders, in their order, after `params`.
void addPartParams(std::vector<Param>& params, Part part, std::int64_t user, std::optional<std::uint64_t> after,
                   std::uint64_t upTo, std::size_t limit) {
    if (part == Part::Groups) {
        if (after) params.emplace_back(asPos(*after));
        params.insert(params.end(), {Param{asPos(upTo)}, Param{user}});
    } else {
        params.emplace_back(user);
        if (part == Part::FromMe) params.emplace_back(user);
        if (after) params.emplace_back(asPos(*after));
        params.emplace_back(asPos(upTo));
    }
    params.emplace_back(static_cast<std::int64_t>(limit));
}

std::vector<Part> partsOf(MessageRepository::StreamParts parts) {
    if (parts == MessageRepository::StreamParts::SinglesOnly) return {Part::ToMe, Part::FromMe};
    return {Part::ToMe, Part::FromMe, Part::Groups};
}

// The parts' union, by parts, whether they start after a position, and whether they read
// positions only.
const std::string& streamSql(MessageRepository::StreamParts parts, bool after, bool positionsOnly) {
    static const auto texts = [] {
        std::array<std::string, 8> out;
        for (int i = 0; i < 8; ++i) {
            for (Part part : partsOf(static_cast<MessageRepository::StreamParts>(i / 4))) {
                out[i].append(out[i].empty() ? "(" : " UNION ALL (");
                out[i].append(partSql(part, (i & 2) != 0, (i & 1) != 0)).append(")");
            }
        }
        return out;
    }();
    return texts[static_cast<int>(parts) * 4 + (after ? 2 : 0) + (positionsOnly ? 1 : 0)];
}

// The user's groups and the committed position (rows without a message position), then their
// single chats: in one read view, every message visible is at or below the position read with
// it, so the parts need no bound of their own. The group part is a statement of its own, run
// only for a user with groups: its join costs a temporary table even when it finds nothing.
const std::string& openingSql(bool after) {
    static const auto texts = [] {
        std::array<std::string, 2> out;
        for (int i = 0; i < 2; ++i) {
            out[i] =
                "SELECT NULL, s.pos, c.target, NULL, NULL FROM message_seq s LEFT JOIN contacts c ON c.owner = ? "
                "AND c.category = 2 WHERE s.id = 1 UNION ALL ";
            out[i].append(streamSql(MessageRepository::StreamParts::SinglesOnly, i == 1, false));
        }
        return out;
    }();
    return texts[after ? 1 : 0];
}

const std::string& groupPartSql(bool after) {
    static const std::array<std::string, 2> texts{partSql(Part::Groups, false, false),
                                                  partSql(Part::Groups, true, false)};
    return texts[after ? 1 : 0];
}

constexpr std::uint64_t kNoBound = std::numeric_limits<std::int64_t>::max();

// Each part's `limit` first, merged in stream order (oldest first after a position, otherwise
// newest first), and cut to `limit`.
void mergeParts(std::vector<Row>& rows, bool after, std::size_t limit) {
    auto posOf = [](const Row& r) { return asInt(r[0]); };
    if (after)
        std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return posOf(a) < posOf(b); });
    else
        std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return posOf(a) > posOf(b); });
    if (rows.size() > limit) rows.resize(limit);
}

}  // namespace

std::uint64_t MessageRepository::append(const std::vector<NewMessage>& batch) {
    if (batch.empty()) return 0;
    if (!db_.inTransaction()) throw DbError("append outside a transaction", 0, false);
    const auto first = reservePositions(batch.size());
    for (std::size_t done = 0; done < batch.size();) {
        auto bytesOf = [&](std::size_t count) { return frameBytes(std::span(batch).subspan(done, count)); };
        std::size_t count = std::bit_floor(std::min(batch.size() - done, kMaxRowsPerInsert));
        while (count > 1 && bytesOf(count) > kMaxBytesPerInsert) count /= 2;
        insertRows(batch, done, count, first + done);
        done += count;
    }
    return first;
}

std::uint64_t MessageRepository::appendCommitted(const std::vector<NewMessage>& batch) {
    if (batch.empty()) return 0;
    Transaction transaction(db_);
    if (batch.size() > kOneTripRows || frameBytes(batch) > kMaxBytesPerInsert) {
        const auto first = append(batch);
        transaction.commit();
        return first;
    }
    std::vector<Param> params;
    params.reserve(batch.size() * (kColumnsPerRow - 1));
    for (const auto& m : batch) appendValues(params, m);
    const auto rows = db_.queryCommitting(oneTripSql(batch.size()), params);
    if (rows.size() != 1) throw DbError("the batch's positions were not returned", 0, false);
    return static_cast<std::uint64_t>(asInt(rows[0][0])) - batch.size() + 1;
}

std::uint64_t MessageRepository::reservePositions(std::size_t count) {
    if (!db_.inTransaction()) throw DbError("positions taken outside a transaction", 0, false);
    // LAST_INSERT_ID(expr) hands the new value back in the statement's answer: no SELECT after it.
    if (db_.execute("UPDATE message_seq SET pos = LAST_INSERT_ID(pos + ?) WHERE id = 1",
                    {static_cast<std::int64_t>(count)}) != 1)
        throw DbError("message_seq has no row", 0, false);
    return db_.lastInsertId() - count + 1;
}

void MessageRepository::insertRows(const std::vector<NewMessage>& batch, std::size_t from, std::size_t count,
                                   std::uint64_t firstPos) {
    std::vector<Param> params;
    params.reserve(count * kColumnsPerRow);
    for (std::size_t i = 0; i < count; ++i) {
        params.emplace_back(asPos(firstPos + i));
        appendValues(params, batch[from + i]);
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

// The parts' rows, each part's `limit` first (oldest after `after`, or newest), merged in
// stream order (oldest first, or newest first). One statement, up to a committed position
// read earlier: positions commit in order (the position counter's row lock is held until each
// commit), so everything at or below it is visible, and the read agrees with what was read
// with that position (the user's groups) without a transaction around both.
std::vector<Row> MessageRepository::streamRows(std::int64_t user, std::optional<std::uint64_t> after, std::size_t limit,
                                               StreamParts parts, std::optional<std::uint64_t> upTo,
                                               bool positionsOnly) {
    const std::uint64_t bound = upTo ? *upTo : committedPosition();
    std::vector<Param> params;
    for (Part part : partsOf(parts)) addPartParams(params, part, user, after, bound, limit);
    auto rows = db_.query(streamSql(parts, after.has_value(), positionsOnly), std::span<const Param>(params));
    mergeParts(rows, after.has_value(), limit);
    return rows;
}

MessageRepository::Opening MessageRepository::opening(std::int64_t user, std::optional<std::uint64_t> after,
                                                      std::size_t limit) {
    std::vector<Param> params{user};
    for (Part part : partsOf(StreamParts::SinglesOnly)) addPartParams(params, part, user, after, kNoBound, limit);
    Opening out;
    std::vector<Row> messages;
    for (Row& row : db_.query(openingSql(after.has_value()), std::span<const Param>(params))) {
        if (row.size() < 5) throw DbError("opening row too short", 0, false);
        if (row[0]) {
            messages.push_back(std::move(row));
            continue;
        }
        out.committed = static_cast<std::uint64_t>(asInt(row[1]));
        if (row[2]) out.groups.push_back(asInt(row[2]));
    }
    if (!out.groups.empty()) {
        // A later statement: bounded by the position read with the groups.
        std::vector<Param> groupParams;
        addPartParams(groupParams, Part::Groups, user, after, out.committed, limit);
        auto rows = db_.query(groupPartSql(after.has_value()), std::span<const Param>(groupParams));
        std::move(rows.begin(), rows.end(), std::back_inserter(messages));
    }
    std::sort(out.groups.begin(), out.groups.end());
    mergeParts(messages, after.has_value(), limit);
    out.messages = fromRows(messages);
    if (!after) std::reverse(out.messages.begin(), out.messages.end());
    return out;
}

std::vector<StoredMessage> MessageRepository::streamAfter(std::int64_t user, std::uint64_t after, std::size_t limit,
                                                          StreamParts parts, std::optional<std::uint64_t> upTo) {
    return fromRows(streamRows(user, after, limit, parts, upTo, false));
}

std::uint64_t MessageRepository::recentStart(std::int64_t user, std::size_t count, StreamParts parts,
                                             std::optional<std::uint64_t> upTo) {
    auto rows = streamRows(user, std::nullopt, count + 1, parts, upTo, true);
    return rows.size() <= count ? 0 : static_cast<std::uint64_t>(asInt(rows[count][0]));
}

std::vector<StoredMessage> MessageRepository::recent(std::int64_t user, std::size_t count, StreamParts parts,
                                                     std::optional<std::uint64_t> upTo) {
    auto messages = fromRows(streamRows(user, std::nullopt, count, parts, upTo, false));
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
