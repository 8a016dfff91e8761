#include "config/Endpoint.hpp"

#include <charconv>

namespace chat::config {

namespace {

std::optional<std::uint16_t> parsePort(std::string_view s) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<Endpoint> Endpoint::parse(const std::string& text) {
    std::string host;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        host = text.substr(1, close - 1);
        rest = std::string_view(text).substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return std::nullopt;
        host = text.substr(0, colon);
        rest = std::string_view(text).substr(colon + 1);
    }
    auto port = parsePort(rest);
    if (host.empty() || !port) return std::nullopt;
    return Endpoint{host, *port};
}

std::optional<MysqlUrl> MysqlUrl::parse(const std::string& text) {
    const std::string scheme = "mysql://";
    if (text.rfind(scheme, 0) != 0) return std::nullopt;
    std::string rest = text.substr(scheme.size());
    MysqlUrl url;
    auto at = rest.rfind('@');
    if (at != std::string::npos) {
        std::string cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        url.user = cred.substr(0, colon);
        if (colon != std::string::npos) url.password = cred.substr(colon + 1);
    }
    auto slash = rest.find('/');
    if (slash == std::string::npos) return std::nullopt;
    url.database = rest.substr(slash + 1);
    std::string hostPort = rest.substr(0, slash);
    auto colon = hostPort.rfind(':');
    if (colon != std::string::npos) {
        auto port = parsePort(std::string_view(hostPort).substr(colon + 1));
        if (!port) return std::nullopt;
        url.port = *port;
        hostPort.resize(colon);
    }
    url.host = hostPort;
    if (url.host.empty() || url.user.empty() || url.database.empty()) return std::nullopt;
    return url;
}

}  // namespace chat::config
