#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/LoginLimiter.hpp"

using chat::auth::LoginLimiter;
using std::chrono::seconds;

namespace {

const LoginLimiter::Clock::time_point kStart{std::chrono::hours(1000)};

LoginLimiter::Limits defaults() {
    return LoginLimiter::Limits{};
}

// prefix followed by n, e.g. "a7".
std::string numbered(const char* prefix, int n) {
    return std::string(prefix).append(std::to_string(n));
}

void fail(LoginLimiter& limiter, const std::string& mobile, const std::string& address, int times,
          LoginLimiter::Clock::time_point at) {
    for (int i = 0; i < times; ++i) limiter.recordFailure(mobile, address, at);
}

}  // namespace

TEST(LoginLimiter, AllowsAnUnknownMobile) {
    LoginLimiter limiter(defaults());
    EXPECT_EQ(limiter.retryAfter("13800000000", "10.0.0.1", kStart), seconds(0));
}

TEST(LoginLimiter, AllowsNineFailuresForOneMobile) {
    LoginLimiter limiter(defaults());
    fail(limiter, "13800000000", "10.0.0.1", 9, kStart);
    EXPECT_EQ(limiter.retryAfter("13800000000", "10.0.0.1", kStart), seconds(0));
}

TEST(LoginLimiter, RefusesAfterTenFailuresForOneMobile) {
    LoginLimiter limiter(defaults());
    fail(limiter, "13800000000", "10.0.0.1", 10, kStart);
    EXPECT_EQ(limiter.retryAfter("13800000000", "10.0.0.1", kStart), seconds(300));
    // From another address too: the mobile is what is being guessed.
    EXPECT_EQ(limiter.retryAfter("13800000000", "10.0.0.2", kStart + seconds(100)), seconds(200));
    EXPECT_EQ(limiter.retryAfter("13900000000", "10.0.0.2", kStart), seconds(0));
}

TEST(LoginLimiter, AllowsAgainOnceTheOldestFailureLeavesTheWindow) {
    LoginLimiter limiter(defaults());
    limiter.recordFailure("m", "a", kStart);
    fail(limiter, "m", "a", 9, kStart + seconds(60));
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + seconds(299)), seconds(1));
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + seconds(300)), seconds(0));
    // The nine later failures still count: one more refuses again until they expire.
    limiter.recordFailure("m", "a", kStart + seconds(300));
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + seconds(300)), seconds(60));
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + seconds(360)), seconds(0));
}

TEST(LoginLimiter, RoundsPartialSecondsUpAndNeverAnswersZeroWhenRefusing) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 10, kStart);
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + std::chrono::milliseconds(299'001)), seconds(1));
    EXPECT_EQ(limiter.retryAfter("m", "x", kStart + std::chrono::milliseconds(298'500)), seconds(2));
}

TEST(LoginLimiter, ForgetsFailuresOlderThanTheWindow) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 9, kStart);
    limiter.recordFailure("m", "a", kStart + seconds(300));  // the first nine have expired by now
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart + seconds(300)), seconds(0));
}

TEST(LoginLimiter, RefusesAnAddressAfterThirtyFailuresAcrossManyMobiles) {
    LoginLimiter limiter(defaults());
    for (int i = 0; i < 29; ++i) limiter.recordFailure("mobile" + std::to_string(i), "10.0.0.9", kStart);
    EXPECT_EQ(limiter.retryAfter("fresh", "10.0.0.9", kStart), seconds(0));
    limiter.recordFailure("mobile29", "10.0.0.9", kStart + seconds(10));
    EXPECT_EQ(limiter.retryAfter("fresh", "10.0.0.9", kStart + seconds(10)), seconds(50));
    EXPECT_EQ(limiter.retryAfter("fresh", "10.0.0.8", kStart + seconds(10)), seconds(0));
    EXPECT_EQ(limiter.retryAfter("fresh", "10.0.0.9", kStart + seconds(60)), seconds(0));
}

TEST(LoginLimiter, AnswersTheLongerWaitWhenBothLimitsApply) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 30, kStart);
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart + seconds(10)), seconds(290));
    EXPECT_EQ(limiter.retryAfter("other", "a", kStart + seconds(10)), seconds(50));
}

TEST(LoginLimiter, SuccessClearsThatMobileOnly) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m1", "a1", 10, kStart);
    fail(limiter, "m2", "a2", 10, kStart);
    limiter.recordSuccess("m1", kStart + seconds(1));
    EXPECT_EQ(limiter.retryAfter("m1", "a1", kStart + seconds(1)), seconds(0));
    EXPECT_EQ(limiter.retryAfter("m2", "a2", kStart + seconds(1)), seconds(299));
}

TEST(LoginLimiter, SuccessDoesNotClearTheAddress) {
    LoginLimiter limiter(defaults());
    for (int i = 0; i < 30; ++i) limiter.recordFailure("m" + std::to_string(i), "a", kStart);
    limiter.recordSuccess("m0", kStart);
    EXPECT_EQ(limiter.retryAfter("m0", "a", kStart), seconds(60));
}

TEST(LoginLimiter, HonoursConfiguredLimits) {
    LoginLimiter limiter({.perMobile = 2, .mobileWindow = seconds(5), .perAddress = 3, .addressWindow = seconds(7)});
    fail(limiter, "m", "a", 2, kStart);
    EXPECT_EQ(limiter.retryAfter("m", "b", kStart), seconds(5));
    limiter.recordFailure("n", "a", kStart);
    EXPECT_EQ(limiter.retryAfter("o", "a", kStart), seconds(7));
}

TEST(LoginLimiter, ZeroLimitDisablesThatCheck) {
    LoginLimiter limiter({.perMobile = 0, .mobileWindow = seconds(5), .perAddress = 1, .addressWindow = seconds(7)});
    limiter.recordFailure("m", "a", kStart);
    EXPECT_EQ(limiter.retryAfter("m", "b", kStart), seconds(0));
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart), seconds(7));
    EXPECT_EQ(limiter.trackedMobiles(), 0u);
}

TEST(LoginLimiter, TracksAtMostMaxTrackedKeysPerKind) {
    LoginLimiter limiter({.maxTracked = 100});
    for (int i = 0; i < 1000; ++i) {
        limiter.recordFailure("m" + std::to_string(i), "a" + std::to_string(i), kStart + seconds(i % 50));
    }
    EXPECT_EQ(limiter.trackedMobiles(), 100u);
    EXPECT_EQ(limiter.trackedAddresses(), 100u);
}

TEST(LoginLimiter, EvictsTheLeastRecentlyUpdatedKeyFirst) {
    LoginLimiter limiter({.perMobile = 2, .maxTracked = 3});
    fail(limiter, "old", "a", 2, kStart);
    fail(limiter, "kept", "a", 2, kStart);
    limiter.recordFailure("x", "a", kStart);
    limiter.recordFailure("old", "a", kStart + seconds(1));  // refreshes "old": "kept" is now the oldest
    limiter.recordFailure("y", "a", kStart + seconds(2));
    EXPECT_EQ(limiter.trackedMobiles(), 3u);
    EXPECT_EQ(limiter.retryAfter("kept", "b", kStart + seconds(2)), seconds(0));
    EXPECT_GT(limiter.retryAfter("old", "b", kStart + seconds(2)), seconds(0));
}

TEST(LoginLimiter, ForgetsKeysWhoseFailuresHaveAllExpired) {
    LoginLimiter limiter(defaults());
    limiter.recordFailure("m", "a", kStart);
    EXPECT_EQ(limiter.trackedMobiles(), 1u);
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart + seconds(300)), seconds(0));
    EXPECT_EQ(limiter.trackedMobiles(), 0u);
    EXPECT_EQ(limiter.trackedAddresses(), 0u);
}

TEST(LoginLimiter, AdmitsNoMoreAttemptsInFlightThanTheLimitOfAMobile) {
    // A burst of parallel logins: every admission comes before any password check finishes.
    LoginLimiter limiter({.perMobile = 4, .perAddress = 0});
    std::vector<LoginLimiter::Attempt> admitted;
    int refused = 0;
    for (int i = 0; i < 4 + 5; ++i) {
        auto admission = limiter.admit("m", numbered("a", i), kStart);
        if (admission.attempt) {
            admitted.push_back(std::move(*admission.attempt));
        } else {
            EXPECT_GT(admission.retryAfter, seconds(0));
            ++refused;
        }
    }
    EXPECT_EQ(admitted.size(), 4u);
    EXPECT_EQ(refused, 5);
}

TEST(LoginLimiter, AdmitsNoMoreAttemptsInFlightThanTheLimitOfAnAddress) {
    LoginLimiter limiter({.perMobile = 0, .perAddress = 3});
    std::vector<LoginLimiter::Attempt> admitted;
    for (int i = 0; i < 8; ++i) {
        auto admission = limiter.admit(numbered("m", i), "a", kStart);
        if (admission.attempt) admitted.push_back(std::move(*admission.attempt));
    }
    EXPECT_EQ(admitted.size(), 3u);
    EXPECT_TRUE(limiter.admit("m0", "b", kStart).attempt);  // another address is not held back
}

TEST(LoginLimiter, CountsAttemptsInFlightTogetherWithRecentFailures) {
    LoginLimiter limiter({.perMobile = 3});
    fail(limiter, "m", "a", 2, kStart);
    auto first = limiter.admit("m", "a", kStart + seconds(10));
    ASSERT_TRUE(first.attempt);
    auto second = limiter.admit("m", "a", kStart + seconds(10));
    EXPECT_FALSE(second.attempt);
    // The first recorded failure leaves the window first and makes room.
    EXPECT_EQ(second.retryAfter, seconds(290));
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart + seconds(10)), seconds(290));
}

TEST(LoginLimiter, AsksToComeBackSoonWhenOnlyAttemptsInFlightFillTheLimit) {
    LoginLimiter limiter({.perMobile = 1});
    auto first = limiter.admit("m", "a", kStart);
    ASSERT_TRUE(first.attempt);
    EXPECT_EQ(limiter.admit("m", "a", kStart).retryAfter, seconds(1));
}

TEST(LoginLimiter, AFailedAttemptBecomesARecordedFailure) {
    LoginLimiter limiter({.perMobile = 2});
    for (int i = 0; i < 2; ++i) {
        auto admission = limiter.admit("m", "a", kStart);
        ASSERT_TRUE(admission.attempt);
        admission.attempt->failed(kStart);
    }
    EXPECT_FALSE(limiter.admit("m", "a", kStart + seconds(1)).attempt);
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart + seconds(1)), seconds(299));
    EXPECT_TRUE(limiter.admit("m", "a", kStart + seconds(300)).attempt);
}

TEST(LoginLimiter, ASuccessfulAttemptIsReleasedAndClearsItsMobile) {
    LoginLimiter limiter({.perMobile = 2});
    fail(limiter, "m", "a", 1, kStart);
    auto admission = limiter.admit("m", "a", kStart);
    ASSERT_TRUE(admission.attempt);
    admission.attempt->succeeded(kStart);
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(limiter.admit("m", "a", kStart).attempt);
}

TEST(LoginLimiter, AnAttemptDroppedUnsettledOnlyFreesItsPlace) {
    // Its password was never checked (the database was busy): neither a failure nor a success.
    LoginLimiter limiter({.perMobile = 2});
    fail(limiter, "m", "a", 1, kStart);
    { auto dropped = limiter.admit("m", "a", kStart); }
    auto again = limiter.admit("m", "a", kStart);
    EXPECT_TRUE(again.attempt);
    EXPECT_FALSE(limiter.admit("m", "a", kStart).attempt);
}

TEST(LoginLimiter, SettlesAnAttemptOnce) {
    LoginLimiter limiter({.perMobile = 2});
    {
        auto admission = limiter.admit("m", "a", kStart);
        ASSERT_TRUE(admission.attempt);
        auto moved = std::move(*admission.attempt);
        moved.failed(kStart);
        moved.failed(kStart);
        moved.succeeded(kStart);
    }
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart), seconds(0));  // one failure of two
    limiter.recordFailure("m", "a", kStart);
    EXPECT_EQ(limiter.retryAfter("m", "a", kStart), seconds(300));
}

TEST(LoginLimiter, ForgetsAKeyOnceItsAttemptsAreSettledAndItsFailuresExpired) {
    LoginLimiter limiter(defaults());
    {
        auto admission = limiter.admit("m", "a", kStart);
        EXPECT_EQ(limiter.trackedMobiles(), 1u);
        EXPECT_EQ(limiter.trackedAddresses(), 1u);
    }
    EXPECT_EQ(limiter.trackedMobiles(), 0u);
    EXPECT_EQ(limiter.trackedAddresses(), 0u);
}
