// Input rules shared by the account and contact endpoints; each throws ApiError(400).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace chat::api {

class Validate {
public:
    static void mobile(const std::string& v);
    static void password(const std::string& v);
    static void name(const std::string& field, const std::string& v, std::size_t minChars, std::size_t maxChars);
    // "" or a safe URL that fits the avatar and icon columns.
    static void link(const std::string& field, const std::string& v);
    static std::size_t utf8Chars(const std::string& v);

    static constexpr std::size_t kMaxLinkChars = 512;  // users.avatar and communities.icon: VARCHAR(512)
};

}  // namespace chat::api
