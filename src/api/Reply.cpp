#include "api/Reply.hpp"

#include <spdlog/spdlog.h>

namespace chat::api {

http::Response Reply::ok(Json data) {
    Json j{{"code", 0}, {"msg", "ok"}, {"data", std::move(data)}};
    return http::Response::json(200, j.dump());
}

http::Response Reply::fail(int status, const std::string& msg) {
    Json j{{"code", -1}, {"msg", msg}};
    return http::Response::json(status, j.dump());
}

http::Response Reply::failure(const store::DbFailure& f) {
    if (f.what == "busy") return fail(503, "busy, try again later");
    spdlog::warn("api: database failure: {}", f.what);
    return fail(500, "internal error");
}

Json Reply::publicProfile(const store::UserRecord& u) {
    return Json{{"id", u.id},   {"nickname", u.nickname}, {"avatar", u.avatar},
                {"sex", u.sex}, {"memo", u.memo},         {"createat", u.createdMs}};
}

Json Reply::ownProfile(const store::UserRecord& u) {
    auto j = publicProfile(u);
    j["mobile"] = u.mobile;
    return j;
}

Json Reply::community(const store::CommunityRecord& c) {
    return Json{{"id", c.id},     {"name", c.name},         {"owner", c.owner},       {"icon", c.icon},
                {"memo", c.memo}, {"category", c.category}, {"createat", c.createdMs}};
}

}  // namespace chat::api
