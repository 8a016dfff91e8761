// A request's parameters, from the query string and a form-encoded or JSON body, read
// through typed getters that throw ApiError(400) naming the field that is wrong.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "http/Request.hpp"

namespace chat::api {

class Params {
public:
    // Throws ApiError(400) for a malformed body.
    static Params of(const http::Request& request);

    // Text is refused unless it is valid UTF-8: MariaDB's utf8mb4 columns would refuse it later,
    // with a 500 instead of an answer naming the field.
    std::optional<std::string> text(const std::string& name) const;
    std::string required(const std::string& name) const;
    // A required password, as raw bytes: it is hashed, never stored or shown, and accounts made
    // before text had to be UTF-8 must still be able to log in.
    std::string secret(const std::string& name) const;
    // A positive id (number or decimal string); nullopt when absent.
    std::optional<std::int64_t> id(const std::string& name) const;
    std::int64_t requiredId(const std::string& name) const;
    // A stream position (0 .. 2^53-1); nullopt when absent.
    std::optional<std::uint64_t> position(const std::string& name) const;
    // A count within [min, max], `fallback` when absent; outside the range is an error, not capped.
    std::size_t count(const std::string& name, std::size_t min, std::size_t max, std::size_t fallback) const;

private:
    std::optional<std::string> raw(const std::string& name) const;

    std::map<std::string, std::string> values_;
    std::set<std::string> wrongType_;  // present, but an object, array or boolean
};

}  // namespace chat::api
