#include <gtest/gtest.h>

#include <set>
#include <string>

#include "auth/Tokens.hpp"

using chat::auth::Tokens;

TEST(Tokens, GeneratesThirtyTwoLowercaseHexChars) {
    std::string token = Tokens::generate();
    EXPECT_EQ(token.size(), 32u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(Tokens::wellFormed(token));
}

TEST(Tokens, GeneratesUniqueTokens) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(Tokens::generate());
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(Tokens, DigestIsSha256InLowercaseHex) {
    EXPECT_EQ(Tokens::digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Tokens::digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Tokens, DigestDiffersFromTheTokenAndBetweenTokens) {
    std::string a = Tokens::generate();
    std::string b = Tokens::generate();
    EXPECT_EQ(Tokens::digest(a).size(), 64u);
    EXPECT_NE(Tokens::digest(a), a);
    EXPECT_NE(Tokens::digest(a), Tokens::digest(b));
    EXPECT_EQ(Tokens::digest(a), Tokens::digest(a));
}

TEST(Tokens, WellFormedAcceptsHexOfEitherCase) {
    EXPECT_TRUE(Tokens::wellFormed("0123456789abcdef0123456789abcdef"));
    EXPECT_TRUE(Tokens::wellFormed("0123456789ABCDEF0123456789ABCDEF"));
}

TEST(Tokens, WellFormedRejectsOtherShapes) {
    EXPECT_FALSE(Tokens::wellFormed(""));
    EXPECT_FALSE(Tokens::wellFormed("0123456789abcdef0123456789abcde"));    // 31
    EXPECT_FALSE(Tokens::wellFormed("0123456789abcdef0123456789abcdef0"));  // 33
    EXPECT_FALSE(Tokens::wellFormed("0123456789abcdef0123456789abcdeg"));
    EXPECT_FALSE(Tokens::wellFormed("0123456789abcdef0123456789abcde "));
    EXPECT_FALSE(Tokens::wellFormed(std::string("0123456789abcdef0123456789abcde\0", 32)));
    EXPECT_FALSE(Tokens::wellFormed(Tokens::digest("abc")));
}
