// Well-formed UTF-8, as RFC 6455 requires of text frames and MariaDB's utf8mb4 of stored text.
#include <gtest/gtest.h>

#include <string>

#include "proto/Utf8.hpp"

using chat::proto::validUtf8;

TEST(Utf8, AcceptsWellFormedText) {
    for (const std::string& s : {std::string(""), std::string("plain ascii"), std::string("caf\xc3\xa9"),
                                 std::string("\xe4\xbd\xa0\xf0\x9f\x98\x80"),  // 你 😀
                                 std::string("\xef\xbf\xbf"),                  // U+FFFF
                                 std::string("\xf4\x8f\xbf\xbf")}) {           // U+10FFFF
        EXPECT_TRUE(validUtf8(s)) << testing::PrintToString(s);
    }
}

TEST(Utf8, RefusesMalformedText) {
    for (const std::string& s : {
             std::string("\xff"),                  // never valid
             std::string("\x80"),                  // a lone continuation byte
             std::string("a\x80"),                 // a continuation byte after ASCII
             std::string("\xe2\x82"),              // a sequence cut short
             std::string("\xc0\xaf"),              // an overlong '/'
             std::string("\xe0\x80\xaf"),          // an overlong '/' in three bytes
             std::string("\xed\xa0\x80"),          // a UTF-16 surrogate
             std::string("\xf4\x90\x80\x80"),      // above U+10FFFF
             std::string("\xf8\x88\x80\x80\x80"),  // five bytes
         }) {
        EXPECT_FALSE(validUtf8(s)) << testing::PrintToString(s);
    }
}
