#include <gtest/gtest.h>

#include "hub/KnownUsers.hpp"

using chat::hub::KnownUsers;

TEST(KnownUsers, KnowsNobodyAtFirst) {
    KnownUsers known;
    EXPECT_FALSE(known.contains(1));
}

TEST(KnownUsers, RemembersAddedUsersOnly) {
    KnownUsers known;
    known.add(1);
    known.add(42);
    EXPECT_TRUE(known.contains(1));
    EXPECT_TRUE(known.contains(42));
    EXPECT_FALSE(known.contains(2));
}

TEST(KnownUsers, AddingTwiceTakesOneSlot) {
    KnownUsers known(2);
    known.add(1);
    known.add(1);
    known.add(2);
    EXPECT_TRUE(known.contains(1));
    EXPECT_TRUE(known.contains(2));
}

TEST(KnownUsers, ForgetsEverythingWhenFullAndKeepsTheNewcomer) {
    KnownUsers known(2);
    known.add(1);
    known.add(2);
    known.add(3);
    EXPECT_FALSE(known.contains(1));
    EXPECT_FALSE(known.contains(2));
    EXPECT_TRUE(known.contains(3));
}
