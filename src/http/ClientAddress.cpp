#include "http/ClientAddress.hpp"

#include <algorithm>
#include <cctype>

namespace chat::http {

namespace {

std::string trim(std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
    return s;
}

bool plausibleAddress(const std::string& s) {
    return !s.empty() && s.size() <= 45 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':';
    });
}

}  // namespace

std::string ClientAddress::resolve(const std::string& peer, const std::map<std::string, std::string>& headers,
                                   const std::vector<std::string>& trustedProxies) {
    if (std::find(trustedProxies.begin(), trustedProxies.end(), peer) == trustedProxies.end()) return peer;
    if (auto it = headers.find("x-real-ip"); it != headers.end()) {
        auto value = trim(it->second);
        if (plausibleAddress(value)) return value;
    }
    // The proxy appends the address it saw last; earlier entries are the client's word.
    if (auto it = headers.find("x-forwarded-for"); it != headers.end()) {
        auto comma = it->second.rfind(',');
        auto value = trim(comma == std::string::npos ? it->second : it->second.substr(comma + 1));
        if (plausibleAddress(value)) return value;
    }
    return peer;
}

}  // namespace chat::http
