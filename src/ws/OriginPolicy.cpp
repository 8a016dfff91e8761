#include "ws/OriginPolicy.hpp"

#include <algorithm>
#include <cctype>

namespace chat::ws {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// "https://Example.com:8000/" -> "example.com:8000"
std::string authorityOf(const std::string& origin) {
    auto scheme = origin.find("://");
    if (scheme == std::string::npos) return {};
    auto rest = origin.substr(scheme + 3);
    auto slash = rest.find('/');
    if (slash != std::string::npos) rest.resize(slash);
    return lower(rest);
}

}  // namespace

bool OriginPolicy::allows(const std::string* origin, const std::string* host) const {
    if (!origin) return true;
    if (!allowed_.empty()) {
        auto o = lower(*origin);
        return std::any_of(allowed_.begin(), allowed_.end(), [&](const std::string& a) { return lower(a) == o; });
    }
    if (!host) return false;
    auto authority = authorityOf(*origin);
    return !authority.empty() && authority == lower(*host);
}

}  // namespace chat::ws
