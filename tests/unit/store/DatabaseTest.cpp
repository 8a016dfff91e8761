// The pool: results delivered once on a pool thread, failures as values, a bounded queue,
// shutdown, health, and many submitters at once. Tests needing SQL use CHAT_TEST_MYSQL; the
// queue and shutdown tests use a port nothing listens on, since their jobs never touch SQL.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "StoreTestSupport.hpp"
#include "store/ContactRepository.hpp"
#include "store/Database.hpp"
#include "store/UserRepository.hpp"

namespace chat::store {
namespace {

using namespace std::chrono_literals;
using test::runAndWait;

std::uint64_t dbErrors(const metrics::Metrics& metrics) {
    return metrics.errors[static_cast<std::size_t>(metrics::ErrorKind::Db)].load();
}

// Holds a pool thread until released, so tests can fill the queue behind it.
struct Blocker {
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();

    std::function<int(Connection&)> job() {
        return [this](Connection&) {
            started.set_value();
            released.wait();
            return 7;
        };
    }
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

TEST(Database, DeliversTheValueOnAPoolThread) {
    auto url = test::testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    metrics::Metrics metrics;
    Database db(test::configFor(*url), metrics);
    db.start();
    std::promise<std::thread::id> callbackThread;
    auto outcome = runAndWait<std::string>(db, [&](Connection& c) {
        callbackThread.set_value(std::this_thread::get_id());
        return *c.query("SELECT ? + 1", {std::int64_t{41}})[0][0];
    });
    ASSERT_TRUE(outcome.ok()) << outcome.failure.what;
    EXPECT_EQ(*outcome.value, "42");
    EXPECT_NE(callbackThread.get_future().get(), std::this_thread::get_id());
    EXPECT_EQ(dbErrors(metrics), 0u);
}

TEST(Database, ThrowingJobFailsAndThePoolKeepsWorking) {
    auto url = test::testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    metrics::Metrics metrics;
    Database db(test::configFor(*url, 1), metrics);
    db.start();

    auto thrown = runAndWait<int>(db, [](Connection&) -> int { throw std::runtime_error("boom"); });
    EXPECT_FALSE(thrown.ok());
    EXPECT_EQ(thrown.failure.what, "boom");

    auto badSql = runAndWait<int>(db, [](Connection& c) { return static_cast<int>(c.query("SELEC 1", {}).size()); });
    EXPECT_FALSE(badSql.ok());
    EXPECT_NE(badSql.failure.what.find("SELEC 1"), std::string::npos) << badSql.failure.what;

    auto openTransaction = runAndWait<int>(db, [](Connection& c) {
        c.begin();
        return 1;
    });
    EXPECT_FALSE(openTransaction.ok());

    auto fine = runAndWait<int>(db, [](Connection& c) { return static_cast<int>(c.query("SELECT 1", {}).size()); });
    ASSERT_TRUE(fine.ok()) << fine.failure.what;
    EXPECT_EQ(*fine.value, 1);
    EXPECT_EQ(dbErrors(metrics), 3u);
}

TEST(Database, RefusesWithBusyOnTheCallersThreadWhenTheQueueIsFull) {
    metrics::Metrics metrics;
    Database db(test::configFor(test::unreachableUrl(), 1, 1), metrics);
    db.start();
    Blocker blocker;
    std::promise<Outcome<int>> running, queued;
    db.run<int>(blocker.job(), [&](Outcome<int> o) { running.set_value(std::move(o)); });
    ASSERT_EQ(blocker.started.get_future().wait_for(5s), std::future_status::ready);
    db.run<int>([](Connection&) { return 8; }, [&](Outcome<int> o) { queued.set_value(std::move(o)); });

    std::optional<Outcome<int>> refused;
    std::thread::id refusedOn;
    db.run<int>([](Connection&) { return 9; },
                [&](Outcome<int> o) {
                    refused = std::move(o);
                    refusedOn = std::this_thread::get_id();
                });
    ASSERT_TRUE(refused.has_value()) << "a refusal must be delivered before run() returns";
    EXPECT_FALSE(refused->ok());
    EXPECT_EQ(refused->failure.what, "busy");
    EXPECT_EQ(refusedOn, std::this_thread::get_id());
    EXPECT_EQ(dbErrors(metrics), 1u);

    blocker.release.set_value();
    EXPECT_EQ(running.get_future().get().value, 7);
    EXPECT_EQ(queued.get_future().get().value, 8);
}

TEST(Database, StopFailsQueuedJobsButFinishesTheRunningOne) {
    metrics::Metrics metrics;
    Database db(test::configFor(test::unreachableUrl(), 1, 10), metrics);
    db.start();
    Blocker blocker;
    std::promise<Outcome<int>> running;
    db.run<int>(blocker.job(), [&](Outcome<int> o) { running.set_value(std::move(o)); });
    ASSERT_EQ(blocker.started.get_future().wait_for(5s), std::future_status::ready);

    std::atomic<int> ran{0};
    std::atomic<int> stopped{0};
    for (int i = 0; i < 3; ++i)
        db.run<int>([&](Connection&) { return ++ran; },
                    [&](Outcome<int> o) {
                        if (!o.ok() && o.failure.what == "stopped") ++stopped;
                    });

    std::thread stopper([&] { db.stop(); });
    EXPECT_TRUE(eventually([&] { return stopped.load() == 3; })) << "queued jobs were not failed while one ran";
    blocker.release.set_value();
    stopper.join();
    EXPECT_EQ(running.get_future().get().value, 7);
    EXPECT_EQ(ran.load(), 0);

    std::optional<Outcome<int>> late;
    db.run<int>([](Connection&) { return 1; }, [&](Outcome<int> o) { late = std::move(o); });
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->failure.what, "stopped");
}

TEST(Database, StopWithoutStartAndTwiceIsHarmless) {
    metrics::Metrics metrics;
    Database db(test::configFor(test::unreachableUrl()), metrics);
    db.stop();
    db.stop();
    db.start();  // after stop: stays stopped
    std::optional<Outcome<int>> outcome;
    db.run<int>([](Connection&) { return 1; }, [&](Outcome<int> o) { outcome = std::move(o); });
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->failure.what, "stopped");
}

TEST(Database, UnhealthyWhenNothingListensAtTheUrl) {
    metrics::Metrics metrics;
    Database db(test::configFor(test::unreachableUrl()), metrics);
    EXPECT_FALSE(db.healthy());
    db.start();
    auto outcome = runAndWait<int>(db, [](Connection& c) { return static_cast<int>(c.query("SELECT 1", {}).size()); });
    EXPECT_FALSE(outcome.ok());
    EXPECT_NE(outcome.failure.what.find("connect"), std::string::npos) << outcome.failure.what;
    EXPECT_FALSE(db.healthy());
    std::this_thread::sleep_for(2200ms);  // past an idle ping
    EXPECT_FALSE(db.healthy());
    EXPECT_GE(dbErrors(metrics), 1u);
}

TEST(Database, HealthyAgainstARealServerWithoutAnyJob) {
    auto url = test::testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    metrics::Metrics metrics;
    Database db(test::configFor(*url), metrics);
    EXPECT_FALSE(db.healthy());
    db.start();
    EXPECT_TRUE(eventually([&] { return db.healthy(); }));
}

TEST(Database, RecoversWhenTheServerClosesAnIdleConnection) {
    auto url = test::testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    metrics::Metrics metrics;
    Database db(test::configFor(*url, 1), metrics);
    db.start();
    auto first = runAndWait<std::string>(db, [](Connection& c) {
        c.execute("SET SESSION wait_timeout = 1", {});
        return *c.query("SELECT CONNECTION_ID()", {})[0][0];
    });
    ASSERT_TRUE(first.ok()) << first.failure.what;
    std::this_thread::sleep_for(1500ms);  // the server drops the link before the next idle ping
    auto second =
        runAndWait<std::string>(db, [](Connection& c) { return *c.query("SELECT CONNECTION_ID()", {})[0][0]; });
    ASSERT_TRUE(second.ok()) << second.failure.what;
    EXPECT_NE(*first.value, *second.value);
    EXPECT_EQ(dbErrors(metrics), 0u);
    EXPECT_TRUE(db.healthy());
}

TEST(Database, CompletesConcurrentJobsFromManyThreads) {
    auto url = test::testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    metrics::Metrics metrics;
    Database db(test::configFor(*url, 4, 10000), metrics);
    db.start();

    constexpr int kThreads = 8;
    constexpr int kJobsPerThread = 40;
    std::vector<std::int64_t> userIds;
    for (int i = 0; i < kThreads; ++i) {
        auto id = runAndWait<std::int64_t>(db, [](Connection& c) {
            return UserRepository(c).insert(test::uniqueMobile(), "hash", std::string(32, 'a'), "u", "").value();
        });
        ASSERT_TRUE(id.ok()) << id.failure.what;
        userIds.push_back(*id.value);
    }

    std::atomic<int> succeeded{0};
    std::atomic<int> failed{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&, t] {
            for (int j = 0; j < kJobsPerThread; ++j) {
                // Even jobs befriend everyone (pairs race from both sides); every job echoes a value.
                std::int64_t me = userIds[t];
                std::int64_t other = userIds[(t + 1 + j / 2) % kThreads];
                std::int64_t expected = t * 1000 + j;
                db.run<std::int64_t>(
                    [=](Connection& c) {
                        if (j % 2 == 0 && me != other) ContactRepository(c).addFriend(other, me);
                        return asInt(c.query("SELECT ?", {expected})[0][0]);
                    },
                    [&, expected](Outcome<std::int64_t> o) {
                        if (!o.ok())
                            ++failed;
                        else if (*o.value != expected)
                            ++wrong;
                        else
                            ++succeeded;
                    });
            }
        });
    }
    for (auto& thread : submitters) thread.join();
    EXPECT_TRUE(eventually([&] { return succeeded + failed + wrong == kThreads * kJobsPerThread; }, 30000ms));
    EXPECT_EQ(succeeded.load(), kThreads * kJobsPerThread);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(wrong.load(), 0);

    auto friendsOfFirst =
        runAndWait<std::size_t>(db, [&](Connection& c) { return ContactRepository(c).friends(userIds[0]).size(); });
    ASSERT_TRUE(friendsOfFirst.ok());
    EXPECT_EQ(*friendsOfFirst.value, static_cast<std::size_t>(kThreads - 1));
}

}  // namespace
}  // namespace chat::store
