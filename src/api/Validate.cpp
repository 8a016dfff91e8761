#include "api/Validate.hpp"

#include <algorithm>

#include "api/Reply.hpp"
#include "proto/FrameParser.hpp"

namespace chat::api {

std::size_t Validate::utf8Chars(const std::string& v) {
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

void Validate::mobile(const std::string& v) {
    std::size_t start = !v.empty() && v[0] == '+' ? 1 : 0;
    std::size_t digits = v.size() - start;
    bool ok = digits >= 5 && digits <= 20 &&
              std::all_of(v.begin() + static_cast<long>(start), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) throw ApiError(400, "mobile must be 5 to 20 digits, optionally starting with +");
}

void Validate::password(const std::string& v) {
    auto n = utf8Chars(v);
    if (n < 6 || n > 128) throw ApiError(400, "passwd must be 6 to 128 characters");
}

void Validate::name(const std::string& field, const std::string& v, std::size_t minChars, std::size_t maxChars) {
    auto n = utf8Chars(v);
    if (n < minChars || n > maxChars)
        throw ApiError(
            400, field + " must be " + std::to_string(minChars) + " to " + std::to_string(maxChars) + " characters");
    if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        throw ApiError(400, field + " must not contain control characters");
}

void Validate::link(const std::string& field, const std::string& v) {
    // Before the URL rules, which allow longer links (chat messages carry them too).
    if (utf8Chars(v) > kMaxLinkChars)
        throw ApiError(400, field + " must be at most " + std::to_string(kMaxLinkChars) + " characters");
    if (!v.empty() && !proto::FrameParser::isSafeUrl(v))
        throw ApiError(400, field + " must be an http(s) URL or a path on this server");
}

}  // namespace chat::api
