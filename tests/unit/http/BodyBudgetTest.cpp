// The node's budget of request bodies held at once: shares are taken before a body is read
// and given back when their request is answered; what does not fit is refused, not queued.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "http/BodyBudget.hpp"

using chat::http::BodyBudget;

TEST(BodyBudget, GivesSharesUntilTheBudgetIsTakenThenRefuses) {
    BodyBudget budget(100);
    auto a = budget.take(60);
    auto b = budget.take(40);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(budget.inUse(), 100u);
    EXPECT_FALSE(budget.take(1).has_value());
}

TEST(BodyBudget, AShareGivesItsBytesBackWhenItEnds) {
    BodyBudget budget(100);
    {
        auto a = budget.take(80);
        ASSERT_TRUE(a);
        EXPECT_FALSE(budget.take(30).has_value());
    }
    EXPECT_EQ(budget.inUse(), 0u);
    EXPECT_TRUE(budget.take(30).has_value());
}

TEST(BodyBudget, AMovedShareIsGivenBackOnce) {
    BodyBudget budget(100);
    {
        auto a = budget.take(50);
        ASSERT_TRUE(a);
        std::optional<BodyBudget::Share> moved(std::move(*a));
        a.reset();
        EXPECT_EQ(budget.inUse(), 50u);
    }
    EXPECT_EQ(budget.inUse(), 0u);
}

TEST(BodyBudget, ItsGaugeFollowsTheBytesTaken) {
    chat::metrics::Gauge held{0};
    BodyBudget budget(100, &held);
    {
        auto a = budget.take(30);
        auto b = budget.take(50);
        EXPECT_EQ(held.load(), 80);
        EXPECT_FALSE(budget.take(30).has_value());
        EXPECT_EQ(held.load(), 80) << "a refusal takes nothing";
    }
    EXPECT_EQ(held.load(), 0);
}

TEST(BodyBudget, ABodyLargerThanTheWholeBudgetGoesAloneRatherThanNever) {
    BodyBudget budget(100);
    auto big = budget.take(1000);
    ASSERT_TRUE(big);
    EXPECT_EQ(budget.inUse(), 100u);
    EXPECT_FALSE(budget.take(1).has_value());
}

TEST(BodyBudget, ConcurrentTakersNeverOverdrawIt) {
    BodyBudget budget(1000);
    std::atomic<int> granted{0};
    std::vector<std::optional<BodyBudget::Share>> kept(8 * 100);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i)
                if ((kept[t * 100 + i] = budget.take(7))) ++granted;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(granted.load(), 1000 / 7);
    EXPECT_EQ(budget.inUse(), 1000u / 7 * 7);
}
