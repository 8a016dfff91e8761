#include "api/MessageApi.hpp"

#include "api/DbCall.hpp"
#include "proto/ChatMessage.hpp"
#include "store/MessageRepository.hpp"

namespace chat::api {

namespace {

using store::Conversation;
using store::ConversationKind;

// `peer=<user id>` or `group=<group id>`, exactly one.
Conversation conversationOf(const Params& params) {
    auto peer = params.id("peer");
    auto group = params.id("group");
    if (peer.has_value() == group.has_value())
        throw ApiError(400, "give either peer (a user id) or group (a group id)");
    return peer ? Conversation{ConversationKind::Single, *peer} : Conversation{ConversationKind::Group, *group};
}

// A stored message as clients receive it: its frame with its position.
Json messageJson(const store::StoredMessage& m) {
    auto j = Json::parse(m.frame, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = Json::object();
    j["pos"] = m.pos;
    return j;
}

const char* keyOf(ConversationKind kind) {
    return kind == ConversationKind::Group ? "group" : "peer";
}

}  // namespace

void MessageApi::install(http::Router& router) {
    auto add = [&](const char* path, void (MessageApi::*fn)(const Call&, const auth::Identity&)) {
        router.add("POST", path, Guard::authenticated(ctx_.auth, [this, fn](const Call& c, const auth::Identity& id) {
                       (this->*fn)(c, id);
                   }));
    };
    add("/message/history", &MessageApi::history);
    add("/message/conversations", &MessageApi::conversations);
    add("/message/read", &MessageApi::read);
}

void MessageApi::history(const Call& call, const auth::Identity& id) {
    auto conversation = conversationOf(call.params);
    auto before = call.params.position("before");
    auto limit = call.params.count("limit", 1, kMaxPage, kDefaultPage);
    answerFromDb(ctx_.db, call.respond, [=, me = id.userId](store::Connection& c) {
        auto page = store::MessageRepository(c).history(me, conversation, before, limit);
        if (!page) throw ApiError(403, "not a member of this group");
        auto messages = Json::array();
        for (const auto& m : page->messages) messages.push_back(messageJson(m));
        return Reply::ok(Json{{"messages", std::move(messages)}, {"more", page->more}});
    });
}

void MessageApi::conversations(const Call& call, const auth::Identity& id) {
    auto limit = call.params.count("limit", 1, kMaxConversations, kMaxConversations);
    answerFromDb(ctx_.db, call.respond, [=, me = id.userId](store::Connection& c) {
        auto list = Json::array();
        for (const auto& s : store::MessageRepository(c).conversations(me, limit))
            list.push_back(Json{{keyOf(s.conversation.kind), s.conversation.peer},
                                {"last", messageJson(s.last)},
                                {"unread", s.unread}});
        return Reply::ok(std::move(list));
    });
}

void MessageApi::read(const Call& call, const auth::Identity& id) {
    auto conversation = conversationOf(call.params);
    auto pos = call.params.position("pos");
    if (!pos) throw ApiError(400, "pos is required");
    answerFromDb(ctx_.db, call.respond, [this, conversation, pos = *pos, me = id.userId](store::Connection& c) {
        store::MessageRepository history(c);
        if (conversation.kind == ConversationKind::Group && !history.joinedAt(me, conversation.peer))
            throw ApiError(403, "not a member of this group");
        // A mark past the stream's end would hide messages not yet written.
        auto mark = std::min(pos, history.committedPosition());
        history.markRead(me, conversation, mark);
        // The user's other devices, on every node, clear their badges too.
        ctx_.dispatcher.notify(
            me, proto::MessageCodec::readMark(conversation.kind == ConversationKind::Group, conversation.peer, mark));
        return Reply::ok(Json{{keyOf(conversation.kind), conversation.peer}, {"pos", mark}});
    });
}

}  // namespace chat::api
