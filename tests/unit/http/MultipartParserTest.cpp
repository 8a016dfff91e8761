#include <gtest/gtest.h>

#include <string>

#include "http/MultipartParser.hpp"

using chat::http::MultipartParser;

namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ";

std::string part(std::string_view headers, std::string_view data) {
    return "--XyZ\r\n" + std::string(headers) + "\r\n\r\n" + std::string(data) + "\r\n";
}

std::string field(std::string_view name, std::string_view data) {
    return part("Content-Disposition: form-data; name=\"" + std::string(name) + "\"", data);
}

const std::string kEnd = "--XyZ--\r\n";

}  // namespace

TEST(MultipartParser, ParsesFieldsAndAFile) {
    std::string body = field("to", "42") +
                       part(
                           "Content-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
                           "Content-Type: image/png",
                           "PNGDATA") +
                       kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].name, "to");
    EXPECT_EQ((*parts)[0].filename, "");
    EXPECT_EQ((*parts)[0].data, "42");
    EXPECT_EQ((*parts)[1].name, "file");
    EXPECT_EQ((*parts)[1].filename, "cat.png");
    EXPECT_EQ((*parts)[1].contentType, "image/png");
    EXPECT_EQ((*parts)[1].data, "PNGDATA");
}

TEST(MultipartParser, ReturnsViewsIntoTheBody) {
    std::string body = field("a", "hello") + kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    const char* begin = body.data();
    EXPECT_GE((*parts)[0].data.data(), begin);
    EXPECT_LE((*parts)[0].data.data() + (*parts)[0].data.size(), begin + body.size());
}

TEST(MultipartParser, KeepsBinaryDataWithCrLfAndPartialBoundaries) {
    // Everything but CRLF--XyZ itself: the boundary without its CRLF, CR or LF alone, shorter prefixes.
    const char kData[] = "\x00\xFF\r\n\r\nA--XyZ\r\n\r--XyZ\n--XyZ\r\n--Xy\r\n--X\r\n-\r\n\r\n\x89PNG\r";
    const std::string data(kData, sizeof kData - 1);
    std::string body = field("file", data) + field("after", "ok") + kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].data, data);
    EXPECT_EQ((*parts)[1].data, "ok");
}

TEST(MultipartParser, KeepsDataEndingInCrLf) {
    std::string body = field("a", "line\r\n") + kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    EXPECT_EQ((*parts)[0].data, "line\r\n");
}

TEST(MultipartParser, AcceptsEmptyData) {
    std::string body = field("a", "") + kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    EXPECT_EQ((*parts)[0].data, "");
}

TEST(MultipartParser, AcceptsAQuotedBoundaryWithSpecialCharacters) {
    std::string body = "--a'(b)+_,-./:=?c\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--a'(b)+_,-./:=?c--";
    auto parts = MultipartParser::parse(body, "multipart/form-data; boundary=\"a'(b)+_,-./:=?c\"");
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].name, "x");
    EXPECT_EQ((*parts)[0].data, "v");
}

TEST(MultipartParser, ReadsTheContentTypeCaseInsensitivelyWithOtherParameters) {
    std::string body = field("a", "1") + kEnd;
    EXPECT_TRUE(MultipartParser::parse(body, "Multipart/Form-Data; charset=utf-8; BOUNDARY=XyZ"));
    EXPECT_TRUE(MultipartParser::parse(body, "multipart/form-data;boundary=XyZ"));
}

TEST(MultipartParser, IgnoresPreambleEpilogueAndPadding) {
    std::string body =
        "preamble text\r\n--XyZ  \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
        "--XyZ--\r\nepilogue --XyZ junk";
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].data, "1");
}

TEST(MultipartParser, ReadsHeadersCaseInsensitivelyAndQuotedSemicolons) {
    std::string body =
        part("content-disposition: FORM-DATA; NAME=\"a;b\"; filename=\"x; y.png\"\r\nX-Other: 1", "d") + kEnd;
    auto parts = MultipartParser::parse(body, kType);
    ASSERT_TRUE(parts);
    EXPECT_EQ((*parts)[0].name, "a;b");
    EXPECT_EQ((*parts)[0].filename, "x; y.png");
}

TEST(MultipartParser, AcceptsAClosingDelimiterRightAway) {
    auto parts = MultipartParser::parse("--XyZ--", kType);
    ASSERT_TRUE(parts);
    EXPECT_TRUE(parts->empty());
}

TEST(MultipartParser, RejectsAMissingFinalDelimiter) {
    EXPECT_EQ(MultipartParser::parse(field("a", "1"), kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(field("a", "1") + "--XyZ", kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ntruncated", kType),
              std::nullopt);
}

TEST(MultipartParser, RejectsABodyWithoutAnyDelimiter) {
    EXPECT_EQ(MultipartParser::parse("", kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse("just text", kType), std::nullopt);
}

TEST(MultipartParser, RejectsABadOrMissingBoundary) {
    std::string body = field("a", "1") + kEnd;
    EXPECT_EQ(MultipartParser::parse(body, "multipart/form-data"), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "multipart/form-data; boundary="), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "multipart/form-data; boundary=\"\""), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "multipart/form-data; boundary=\"XyZ"), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "multipart/form-data; boundary=Xy\"Z"), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "multipart/mixed; boundary=XyZ"), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, "application/x-www-form-urlencoded"), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(body, ""), std::nullopt);
}

TEST(MultipartParser, AcceptsA70CharBoundaryButNot71) {
    std::string b70(70, 'b');
    std::string body70 = "--" + b70 + "\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" + b70 + "--";
    EXPECT_TRUE(MultipartParser::parse(body70, "multipart/form-data; boundary=" + b70));
    std::string b71(71, 'b');
    std::string body71 = "--" + b71 + "\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" + b71 + "--";
    EXPECT_EQ(MultipartParser::parse(body71, "multipart/form-data; boundary=" + b71), std::nullopt);
}

TEST(MultipartParser, RejectsAPartWithoutFormDataDisposition) {
    EXPECT_EQ(MultipartParser::parse(part("Content-Type: text/plain", "x") + kEnd, kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(part("Content-Disposition: attachment; name=a", "x") + kEnd, kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse(part("Content-Disposition: form-data", "x") + kEnd, kType), std::nullopt);
    EXPECT_EQ(MultipartParser::parse("--XyZ\r\n\r\nx\r\n" + kEnd, kType), std::nullopt);
}

TEST(MultipartParser, RejectsMalformedPartHeaders) {
    EXPECT_EQ(MultipartParser::parse(part("Content-Disposition: form-data; name=a\r\nno colon", "x") + kEnd, kType),
              std::nullopt);
    EXPECT_EQ(MultipartParser::parse(part("Content-Disposition: form-data; name=\"a", "x") + kEnd, kType),
              std::nullopt);
    EXPECT_EQ(MultipartParser::parse(
                  part("Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b", "x") + kEnd,
                  kType),
              std::nullopt);
}

TEST(MultipartParser, RejectsADelimiterLineWithTrailingJunk) {
    EXPECT_EQ(MultipartParser::parse("--XyZjunk\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--", kType),
              std::nullopt);
    // Data that contains the delimiter followed by other bytes is not a valid encoding either.
    EXPECT_EQ(MultipartParser::parse(field("a", "1\r\n--XyZZ") + kEnd, kType), std::nullopt);
}

TEST(MultipartParser, RejectsMoreThanMaxParts) {
    std::string body;
    for (int i = 0; i < 3; ++i) body += field("f" + std::to_string(i), "v");
    body += kEnd;
    EXPECT_TRUE(MultipartParser::parse(body, kType, 3));
    EXPECT_EQ(MultipartParser::parse(body, kType, 2), std::nullopt);
    std::string seventeen;
    for (int i = 0; i < 17; ++i) seventeen += field("f", "v");
    EXPECT_EQ(MultipartParser::parse(seventeen + kEnd, kType), std::nullopt);
}

TEST(MultipartParser, LimitsAPartsHeadersTo8KiB) {
    const std::string prefix = "Content-Disposition: form-data; name=a\r\nX-Pad: ";
    std::string fits = prefix + std::string(8192 - prefix.size(), 'p');
    ASSERT_EQ(fits.size(), 8192u);
    EXPECT_TRUE(MultipartParser::parse(part(fits, "x") + kEnd, kType));
    EXPECT_EQ(MultipartParser::parse(part(fits + "p", "x") + kEnd, kType), std::nullopt);
}
