#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "proto/IdGenerator.hpp"

using chat::proto::IdGenerator;

namespace {

constexpr std::int64_t kJune2025 = 1750000000000;  // a fixed wall-clock time, ms since 1970
constexpr std::int64_t kJan2058 = 2777068800000;   // 2058-01-01T00:00:00Z
constexpr std::int64_t k2Pow53 = std::int64_t{1} << 53;

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

TEST(IdGenerator, IssuesStrictlyIncreasingIds) {
    IdGenerator gen(1);
    std::int64_t last = gen.next();
    for (int i = 0; i < 10000; ++i) {
        auto id = gen.next();
        ASSERT_GT(id, last);
        last = id;
    }
}

TEST(IdGenerator, IdsOfTwoNodesNeverCollideAndNameTheirNode) {
    IdGenerator a(1), b(2);
    std::set<std::int64_t> ids;
    for (int i = 0; i < 1000; ++i) {
        auto t = kJune2025 + i / 300;  // several ids per millisecond on both nodes
        auto x = a.nextAt(t), y = b.nextAt(t);
        EXPECT_EQ(IdGenerator::nodeOf(x), 1u);
        EXPECT_EQ(IdGenerator::nodeOf(y), 2u);
        ids.insert(x);
        ids.insert(y);
    }
    EXPECT_EQ(ids.size(), 2000u);
}

TEST(IdGenerator, NodeOfRecoversTheSmallestAndLargestNodeId) {
    EXPECT_EQ(IdGenerator::nodeOf(IdGenerator(0).nextAt(kJune2025)), 0u);
    EXPECT_EQ(IdGenerator::nodeOf(IdGenerator(63).nextAt(kJune2025)), 63u);
}

TEST(IdGenerator, RefusesANodeIdAbove63) {
    EXPECT_THROW(IdGenerator(64), std::invalid_argument);
    EXPECT_THROW(IdGenerator(1000), std::invalid_argument);
    EXPECT_NO_THROW(IdGenerator(IdGenerator::kMaxNodeId));
}

TEST(IdGenerator, StaysBelow2Pow53UntilTheYear2058) {
    IdGenerator gen(63);  // the largest node id gives the largest ids
    for (int i = 0; i < 200; ++i) {
        auto id = gen.nextAt(kJan2058);
        ASSERT_GT(id, 0);
        ASSERT_LT(id, k2Pow53);
    }
    // The last millisecond the 40-bit clock holds, with the last sequence number.
    IdGenerator last(63);
    auto lastMs = IdGenerator::kEpochMs + (std::int64_t{1} << 40) - 1;
    std::int64_t id = 0;
    for (int i = 0; i < 128; ++i) id = last.nextAt(lastMs);
    EXPECT_EQ(id, k2Pow53 - 1);
}

TEST(IdGenerator, UnixMsOfRecoversTheTime) {
    IdGenerator gen(5);
    EXPECT_EQ(IdGenerator::unixMsOf(gen.nextAt(kJune2025)), kJune2025);
    EXPECT_EQ(IdGenerator::unixMsOf(gen.nextAt(kJune2025 + 1234)), kJune2025 + 1234);
    auto before = nowMs();
    auto id = gen.next();
    auto after = nowMs();
    EXPECT_GE(IdGenerator::unixMsOf(id), before);
    EXPECT_LE(IdGenerator::unixMsOf(id), after);
}

TEST(IdGenerator, BorrowsTheNextMillisecondAfter128IdsInOne) {
    IdGenerator gen(3);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 1000; ++i) ids.push_back(gen.nextAt(kJune2025));
    for (std::size_t i = 1; i < ids.size(); ++i) ASSERT_GT(ids[i], ids[i - 1]);
    EXPECT_EQ(IdGenerator::unixMsOf(ids[0]), kJune2025);
    EXPECT_EQ(IdGenerator::unixMsOf(ids[127]), kJune2025);
    EXPECT_EQ(IdGenerator::unixMsOf(ids[128]), kJune2025 + 1);
    EXPECT_EQ(IdGenerator::unixMsOf(ids[999]), kJune2025 + 999 / 128);
    for (auto id : ids) EXPECT_EQ(IdGenerator::nodeOf(id), 3u);
    // Once the clock catches up, the borrowed milliseconds are not issued twice.
    auto next = gen.nextAt(kJune2025 + 2);
    EXPECT_GT(next, ids.back());
}

TEST(IdGenerator, NeverGoesBackwardsWhenTheClockDoes) {
    IdGenerator gen(1);
    auto first = gen.nextAt(kJune2025);
    auto afterJump = gen.nextAt(kJune2025 - 60000);  // NTP stepped the clock back a minute
    EXPECT_GT(afterJump, first);
    auto later = gen.nextAt(kJune2025 - 59999);
    EXPECT_GT(later, afterJump);
    auto recovered = gen.nextAt(kJune2025 + 10);
    EXPECT_GT(recovered, later);
    EXPECT_EQ(IdGenerator::unixMsOf(recovered), kJune2025 + 10);
}

TEST(IdGenerator, IssuesUniqueIncreasingIdsFromFourThreads) {
    IdGenerator gen(9);
    constexpr int kThreads = 4, kPerThread = 10000;
    std::vector<std::vector<std::int64_t>> perThread(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) perThread[t].push_back(gen.next());
        });
    }
    for (auto& th : threads) th.join();
    std::set<std::int64_t> all;
    for (const auto& ids : perThread) {
        for (std::size_t i = 1; i < ids.size(); ++i) ASSERT_GT(ids[i], ids[i - 1]);
        all.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}
