// FrameSource: a delivery's frame, borrowed from the datagram until someone receives it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "hub/FrameSource.hpp"

using chat::hub::FrameSource;

TEST(FrameSourceTest, BorrowedBytesAreCopiedOnceWhenFirstHandedOut) {
    std::string datagram = "frame";
    FrameSource source{std::string_view(datagram)};
    const auto& shared = source.get();
    ASSERT_TRUE(shared);
    EXPECT_EQ(*shared, "frame");
    EXPECT_NE(shared->data(), datagram.data()) << "the copy outlives the datagram";
    EXPECT_EQ(source.get().get(), shared.get()) << "every recipient shares the one copy";
}

TEST(FrameSourceTest, ASharedFrameIsHandedOutAsItIs) {
    auto frame = std::make_shared<const std::string>("frame");
    FrameSource source{frame};
    EXPECT_EQ(source.get().get(), frame.get());
}
