#include <gtest/gtest.h>

#include <string>

#include "http/ContentSniffer.hpp"

using chat::http::ContentSniffer;

namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s.push_back(static_cast<char>(b));
    return s;
}

void expectType(const std::string& data, std::string_view mime, std::string_view ext, std::string_view kind) {
    auto t = ContentSniffer::sniff(data);
    ASSERT_TRUE(t) << "expected " << mime;
    EXPECT_EQ(t->mime, mime);
    EXPECT_EQ(t->extension, ext);
    EXPECT_EQ(t->kind, kind);
}

// An EBML header holding EBMLVersion 1 and the given DocType.
std::string ebml(std::string_view docType) {
    std::string children = bytes({0x42, 0x86, 0x81, 0x01});  // EBMLVersion = 1
    children += bytes({0x42, 0x82, 0x80 | static_cast<int>(docType.size())}) + std::string(docType);
    return bytes({0x1A, 0x45, 0xDF, 0xA3, 0x80 | static_cast<int>(children.size())}) + children +
           bytes({0x18, 0x53, 0x80, 0x67});  // start of a Segment
}

std::string ftyp(std::string_view brand) {
    return bytes({0, 0, 0, 0x18}) + "ftyp" + std::string(brand) + bytes({0, 0, 2, 0}) + "isomiso2";
}

}  // namespace

TEST(ContentSniffer, RecognisesImages) {
    expectType(bytes({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D}), "image/png", ".png", "image");
    expectType(bytes({0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}), "image/jpeg", ".jpg", "image");
    expectType("GIF87a\x01\x00", "image/gif", ".gif", "image");
    expectType("GIF89a\x01\x00", "image/gif", ".gif", "image");
    expectType(std::string("RIFF\x24\x00\x00\x00WEBPVP8 ", 16), "image/webp", ".webp", "image");
}

TEST(ContentSniffer, RecognisesAudio) {
    expectType(std::string("OggS\x00\x02", 6), "audio/ogg", ".ogg", "audio");
    expectType(std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16), "audio/wav", ".wav", "audio");
    expectType(bytes({'I', 'D', '3', 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7F}), "audio/mpeg", ".mp3", "audio");
    expectType(bytes({0xFF, 0xFB, 0x90, 0x64}), "audio/mpeg", ".mp3", "audio");  // MPEG-1 layer III
    expectType(bytes({0xFF, 0xF3, 0x48, 0xC4}), "audio/mpeg", ".mp3", "audio");  // MPEG-2 layer III
    expectType(bytes({0xFF, 0xE3, 0x18, 0xC4}), "audio/mpeg", ".mp3", "audio");  // MPEG-2.5 layer III
    expectType(ftyp("M4A "), "audio/mp4", ".m4a", "audio");
}

TEST(ContentSniffer, RecognisesVideo) {
    for (std::string_view brand : {"isom", "iso2", "mp41", "mp42", "avc1", "dash", "M4V "}) {
        expectType(ftyp(brand), "video/mp4", ".mp4", "video");
    }
    expectType(ebml("webm"), "video/webm", ".webm", "video");
}

TEST(ContentSniffer, AcceptsANulPaddedWebmDocType) {
    expectType(ebml(std::string("webm\0\0", 6)), "video/webm", ".webm", "video");
}

TEST(ContentSniffer, RejectsMatroskaAndBrokenEbml) {
    EXPECT_FALSE(ContentSniffer::sniff(ebml("matroska")));
    EXPECT_FALSE(ContentSniffer::sniff(ebml("webmx")));
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0x1A, 0x45, 0xDF, 0xA3})));
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0x1A, 0x45, 0xDF, 0xA3, 0x00})));  // invalid size
    // DocType whose declared size runs past the header.
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x88, 'w', 'e', 'b', 'm'})));
    // Header truncated before the DocType.
    std::string full = ebml("webm");
    EXPECT_FALSE(ContentSniffer::sniff(full.substr(0, 10)));
}

TEST(ContentSniffer, RejectsOtherFtypBrands) {
    EXPECT_FALSE(ContentSniffer::sniff(ftyp("qt  ")));
    EXPECT_FALSE(ContentSniffer::sniff(ftyp("heic")));
    EXPECT_FALSE(ContentSniffer::sniff(ftyp("3gp4")));
    EXPECT_FALSE(
        ContentSniffer::sniff(std::string("\0\0\0\x18"
                                          "ftypM4A",
                                          11)));  // too short for a brand
}

TEST(ContentSniffer, RejectsInvalidMpegFrames) {
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0xFF, 0xF1, 0x50, 0x80})));  // AAC ADTS: layer 0
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0xFF, 0xEB, 0x90, 0x64})));  // reserved version
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0xFF, 0xFB, 0xF0, 0x64})));  // bad bitrate index
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0xFF, 0xFB, 0x9C, 0x64})));  // reserved sample rate
    EXPECT_FALSE(ContentSniffer::sniff(bytes({0xFF, 0xFB, 0x90})));        // truncated header
    EXPECT_FALSE(ContentSniffer::sniff(bytes({'I', 'D', '3', 0x04, 0x00, 0x00, 0x80, 0, 0, 0})));
    EXPECT_FALSE(ContentSniffer::sniff(bytes({'I', 'D', '3', 0x09, 0x00, 0x00, 0x00, 0, 0, 0})));
    EXPECT_FALSE(ContentSniffer::sniff("ID3"));
}

TEST(ContentSniffer, RejectsOtherRiffFormats) {
    EXPECT_FALSE(
        ContentSniffer::sniff(std::string("RIFF\x24\x00\x00\x00"
                                          "AVI LIST",
                                          16)));
    EXPECT_FALSE(ContentSniffer::sniff("RIFF\x24\x00"));
}

TEST(ContentSniffer, RejectsMarkupScriptsAndExecutables) {
    EXPECT_FALSE(ContentSniffer::sniff("<!DOCTYPE html><html><script>alert(1)</script>"));
    EXPECT_FALSE(ContentSniffer::sniff("<html>"));
    EXPECT_FALSE(ContentSniffer::sniff("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"));
    EXPECT_FALSE(ContentSniffer::sniff("<svg onload=alert(1)>"));
    EXPECT_FALSE(ContentSniffer::sniff("#!/bin/sh\nrm -rf /\n"));
    EXPECT_FALSE(ContentSniffer::sniff("function f() { return 1; }"));
    EXPECT_FALSE(
        ContentSniffer::sniff(std::string("\x7F"
                                          "ELF\x02\x01\x01\x00",
                                          8)));
    EXPECT_FALSE(ContentSniffer::sniff("MZ\x90\x00"));
    EXPECT_FALSE(ContentSniffer::sniff("%PDF-1.7"));
    EXPECT_FALSE(ContentSniffer::sniff(std::string("PK\x03\x04", 4)));
    EXPECT_FALSE(ContentSniffer::sniff("plain text"));
}

TEST(ContentSniffer, RejectsEmptyAndTruncatedMagic) {
    EXPECT_FALSE(ContentSniffer::sniff(""));
    EXPECT_FALSE(ContentSniffer::sniff(std::string("\x89PNG\r\n\x1A", 7)));
    EXPECT_FALSE(ContentSniffer::sniff("\xFF\xD8"));
    EXPECT_FALSE(ContentSniffer::sniff("GIF89"));
    EXPECT_FALSE(ContentSniffer::sniff("GIF88a"));
    EXPECT_FALSE(ContentSniffer::sniff("Ogg"));
    EXPECT_FALSE(ContentSniffer::sniff("RIFF"));
    EXPECT_FALSE(ContentSniffer::sniff(std::string(1, '\xFF')));
}

TEST(ContentSniffer, LooksAtBytesNotAtTheStartOfAName) {
    // A data URL or file name that merely spells a type is still text.
    EXPECT_FALSE(ContentSniffer::sniff("image.png"));
    EXPECT_FALSE(ContentSniffer::sniff("data:image/png;base64,iVBORw0KGgo="));
}
