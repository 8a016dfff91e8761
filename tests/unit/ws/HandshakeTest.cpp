// The opening handshake's answer: the RFC's own example key, and refusals that say why.
#include <gtest/gtest.h>

#include "ws/Handshake.hpp"

using chat::ws::Handshake;
namespace bhttp = boost::beast::http;

namespace {

chat::http::BeastRequest upgrade(const char* key, const char* version) {
    chat::http::BeastRequest req(bhttp::verb::get, "/chat?id=1&token=t", 11);
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::upgrade, "websocket");
    if (key) req.set(bhttp::field::sec_websocket_key, key);
    if (version) req.set(bhttp::field::sec_websocket_version, version);
    return req;
}

}  // namespace

TEST(Handshake, AnswersTheRfcExampleKey) {
    EXPECT_EQ(Handshake::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // section 1.3
    Handshake h(upgrade("dGhlIHNhbXBsZSBub25jZQ==", "13"));
    ASSERT_TRUE(h.accepted());
    EXPECT_EQ(h.response(),
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(Handshake, RefusesAnotherVersionWith426NamingVersion13) {
    for (const char* version : {"8", "", static_cast<const char*>(nullptr)}) {
        Handshake h(upgrade("dGhlIHNhbXBsZSBub25jZQ==", version));
        EXPECT_FALSE(h.accepted());
        EXPECT_EQ(h.response().rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
        EXPECT_NE(h.response().find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
    }
}

TEST(Handshake, RefusesAMissingOrMalformedKeyWith400) {
    for (const char* key :
         {static_cast<const char*>(nullptr), "", "short==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25j*Q=="}) {
        Handshake h(upgrade(key, "13"));
        EXPECT_FALSE(h.accepted()) << (key ? key : "(none)");
        EXPECT_EQ(h.response().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
        EXPECT_NE(h.response().find("Content-Length: "), std::string::npos);
    }
}
