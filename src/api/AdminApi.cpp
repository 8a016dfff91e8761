#include "api/AdminApi.hpp"

namespace chat::api {

void AdminApi::install(http::Router& router) {
    router.add("GET", "/metrics", [this](const http::Request&, const http::Respond& respond) {
        auto r = http::Response::text(200, metrics_.render());
        r.contentType = "text/plain; version=0.0.4; charset=utf-8";
        respond(std::move(r));
    });
    router.add("GET", "/healthz", [this](const http::Request&, const http::Respond& respond) {
        if (!db_.healthy()) return respond(http::Response::text(503, "database unreachable\n"));
        if (!bus_.isOpen()) return respond(http::Response::text(503, "bus closed\n"));
        respond(http::Response::text(200, "ok\n"));
    });
    router.add("GET", "/bus", [this](const http::Request&, const http::Respond& respond) {
        auto answer = [respond](std::string json) { respond(http::Response::json(200, std::move(json))); };
        if (!bus_.view(answer)) respond(http::Response::text(503, "bus closed\n"));
    });
}

}  // namespace chat::api
