#include <gtest/gtest.h>

#include <vector>

#include "ws/FrameHeader.hpp"

using chat::ws::FrameHeader;

namespace {
std::vector<unsigned> bytesOf(const FrameHeader& h) {
    return {h.data(), h.data() + h.size()};
}
}  // namespace

TEST(FrameHeader, ShortPayloadsFitTheSecondByte) {
    EXPECT_EQ(bytesOf(FrameHeader::text(0)), (std::vector<unsigned>{0x81, 0}));
    EXPECT_EQ(bytesOf(FrameHeader::text(125)), (std::vector<unsigned>{0x81, 125}));
}

TEST(FrameHeader, PayloadsUpTo64KiBTakeTwoLengthBytesInNetworkOrder) {
    EXPECT_EQ(bytesOf(FrameHeader::text(126)), (std::vector<unsigned>{0x81, 126, 0x00, 126}));
    EXPECT_EQ(bytesOf(FrameHeader::text(1000)), (std::vector<unsigned>{0x81, 126, 0x03, 0xe8}));
    EXPECT_EQ(bytesOf(FrameHeader::text(65535)), (std::vector<unsigned>{0x81, 126, 0xff, 0xff}));
}

TEST(FrameHeader, LargerPayloadsTakeEightLengthBytes) {
    EXPECT_EQ(bytesOf(FrameHeader::text(65536)), (std::vector<unsigned>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
    EXPECT_EQ(bytesOf(FrameHeader::text(0x0102030405060708ull)),
              (std::vector<unsigned>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(FrameHeader, IsUnmaskedAndFinal) {
    auto h = FrameHeader::text(70000);
    EXPECT_EQ(h.data()[0] & 0x80, 0x80);  // FIN
    EXPECT_EQ(h.data()[1] & 0x80, 0);     // no mask from a server
}

TEST(FrameHeader, ControlFramesCarryTheirOpcode) {
    EXPECT_EQ(bytesOf(FrameHeader::of(FrameHeader::kPing, 0)), (std::vector<unsigned>{0x89, 0}));
    EXPECT_EQ(bytesOf(FrameHeader::of(FrameHeader::kPong, 4)), (std::vector<unsigned>{0x8a, 4}));
    EXPECT_EQ(bytesOf(FrameHeader::of(FrameHeader::kClose, 2)), (std::vector<unsigned>{0x88, 2}));
}
