// A request and a response as handlers see them: plain data, no Beast types, so API
// handlers and their tests stay free of the HTTP library. HttpSession converts both ways.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chat::http {

struct Request {
    std::string method;                          // "GET", "POST", ...
    std::string target;                          // as received: path and query, still encoded
    std::string path;                            // percent-decoded path
    std::string query;                           // raw query string, without '?'
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string clientAddress;  // the real client, after trusted-proxy headers

    const std::string* header(const std::string& lowerName) const;
};

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::filesystem::path> file;  // served from disk instead of body

    static Response json(int status, std::string body);
    static Response text(int status, std::string body);
};

// Handlers answer through Respond, from any thread, exactly once.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;

}  // namespace chat::http
