#include <gtest/gtest.h>

#include <string>

#include "http/UrlCodec.hpp"

using chat::http::UrlCodec;

TEST(UrlCodec, DecodesPercentEscapesOfEitherCase) {
    EXPECT_EQ(UrlCodec::decode("a%20b%2fc%2Fd", false), "a b/c/d");
    EXPECT_EQ(UrlCodec::decode("%E4%BD%A0%e5%a5%bd", false), "\xE4\xBD\xA0\xE5\xA5\xBD");
    EXPECT_EQ(UrlCodec::decode("", false), "");
}

TEST(UrlCodec, DecodesNulAndHighBytesVerbatim) {
    EXPECT_EQ(UrlCodec::decode("a%00b%FF", false), std::string("a\0b\xFF", 4));
}

TEST(UrlCodec, TurnsPlusIntoSpaceOnlyWhenAsked) {
    EXPECT_EQ(UrlCodec::decode("a+b", true), "a b");
    EXPECT_EQ(UrlCodec::decode("a+b", false), "a+b");
    EXPECT_EQ(UrlCodec::decode("a%2Bb", true), "a+b");
}

TEST(UrlCodec, RejectsBadEscapes) {
    EXPECT_EQ(UrlCodec::decode("%zz", false), std::nullopt);
    EXPECT_EQ(UrlCodec::decode("%4", false), std::nullopt);
    EXPECT_EQ(UrlCodec::decode("abc%", false), std::nullopt);
    EXPECT_EQ(UrlCodec::decode("%4g", false), std::nullopt);
    EXPECT_EQ(UrlCodec::decode("%g4", false), std::nullopt);
    EXPECT_EQ(UrlCodec::decode("% 41", false), std::nullopt);
}

TEST(UrlCodec, DoesNotDecodeTwice) {
    EXPECT_EQ(UrlCodec::decode("%2541", false), "%41");
}

TEST(UrlCodec, ParsesAForm) {
    auto form = UrlCodec::parseForm("a=1&b=x%20y&c=p+q&empty=&bare");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->size(), 5u);
    EXPECT_EQ(form->at("a"), "1");
    EXPECT_EQ(form->at("b"), "x y");
    EXPECT_EQ(form->at("c"), "p q");
    EXPECT_EQ(form->at("empty"), "");
    EXPECT_EQ(form->at("bare"), "");
}

TEST(UrlCodec, DecodesKeysAndKeepsEqualsInValues) {
    auto form = UrlCodec::parseForm("my+key=a%3Db&k%26=v=w");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->at("my key"), "a=b");
    EXPECT_EQ(form->at("k&"), "v=w");
}

TEST(UrlCodec, KeepsTheFirstValueOfARepeatedKey) {
    auto form = UrlCodec::parseForm("a=1&a=2");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->at("a"), "1");
}

TEST(UrlCodec, SkipsEmptySegments) {
    auto form = UrlCodec::parseForm("&a=1&&b=2&");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->size(), 2u);
    EXPECT_TRUE(UrlCodec::parseForm("")->empty());
}

TEST(UrlCodec, RejectsAFormWithABadEscape) {
    EXPECT_EQ(UrlCodec::parseForm("a=1&b=%zz"), std::nullopt);
    EXPECT_EQ(UrlCodec::parseForm("a%=1"), std::nullopt);
}

TEST(UrlCodec, AcceptsAtMost256Pairs) {
    std::string s;
    for (int i = 0; i < 256; ++i) s += "k" + std::to_string(i) + "=v&";
    auto form = UrlCodec::parseForm(s);
    ASSERT_TRUE(form);
    EXPECT_EQ(form->size(), 256u);
    EXPECT_EQ(UrlCodec::parseForm(s + "one=more"), std::nullopt);
    // Repeats count too: the bound is on work, not on distinct keys.
    std::string repeats;
    for (int i = 0; i < 257; ++i) repeats += "k=v&";
    EXPECT_EQ(UrlCodec::parseForm(repeats), std::nullopt);
}

TEST(UrlCodec, SplitsATargetIntoPathAndQuery) {
    auto [path, query] = UrlCodec::splitTarget("/api/login?a=1&b=2");
    EXPECT_EQ(path, "/api/login");
    EXPECT_EQ(query, "a=1&b=2");
}

TEST(UrlCodec, SplitsATargetWithoutQuery) {
    auto [path, query] = UrlCodec::splitTarget("/a%20b");
    EXPECT_EQ(path, "/a%20b");  // not decoded
    EXPECT_EQ(query, "");
}

TEST(UrlCodec, SplitsAtTheFirstQuestionMark) {
    auto [path, query] = UrlCodec::splitTarget("/p??x=?");
    EXPECT_EQ(path, "/p");
    EXPECT_EQ(query, "?x=?");
    auto [emptyPath, emptyQuery] = UrlCodec::splitTarget("/p?");
    EXPECT_EQ(emptyPath, "/p");
    EXPECT_EQ(emptyQuery, "");
}
