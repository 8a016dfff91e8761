// A connection's send queue: first in, first out, and bounded by what it holds, even when it
// never runs empty.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ws/FrameQueue.hpp"

using chat::ws::FrameQueue;

namespace {

chat::hub::SharedFrame frame(int i) {
    return std::make_shared<const std::string>(std::to_string(i));
}

}  // namespace

TEST(FrameQueue, GivesFramesBackInTheOrderTheyCame) {
    FrameQueue q;
    for (int i = 0; i < 5; ++i) q.push(frame(i));
    EXPECT_EQ(q.size(), 5u);
    EXPECT_EQ(*q.at(3), "3");
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(*q.front(), std::to_string(i));
        q.pop();
    }
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.slots(), 0u);
}

TEST(FrameQueue, AQueueThatNeverDrainsStaysBoundedByWhatItHolds) {
    FrameQueue q;
    q.push(frame(0));
    q.push(frame(1));
    for (int i = 2; i < 100'000; ++i) {
        q.push(frame(i));
        EXPECT_EQ(*q.front(), std::to_string(i - 2));
        q.pop();
        ASSERT_LE(q.slots(), 600u) << "after " << i << " frames";
    }
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(*q.front(), "99998");
    EXPECT_EQ(*q.at(1), "99999");
}
