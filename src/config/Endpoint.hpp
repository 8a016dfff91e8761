// A host:port pair as written in the config, parsed without touching the network.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace chat::config {

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;

    std::string str() const { return host + ":" + std::to_string(port); }
    // Accepts "host:port" and "[v6]:port"; port 0 means "any free port".
    static std::optional<Endpoint> parse(const std::string& text);
};

// mysql://user:password@host:port/database
struct MysqlUrl {
    std::string user;
    std::string password;
    std::string host;
    std::uint16_t port = 3306;
    std::string database;

    static std::optional<MysqlUrl> parse(const std::string& text);
};

}  // namespace chat::config
