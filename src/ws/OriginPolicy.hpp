// Decides whether a browser page from `Origin` may open a WebSocket here, to stop
// cross-site WebSocket hijacking. Non-browser clients send no Origin and are allowed.
#pragma once
#include <string>
#include <vector>

namespace chat::ws {

class OriginPolicy {
public:
    explicit OriginPolicy(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {}
    // With no configured list, only the origin whose host:port equals the Host header,
    // which holds both for direct access and behind a proxy that passes Host on.
    bool allows(const std::string* origin, const std::string* host) const;

private:
    std::vector<std::string> allowed_;
};

}  // namespace chat::ws
