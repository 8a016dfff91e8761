#include "api/Params.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "api/Reply.hpp"
#include "api/Validate.hpp"
#include "http/UrlCodec.hpp"
#include "proto/FrameParser.hpp"
#include "proto/Utf8.hpp"

namespace chat::api {

namespace {

bool isJson(const http::Request& r) {
    auto* type = r.header("content-type");
    return type && type->find("application/json") != std::string::npos;
}

bool isMultipart(const http::Request& r) {
    auto* type = r.header("content-type");
    return type && type->find("multipart/") != std::string::npos;
}

}  // namespace

Params Params::of(const http::Request& request) {
    Params p;
    auto query = http::UrlCodec::parseForm(request.query);
    if (!query) throw ApiError(400, "malformed query string");
    p.values_ = std::move(*query);
    if (request.body.empty() || isMultipart(request)) return p;
    if (isJson(request)) {
        auto j = nlohmann::json::parse(request.body, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw ApiError(400, "malformed JSON body");
        for (const auto& [key, value] : j.items()) {
            if (value.is_string())
                p.values_[key] = value.get<std::string>();
            else if (value.is_number_integer() || value.is_number_float())
                p.values_[key] = value.dump();
            else if (!value.is_null())
                p.wrongType_.insert(key);
        }
        return p;
    }
    auto form = http::UrlCodec::parseForm(request.body);
    if (!form) throw ApiError(400, "malformed form body");
    for (auto& [k, v] : *form) p.values_[k] = std::move(v);
    return p;
}

std::optional<std::string> Params::raw(const std::string& name) const {
    if (wrongType_.contains(name)) throw ApiError(400, name + " must be a string");
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> Params::text(const std::string& name) const {
    auto v = raw(name);
    // A JSON body is checked by its parser; a form or query can carry any byte, e.g. %FF.
    if (v && !proto::validUtf8(*v)) throw ApiError(400, name + " must be valid UTF-8");
    return v;
}

std::string Params::required(const std::string& name) const {
    auto v = text(name);
    if (!v || v->empty()) throw ApiError(400, name + " is required");
    return *v;
}

std::string Params::secret(const std::string& name) const {
    auto v = raw(name);
    if (!v || v->empty()) throw ApiError(400, name + " is required");
    return *v;
}

std::optional<std::int64_t> Params::id(const std::string& name) const {
    auto v = raw(name);
    if (!v || v->empty()) return std::nullopt;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size() || n <= 0)
        throw ApiError(400, name + " must be a positive integer");
    return n;
}

std::int64_t Params::requiredId(const std::string& name) const {
    auto v = id(name);
    if (!v) throw ApiError(400, name + " is required");
    return *v;
}

std::optional<std::uint64_t> Params::position(const std::string& name) const {
    auto v = raw(name);
    if (!v || v->empty()) return std::nullopt;
    auto pos = proto::FrameParser::position(*v);
    if (!pos) throw ApiError(400, name + " must be a stream position (a whole number)");
    return pos;
}

std::size_t Params::count(const std::string& name, std::size_t min, std::size_t max, std::size_t fallback) const {
    auto v = raw(name);
    if (!v || v->empty()) return fallback;
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size() || n < min || n > max)
        throw ApiError(400,
                       name + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return n;
}

}  // namespace chat::api
