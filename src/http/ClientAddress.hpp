// Who the client really is: the socket's peer, or, when that peer is a trusted proxy
// (nginx), the address the proxy reports. Logs and the login limiter use the result.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace chat::http {

class ClientAddress {
public:
    static std::string resolve(const std::string& peer, const std::map<std::string, std::string>& lowerHeaders,
                               const std::vector<std::string>& trustedProxies);
};

}  // namespace chat::http
