// What a client may send (RFC 6455, section 5) and what the server makes of it: masked frames
// in any pieces, fragmented messages with control frames between the fragments, and every
// breach answered with the close code the RFC names.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/FrameReader.hpp"

using chat::ws::FrameReader;
using Event = FrameReader::Event;

namespace {

// A client's frame: masked with a fixed key, the length in the fewest bytes unless told.
std::string frame(unsigned char opcode, const std::string& payload, bool fin = true, int lengthBytes = 0) {
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0) | opcode);
    const auto n = payload.size();
    if (lengthBytes == 0) lengthBytes = n < 126 ? 1 : n <= 0xffff ? 2 : 8;
    if (lengthBytes == 1) {
        out += static_cast<char>(0x80 | n);
    } else {
        out += static_cast<char>(0x80 | (lengthBytes == 2 ? 126 : 127));
        for (int i = lengthBytes - 1; i >= 0; --i)
            out += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
    }
    const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    out.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < n; ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
    return out;
}

std::string closePayload(std::uint16_t code, const std::string& reason = "") {
    return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)} + reason;
}

struct Seen {
    Event event;
    std::string data;
};

// Feeds `bytes` in pieces of `piece` bytes and collects every event with its data.
std::vector<Seen> read(FrameReader& r, const std::string& bytes, std::size_t piece = 1 << 20) {
    std::vector<Seen> seen;
    for (std::size_t at = 0; at < bytes.size();) {
        std::string_view chunk(bytes.data() + at, std::min(piece, bytes.size() - at));
        auto [event, taken] = r.feed(chunk);
        at += taken;
        if (event == Event::None) continue;
        std::string data = event == Event::Text || event == Event::Binary ? r.message()
                           : event == Event::Close || event == Event::Failed
                               ? std::to_string(r.closeCode()) + " " + r.closeReason()
                               : std::string(r.control());
        seen.push_back({event, data});
        if (event == Event::Failed) break;
        r.release();
    }
    return seen;
}

FrameReader reader() {
    return FrameReader(1000, 16000);
}

}  // namespace

TEST(FrameReader, UnmasksATextMessageWhateverPiecesItArrivesIn) {
    const std::string text = "{\"cmd\":10,\"content\":\"héllo\"}";
    for (std::size_t piece : {1, 2, 3, 7, 1000}) {
        auto r = reader();
        auto seen = read(r, frame(0x1, text) + frame(0x1, "second"), piece);
        ASSERT_EQ(seen.size(), 2u) << "pieces of " << piece;
        EXPECT_EQ(seen[0].event, Event::Text);
        EXPECT_EQ(seen[0].data, text);
        EXPECT_EQ(seen[1].data, "second");
    }
}

TEST(FrameReader, ReadsEveryLengthEncoding) {
    for (std::size_t n : {0, 125, 126, 999}) {
        auto r = FrameReader(100000, 200000);
        auto seen = read(r, frame(0x1, std::string(n, 'a')));
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].data.size(), n);
    }
    auto r = FrameReader(100000, 200000);
    auto seen = read(r, frame(0x2, std::string(70000, 'b')), 4096);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].event, Event::Binary);
    EXPECT_EQ(seen[0].data, std::string(70000, 'b'));
}

TEST(FrameReader, JoinsFragmentsAndReportsControlFramesBetweenThem) {
    auto r = reader();
    auto seen = read(r, frame(0x1, "hel", false) + frame(0x9, "are you there") + frame(0x0, "lo ", false) +
                            frame(0xa, "") + frame(0x0, "world"));
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].event, Event::Ping);
    EXPECT_EQ(seen[0].data, "are you there");
    EXPECT_EQ(seen[1].event, Event::Pong);
    EXPECT_EQ(seen[2].event, Event::Text);
    EXPECT_EQ(seen[2].data, "hello world");
}

TEST(FrameReader, SkipsAMessageAboveTheLimitAndReadsOn) {
    auto r = reader();
    auto seen =
        read(r, frame(0x1, std::string(600, 'x'), false) + frame(0x0, std::string(600, 'y')) + frame(0x1, "next"), 100);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].event, Event::TooLarge);
    EXPECT_EQ(seen[1].event, Event::Text);
    EXPECT_EQ(seen[1].data, "next");
}

TEST(FrameReader, FailsWith1009AboveTheHardCap) {
    auto r = reader();
    auto seen = read(r, frame(0x1, std::string(9000, 'x'), false) + frame(0x0, std::string(9000, 'x')));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].event, Event::Failed);
    EXPECT_EQ(seen[0].data, "1009 message too big");
}

TEST(FrameReader, ReadsCloseFrames) {
    auto r = reader();
    auto seen = read(r, frame(0x8, closePayload(1000, "bye")));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].event, Event::Close);
    EXPECT_EQ(seen[0].data, "1000 bye");
    auto empty = reader();
    seen = read(empty, frame(0x8, ""));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].data, "1005 ");
}

// Each breach of section 5 fails the connection with the code section 7.4 names.
TEST(FrameReader, FailsEveryBreachOfTheProtocol) {
    std::string unmasked = frame(0x1, "hi");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7f);
    std::string reserved = frame(0x1, "hi");
    reserved[0] = static_cast<char>(reserved[0] | 0x40);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {unmasked, "1002 unmasked frame"},
        {reserved, "1002 reserved bits set"},
        {frame(0x3, "x"), "1002 unknown opcode"},
        {frame(0xb, "x"), "1002 unknown opcode"},
        {frame(0x9, std::string(126, 'p')), "1002 bad control frame"},
        {frame(0x9, "p", false), "1002 bad control frame"},
        {frame(0x0, "x"), "1002 continuation of nothing"},
        {frame(0x1, "a", false) + frame(0x1, "b"), "1002 message inside a message"},
        {frame(0x1, "short", true, 2), "1002 badly encoded length"},
        {frame(0x1, std::string(200, 'l'), true, 8), "1002 badly encoded length"},
        {frame(0x8, "x"), "1002 bad close frame"},
        {frame(0x8, closePayload(1005)), "1002 bad close code"},
        {frame(0x8, closePayload(999)), "1002 bad close code"},
        {frame(0x8, closePayload(1000, "\xff")), "1007 invalid UTF-8"},
        {frame(0x1, "caf\xc3"), "1007 invalid UTF-8"},
    };
    for (const auto& [bytes, expected] : cases) {
        auto r = reader();
        auto seen = read(r, bytes + frame(0x1, "after"));
        ASSERT_EQ(seen.size(), 1u) << expected;
        EXPECT_EQ(seen[0].event, Event::Failed) << expected;
        EXPECT_EQ(seen[0].data, expected);
        EXPECT_EQ(r.feed(frame(0x1, "more")).first, Event::Failed) << "a failed reader stays failed";
    }
}

TEST(FrameReader, TextMustBeUtf8ButMayBeSplitAnywhere) {
    const std::string snail = "\xf0\x9f\x90\x8c";  // one code point, four bytes
    auto r = reader();
    auto seen = read(r, frame(0x1, snail.substr(0, 1), false) + frame(0x0, snail.substr(1)));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].data, snail);
}
