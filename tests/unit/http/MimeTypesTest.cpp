#include <gtest/gtest.h>

#include "http/MimeTypes.hpp"

using chat::http::MimeTypes;

TEST(MimeTypes, GivesTextTypesAUtf8Charset) {
    EXPECT_EQ(MimeTypes::forPath("/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/css/app.css"), "text/css; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/js/app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/js/app.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/data.json"), "application/json; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/robots.txt"), "text/plain; charset=utf-8");
}

TEST(MimeTypes, KnowsImagesFontsAndMedia) {
    EXPECT_EQ(MimeTypes::forPath("a.svg"), "image/svg+xml");
    EXPECT_EQ(MimeTypes::forPath("a.png"), "image/png");
    EXPECT_EQ(MimeTypes::forPath("a.jpg"), "image/jpeg");
    EXPECT_EQ(MimeTypes::forPath("a.jpeg"), "image/jpeg");
    EXPECT_EQ(MimeTypes::forPath("a.gif"), "image/gif");
    EXPECT_EQ(MimeTypes::forPath("a.webp"), "image/webp");
    EXPECT_EQ(MimeTypes::forPath("favicon.ico"), "image/x-icon");
    EXPECT_EQ(MimeTypes::forPath("f.woff2"), "font/woff2");
    EXPECT_EQ(MimeTypes::forPath("f.woff"), "font/woff");
    EXPECT_EQ(MimeTypes::forPath("f.ttf"), "font/ttf");
    EXPECT_EQ(MimeTypes::forPath("s.mp3"), "audio/mpeg");
    EXPECT_EQ(MimeTypes::forPath("s.ogg"), "audio/ogg");
    EXPECT_EQ(MimeTypes::forPath("s.wav"), "audio/wav");
    EXPECT_EQ(MimeTypes::forPath("s.m4a"), "audio/mp4");
    EXPECT_EQ(MimeTypes::forPath("v.mp4"), "video/mp4");
    EXPECT_EQ(MimeTypes::forPath("v.webm"), "video/webm");
    EXPECT_EQ(MimeTypes::forPath("app.js.map"), "application/json");
}

TEST(MimeTypes, IgnoresTheCaseOfTheExtension) {
    EXPECT_EQ(MimeTypes::forPath("/A.PNG"), "image/png");
    EXPECT_EQ(MimeTypes::forPath("/Index.HtMl"), "text/html; charset=utf-8");
}

TEST(MimeTypes, UsesOnlyTheLastExtensionOfTheLastSegment) {
    EXPECT_EQ(MimeTypes::forPath("/evil.html.png"), "image/png");
    EXPECT_EQ(MimeTypes::forPath("/evil.png.html"), "text/html; charset=utf-8");
    EXPECT_EQ(MimeTypes::forPath("/dir.html/file"), "application/octet-stream");
}

TEST(MimeTypes, FallsBackToOctetStream) {
    EXPECT_EQ(MimeTypes::forPath(""), "application/octet-stream");
    EXPECT_EQ(MimeTypes::forPath("/noext"), "application/octet-stream");
    EXPECT_EQ(MimeTypes::forPath("/file."), "application/octet-stream");
    EXPECT_EQ(MimeTypes::forPath("/a.exe"), "application/octet-stream");
    EXPECT_EQ(MimeTypes::forPath("/a.pngx"), "application/octet-stream");
    EXPECT_EQ(MimeTypes::forPath("/a.js "), "application/octet-stream");
}
