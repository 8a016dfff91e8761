// StreamOrderer: messages from every node leave in stream-position order, once; holes are
// fetched from the history after holeWait and given up after holeTimeout.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/StreamOrderer.hpp"

namespace chat::hub {
namespace {

using namespace std::chrono_literals;
using Clock = StreamOrderer::Clock;

class StreamOrdererTest : public ::testing::Test {
protected:
    StreamOrdererTest()
        : orderer_(
              {.maxHeld = 8, .holeWait = 100ms, .holeTimeout = 1000ms, .maxFetch = 100},
              [this](const Positioned& p) { released_.push_back(p.pos); },
              [this](std::uint64_t first, std::uint64_t last) {
                  fetches_.push_back({first, last});
              },
              [this](std::uint64_t n) { givenUp_ += n; }) {}

    static Positioned at(std::uint64_t pos) {
        Positioned p;
        p.pos = pos;
        p.frame = std::make_shared<const std::string>("m" + std::to_string(pos));
        return p;
    }

    StreamOrderer orderer_;
    std::vector<std::uint64_t> released_;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> fetches_;
    std::uint64_t givenUp_ = 0;
    const Clock::time_point t0_ = Clock::now();
};

TEST_F(StreamOrdererTest, ReleasesInOrderAfterTheAnchor) {
    orderer_.anchor(10);
    for (std::uint64_t p = 11; p <= 14; ++p) orderer_.submit(at(p));
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{11, 12, 13, 14}));
    EXPECT_EQ(orderer_.next(), 15u);
}

TEST_F(StreamOrdererTest, HoldsEverythingUntilAnchoredAndDropsWhatIsHistory) {
    orderer_.submit(at(9));
    orderer_.submit(at(12));
    orderer_.submit(at(11));
    EXPECT_TRUE(released_.empty());
    orderer_.anchor(10);
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{11, 12}));
}

// A frame borrowed from the datagram being received is released from it when its turn has
// come; one that must wait for an earlier position is copied first.
TEST(StreamOrdererFramesTest, ABorrowedFrameThatMustWaitIsKeptAndOneReleasedAtOnceStaysBorrowed) {
    std::vector<std::string> frames;
    std::vector<bool> borrowed;
    StreamOrderer orderer(
        {},
        [&](const Positioned& p) {
            frames.push_back(*p.frameSource().get());
            borrowed.push_back(p.borrowedFrame.has_value());
        },
        [](std::uint64_t, std::uint64_t) {}, [](std::uint64_t) {});
    orderer.anchor(0);
    std::string datagram = "second";
    Positioned second;
    second.pos = 2;
    second.borrowedFrame = datagram;
    orderer.submit(second);
    datagram = "reused";  // the receive buffer takes the next datagram
    std::string next = "first";
    Positioned first;
    first.pos = 1;
    first.borrowedFrame = next;
    orderer.submit(first);
    EXPECT_EQ(frames, (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(borrowed, (std::vector<bool>{true, false}));
}

TEST_F(StreamOrdererTest, PutsReorderedPositionsBackInOrder) {
    orderer_.anchor(0);
    for (std::uint64_t p : {3, 1, 5, 2, 4}) orderer_.submit(at(p));
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
}

TEST_F(StreamOrdererTest, ReleasesADuplicateOnce) {
    orderer_.anchor(0);
    for (std::uint64_t p : {1, 1, 3, 3, 2, 2, 1}) orderer_.submit(at(p));
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST_F(StreamOrdererTest, FetchesAHoleFromTheHistoryOnlyAfterHoleWait) {
    orderer_.anchor(0);
    orderer_.submit(at(1));
    orderer_.submit(at(4));
    orderer_.tick(t0_);
    orderer_.tick(t0_ + 50ms);
    EXPECT_TRUE(fetches_.empty());
    orderer_.tick(t0_ + 100ms);
    ASSERT_EQ(fetches_.size(), 1u);
    EXPECT_EQ(fetches_[0], (std::pair<std::uint64_t, std::uint64_t>{2, 3}));
    orderer_.tick(t0_ + 150ms);  // one fetch at a time
    EXPECT_EQ(fetches_.size(), 1u);
    orderer_.fill(2, 3, {at(3), at(2)}, true);
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST_F(StreamOrdererTest, AFailedFetchIsAskedAgain) {
    orderer_.anchor(0);
    orderer_.submit(at(2));
    orderer_.tick(t0_);
    orderer_.tick(t0_ + 100ms);
    orderer_.fill(1, 1, {}, false);
    orderer_.tick(t0_ + 200ms);
    EXPECT_EQ(fetches_.size(), 2u);
    EXPECT_TRUE(released_.empty());
}

TEST_F(StreamOrdererTest, PositionsTheHistoryNoLongerHasAreSkippedWithoutDelivery) {
    orderer_.anchor(0);
    orderer_.submit(at(3));
    orderer_.tick(t0_);
    orderer_.tick(t0_ + 100ms);
    orderer_.fill(1, 2, {at(2)}, true);  // 1 was removed by retention
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(givenUp_, 0u);
}

TEST_F(StreamOrdererTest, AHoleThatNeverFillsIsGivenUpAndReported) {
    orderer_.anchor(0);
    orderer_.submit(at(5));
    orderer_.tick(t0_);
    orderer_.tick(t0_ + 1000ms);
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{5}));
    EXPECT_EQ(givenUp_, 4u);
    orderer_.submit(at(2));  // arrives too late: never released out of order
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{5}));
}

TEST_F(StreamOrdererTest, HoldsABoundedNumberOfPositions) {
    orderer_.anchor(0);
    for (std::uint64_t p = 2; p <= 20; ++p) orderer_.submit(at(p));
    EXPECT_LE(orderer_.held(), 8u);
    EXPECT_EQ(released_.front(), 2u);
    EXPECT_EQ(givenUp_, 1u);
    for (std::size_t i = 1; i < released_.size(); ++i) EXPECT_EQ(released_[i], released_[i - 1] + 1);
}

TEST_F(StreamOrdererTest, KeepsTheCopyThatCarriesTheSendersAck) {
    std::vector<bool> acked;
    StreamOrderer orderer(
        {}, [&](const Positioned& p) { acked.push_back(p.ack != nullptr); }, [](std::uint64_t, std::uint64_t) {},
        [](std::uint64_t) {});
    orderer.anchor(0);
    orderer.submit(at(2));
    auto own = at(2);
    own.ack = std::make_shared<const std::string>("ack");
    orderer.submit(own);
    orderer.submit(at(1));
    EXPECT_EQ(acked, (std::vector<bool>{false, true}));
}

TEST_F(StreamOrdererTest, PositionsTheHistoryHoldsButTheBusNeverBroughtAreFetchedToo) {
    // A node cut off from the bus learns of them only from the history's latest position.
    orderer_.anchor(10);
    orderer_.tick(t0_);
    EXPECT_TRUE(fetches_.empty());
    orderer_.noteCommitted(13);
    orderer_.tick(t0_ + 10ms);
    orderer_.tick(t0_ + 120ms);
    ASSERT_EQ(fetches_.size(), 1u);
    EXPECT_EQ(fetches_[0], (std::pair<std::uint64_t, std::uint64_t>{11, 13}));
    orderer_.fill(11, 13, {at(11), at(12), at(13)}, true);
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{11, 12, 13}));
    orderer_.tick(t0_ + 500ms);
    EXPECT_EQ(fetches_.size(), 1u);  // no hole left
}

TEST_F(StreamOrdererTest, ACommittedPositionThatArrivesInTimeIsNeverFetched) {
    orderer_.anchor(10);
    orderer_.noteCommitted(11);  // read while its datagram was on the way
    orderer_.tick(t0_);
    orderer_.submit(at(11));
    orderer_.tick(t0_ + 500ms);
    EXPECT_TRUE(fetches_.empty());
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{11}));
}

TEST_F(StreamOrdererTest, AnUnfillableHoleAtTheStreamsEndIsGivenUpToo) {
    orderer_.anchor(10);
    orderer_.noteCommitted(12);
    orderer_.tick(t0_);
    orderer_.tick(t0_ + 1100ms);
    EXPECT_EQ(givenUp_, 2u);
    EXPECT_EQ(orderer_.next(), 13u);
    orderer_.submit(at(13));
    EXPECT_EQ(released_, (std::vector<std::uint64_t>{13}));
}

}  // namespace
}  // namespace chat::hub
