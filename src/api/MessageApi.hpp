// /message/*: a conversation's history, the caller's conversations with unread counts, and
// read marks. Everything runs on the database pool; the caller must belong to the
// conversation (a single chat always includes the caller; a group needs membership).
#pragma once
#include "api/ApiContext.hpp"
#include "api/Guard.hpp"
#include "http/Router.hpp"

namespace chat::api {

class MessageApi {
public:
    explicit MessageApi(ApiContext& ctx) : ctx_(ctx) {}
    void install(http::Router& router);

    // A history page holds at most this many messages; a larger `limit` is refused.
    static constexpr std::size_t kMaxPage = 100;
    static constexpr std::size_t kDefaultPage = 30;
    static constexpr std::size_t kMaxConversations = 200;

private:
    void history(const Call& call, const auth::Identity& id);
    void conversations(const Call& call, const auth::Identity& id);
    void read(const Call& call, const auth::Identity& id);

    ApiContext& ctx_;
};

}  // namespace chat::api
