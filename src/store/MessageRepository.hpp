// The message history in the `messages` table: appending batches at their stream positions,
// a user's stream after a position (sync), a conversation's older pages (history), the
// user's conversations with unread counts, read marks, and retention. Synchronous: for
// MessageWriter's own thread and for Database::run jobs.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "store/Connection.hpp"
#include "store/Records.hpp"

namespace chat::store {

class MessageRepository {
public:
    explicit MessageRepository(Connection& connection) : db_(connection) {}

    // Takes the next positions for the batch and inserts it; returns the first position (the
    // batch holds first, first + 1, ...). Must run inside a transaction: the positions' row
    // lock is what orders commits, and it is released only by the commit.
    std::uint64_t append(const std::vector<NewMessage>& batch);
    // append() and the commit, in a transaction of its own; returns the first position. A batch
    // of up to 64 messages and 4 MiB takes one round trip (one compound statement does it all),
    // a larger one 3 or more.
    std::uint64_t appendCommitted(const std::vector<NewMessage>& batch);
    // Takes the next `count` positions of the stream (messages and joins share it) in one
    // statement and returns the first; inside a transaction, for the same reason as append().
    std::uint64_t reservePositions(std::size_t count);
    // The latest committed position (0 before the first message).
    std::uint64_t committedPosition();
    // Every message in [first, last], by position.
    std::vector<StoredMessage> range(std::uint64_t first, std::uint64_t last);
    // Every group join that took a position in [first, last].
    std::vector<StoredJoin> joinsIn(std::uint64_t first, std::uint64_t last);

    // The user's stream after `after`, oldest first, at most `limit`: single chats both ways
    // (what the user sent too, for their other devices) and the groups they are in, from the
    // position at which they joined each. Up to `upTo`, a committed position read earlier
    // (committedPosition(), or with the memberships); nullopt reads the latest first.
    // SinglesOnly: the user is in no group (as read with the stream position), so the stream
    // is their single chats; the group part is left out of the statement.
    enum class StreamParts { All, SinglesOnly };
    std::vector<StoredMessage> streamAfter(std::int64_t user, std::uint64_t after, std::size_t limit,
                                           StreamParts parts = StreamParts::All,
                                           std::optional<std::uint64_t> upTo = std::nullopt);
    // The position just before the user's `count` latest messages (0 if they have no more).
    std::uint64_t recentStart(std::int64_t user, std::size_t count, StreamParts parts = StreamParts::All,
                              std::optional<std::uint64_t> upTo = std::nullopt);
    // The user's `count` latest messages, oldest first: what recentStart and streamAfter read, in one go.
    std::vector<StoredMessage> recent(std::int64_t user, std::size_t count, StreamParts parts = StreamParts::All,
                                      std::optional<std::uint64_t> upTo = std::nullopt);

    // What a connecting device needs: the user's groups (ascending), the committed position,
    // and the first page of its stream up to it: the newest `limit` messages (oldest first), or
    // the oldest `limit` after `after`. One statement for a user in no group, two otherwise.
    struct Opening {
        std::vector<std::int64_t> groups;
        std::uint64_t committed = 0;
        std::vector<StoredMessage> messages;
    };
    Opening opening(std::int64_t user, std::optional<std::uint64_t> after, std::size_t limit);

    // Messages of one conversation before `before` (newest page first asked), oldest first.
    // nullopt: the user is not a member of that group.
    std::optional<HistoryPage> history(std::int64_t user, Conversation conversation,
                                       std::optional<std::uint64_t> before, std::size_t limit);
    // The user's conversations that hold messages, most recent first.
    std::vector<ConversationSummary> conversations(std::int64_t user, std::size_t limit);
    // Everything up to `pos` in the conversation is read; a mark never moves back.
    void markRead(std::int64_t user, Conversation conversation, std::uint64_t pos);
    // The position at which the user joined the group; nullopt: not a member.
    std::optional<std::uint64_t> joinedAt(std::int64_t user, std::int64_t group);

    // Retention: delete at most `limit` messages older than the cutoff / beyond the newest
    // `keep`; returns how many went.
    std::uint64_t deleteOlderThan(std::int64_t cutoffMs, std::size_t limit);
    std::uint64_t deleteBeyondNewest(std::uint64_t keep, std::size_t limit);

    // Unread counts stop here: past it a badge says "many", and counting costs.
    static constexpr std::uint64_t kUnreadCap = 10000;

private:
    std::vector<Row> streamRows(std::int64_t user, std::optional<std::uint64_t> after, std::size_t limit,
                                StreamParts parts, std::optional<std::uint64_t> upTo, bool positionsOnly);
    void insertRows(const std::vector<NewMessage>& batch, std::size_t from, std::size_t count, std::uint64_t firstPos);
    std::uint64_t unread(std::int64_t user, Conversation conversation, std::uint64_t after);

    Connection& db_;
};

}  // namespace chat::store
