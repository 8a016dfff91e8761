// Input rules shared by the account and contact endpoints; each throws ApiError(400).
#pragma once
#include <string>

namespace chat::api {

class Validate {
public:
    static void mobile(const std::string& v);
    static void password(const std::string& v);
    static void name(const std::string& field, const std::string& v, std::size_t minChars, std::size_t maxChars);
    static void link(const std::string& field, const std::string& v);  // "" or a safe URL
    static std::size_t utf8Chars(const std::string& v);
};

}  // namespace chat::api
