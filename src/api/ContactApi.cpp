#include "api/ContactApi.hpp"

#include "api/DbCall.hpp"
#include "api/Validate.hpp"
#include "store/CommunityRepository.hpp"
#include "store/ContactRepository.hpp"
#include "store/UserRepository.hpp"

namespace chat::api {

void ContactApi::install(http::Router& router) {
    auto add = [&](const char* path, void (ContactApi::*fn)(const Call&, const auth::Identity&)) {
        router.add("POST", path, Guard::authenticated(ctx_.auth, [this, fn](const Call& c, const auth::Identity& id) {
                       (this->*fn)(c, id);
                   }));
    };
    add("/contact/addfriend", &ContactApi::addFriend);
    add("/contact/loadfriend", &ContactApi::loadFriends);
    add("/contact/createcommunity", &ContactApi::createCommunity);
    add("/contact/joincommunity", &ContactApi::joinCommunity);
    add("/contact/loadcommunity", &ContactApi::loadCommunities);
}

void ContactApi::addFriend(const Call& call, const auth::Identity& id) {
    auto dst = call.params.id("dstid");
    auto mobile = call.params.text("mobile").value_or("");
    if (!dst && mobile.empty()) throw ApiError(400, "dstid or mobile is required");
    if (dst && *dst == id.userId) throw ApiError(400, "cannot add yourself");
    answerFromDb(ctx_.db, call.respond, [dst, mobile, me = id.userId](store::Connection& c) {
        store::UserRepository users(c);
        auto target = dst ? dst : users.idByMobile(mobile);
        if (!target) throw ApiError(404, "no such user");
        if (*target == me) throw ApiError(400, "cannot add yourself");
        auto user = users.findById(*target);
        if (!user) throw ApiError(404, "no such user");
        if (store::ContactRepository(c).addFriend(me, *target) == store::ContactRepository::AddFriend::AlreadyFriends)
            throw ApiError(409, "already friends");
        return Reply::ok(Reply::publicProfile(*user));
    });
}

void ContactApi::loadFriends(const Call& call, const auth::Identity& id) {
    answerFromDb(ctx_.db, call.respond, [me = id.userId](store::Connection& c) {
        auto list = Json::array();
        for (const auto& u : store::ContactRepository(c).friends(me)) list.push_back(Reply::publicProfile(u));
        return Reply::ok(std::move(list));
    });
}

void ContactApi::createCommunity(const Call& call, const auth::Identity& id) {
    auto name = call.params.required("name");
    auto icon = call.params.text("icon").value_or("");
    auto memo = call.params.text("memo").value_or("");
    Validate::name("name", name, 1, 64);
    Validate::link("icon", icon);
    if (Validate::utf8Chars(memo) > 255) throw ApiError(400, "memo must be at most 255 characters");
    answerFromDb(ctx_.db, call.respond, [this, name, icon, memo, me = id.userId](store::Connection& c) {
        auto created = store::CommunityRepository(c).create(me, name, icon, memo);
        ctx_.dispatcher.joined(me, created.community.id, created.ownerJoinedAt);
        return Reply::ok(Reply::community(created.community));
    });
}

void ContactApi::joinCommunity(const Call& call, const auth::Identity& id) {
    auto group = call.params.requiredId("dstid");
    answerFromDb(ctx_.db, call.respond, [this, group, me = id.userId](store::Connection& c) {
        auto community = store::CommunityRepository(c).find(group);
        if (!community) throw ApiError(404, "no such group");
        store::Transaction transaction(c);
        auto joined = store::ContactRepository(c).join(me, group);
        transaction.commit();
        // Live connections on every node receive the group's messages from the join's position on.
        if (joined) ctx_.dispatcher.joined(me, group, *joined);
        return Reply::ok(Reply::community(*community));
    });
}

void ContactApi::loadCommunities(const Call& call, const auth::Identity& id) {
    answerFromDb(ctx_.db, call.respond, [me = id.userId](store::Connection& c) {
        auto list = Json::array();
        for (const auto& g : store::CommunityRepository(c).forUser(me)) list.push_back(Reply::community(g));
        return Reply::ok(std::move(list));
    });
}

}  // namespace chat::api
