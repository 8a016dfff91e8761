#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "proto/ChatMessage.hpp"
#include "proto/FrameParser.hpp"

using chat::proto::ChatMessage;
using chat::proto::ClientFrame;
using chat::proto::Cmd;
using chat::proto::FrameParser;
using chat::proto::Media;
using chat::proto::MessageCodec;
using Json = nlohmann::json;

namespace {

ChatMessage textMessage() {
    ChatMessage m;
    m.id = 5;
    m.userid = 7;
    m.cmd = Cmd::Single;
    m.dstid = 9;
    m.media = Media::Text;
    m.content = "hi";
    m.createat = 1700000000123;
    return m;
}

}  // namespace

TEST(MessageCodec, EncodesOnlyThePresentOptionalFieldsInTheSeedsOrder) {
    EXPECT_EQ(MessageCodec::encode(textMessage()),
              R"({"id":5,"userid":7,"cmd":10,"dstid":9,"media":1,"content":"hi","createat":1700000000123})");
}

TEST(MessageCodec, EncodesEveryOptionalFieldUnderItsSeedName) {
    ChatMessage m = textMessage();
    m.cmd = Cmd::Group;
    m.media = Media::News;
    m.content = "Title";
    m.pic = "/mnt/p.png";
    m.url = "https://example.com/";
    m.memo = "note";
    m.amount = 3;
    EXPECT_EQ(MessageCodec::encode(m),
              R"({"id":5,"userid":7,"cmd":11,"dstid":9,"media":2,"content":"Title","pic":"/mnt/p.png",)"
              R"("url":"https://example.com/","memo":"note","amount":3,"createat":1700000000123})");
}

TEST(MessageCodec, LeavesOutContentWhenAbsentButKeepsItWhenEmpty) {
    ChatMessage m = textMessage();
    m.media = Media::RedPacket;
    m.content.reset();
    m.amount = 100;
    auto j = Json::parse(MessageCodec::encode(m));
    EXPECT_FALSE(j.contains("content"));
    EXPECT_FALSE(j.contains("url"));
    EXPECT_FALSE(j.contains("pic"));
    EXPECT_FALSE(j.contains("memo"));
    EXPECT_EQ(j["amount"], 100);
    m.content = "";
    EXPECT_EQ(Json::parse(MessageCodec::encode(m))["content"], "");
}

TEST(MessageCodec, EscapesTextSoTheFrameStaysValidJson) {
    ChatMessage m = textMessage();
    m.content = "say \"hi\" \\ </script>\n\xe4\xbd\xa0\xe5\xa5\xbd";
    auto j = Json::parse(MessageCodec::encode(m));
    EXPECT_EQ(j["content"], *m.content);
}

TEST(MessageCodec, RoundTripsThroughJson) {
    ChatMessage m = textMessage();
    m.id = (std::int64_t{1} << 53) - 1;  // the largest id a browser reads exactly
    m.media = Media::Card;
    m.content = "42";
    m.pic = "/asset/a.png";
    m.memo = "a friend";
    auto j = Json::parse(MessageCodec::encode(m));
    EXPECT_EQ(j["id"].get<std::int64_t>(), m.id);
    EXPECT_EQ(j["userid"].get<std::int64_t>(), m.userid);
    EXPECT_EQ(j["cmd"].get<int>(), 10);
    EXPECT_EQ(j["dstid"].get<std::int64_t>(), m.dstid);
    EXPECT_EQ(j["media"].get<int>(), 9);
    EXPECT_EQ(j["content"], "42");
    EXPECT_EQ(j["pic"], "/asset/a.png");
    EXPECT_EQ(j["memo"], "a friend");
    EXPECT_EQ(j["createat"].get<std::int64_t>(), m.createat);
    EXPECT_EQ(j.size(), 9u);
}

TEST(MessageCodec, EncodesWhatTheParserAcceptedWithTheNodesStamp) {
    auto parsed =
        FrameParser::parse(R"({"id":"c1","userid":666,"cmd":10,"dstid":"3","media":3,"url":"/mnt/v.ogg","amount":4})");
    ASSERT_TRUE(std::holds_alternative<ClientFrame>(parsed));
    ChatMessage m = std::get<ClientFrame>(parsed).message;
    m.id = 100;
    m.userid = 8;
    m.createat = 1;
    EXPECT_EQ(MessageCodec::encode(m),
              R"({"id":100,"userid":8,"cmd":10,"dstid":3,"media":3,"url":"/mnt/v.ogg","amount":4,"createat":1})");
}

TEST(MessageCodec, AckCarriesTheAssignedIdTheClientsIdTheTimeAndThePosition) {
    EXPECT_EQ(MessageCodec::ack(42, R"("abc")", 1000, 9), R"({"cmd":1,"id":42,"cid":"abc","createat":1000,"pos":9})");
    EXPECT_EQ(MessageCodec::ack(42, "7", 1000, 9), R"({"cmd":1,"id":42,"cid":7,"createat":1000,"pos":9})");
}

TEST(MessageCodec, AckLeavesOutCidWhenTheClientGaveNone) {
    EXPECT_EQ(MessageCodec::ack(42, "", 1000, 9), R"({"cmd":1,"id":42,"createat":1000,"pos":9})");
}

TEST(MessageCodec, WithPosAppendsThePositionToAnEncodedMessage) {
    EXPECT_EQ(MessageCodec::withPos(R"({"id":1,"content":"}"})", 9007199254740991),
              R"({"id":1,"content":"}","pos":9007199254740991})");
    EXPECT_EQ(MessageCodec::withPos("{}", 3), R"({"pos":3})");
    auto j = Json::parse(MessageCodec::withPos(R"({"id":5,"memo":"a \"q\" }"})", 12));
    EXPECT_EQ(j["pos"], 12);
    EXPECT_EQ(j["memo"], "a \"q\" }");
}

TEST(MessageCodec, SyncEndAndReadMarkNameTheirPosition) {
    EXPECT_EQ(MessageCodec::syncEnd(0), R"({"cmd":13,"pos":0})");
    EXPECT_EQ(MessageCodec::syncEnd(77), R"({"cmd":13,"pos":77})");
    EXPECT_EQ(MessageCodec::readMark(false, 5, 9), R"({"cmd":15,"peer":5,"pos":9})");
    EXPECT_EQ(MessageCodec::readMark(true, 6, 10), R"({"cmd":15,"group":6,"pos":10})");
}

TEST(MessageCodec, ErrorCarriesCodeMessageAndCid) {
    EXPECT_EQ(MessageCodec::error(403, "not a member of this group", R"("x")"),
              R"({"cmd":99,"code":403,"msg":"not a member of this group","cid":"x"})");
}

TEST(MessageCodec, ErrorLeavesOutCidWhenTheClientGaveNone) {
    EXPECT_EQ(MessageCodec::error(400, "malformed JSON", ""), R"({"cmd":99,"code":400,"msg":"malformed JSON"})");
}

TEST(MessageCodec, ErrorEscapesItsMessage) {
    auto j = Json::parse(MessageCodec::error(400, "bad \"field\"", ""));
    EXPECT_EQ(j["msg"], "bad \"field\"");
}

TEST(MessageCodec, EchoesACidTheParserProducedExactly) {
    auto parsed = FrameParser::parse(R"({"id":"q\"uote","cmd":0})");
    ASSERT_TRUE(std::holds_alternative<ClientFrame>(parsed));
    auto ack = Json::parse(MessageCodec::ack(1, std::get<ClientFrame>(parsed).cid, 2, 3));
    EXPECT_EQ(ack["cid"], "q\"uote");
}
