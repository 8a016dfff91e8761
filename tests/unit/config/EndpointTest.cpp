#include <gtest/gtest.h>

#include "config/Endpoint.hpp"

using chat::config::Endpoint;
using chat::config::MysqlUrl;

TEST(Endpoint, ParsesHostAndPort) {
    auto e = Endpoint::parse("127.0.0.1:8080");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, 8080);
    EXPECT_EQ(e->str(), "127.0.0.1:8080");
}

TEST(Endpoint, ParsesAHostName) {
    auto e = Endpoint::parse("localhost:65535");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "localhost");
    EXPECT_EQ(e->port, 65535);
}

TEST(Endpoint, ParsesABracketedIpv6Address) {
    auto e = Endpoint::parse("[::1]:80");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, 80);
}

TEST(Endpoint, AcceptsPortZeroMeaningAnyFreePort) {
    auto e = Endpoint::parse("0.0.0.0:0");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port, 0);
}

TEST(Endpoint, RefusesMalformedText) {
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:70000", "127.0.0.1:65536",
                            "127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1: 80", "[::1]80", "[::1]:", "[::1", "[]:80"}) {
        EXPECT_FALSE(Endpoint::parse(bad)) << bad;
    }
}

TEST(MysqlUrl, ParsesEveryPart) {
    auto url = MysqlUrl::parse("mysql://chat:s3cret@db.lan:3307/chatdb");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->user, "chat");
    EXPECT_EQ(url->password, "s3cret");
    EXPECT_EQ(url->host, "db.lan");
    EXPECT_EQ(url->port, 3307);
    EXPECT_EQ(url->database, "chatdb");
}

TEST(MysqlUrl, DefaultsThePortTo3306AndAllowsNoPassword) {
    auto url = MysqlUrl::parse("mysql://root@localhost/chat");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->user, "root");
    EXPECT_EQ(url->password, "");
    EXPECT_EQ(url->host, "localhost");
    EXPECT_EQ(url->port, 3306);
    EXPECT_EQ(url->database, "chat");
}

TEST(MysqlUrl, KeepsAnAtSignInThePassword) {
    auto url = MysqlUrl::parse("mysql://chat:p@ss@127.0.0.1:3307/chat");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->user, "chat");
    EXPECT_EQ(url->password, "p@ss");
    EXPECT_EQ(url->host, "127.0.0.1");
}

TEST(MysqlUrl, RefusesMalformedUrls) {
    for (const char* bad : {"", "chat:chat@127.0.0.1:3307/chat", "http://chat:chat@127.0.0.1:3307/chat",
                            "mysql://chat:chat@127.0.0.1:3307", "mysql://chat:chat@127.0.0.1:3307/",
                            "mysql://chat:chat@:3307/chat", "mysql://127.0.0.1:3307/chat",
                            "mysql://chat:chat@127.0.0.1:99999/chat", "mysql://chat:chat@127.0.0.1:x/chat"}) {
        EXPECT_FALSE(MysqlUrl::parse(bad)) << bad;
    }
}
