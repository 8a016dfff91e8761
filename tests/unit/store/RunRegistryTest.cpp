// The run numbers of node starts against a real MariaDB (CHAT_TEST_MYSQL) with
// src/store/schema.sql applied. Each test numbers node ids of its own, so reruns do not collide.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>

#include "StoreTestSupport.hpp"
#include "store/RunRegistry.hpp"

namespace chat::store {
namespace {

class RunRegistryTest : public test::ConnectedTest {
protected:
    // Far above any node id a test cluster uses.
    static std::uint32_t unusedNodeId() {
        static thread_local std::mt19937 random{std::random_device{}()};
        return std::uniform_int_distribution<std::uint32_t>(1'000'000, 4'000'000'000u)(random);
    }

    RunRegistry registry() { return RunRegistry(db()); }
};

TEST_F(RunRegistryTest, NumbersAStartByTheClockWhileTheClockMovesOn) {
    const auto node = unusedNodeId();
    EXPECT_EQ(registry().next(node, 1'000'000), 1'000'000u);
    EXPECT_EQ(registry().next(node, 7'000'000), 7'000'000u);
}

TEST_F(RunRegistryTest, OutnumbersTheLastStartWhenTheClockWasSetBack) {
    const auto node = unusedNodeId();
    ASSERT_EQ(registry().next(node, 5'000'000), 5'000'000u);
    EXPECT_EQ(registry().next(node, 4'000'000), 5'000'001u);
    EXPECT_EQ(registry().next(node, 5'000'001), 5'000'002u) << "the same reading twice still outnumbers";
    EXPECT_EQ(registry().next(node, 9'000'000), 9'000'000u) << "and the clock takes over once it is ahead";
}

TEST_F(RunRegistryTest, NumbersEachNodeOnItsOwn) {
    const auto a = unusedNodeId();
    const auto b = a + 1;
    ASSERT_EQ(registry().next(a, 8'000'000), 8'000'000u);
    EXPECT_EQ(registry().next(b, 3'000'000), 3'000'000u) << "a's later start holds b back in nothing";
}

}  // namespace
}  // namespace chat::store
