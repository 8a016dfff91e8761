// /user/register, /user/login, /user/logout, /user/find.
#pragma once
#include "api/ApiContext.hpp"
#include "api/Guard.hpp"
#include "http/Router.hpp"

namespace chat::api {

class UserApi {
public:
    explicit UserApi(ApiContext& ctx) : ctx_(ctx) {}
    void install(http::Router& router);

private:
    void registerUser(const Call& call);
    void login(const Call& call);
    void logout(const Call& call, const auth::Identity& id);
    void find(const Call& call, const auth::Identity& id);

    ApiContext& ctx_;
};

}  // namespace chat::api
