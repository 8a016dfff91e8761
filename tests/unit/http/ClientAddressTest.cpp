#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "http/ClientAddress.hpp"

using chat::http::ClientAddress;
using Headers = std::map<std::string, std::string>;

namespace {

const std::vector<std::string> kTrusted{"127.0.0.1", "::1"};

}  // namespace

TEST(ClientAddress, IsThePeerWithoutProxyHeaders) {
    EXPECT_EQ(ClientAddress::resolve("10.0.0.5", {}, kTrusted), "10.0.0.5");
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {}, kTrusted), "127.0.0.1");
}

TEST(ClientAddress, BelievesXRealIpFromATrustedProxy) {
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {{"x-real-ip", "203.0.113.7"}}, kTrusted), "203.0.113.7");
    EXPECT_EQ(ClientAddress::resolve("::1", {{"x-real-ip", " 2001:db8::1 "}}, kTrusted), "2001:db8::1");
}

TEST(ClientAddress, TakesTheLastXForwardedForEntryFromATrustedProxy) {
    // Earlier entries are whatever the client claimed; the proxy appended the last one.
    Headers h{{"x-forwarded-for", "1.1.1.1, 198.51.100.2,203.0.113.9"}};
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", h, kTrusted), "203.0.113.9");
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {{"x-forwarded-for", " 198.51.100.2 "}}, kTrusted), "198.51.100.2");
}

TEST(ClientAddress, PrefersXRealIpOverXForwardedFor) {
    Headers h{{"x-real-ip", "203.0.113.7"}, {"x-forwarded-for", "198.51.100.2"}};
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", h, kTrusted), "203.0.113.7");
}

TEST(ClientAddress, IgnoresProxyHeadersFromAnUntrustedPeer) {
    Headers h{{"x-real-ip", "203.0.113.7"}, {"x-forwarded-for", "198.51.100.2"}};
    EXPECT_EQ(ClientAddress::resolve("10.0.0.5", h, kTrusted), "10.0.0.5");
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", h, {}), "127.0.0.1");
}

TEST(ClientAddress, IgnoresAGarbageHeader) {
    for (const char* garbage : {"", "   ", "<script>", "1.2.3.4; DROP TABLE", "evil.example", "1.2.3.4\n5.6.7.8",
                                "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000"}) {
        EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {{"x-real-ip", garbage}}, kTrusted), "127.0.0.1") << garbage;
        EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {{"x-forwarded-for", garbage}}, kTrusted), "127.0.0.1")
            << garbage;
    }
}

TEST(ClientAddress, FallsBackToXForwardedForWhenXRealIpIsGarbage) {
    Headers h{{"x-real-ip", "not an address"}, {"x-forwarded-for", "203.0.113.9"}};
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", h, kTrusted), "203.0.113.9");
}

TEST(ClientAddress, IgnoresAnEmptyLastForwardedEntry) {
    EXPECT_EQ(ClientAddress::resolve("127.0.0.1", {{"x-forwarded-for", "203.0.113.9,"}}, kTrusted), "127.0.0.1");
}
