#include <gtest/gtest.h>

#include <string>

#include "api/Params.hpp"
#include "api/Reply.hpp"

using chat::api::ApiError;
using chat::api::Params;
using chat::http::Request;

namespace {

Request request(const std::string& query, const std::string& contentType = "", const std::string& body = "") {
    Request r;
    r.method = "POST";
    r.path = "/user/find";
    r.query = query;
    if (!contentType.empty()) r.headers["content-type"] = contentType;
    r.body = body;
    return r;
}

Request json(const std::string& body, const std::string& query = "") {
    return request(query, "application/json", body);
}

Request form(const std::string& body, const std::string& query = "") {
    return request(query, "application/x-www-form-urlencoded", body);
}

// The ApiError a call throws; a test failure when it throws none.
template <class F>
ApiError errorOf(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "no ApiError thrown";
    return ApiError(0, "");
}

}  // namespace

TEST(Params, ReadsTheQueryString) {
    auto p = Params::of(request("id=7&name=a%20b+c"));
    EXPECT_EQ(p.text("id"), "7");
    EXPECT_EQ(p.text("name"), "a b c");
    EXPECT_FALSE(p.text("missing"));
}

TEST(Params, ReadsAFormBodyAndLetsItOverrideTheQuery) {
    auto p = Params::of(form("mobile=13800000000&passwd=p%26ss", "mobile=1&token=t"));
    EXPECT_EQ(p.text("mobile"), "13800000000");
    EXPECT_EQ(p.text("passwd"), "p&ss");
    EXPECT_EQ(p.text("token"), "t");  // the query still counts
}

TEST(Params, TakesABodyWithoutContentTypeAsAForm) {
    auto p = Params::of(request("", "", "a=1"));
    EXPECT_EQ(p.text("a"), "1");
}

TEST(Params, ReadsAJsonBodyAndMergesItWithTheQuery) {
    auto p = Params::of(request("id=7&dstid=1", "application/json; charset=utf-8", R"({"dstid":"2","name":"x"})"));
    EXPECT_EQ(p.text("id"), "7");
    EXPECT_EQ(p.text("dstid"), "2");
    EXPECT_EQ(p.text("name"), "x");
}

TEST(Params, TurnsJsonNumbersIntoText) {
    auto p = Params::of(json(R"({"dstid":42,"big":9007199254740993,"neg":-5,"ratio":1.5})"));
    EXPECT_EQ(p.text("dstid"), "42");
    EXPECT_EQ(p.text("big"), "9007199254740993");  // exactly, not through a double
    EXPECT_EQ(p.text("neg"), "-5");
    EXPECT_EQ(p.text("ratio"), "1.5");
    EXPECT_EQ(p.requiredId("dstid"), 42);
}

TEST(Params, TreatsJsonNullAsAbsent) {
    auto p = Params::of(json(R"({"avatar":null})", "avatar=%2Fasset%2Fa.png"));
    EXPECT_EQ(p.text("avatar"), "/asset/a.png");
    EXPECT_FALSE(Params::of(json(R"({"avatar":null})")).text("avatar"));
}

TEST(Params, RefusesObjectsArraysAndBooleansWhenTheyAreRead) {
    auto p = Params::of(json(R"({"name":{"a":1},"icon":[1],"memo":true,"ok":"fine"})"));
    EXPECT_EQ(p.text("ok"), "fine");  // the other fields stay readable
    for (const char* field : {"name", "icon", "memo"}) {
        auto e = errorOf([&] { p.text(field); });
        EXPECT_EQ(e.status, 400);
        EXPECT_EQ(std::string(e.what()), std::string(field) + " must be a string");
    }
    EXPECT_EQ(errorOf([&] { p.required("name"); }).status, 400);
}

TEST(Params, RefusesAWrongTypeInJsonEvenWhenTheQueryHasTheField) {
    auto p = Params::of(json(R"({"id":{"$gt":0}})", "id=7"));
    EXPECT_EQ(errorOf([&] { p.id("id"); }).status, 400);
}

TEST(Params, RefusesMalformedJson) {
    for (const char* body : {"{", "{\"a\":}", "not json", "[1,2]", "\"text\"", "42", "{\"a\":1} x"}) {
        auto e = errorOf([&] { Params::of(json(body)); });
        EXPECT_EQ(e.status, 400) << body;
        EXPECT_EQ(std::string(e.what()), "malformed JSON body") << body;
    }
}

TEST(Params, RefusesAMalformedFormOrQuery) {
    auto e = errorOf([] { Params::of(form("a=%zz")); });
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(std::string(e.what()), "malformed form body");
    e = errorOf([] { Params::of(request("a=%4")); });
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(std::string(e.what()), "malformed query string");
}

TEST(Params, AcceptsAnEmptyJsonBody) {
    auto p = Params::of(json("", "id=3"));
    EXPECT_EQ(p.text("id"), "3");
}

TEST(Params, LeavesAMultipartBodyToTheUploadParser) {
    auto p = Params::of(request("id=3", "multipart/form-data; boundary=x", "--x\r\nnot=a form\r\n--x--"));
    EXPECT_EQ(p.text("id"), "3");
    EXPECT_FALSE(p.text("not"));
}

TEST(Params, RequiredRefusesAMissingOrEmptyValueNamingIt) {
    auto p = Params::of(request("empty="));
    EXPECT_EQ(std::string(errorOf([&] { p.required("mobile"); }).what()), "mobile is required");
    EXPECT_EQ(std::string(errorOf([&] { p.required("empty"); }).what()), "empty is required");
    EXPECT_EQ(Params::of(request("mobile=1")).required("mobile"), "1");
}

TEST(Params, ReadsAPositiveIdFromTextOrNumber) {
    EXPECT_EQ(Params::of(request("dstid=15")).id("dstid"), 15);
    EXPECT_EQ(Params::of(json(R"({"dstid":15})")).id("dstid"), 15);
    EXPECT_FALSE(Params::of(request("")).id("dstid"));
    EXPECT_FALSE(Params::of(request("dstid=")).id("dstid"));
}

TEST(Params, RefusesAnIdThatIsNotAPositiveInteger) {
    for (const char* query : {"dstid=0", "dstid=-1", "dstid=abc", "dstid=1.5", "dstid=12x", "dstid=+3", "dstid=%201",
                              "dstid=99999999999999999999"}) {
        auto e = errorOf([&] { Params::of(request(query)).id("dstid"); });
        EXPECT_EQ(e.status, 400) << query;
        EXPECT_EQ(std::string(e.what()), "dstid must be a positive integer") << query;
    }
    EXPECT_EQ(errorOf([] { Params::of(json(R"({"dstid":2.0})")).id("dstid"); }).status, 400);
}

TEST(Params, RequiredIdRefusesAMissingId) {
    auto e = errorOf([] { Params::of(request("")).requiredId("dstid"); });
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(std::string(e.what()), "dstid is required");
}

TEST(Params, RefusesTextThatIsNotUtf8NamingTheField) {
    for (const char* body : {"memo=%FF", "memo=ok%C0%AF", "memo=%ED%A0%80", "memo=%E4%BD"}) {
        auto e = errorOf([&] { Params::of(form(body)).text("memo"); });
        EXPECT_EQ(e.status, 400) << body;
        EXPECT_EQ(std::string(e.what()), "memo must be valid UTF-8") << body;
    }
    auto e = errorOf([] { Params::of(request("nickname=%FE")).required("nickname"); });
    EXPECT_EQ(std::string(e.what()), "nickname must be valid UTF-8");
}

TEST(Params, ReadsUtf8TextAndLeavesMalformedFieldsThatAreNotReadAlone) {
    auto p = Params::of(form("name=%E4%BD%A0%F0%9F%98%80&junk=%FF"));
    EXPECT_EQ(p.text("name"), "\xe4\xbd\xa0\xf0\x9f\x98\x80");
    EXPECT_EQ(errorOf([&] { p.text("junk"); }).status, 400);
}

TEST(Params, ReadsASecretAsRawBytes) {
    // A password is hashed, never stored: one chosen before text had to be UTF-8 still works.
    auto p = Params::of(form("passwd=%E9t%E9%E9t%E9&empty="));
    EXPECT_EQ(p.secret("passwd"), "\xe9t\xe9\xe9t\xe9");
    EXPECT_EQ(std::string(errorOf([&] { p.secret("empty"); }).what()), "empty is required");
    EXPECT_EQ(std::string(errorOf([&] { p.secret("missing"); }).what()), "missing is required");
    EXPECT_EQ(errorOf([] { Params::of(json(R"({"passwd":[1]})")).secret("passwd"); }).status, 400);
}
