// Percent-decoding of URL paths, query strings and application/x-www-form-urlencoded bodies.
// Pure functions; used by the router and the API handlers.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace chat::http {

class UrlCodec {
public:
    // A query or form body with more pairs than this is refused rather than parsed.
    static constexpr std::size_t kMaxFormPairs = 256;

    // Percent-decoding; '+' becomes ' ' when plusAsSpace. nullopt on a bad escape (%zz, truncated %4).
    // The result may hold any byte, NUL included: callers validate what they accept.
    static std::optional<std::string> decode(std::string_view s, bool plusAsSpace);

    // "a=1&b=x%20y" -> map; a key seen twice keeps the first value; a key without '=' maps to "".
    // nullopt on bad escapes or more than kMaxFormPairs pairs.
    static std::optional<std::map<std::string, std::string>> parseForm(std::string_view s);

    // "/path?query" -> {path, query}; the query excludes the '?'. The path is NOT decoded here.
    static std::pair<std::string_view, std::string_view> splitTarget(std::string_view target);
};

}  // namespace chat::http
