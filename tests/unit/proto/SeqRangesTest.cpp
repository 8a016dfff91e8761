#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/SeqRanges.hpp"

using chat::proto::SeqRange;
using chat::proto::SeqRanges;

namespace {

std::vector<SeqRange> many(std::size_t n) {
    std::vector<SeqRange> out;
    for (std::uint64_t i = 0; i < n; ++i) out.push_back({10 * i + 1, 10 * i + 5});
    return out;
}

}  // namespace

TEST(SeqRanges, RoundTripsRanges) {
    const std::vector<SeqRange> ranges{{1, 1}, {3, 7}, {1000, 1000000}, {UINT64_MAX - 1, UINT64_MAX}};
    auto decoded = SeqRanges::decode(SeqRanges::encode(ranges));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, ranges);
}

TEST(SeqRanges, EncodesEachRangeAsTwoBigEndian64BitSeqs) {
    auto bytes = SeqRanges::encode({{0x0102030405060708, 0x1112131415161718}});
    const std::string expected("\x01\x02\x03\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18", 16);
    EXPECT_EQ(bytes, expected);
}

TEST(SeqRanges, AnEmptyPayloadIsNoRanges) {
    EXPECT_EQ(SeqRanges::encode({}), "");
    auto decoded = SeqRanges::decode("");
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->empty());
}

TEST(SeqRanges, RefusesAPayloadThatIsNotWholeRanges) {
    auto bytes = SeqRanges::encode({{1, 2}, {4, 9}});
    for (std::size_t n : {1u, 8u, 15u, 17u, 31u}) EXPECT_FALSE(SeqRanges::decode(bytes.substr(0, n))) << n;
    EXPECT_FALSE(SeqRanges::decode(bytes + "x"));
}

TEST(SeqRanges, RefusesSeqZeroWhichNoStreamUses) {
    EXPECT_FALSE(SeqRanges::decode(SeqRanges::encode({{0, 5}})));
    EXPECT_FALSE(SeqRanges::decode(SeqRanges::encode({{1, 2}, {0, 0}})));
}

TEST(SeqRanges, RefusesARangeThatEndsBeforeItStarts) {
    EXPECT_FALSE(SeqRanges::decode(SeqRanges::encode({{5, 4}})));
    EXPECT_FALSE(SeqRanges::decode(SeqRanges::encode({{1, 1}, {UINT64_MAX, 1}})));
}

TEST(SeqRanges, DecodesAtMost64Ranges) {
    ASSERT_EQ(SeqRanges::kMaxRanges, 64u);
    auto decoded = SeqRanges::decode(SeqRanges::encode(many(64)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->size(), 64u);
    std::string tooMany = SeqRanges::encode(many(64)) + SeqRanges::encode({{9999, 9999}});
    ASSERT_EQ(tooMany.size(), 65u * 16);
    EXPECT_FALSE(SeqRanges::decode(tooMany));
}

TEST(SeqRanges, EncodesOnlyTheFirst64RangesSoTheResultAlwaysDecodes) {
    auto ranges = many(100);
    auto bytes = SeqRanges::encode(ranges);
    EXPECT_EQ(bytes.size(), 64u * 16);
    auto decoded = SeqRanges::decode(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, std::vector<SeqRange>(ranges.begin(), ranges.begin() + 64));
}
