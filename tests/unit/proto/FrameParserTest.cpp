#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "proto/FrameParser.hpp"

using chat::proto::ClientFrame;
using chat::proto::Cmd;
using chat::proto::FrameError;
using chat::proto::FrameParser;
using chat::proto::Media;
using Json = nlohmann::json;

namespace {

// A valid single-chat text frame, to be varied by each test.
Json textFrame() {
    return Json{{"cmd", 10}, {"dstid", 2}, {"media", 1}, {"content", "hello"}};
}

Json withMedia(int media, const Json& fields) {
    Json j{{"cmd", 10}, {"dstid", 2}, {"media", media}};
    j.update(fields);
    return j;
}

// The parsed frame; a test failure (and an empty frame) when it was refused.
ClientFrame accepted(const std::string& text) {
    auto result = FrameParser::parse(text);
    if (auto* e = std::get_if<FrameError>(&result)) {
        ADD_FAILURE() << "refused " << text << ": " << e->msg;
        return {};
    }
    return std::get<ClientFrame>(result);
}
ClientFrame accepted(const Json& j) {
    return accepted(j.dump());
}

// The error; a test failure (and an empty error) when the frame was accepted.
FrameError refused(const std::string& text) {
    auto result = FrameParser::parse(text);
    if (auto* e = std::get_if<FrameError>(&result)) return *e;
    ADD_FAILURE() << "accepted " << text;
    return {0, "", ""};
}
FrameError refused(const Json& j) {
    return refused(j.dump());
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

// --- media and their required fields

TEST(FrameParser, AcceptsEveryMediaWithItsRequiredFields) {
    const std::pair<int, Json> cases[] = {
        {1, {{"content", "hi"}}},
        {2, {{"content", "Title"}, {"url", "https://example.com/a"}}},
        {3, {{"url", "/mnt/voice.ogg"}, {"amount", 3}}},
        {4, {{"url", "/mnt/a.png"}}},
        {5, {{"amount", 100}}},
        {6, {{"content", ":)"}}},
        {6, {{"url", "/asset/emoji/smile.gif"}}},
        {7, {{"url", "http://example.com/"}}},
        {8, {{"url", "/mnt/v.mp4"}}},
        {9, {{"content", "42"}}},
        {100, {{"content", "{\"any\":1}"}}},
    };
    for (const auto& [media, fields] : cases) {
        auto frame = accepted(withMedia(media, fields));
        EXPECT_EQ(static_cast<int>(frame.message.media), media) << fields.dump();
        EXPECT_EQ(frame.message.cmd, Cmd::Single);
        EXPECT_EQ(frame.message.dstid, 2);
    }
}

TEST(FrameParser, RefusesEveryMediaWithoutARequiredFieldNamingIt) {
    struct Case {
        int media;
        Json fields;
        const char* named;
    };
    const Case cases[] = {
        {1, Json::object(), "content"},
        {1, {{"content", ""}}, "content"},
        {2, {{"url", "https://example.com/a"}}, "content"},
        {2, {{"content", "Title"}}, "url"},
        {3, {{"amount", 3}}, "url"},
        {3, {{"url", "/mnt/voice.ogg"}}, "amount"},
        {4, Json::object(), "url"},
        {5, {{"memo", "for you"}}, "amount"},
        {6, Json::object(), "content or url"},
        {7, Json::object(), "url"},
        {8, {{"pic", "/mnt/poster.png"}}, "url"},
        {9, Json::object(), "content"},
        {9, {{"content", ""}}, "content"},
        {100, Json::object(), "content"},
    };
    for (const auto& c : cases) {
        auto e = refused(withMedia(c.media, c.fields));
        EXPECT_EQ(e.code, 400);
        EXPECT_TRUE(has(e.msg, c.named)) << "media " << c.media << ": " << e.msg;
    }
}

TEST(FrameParser, KeepsTheOptionalFieldsEachMediaAllows) {
    auto news =
        accepted(withMedia(2, {{"content", "T"}, {"url", "https://e.com"}, {"pic", "/mnt/p.png"}, {"memo", "m"}}));
    EXPECT_EQ(news.message.pic, "/mnt/p.png");
    EXPECT_EQ(news.message.memo, "m");
    auto packet = accepted(withMedia(5, {{"amount", 88}, {"memo", "happy new year"}}));
    EXPECT_EQ(packet.message.amount, 88);
    EXPECT_EQ(packet.message.memo, "happy new year");
    EXPECT_FALSE(packet.message.content);
    auto card = accepted(withMedia(9, {{"content", "7"}, {"memo", "a friend"}, {"pic", "/asset/a.png"}}));
    EXPECT_EQ(card.message.content, "7");
    EXPECT_EQ(card.message.pic, "/asset/a.png");
    auto video = accepted(withMedia(8, {{"url", "/mnt/v.mp4"}, {"pic", "/mnt/v.jpg"}}));
    EXPECT_EQ(video.message.url, "/mnt/v.mp4");
    EXPECT_EQ(video.message.pic, "/mnt/v.jpg");
}

TEST(FrameParser, RefusesAnUnknownOrMissingMedia) {
    for (const Json& media : {Json(0), Json(10), Json(99), Json(101), Json(-1), Json("1"), Json(1.5), Json()}) {
        auto j = textFrame();
        j["media"] = media;
        EXPECT_TRUE(has(refused(j).msg, "media")) << media.dump();
    }
    auto j = textFrame();
    j.erase("media");
    EXPECT_TRUE(has(refused(j).msg, "media"));
}

TEST(FrameParser, RefusesFieldsOfTheWrongType) {
    auto j = textFrame();
    j["content"] = 5;
    EXPECT_EQ(refused(j).msg, "content must be a string");
    j = withMedia(4, {{"url", Json::array({"/mnt/a.png"})}});
    EXPECT_EQ(refused(j).msg, "url must be a string");
    j = withMedia(5, {{"amount", 1}, {"memo", true}});
    EXPECT_EQ(refused(j).msg, "memo must be a string");
}

TEST(FrameParser, TreatsNullOptionalFieldsAsAbsent) {
    auto frame = accepted(withMedia(4, {{"url", "/mnt/a.png"}, {"pic", nullptr}, {"memo", nullptr}}));
    EXPECT_FALSE(frame.message.pic);
    EXPECT_FALSE(frame.message.memo);
}

// --- cmd

TEST(FrameParser, AcceptsAHeartbeatWithNothingElse) {
    auto frame = accepted(std::string(R"({"cmd":0})"));
    EXPECT_EQ(frame.message.cmd, Cmd::Heartbeat);
    EXPECT_EQ(frame.cid, "");
}

TEST(FrameParser, AcceptsSingleAndGroupChat) {
    EXPECT_EQ(accepted(textFrame()).message.cmd, Cmd::Single);
    auto j = textFrame();
    j["cmd"] = 11;
    j["dstid"] = 500;
    auto frame = accepted(j);
    EXPECT_EQ(frame.message.cmd, Cmd::Group);
    EXPECT_EQ(frame.message.dstid, 500);
}

TEST(FrameParser, RefusesEveryOtherCmd) {
    for (const Json& cmd :
         {Json(1), Json(2), Json(9), Json(13), Json(17), Json(99), Json(-10), Json("10"), Json(10.5), Json()}) {
        auto j = textFrame();
        j["cmd"] = cmd;
        auto e = refused(j);
        EXPECT_EQ(e.code, 400);
        EXPECT_EQ(e.msg, "cmd must be 0, 10, 11, 12 or 16") << cmd.dump();
    }
    auto j = textFrame();
    j.erase("cmd");
    EXPECT_EQ(refused(j).msg, "cmd must be 0, 10, 11, 12 or 16");
}

// --- sync requests (cmd 12)

TEST(FrameParser, AcceptsASyncRequestWithThePositionAsANumberOrADecimalString) {
    auto frame = accepted(std::string(R"({"cmd":12,"since":42})"));
    EXPECT_EQ(frame.message.cmd, Cmd::Sync);
    EXPECT_EQ(frame.since, 42u);
    EXPECT_EQ(accepted(std::string(R"({"cmd":12,"since":"9007199254740991"})")).since, 9007199254740991u);
    EXPECT_EQ(accepted(std::string(R"({"id":"s1","cmd":12})")).since, 0u);  // no position: the recent part
    EXPECT_EQ(accepted(std::string(R"({"id":"s1","cmd":12})")).cid, R"("s1")");
}

TEST(FrameParser, RefusesASyncPositionThatIsNotAWholeNumberBelow2To53) {
    for (const char* bad : {R"("abc")", "-1", "1.5", "9007199254740992", "true", "[]", R"("")", R"(" 4")"}) {
        auto e = refused(std::string(R"({"id":7,"cmd":12,"since":)") + bad + "}");
        EXPECT_EQ(e.code, 400) << bad;
        EXPECT_EQ(e.msg, "since must be a stream position (a whole number)") << bad;
        EXPECT_EQ(e.cid, "7") << bad;
    }
}

TEST(FrameParser, AcceptsAPresenceWatchOfUpToAThousandUserIds) {
    auto frame = accepted(std::string(R"({"cmd":16,"watch":[3,1,2]})"));
    EXPECT_EQ(frame.message.cmd, Cmd::Watch);
    EXPECT_EQ(frame.watch, (std::vector<std::int64_t>{3, 1, 2}));
    EXPECT_TRUE(accepted(std::string(R"({"cmd":16,"watch":[]})")).watch.empty());
    Json many = {{"cmd", 16}, {"watch", Json::array()}};
    for (int i = 1; i <= 1000; ++i) many["watch"].push_back(i);
    EXPECT_EQ(accepted(many).watch.size(), 1000u);
    many["watch"].push_back(1001);
    EXPECT_EQ(refused(many).msg, "watch holds at most 1000 user ids");
}

TEST(FrameParser, RefusesAWatchThatIsNotAListOfUserIds) {
    for (const char* bad : {R"("1,2")", "[0]", "[-4]", R"(["7"])", "[1.5]", "[[1]]", "{}", "null"}) {
        auto e = refused(std::string(R"({"cmd":16,"watch":)") + bad + "}");
        EXPECT_EQ(e.code, 400) << bad;
        EXPECT_EQ(e.msg, "watch must be an array of user ids") << bad;
    }
    EXPECT_EQ(refused(std::string(R"({"cmd":16})")).msg, "watch must be an array of user ids");
}

TEST(FrameParser, PositionReadsOnlyPlainDecimalDigits) {
    EXPECT_EQ(FrameParser::position("0"), 0u);
    EXPECT_EQ(FrameParser::position("123"), 123u);
    for (const char* bad : {"", "+1", "-1", "1e3", "0x10", "12 ", "9007199254740992", "99999999999999999999"})
        EXPECT_FALSE(FrameParser::position(bad).has_value()) << bad;
}

// --- dstid

TEST(FrameParser, AcceptsDstidAsANumberOrADecimalString) {
    auto j = textFrame();
    j["dstid"] = 123456789;
    EXPECT_EQ(accepted(j).message.dstid, 123456789);
    j["dstid"] = "987654321";
    EXPECT_EQ(accepted(j).message.dstid, 987654321);
    j["dstid"] = (std::int64_t{1} << 53) - 1;
    EXPECT_EQ(accepted(j).message.dstid, (std::int64_t{1} << 53) - 1);
}

TEST(FrameParser, RefusesADstidThatIsNotAPositiveSafeInteger) {
    const Json bad[] = {Json(0),
                        Json(-1),
                        Json("0"),
                        Json("-5"),
                        Json(1.5),
                        Json(2.0),
                        Json("1.5"),
                        Json(""),
                        Json(" 7"),
                        Json("7 "),
                        Json("+7"),
                        Json("0x10"),
                        Json("abc"),
                        Json::object(),
                        Json::array({1}),
                        Json(true),
                        Json(std::int64_t{1} << 53),
                        Json(std::to_string((std::int64_t{1} << 53) + 1)),
                        Json(18446744073709551615ull),
                        Json("99999999999999999999999")};
    for (const auto& dstid : bad) {
        auto j = textFrame();
        j["dstid"] = dstid;
        auto e = refused(j);
        EXPECT_EQ(e.code, 400);
        EXPECT_EQ(e.msg, "dstid must be a positive integer") << dstid.dump();
    }
}

TEST(FrameParser, RefusesAMissingDstid) {
    auto j = textFrame();
    j.erase("dstid");
    EXPECT_EQ(refused(j).msg, "dstid is required");
    j["dstid"] = nullptr;
    EXPECT_EQ(refused(j).msg, "dstid is required");
}

// --- amount

TEST(FrameParser, AcceptsAmountsFromOneTo2Pow31Minus1) {
    EXPECT_EQ(accepted(withMedia(5, {{"amount", 1}})).message.amount, 1);
    EXPECT_EQ(accepted(withMedia(5, {{"amount", 2147483647}})).message.amount, 2147483647);
}

TEST(FrameParser, RefusesAmountsThatAreNotPositiveIntegersInRange) {
    for (const Json& amount : {Json(0), Json(-1), Json(std::int64_t{2147483648}), Json(1.5), Json(5.0), Json("5"),
                               Json(true), Json::object()}) {
        auto e = refused(withMedia(5, {{"amount", amount}}));
        EXPECT_EQ(e.msg, "amount must be a positive integer") << amount.dump();
    }
}

// --- the client's id

TEST(FrameParser, EchoesAStringIdAsJsonText) {
    auto j = textFrame();
    j["id"] = "m-1";
    EXPECT_EQ(accepted(j).cid, R"("m-1")");
}

TEST(FrameParser, EchoesANumericIdAsJsonText) {
    auto j = textFrame();
    j["id"] = 42;
    EXPECT_EQ(accepted(j).cid, "42");
}

TEST(FrameParser, EscapesQuotesInAStringId) {
    auto j = textFrame();
    j["id"] = "a\"b";
    auto cid = accepted(j).cid;
    EXPECT_EQ(cid, R"("a\"b")");
    EXPECT_EQ(Json::parse(cid), "a\"b");
}

TEST(FrameParser, AcceptsAnIdOf64CharactersAndRefusesALongerOne) {
    auto j = textFrame();
    j["id"] = std::string(64, 'x');
    EXPECT_EQ(accepted(j).cid, "\"" + std::string(64, 'x') + "\"");
    std::string chinese;
    for (int i = 0; i < 64; ++i) chinese += "\xe4\xbd\xa0";  // counted in characters, not bytes
    j["id"] = chinese;
    EXPECT_EQ(accepted(j).cid, "\"" + chinese + "\"");
    j["id"] = std::string(65, 'x');
    auto e = refused(j);
    EXPECT_EQ(e.code, 400);
    EXPECT_TRUE(has(e.msg, "id")) << e.msg;
    EXPECT_EQ(e.cid, "");  // an unusable id is not echoed
}

TEST(FrameParser, RefusesAnIdThatIsNeitherStringNorInteger) {
    for (const Json& id : {Json(1.5), Json::object(), Json::array(), Json(true)}) {
        auto j = textFrame();
        j["id"] = id;
        auto e = refused(j);
        EXPECT_TRUE(has(e.msg, "id must be")) << id.dump();
        EXPECT_EQ(e.cid, "");
    }
}

TEST(FrameParser, ReturnsTheCidWithAnErrorAboutAnotherField) {
    auto j = textFrame();
    j["id"] = "c7";
    j["dstid"] = 0;
    auto e = refused(j);
    EXPECT_EQ(e.cid, R"("c7")");
}

TEST(FrameParser, EchoesTheCidOfAHeartbeat) {
    EXPECT_EQ(accepted(std::string(R"({"cmd":0,"id":9})")).cid, "9");
}

TEST(FrameParser, IgnoresTheUseridAndIdTheClientClaims) {
    auto j = textFrame();
    j["userid"] = 999;
    j["id"] = 12345;
    j["createat"] = 1;
    auto frame = accepted(j);
    EXPECT_EQ(frame.message.userid, 0);  // the node stamps the authenticated user
    EXPECT_EQ(frame.message.id, 0);
    EXPECT_EQ(frame.message.createat, 0);
}

// --- strings

TEST(FrameParser, BoundsContentAt8192Characters) {
    auto j = textFrame();
    j["content"] = std::string(8192, 'a');
    EXPECT_EQ(accepted(j).message.content->size(), 8192u);
    std::string chinese;
    for (int i = 0; i < 8192; ++i) chinese += "\xe4\xbd\xa0";  // 你: counted as one character
    j["content"] = chinese;
    EXPECT_EQ(accepted(j).message.content, chinese);
    j["content"] = std::string(8193, 'a');
    EXPECT_EQ(refused(j).msg, "content is too long");
}

TEST(FrameParser, BoundsMemoAndUrlLength) {
    EXPECT_TRUE(accepted(withMedia(5, {{"amount", 1}, {"memo", std::string(1024, 'm')}})).message.memo);
    EXPECT_EQ(refused(withMedia(5, {{"amount", 1}, {"memo", std::string(1025, 'm')}})).msg, "memo is too long");
    std::string longUrl = "/mnt/" + std::string(FrameParser::kMaxUrlChars - 5, 'u');
    EXPECT_EQ(accepted(withMedia(4, {{"url", longUrl}})).message.url, longUrl);
    EXPECT_EQ(refused(withMedia(4, {{"url", longUrl + "u"}})).msg, "url is too long");
}

// --- url and pic safety

TEST(FrameParser, TakesHttpHttpsAndPathsOnThisServerAsSafe) {
    for (const char* url : {"http://example.com/a.png", "https://example.com/x?y=1&z=%20", "HTTPS://EXAMPLE.COM/",
                            "Http://e.com", "/mnt/abc.png", "/asset/img/a.png", "/mnt/a.b.c"}) {
        EXPECT_TRUE(FrameParser::isSafeUrl(url)) << url;
    }
}

TEST(FrameParser, TakesScriptDataProtocolRelativeAndTraversingUrlsAsUnsafe) {
    for (const char* url : {"javascript:alert(1)",
                            "JAVASCRIPT:alert(1)",
                            "JavaScript:alert(1)",
                            " javascript:alert(1)",
                            "vbscript:x",
                            "data:text/html,<b>",
                            "DATA:image/png;base64,AAAA",
                            "//evil.example/x",
                            "/mnt/../x",
                            "/asset/../../etc/passwd",
                            "/mnt/..",
                            "/mnt//evil.example",
                            "/mnt/a b",
                            "/mnt/a\tb",
                            "/mnt/a\"b",
                            "/mnt/<script>",
                            "/mnt/a>b",
                            "/mnt/a\\b",
                            "http://a.com/<x>",
                            "http://a b.com",
                            "",
                            "http://",
                            "https://",
                            "ftp://example.com/f",
                            "mnt/a.png",
                            "/other/a.png",
                            "/",
                            "\x01/mnt/a",
                            "/mnt/a\x7f"}) {
        EXPECT_FALSE(FrameParser::isSafeUrl(url)) << url;
    }
}

TEST(FrameParser, RefusesAnUnsafeUrlOrPicWithAMessageNamingTheField) {
    auto e = refused(withMedia(4, {{"url", "javascript:alert(1)"}}));
    EXPECT_EQ(e.code, 400);
    EXPECT_EQ(e.msg, "url must be an http(s) URL or a path on this server");
    e = refused(withMedia(8, {{"url", "/mnt/v.mp4"}, {"pic", "data:image/png;base64,AAAA"}}));
    EXPECT_EQ(e.msg, "pic must be an http(s) URL or a path on this server");
    e = refused(withMedia(6, {{"content", ":)"}, {"url", "/mnt/../../etc/passwd"}}));
    EXPECT_TRUE(has(e.msg, "url")) << e.msg;
}

// --- malformed input

TEST(FrameParser, RefusesMalformedJson) {
    for (const std::string& text :
         {std::string(), std::string("{"), std::string("{\"cmd\":10,}"), std::string("not json"),
          std::string("{'cmd':0}"), std::string("{\"cmd\":0} trailing"), std::string("\0", 1)}) {
        auto e = refused(text);
        EXPECT_EQ(e.code, 400);
        EXPECT_EQ(e.msg, "malformed JSON") << text;
        EXPECT_EQ(e.cid, "");
    }
}

TEST(FrameParser, RefusesJsonThatIsNotAnObject) {
    for (const char* text : {"[]", "[{\"cmd\":0}]", "42", "\"text\"", "null", "true"}) {
        auto e = refused(std::string(text));
        EXPECT_EQ(e.code, 400);
        EXPECT_EQ(e.msg, "a frame must be a JSON object") << text;
    }
}

TEST(FrameParser, RefusesInvalidUtf8) {
    const std::string prefix = R"({"cmd":10,"dstid":2,"media":1,"content":")";
    for (const char* bytes : {"\xff\xfe", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\x80z", "\xf4\x90\x80\x80"}) {
        auto e = refused(prefix + bytes + "\"}");
        EXPECT_EQ(e.code, 400);
        EXPECT_EQ(e.msg, "malformed JSON");
    }
    // Valid multi-byte text passes untouched.
    EXPECT_EQ(accepted(prefix + "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\"}").message.content,
              "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80");
}
