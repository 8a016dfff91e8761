#include "api/UserApi.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "api/DbCall.hpp"
#include "api/Validate.hpp"
#include "auth/Tokens.hpp"
#include "store/TokenRepository.hpp"
#include "store/UserRepository.hpp"

namespace chat::api {

namespace {

const char* kWrongLogin = "wrong mobile or password";

// A new device token; only its digest is stored.
std::string issueToken(store::Connection& c, std::int64_t userId) {
    auto token = auth::Tokens::generate();
    store::TokenRepository(c).insert(userId, auth::Tokens::digest(token));
    return token;
}

// Retry-After says when the limit will let the caller in again.
http::Response tooMany(const std::string& msg, std::chrono::seconds wait) {
    auto r = Reply::fail(429, msg);
    r.headers.emplace_back("Retry-After", std::to_string(wait.count()));
    return r;
}

http::Response withToken(const store::UserRecord& user, const std::string& token) {
    auto data = Reply::ownProfile(user);
    data["token"] = token;
    return Reply::ok(std::move(data));
}

}  // namespace

void UserApi::install(http::Router& router) {
    router.add("POST", "/user/register", Guard::open([this](const Call& c) { registerUser(c); }));
    router.add("POST", "/user/login", Guard::open([this](const Call& c) { login(c); }));
    router.add("POST", "/user/logout",
               Guard::authenticated(ctx_.auth, [this](const Call& c, const auth::Identity& id) { logout(c, id); }));
    router.add("POST", "/user/find",
               Guard::authenticated(ctx_.auth, [this](const Call& c, const auth::Identity& id) { find(c, id); }));
}

void UserApi::registerUser(const Call& call) {
    auto mobile = call.params.required("mobile");
    auto passwd = call.params.secret("passwd");
    auto nickname = call.params.text("nickname").value_or("");
    auto avatar = call.params.text("avatar").value_or("");
    Validate::mobile(mobile);
    Validate::password(passwd);
    if (nickname.empty()) nickname = "User " + mobile.substr(mobile.size() - 4);
    Validate::name("nickname", nickname, 1, 32);
    Validate::link("avatar", avatar);
    // Counted after the checks: a request refused for a typo costs no hash, so no budget either.
    if (auto wait = ctx_.registrations.admit(call.request.clientAddress); wait.count() > 0) {
        ctx_.metrics.registrationsRateLimited.fetch_add(1, std::memory_order_relaxed);
        return call.respond(tooMany("too many registrations, try again later", wait));
    }
    answerFromDb(ctx_.db, call.respond, [this, mobile, passwd, nickname, avatar](store::Connection& c) {
        // Hashed even when the mobile is taken: a lookup first would save the hash only for
        // duplicates, which the throttle already bounds, and the insert's unique key must refuse
        // them anyway (two registrations can both pass a lookup).
        auto record = ctx_.hasher.make(passwd);
        store::UserRepository users(c);
        auto id = users.insert(mobile, record.hash, record.salt, nickname, avatar);
        if (!id) throw ApiError(409, "mobile already registered");
        auto user = users.findById(*id);
        if (!user) throw std::runtime_error("registered user vanished");
        ctx_.knownUsers.add(*id);
        spdlog::info("api: registered user {}", *id);
        return withToken(*user, issueToken(c, *id));
    });
}

void UserApi::login(const Call& call) {
    auto mobile = call.params.required("mobile");
    auto passwd = call.params.secret("passwd");
    // Before the limiter and the lookup: MariaDB's collation ignores trailing spaces, so
    // "13800000000 " would find the account under a limiter key of its own. Answered as
    // register answers it, 400 naming the field: the format of a mobile says nothing about
    // which accounts exist, so a 401 would hide the caller's mistake and protect nothing.
    Validate::mobile(mobile);
    auto address = call.request.clientAddress;
    auto admission = ctx_.limiter.admit(mobile, address);
    if (!admission.attempt) {
        ctx_.metrics.loginsRateLimited.fetch_add(1, std::memory_order_relaxed);
        return call.respond(tooMany("too many failed logins, try again later", admission.retryAfter));
    }
    // Shared by the copies of the job; if the job ends without checking the password (database
    // busy or failing), the last copy releases the attempt.
    auto attempt = std::make_shared<auth::LoginLimiter::Attempt>(std::move(*admission.attempt));
    answerFromDb(ctx_.db, call.respond, [this, mobile, passwd, address, attempt](store::Connection& c) {
        auto found = store::UserRepository(c).findByMobile(mobile);
        bool ok =
            found ? ctx_.hasher.verify(passwd, {found->passwordHash, found->salt}) : ctx_.hasher.verifyDummy(passwd);
        if (!ok) {
            attempt->failed();
            spdlog::info("api: failed login from {}", address);
            throw ApiError(401, kWrongLogin);
        }
        attempt->succeeded();
        return withToken(found->user, issueToken(c, found->user.id));
    });
}

void UserApi::logout(const Call& call, const auth::Identity& id) {
    answerFromDb(ctx_.db, call.respond, [this, id](store::Connection& c) {
        store::TokenRepository(c).remove(id.tokenId);
        ctx_.dispatcher.revokeToken(id.userId, id.tokenId);
        return Reply::ok(nullptr);
    });
}

void UserApi::find(const Call& call, const auth::Identity&) {
    auto target = call.params.requiredId("userid");
    answerFromDb(ctx_.db, call.respond, [target](store::Connection& c) {
        auto user = store::UserRepository(c).findById(target);
        if (!user) throw ApiError(404, "no such user");
        return Reply::ok(Reply::publicProfile(*user));
    });
}

}  // namespace chat::api
