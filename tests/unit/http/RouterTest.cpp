#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "http/Router.hpp"

using chat::http::Handler;
using chat::http::Request;
using chat::http::Response;
using chat::http::Router;

namespace {

// A handler that answers with its own name, so a test sees which one ran.
Handler named(const std::string& name) {
    return [name](const Request&, const chat::http::Respond& respond) { respond(Response::text(200, name)); };
}

Response route(const Router& router, const std::string& method, const std::string& path) {
    Request request;
    request.method = method;
    request.path = path;
    request.target = path;
    std::optional<Response> answer;
    router.route(request, [&](Response r) { answer = std::move(r); });
    if (!answer) {
        ADD_FAILURE() << method << " " << path << " got no answer";
        return Response::text(0, "");
    }
    return *answer;
}

std::string headerOf(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

Router sample() {
    Router router;
    router.add("POST", "/user/login", named("login"));
    router.add("GET", "/chat", named("chat-get"));
    router.add("POST", "/chat", named("chat-post"));
    router.addPrefix("GET", "/asset/", named("asset"));
    router.addPrefix("GET", "/asset/special/", named("special"));
    router.add("GET", "/asset/index.json", named("index"));
    return router;
}

}  // namespace

TEST(Router, RunsTheHandlerOfAnExactPathAndMethod) {
    auto r = route(sample(), "POST", "/user/login");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "login");
    EXPECT_EQ(route(sample(), "GET", "/chat").body, "chat-get");
    EXPECT_EQ(route(sample(), "POST", "/chat").body, "chat-post");
}

TEST(Router, MatchesExactPathsOnlyExactly) {
    EXPECT_EQ(route(sample(), "POST", "/user/login/").status, 404);
    EXPECT_EQ(route(sample(), "POST", "/user/loginx").status, 404);
    EXPECT_EQ(route(sample(), "POST", "/user").status, 404);
}

TEST(Router, MatchesAPrefixForEverythingBelowIt) {
    EXPECT_EQ(route(sample(), "GET", "/asset/css/site.css").body, "asset");
    EXPECT_EQ(route(sample(), "GET", "/asset/").body, "asset");
    EXPECT_EQ(route(sample(), "GET", "/asset").status, 404);
}

TEST(Router, PrefersTheLongestMatchingPrefix) {
    EXPECT_EQ(route(sample(), "GET", "/asset/special/x.png").body, "special");
    EXPECT_EQ(route(sample(), "GET", "/asset/specialx.png").body, "asset");
}

TEST(Router, PrefersAnExactPathOverAPrefix) {
    EXPECT_EQ(route(sample(), "GET", "/asset/index.json").body, "index");
}

TEST(Router, AnswersAnUnknownPathWith404Json) {
    auto r = route(sample(), "GET", "/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.contentType, "application/json");
    EXPECT_EQ(r.body, R"({"code":-1,"msg":"not found"})");
    EXPECT_EQ(route(Router(), "GET", "/").status, 404);
}

TEST(Router, AnswersAKnownPathWithAnotherMethodWith405AndAllow) {
    auto r = route(sample(), "GET", "/user/login");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.contentType, "application/json");
    EXPECT_EQ(r.body, R"({"code":-1,"msg":"method not allowed"})");
    EXPECT_EQ(headerOf(r, "Allow"), "POST");
    auto chat = route(sample(), "DELETE", "/chat");
    EXPECT_EQ(chat.status, 405);
    EXPECT_EQ(headerOf(chat, "Allow"), "GET, POST");
}

TEST(Router, AnswersAPrefixWithAnotherMethodWith405) {
    auto r = route(sample(), "POST", "/asset/a.png");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(headerOf(r, "Allow"), "GET");
}

TEST(Router, AnswersHeadWithTheGetHandler) {
    EXPECT_EQ(route(sample(), "HEAD", "/asset/a.png").body, "asset");
    EXPECT_EQ(route(sample(), "HEAD", "/chat").body, "chat-get");
    EXPECT_EQ(route(sample(), "HEAD", "/user/login").status, 405);  // no GET there
}

TEST(Router, GivesEachPathItsOwnBodyLimitOrTheFallback) {
    Router router;
    router.setBodyLimit("/attach/upload", 20u << 20);
    EXPECT_EQ(router.bodyLimit("/attach/upload", 64u << 10), 20u << 20);
    EXPECT_EQ(router.bodyLimit("/user/login", 64u << 10), 64u << 10);
    EXPECT_EQ(router.bodyLimit("/attach/upload/x", 64u << 10), 64u << 10);
}
