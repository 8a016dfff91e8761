// /contact/*: friends (both directions) and groups ("communities").
#pragma once
#include "api/ApiContext.hpp"
#include "api/Guard.hpp"
#include "http/Router.hpp"

namespace chat::api {

class ContactApi {
public:
    explicit ContactApi(ApiContext& ctx) : ctx_(ctx) {}
    void install(http::Router& router);

private:
    void addFriend(const Call& call, const auth::Identity& id);
    void loadFriends(const Call& call, const auth::Identity& id);
    void createCommunity(const Call& call, const auth::Identity& id);
    void joinCommunity(const Call& call, const auth::Identity& id);
    void loadCommunities(const Call& call, const auth::Identity& id);

    ApiContext& ctx_;
};

}  // namespace chat::api
