// The hand-over from a device's catch-up to its live frames: every position once, in order.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ws/StreamSync.hpp"

using chat::hub::SharedFrame;
using chat::ws::StreamSync;
using Live = StreamSync::Live;

namespace {

SharedFrame frame(const std::string& text) {
    return std::make_shared<const std::string>(text);
}

std::vector<std::string> texts(const std::vector<SharedFrame>& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames) out.push_back(*f);
    return out;
}

}  // namespace

TEST(StreamSync, WithoutASyncLiveFramesGoOutAndTheLastPositionFollowsThem) {
    StreamSync s(1024);
    EXPECT_FALSE(s.syncing());
    EXPECT_EQ(s.live(frame("a"), 5, false), Live::Send);
    EXPECT_EQ(s.live(frame("b"), 9, false), Live::Send);
    EXPECT_EQ(s.last(), 9u);
}

TEST(StreamSync, FramesOutsideTheStreamAlwaysGoOutEvenDuringASync) {
    StreamSync s(1024);
    s.begin(0);
    EXPECT_EQ(s.live(frame("error"), 0, false), Live::Send);
    EXPECT_EQ(s.last(), 0u);
}

TEST(StreamSync, LiveFramesWaitWhileTheHistoryIsSentAndOnlyNewerOnesFollowIt) {
    StreamSync s(1024);
    s.begin(10);
    // Live frames released while the history is read: some of them the history holds too.
    EXPECT_EQ(s.live(frame("12"), 12, false), Live::Held);
    EXPECT_EQ(s.live(frame("14"), 14, false), Live::Held);
    EXPECT_EQ(s.live(frame("15"), 15, false), Live::Held);
    s.sent(11);
    s.sent(12);
    s.sent(14);
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(texts(*rest), (std::vector<std::string>{"15"}));
    EXPECT_EQ(s.last(), 15u);
    EXPECT_FALSE(s.syncing());
}

TEST(StreamSync, AnAckIsNeverDroppedEvenWhenTheHistorySentItsMessage) {
    StreamSync s(1024);
    s.begin(0);
    EXPECT_EQ(s.live(frame("ack 3"), 3, true), Live::Held);
    s.sent(3);  // the sender's own message came back from the history
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(texts(*rest), (std::vector<std::string>{"ack 3"}));
    EXPECT_EQ(s.live(frame("late ack"), 3, true), Live::Send);
}

TEST(StreamSync, AfterTheSyncARepeatedPositionIsADuplicate) {
    StreamSync s(1024);
    s.begin(0);
    s.sent(7);
    ASSERT_TRUE(s.finish().has_value());
    EXPECT_EQ(s.live(frame("7 again"), 7, false), Live::Duplicate);
    EXPECT_EQ(s.live(frame("6"), 6, false), Live::Duplicate);
    EXPECT_EQ(s.live(frame("8"), 8, false), Live::Send);
}

TEST(StreamSync, OverflowingTheHoldDropsTheMessagesButKeepsTheAcksAndAsksForAnotherPage) {
    StreamSync s(10);
    s.begin(0);
    EXPECT_EQ(s.live(frame("12345"), 1, false), Live::Held);
    EXPECT_EQ(s.live(frame("ack"), 2, true), Live::Held);
    EXPECT_EQ(s.live(frame("123456"), 3, false), Live::Held);  // over the bound: dropped
    EXPECT_EQ(s.live(frame("4"), 4, false), Live::Held);       // dropped too, until the next page
    EXPECT_FALSE(s.finish().has_value());
    EXPECT_TRUE(s.syncing());
    // The next pages bring 1, 3 and 4 from the history.
    s.sent(1);
    s.sent(3);
    s.sent(4);
    EXPECT_EQ(s.live(frame("5"), 5, false), Live::Held);
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(texts(*rest), (std::vector<std::string>{"ack", "5"}));
}

TEST(StreamSync, AHoleGivenUpDuringTheSyncMakesItPageOnInsteadOfHandingOverWhatLiesBeyond) {
    StreamSync s(1024);
    s.begin(0);
    s.sent(1);
    s.reachedEnd(2);  // the last page read the end at 2; position 3 was still missing then
    EXPECT_EQ(s.live(frame("ack"), 4, true), Live::Held);
    EXPECT_EQ(s.live(frame("5"), 5, false), Live::Held);
    s.pageOn();  // 3 given up by the stream: 4 and 5 came past it
    EXPECT_FALSE(s.finish().has_value());
    EXPECT_TRUE(s.syncing());
    // The next page reads the history on from 2: 3 (if it was stored) and 5.
    s.sent(3);
    s.sent(5);
    s.reachedEnd(5);
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(texts(*rest), (std::vector<std::string>{"ack"}));
    EXPECT_EQ(s.last(), 5u);
}

TEST(StreamSync, PagingOnOutsideASyncChangesNothing) {
    StreamSync s(1024);
    s.pageOn();
    EXPECT_FALSE(s.syncing());
    EXPECT_EQ(s.live(frame("a"), 1, false), Live::Send);
}

TEST(StreamSync, TheEndOfTheHistoryTakesABogusPositionBackSoItHidesNoNewFrames) {
    StreamSync s(1024);
    s.begin(1000000);  // a position from another database, or made up
    s.reachedEnd(40);
    EXPECT_EQ(s.live(frame("41"), 41, false), Live::Held);
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(texts(*rest), (std::vector<std::string>{"41"}));
}

TEST(StreamSync, TheEndOfTheHistoryNeverTakesBackWhatTheSyncSent) {
    // The stream's end was read before the history: the history may hold later positions.
    StreamSync s(1024);
    s.begin(10);
    EXPECT_EQ(s.live(frame("12"), 12, false), Live::Held);
    s.sent(11);
    s.sent(12);
    s.reachedEnd(11);
    EXPECT_EQ(s.last(), 12u);
    auto rest = s.finish();
    ASSERT_TRUE(rest.has_value());
    EXPECT_TRUE(rest->empty());
}

TEST(StreamSync, ADeviceWithNothingInItsStreamStillHoldsTheStreamsEndAfterASync) {
    // So its next connection asks for what came after that, not for "no position".
    StreamSync s(1024);
    s.begin(0);
    s.reachedEnd(50);
    ASSERT_TRUE(s.finish().has_value());
    EXPECT_EQ(s.last(), 50u);
}
