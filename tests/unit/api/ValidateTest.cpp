#include <gtest/gtest.h>

#include <string>

#include "api/Reply.hpp"
#include "api/Validate.hpp"

using chat::api::ApiError;
using chat::api::Validate;

namespace {

const std::string kNi = "\xe4\xbd\xa0";         // 你: 3 bytes, one character
const std::string kSmile = "\xf0\x9f\x98\x80";  // 😀: 4 bytes, one character

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// The message of the ApiError(400) a check throws, or "" when it accepts.
template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        EXPECT_EQ(e.status, 400);
        return e.what();
    }
    return {};
}

}  // namespace

TEST(Validate, CountsUtf8Characters) {
    EXPECT_EQ(Validate::utf8Chars(""), 0u);
    EXPECT_EQ(Validate::utf8Chars("abc"), 3u);
    EXPECT_EQ(Validate::utf8Chars(kNi + kNi), 2u);
    EXPECT_EQ(Validate::utf8Chars("a\xc3\xa9" + kSmile), 3u);
}

TEST(Validate, AcceptsMobilesOf5To20DigitsWithAnOptionalPlus) {
    for (const std::string& m : {std::string("12345"), std::string("13800000000"), std::string("+8613800000000"),
                                 std::string(20, '9'), "+" + std::string(20, '1')}) {
        EXPECT_EQ(refusal([&] { Validate::mobile(m); }), "") << m;
    }
}

TEST(Validate, RefusesOtherMobiles) {
    for (const std::string& m :
         {std::string(""), std::string("+"), std::string("1234"), std::string("+1234"), std::string(21, '9'),
          std::string("138-0000-0000"), std::string("138 00000000"), std::string("++12345"), std::string("12345+"),
          std::string("1234a"), std::string("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95")}) {
        EXPECT_EQ(refusal([&] { Validate::mobile(m); }), "mobile must be 5 to 20 digits, optionally starting with +")
            << m;
    }
}

TEST(Validate, AcceptsPasswordsOf6To128Characters) {
    for (const std::string& p : {std::string("secret"), std::string(128, 'p'), repeat(kNi, 6), repeat(kSmile, 128),
                                 std::string("pass word \"quoted\"")}) {
        EXPECT_EQ(refusal([&] { Validate::password(p); }), "") << p;
    }
}

TEST(Validate, RefusesPasswordsShorterThan6OrLongerThan128Characters) {
    // Five Chinese characters are 15 bytes but still too short; 129 characters too long.
    for (const std::string& p :
         {std::string(""), std::string("12345"), repeat(kNi, 5), std::string(129, 'p'), repeat(kNi, 129)}) {
        EXPECT_EQ(refusal([&] { Validate::password(p); }), "passwd must be 6 to 128 characters");
    }
}

TEST(Validate, AcceptsANicknameOfUpTo32Characters) {
    EXPECT_EQ(refusal([] { Validate::name("nickname", repeat(kNi, 32), 0, 32); }), "");  // 96 bytes
    EXPECT_EQ(refusal([] { Validate::name("nickname", std::string(32, 'n'), 0, 32); }), "");
    EXPECT_EQ(refusal([] { Validate::name("nickname", "", 0, 32); }), "");
}

TEST(Validate, RefusesANameOutsideItsLengthNamingTheField) {
    EXPECT_EQ(refusal([] { Validate::name("nickname", repeat(kNi, 33), 0, 32); }),
              "nickname must be 0 to 32 characters");
    EXPECT_EQ(refusal([] { Validate::name("name", "", 1, 64); }), "name must be 1 to 64 characters");
    EXPECT_EQ(refusal([] { Validate::name("name", std::string(65, 'g'), 1, 64); }), "name must be 1 to 64 characters");
}

TEST(Validate, RefusesControlCharactersInANameNamingTheField) {
    for (const std::string& n :
         {std::string("a\nb"), std::string("tab\there"), std::string("nul\0x", 5), std::string("\x1b[31mred")}) {
        EXPECT_EQ(refusal([&] { Validate::name("nickname", n, 0, 32); }),
                  "nickname must not contain control characters");
    }
}

TEST(Validate, AcceptsAnEmptyOrSafeLink) {
    for (const char* link : {"", "/asset/avatar.png", "/mnt/abc.jpg", "https://example.com/a.png"}) {
        EXPECT_EQ(refusal([&] { Validate::link("avatar", link); }), "") << link;
    }
}

TEST(Validate, RefusesAnUnsafeLinkNamingTheField) {
    for (const char* link :
         {"javascript:alert(1)", "data:image/png;base64,AA", "//evil.example/a.png", "/mnt/../secret", "avatar.png"}) {
        EXPECT_EQ(refusal([&] { Validate::link("avatar", link); }),
                  "avatar must be an http(s) URL or a path on this server")
            << link;
    }
}

TEST(Validate, AcceptsALinkOf512Characters) {
    const std::string link = "https://example.com/" + std::string(512 - 20, 'a');
    ASSERT_EQ(link.size(), 512u);
    EXPECT_EQ(refusal([&] { Validate::link("avatar", link); }), "");
}

TEST(Validate, RefusesALinkLongerThanItsColumnNamingTheField) {
    // avatar and icon are VARCHAR(512); a longer link would fail in MariaDB instead of here.
    const std::string link = "https://example.com/" + std::string(513 - 20, 'a');
    EXPECT_EQ(refusal([&] { Validate::link("avatar", link); }), "avatar must be at most 512 characters");
    EXPECT_EQ(refusal([&] { Validate::link("icon", "/asset/" + std::string(2000, 'i')); }),
              "icon must be at most 512 characters");
}
