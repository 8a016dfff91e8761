// Plain rows of the store, shared by the repositories and their callers (auth, api).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace chat::store {

struct UserRecord {
    std::int64_t id = 0;
    std::string mobile, nickname, avatar, memo;
    int sex = 0;
    std::int64_t createdMs = 0;  // milliseconds since the Unix epoch
};

struct UserCredentials {
    UserRecord user;
    std::string passwordHash, salt;
};

struct CommunityRecord {
    std::int64_t id = 0;
    std::string name;
    std::int64_t owner = 0;
    std::string icon, memo;
    int category = 1;
    std::int64_t createdMs = 0;  // milliseconds since the Unix epoch
};

// A conversation: with one user (kind 1) or in one group (kind 2).
enum class ConversationKind : int { Single = 1, Group = 2 };

struct Conversation {
    ConversationKind kind = ConversationKind::Single;
    std::int64_t peer = 0;  // the other user, or the group
};

// A chat message on its way into the history, stamped by its node.
struct NewMessage {
    std::int64_t id = 0;
    std::int64_t sender = 0;
    ConversationKind kind = ConversationKind::Single;
    std::int64_t target = 0;
    int media = 0;
    std::int64_t createat = 0;
    std::string frame;  // as clients receive it, without "pos"
};

// A message of the history at its position in the cluster's stream.
struct StoredMessage {
    std::uint64_t pos = 0;
    std::int64_t sender = 0;
    ConversationKind kind = ConversationKind::Single;
    std::int64_t target = 0;
    std::string frame;  // without "pos"
};

// A group membership at the stream position it took.
struct StoredJoin {
    std::uint64_t pos = 0;
    std::int64_t user = 0;
    std::int64_t group = 0;
};

struct HistoryPage {
    std::vector<StoredMessage> messages;  // oldest first
    bool more = false;                    // older ones exist
};

struct ConversationSummary {
    Conversation conversation;
    StoredMessage last;
    std::uint64_t unread = 0;  // messages from others after the user's read mark
};

}  // namespace chat::store
