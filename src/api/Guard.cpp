#include "api/Guard.hpp"

#include <spdlog/spdlog.h>

#include "api/Reply.hpp"

namespace chat::api {

namespace {

const char* kBadCredentials = "invalid or missing credentials";

std::string bearerToken(const http::Request& r) {
    auto* auth = r.header("authorization");
    if (!auth || auth->size() <= 7) return {};
    std::string scheme = auth->substr(0, 7);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return scheme == "bearer " ? auth->substr(7) : std::string{};
}

}  // namespace

void Guard::shielded(const http::Respond& respond, const std::function<void()>& fn) {
    try {
        fn();
    } catch (const ApiError& e) {
        respond(Reply::fail(e.status, e.what()));
    } catch (const std::exception& e) {
        spdlog::error("api: unexpected failure: {}", e.what());
        respond(Reply::fail(500, "internal error"));
    }
}

http::Handler Guard::open(OpenHandler handler) {
    return [handler = std::move(handler)](const http::Request& request, const http::Respond& respond) {
        shielded(respond, [&] { handler(Call{request, Params::of(request), respond}); });
    };
}

http::Handler Guard::authenticated(auth::Authenticator& auth, AuthedHandler handler) {
    return [&auth, handler = std::move(handler)](const http::Request& request, const http::Respond& respond) {
        shielded(respond, [&] {
            auto call = std::make_shared<Call>(Call{request, Params::of(request), respond});
            std::string token = call->params.text("token").value_or("");
            if (token.empty()) token = bearerToken(request);
            std::optional<std::int64_t> claimed;
            try {
                claimed = call->params.id("id");
            } catch (const ApiError&) {
                throw ApiError(401, kBadCredentials);
            }
            if (token.empty()) throw ApiError(401, kBadCredentials);
            auth.check(token, claimed, [call, handler](auth::AuthStatus status, auth::Identity id) {
                if (status == auth::AuthStatus::Unavailable)
                    return call->respond(Reply::fail(503, "busy, try again later"));
                if (status == auth::AuthStatus::Invalid) return call->respond(Reply::fail(401, kBadCredentials));
                shielded(call->respond, [&] { handler(*call, id); });
            });
        });
    };
}

}  // namespace chat::api
