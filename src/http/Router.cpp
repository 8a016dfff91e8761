#include "http/Router.hpp"

namespace chat::http {

namespace {

Response errorJson(int status, const char* msg) {
    return Response::json(status, std::string(R"({"code":-1,"msg":")") + msg + "\"}");
}

}  // namespace

void Router::add(const std::string& method, const std::string& path, Handler handler) {
    exact_[path][method] = std::move(handler);
}

void Router::addPrefix(const std::string& method, const std::string& prefix, Handler handler) {
    prefixes_[prefix][method] = std::move(handler);
}

const Router::Methods* Router::find(const std::string& path) const {
    if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
    const Methods* best = nullptr;
    std::size_t bestLen = 0;
    for (const auto& [prefix, methods] : prefixes_) {
        if (path.starts_with(prefix) && prefix.size() > bestLen) {
            best = &methods;
            bestLen = prefix.size();
        }
    }
    return best;
}

void Router::route(const Request& request, const Respond& respond) const {
    const Methods* methods = find(request.path);
    if (!methods) return respond(errorJson(404, "not found"));
    auto it = methods->find(request.method == "HEAD" ? "GET" : request.method);
    if (it == methods->end()) {
        auto r = errorJson(405, "method not allowed");
        std::string allow;
        for (const auto& [m, h] : *methods) allow += (allow.empty() ? "" : ", ") + m;
        r.headers.emplace_back("Allow", allow);
        return respond(std::move(r));
    }
    it->second(request, respond);
}

std::size_t Router::bodyLimit(const std::string& path, std::size_t fallback) const {
    auto it = bodyLimits_.find(path);
    return it == bodyLimits_.end() ? fallback : it->second;
}

}  // namespace chat::http
