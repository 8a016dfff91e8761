#include <gtest/gtest.h>

#include "proto/IdList.hpp"

using chat::proto::IdList;

TEST(IdList, RoundTripsIdsAsEightBigEndianBytesEach) {
    std::vector<std::int64_t> ids{1, 0x0102030405060708, (std::int64_t{1} << 53) - 1};
    auto bytes = IdList::encode(ids);
    ASSERT_EQ(bytes.size(), 24u);
    EXPECT_EQ(bytes.substr(8, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    EXPECT_EQ(IdList::decode(bytes), ids);
    EXPECT_EQ(IdList::decode(""), std::vector<std::int64_t>{});
}

TEST(IdList, RefusesPartialIdsNonPositiveIdsAndTooMany) {
    EXPECT_FALSE(IdList::decode(std::string(7, '\x01')).has_value());
    EXPECT_FALSE(IdList::decode(std::string(8, '\0')).has_value());
    EXPECT_FALSE(IdList::decode(std::string(8, '\xff')).has_value());  // negative
    std::vector<std::int64_t> many(IdList::kMaxIds + 1, 5);
    EXPECT_FALSE(IdList::decode(IdList::encode(many)).has_value());
    many.pop_back();
    EXPECT_TRUE(IdList::decode(IdList::encode(many)).has_value());
}
