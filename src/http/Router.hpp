// Maps a path and a method to a handler: exact paths first, then the longest matching
// prefix (static folders). A known path with another method is 405, anything else 404.
#pragma once
#include <map>
#include <string>

#include "http/Request.hpp"

namespace chat::http {

class Router {
public:
    void add(const std::string& method, const std::string& path, Handler handler);
    void addPrefix(const std::string& method, const std::string& prefix, Handler handler);
    // Also answers HEAD for GET routes (the session drops the body).
    void route(const Request& request, const Respond& respond) const;
    // The body limit for a path: uploads may be larger than API calls.
    void setBodyLimit(const std::string& path, std::size_t limit) { bodyLimits_[path] = limit; }
    std::size_t bodyLimit(const std::string& path, std::size_t fallback) const;

private:
    using Methods = std::map<std::string, Handler>;
    const Methods* find(const std::string& path) const;

    std::map<std::string, Methods> exact_;
    std::map<std::string, Methods> prefixes_;
    std::map<std::string, std::size_t> bodyLimits_;
};

}  // namespace chat::http
