// Lowercase hex encoding shared by PasswordHasher and Tokens (private to chat_auth).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::auth::hex {

inline std::string encode(const unsigned char* data, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[data[i] >> 4];
        out[2 * i + 1] = kDigits[data[i] & 0x0f];
    }
    return out;
}

// -1 for anything that is not a hex digit (either case).
inline int digitValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

inline bool isHex(std::string_view s) {
    for (char c : s) {
        if (digitValue(c) < 0) return false;
    }
    return true;
}

// nullopt for odd length or a non-hex character.
inline std::optional<std::vector<unsigned char>> decode(std::string_view s) {
    if (s.size() % 2 != 0) return std::nullopt;
    std::vector<unsigned char> out(s.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = digitValue(s[2 * i]);
        int lo = digitValue(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>((hi << 4) | lo);
    }
    return out;
}

}  // namespace chat::auth::hex
