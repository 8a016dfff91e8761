#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ChatPack.hpp"

using chat::proto::ChatPack;
using chat::proto::PackedChat;
using chat::proto::TargetKind;

namespace {

std::string packOf(std::initializer_list<PackedChat> chats) {
    std::string payload;
    for (const auto& c : chats) ChatPack::append(payload, c);
    return payload;
}

// The entries forEach visits, or nullopt when it refuses the payload (having visited none).
std::optional<std::vector<PackedChat>> decoded(std::string_view payload) {
    std::vector<PackedChat> chats;
    bool whole = ChatPack::forEach(payload, [&chats](const PackedChat& c) { chats.push_back(c); });
    if (!whole) {
        EXPECT_TRUE(chats.empty()) << "a refused pack visited an entry";
        EXPECT_FALSE(ChatPack::valid(payload));
        return std::nullopt;
    }
    EXPECT_TRUE(ChatPack::valid(payload));
    return chats;
}

const PackedChat kToBob{TargetKind::User, 2, 1, 41, R"({"content":"hi","pos":41})"};
const PackedChat kToRoom{TargetKind::Group, 100, 3, 42, R"({"content":"all","pos":42})"};

}  // namespace

TEST(ChatPack, EntriesComeBackInTheirOrderWithEveryField) {
    auto payload = packOf({kToBob, kToRoom});
    EXPECT_EQ(payload.size(), ChatPack::entrySize(kToBob.frame.size()) + ChatPack::entrySize(kToRoom.frame.size()));
    auto chats = decoded(payload).value();
    ASSERT_EQ(chats.size(), 2u);
    EXPECT_EQ(chats[0].targetKind, TargetKind::User);
    EXPECT_EQ(chats[0].target, 2);
    EXPECT_EQ(chats[0].sender, 1);
    EXPECT_EQ(chats[0].pos, 41u);
    EXPECT_EQ(chats[0].frame, kToBob.frame);
    EXPECT_EQ(chats[1].targetKind, TargetKind::Group);
    EXPECT_EQ(chats[1].target, 100);
    EXPECT_EQ(chats[1].pos, 42u);
    EXPECT_EQ(chats[1].frame, kToRoom.frame);
}

TEST(ChatPack, FieldsAreBigEndianAtTheirDocumentedOffsets) {
    auto payload = packOf({{TargetKind::Group, 0x0102, 0x0304, 0x0506, "{}"}});
    ASSERT_EQ(payload.size(), ChatPack::kEntryOverhead + 2);
    EXPECT_EQ(payload[0], 2);
    EXPECT_EQ(payload.substr(1, 8), std::string("\0\0\0\0\0\0\x01\x02", 8));
    EXPECT_EQ(payload.substr(9, 8), std::string("\0\0\0\0\0\0\x03\x04", 8));
    EXPECT_EQ(payload.substr(17, 8), std::string("\0\0\0\0\0\0\x05\x06", 8));
    EXPECT_EQ(payload.substr(25, 4), std::string("\0\0\0\x02", 4));
    EXPECT_EQ(payload.substr(29), "{}");
}

TEST(ChatPack, APayloadThatIsNotAWholeSequenceOfEntriesIsRefused) {
    auto whole = packOf({kToBob, kToRoom});
    EXPECT_FALSE(decoded("").has_value()) << "empty";
    EXPECT_FALSE(decoded(whole.substr(0, whole.size() - 1)).has_value()) << "last frame cut";
    EXPECT_FALSE(decoded(whole + std::string(10, '\0')).has_value()) << "a partial header after the last";
    EXPECT_FALSE(decoded(whole.substr(0, ChatPack::kEntryOverhead - 1)).has_value()) << "a partial header";
}

TEST(ChatPack, AMalformedEntryAfterGoodOnesRefusesThePackBeforeVisitingAny) {
    auto payload = packOf({kToBob, kToRoom, {TargetKind::User, 2, 1, 0, "{}"}});
    int visited = 0;
    EXPECT_FALSE(ChatPack::forEach(payload, [&visited](const PackedChat&) { ++visited; }));
    EXPECT_EQ(visited, 0) << "a pack is taken whole or not at all";
}

TEST(ChatPack, AnEntryWithoutATargetKindPositionOrFrameIsRefused) {
    EXPECT_FALSE(decoded(packOf({{TargetKind::None, 2, 1, 41, "{}"}})).has_value());
    EXPECT_FALSE(decoded(packOf({{static_cast<TargetKind>(7), 2, 1, 41, "{}"}})).has_value());
    EXPECT_FALSE(decoded(packOf({kToBob, {TargetKind::User, 2, 1, 0, "{}"}})).has_value());
    EXPECT_FALSE(decoded(packOf({{TargetKind::User, 2, 1, 41, ""}})).has_value());
}

TEST(ChatPack, AFrameLengthPastTheEndIsRefusedWithoutReadingBeyondThePayload) {
    auto payload = packOf({kToBob});
    payload[25] = '\x7f';  // length's top byte: ~2 GB
    EXPECT_FALSE(decoded(payload).has_value());
}
