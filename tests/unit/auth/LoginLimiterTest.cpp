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

// `times` logins of `mobile` from `address` at `at`, each admitted and then failed.
void fail(LoginLimiter& limiter, const std::string& mobile, const std::string& address, int times,
          LoginLimiter::Clock::time_point at) {
    for (int i = 0; i < times; ++i) {
        auto admission = limiter.admit(mobile, address, at);
        ASSERT_TRUE(admission.attempt) << mobile << " from " << address << " refused at failure " << i;
        admission.attempt->failed(at);
    }
}

void succeed(LoginLimiter& limiter, const std::string& mobile, const std::string& address,
             LoginLimiter::Clock::time_point at) {
    auto admission = limiter.admit(mobile, address, at);
    ASSERT_TRUE(admission.attempt) << mobile << " from " << address << " refused";
    admission.attempt->succeeded(at);
}

// How long a login attempt must wait; zero when it is admitted (and then dropped unchecked,
// which records nothing).
seconds waitFor(LoginLimiter& limiter, const std::string& mobile, const std::string& address,
                LoginLimiter::Clock::time_point at) {
    auto admission = limiter.admit(mobile, address, at);
    return admission.attempt ? seconds(0) : admission.retryAfter;
}

}  // namespace

TEST(LoginLimiter, AllowsAnUnknownMobile) {
    LoginLimiter limiter(defaults());
    EXPECT_EQ(waitFor(limiter, "13800000000", "10.0.0.1", kStart), seconds(0));
}

TEST(LoginLimiter, AllowsNineFailuresForOneMobile) {
    LoginLimiter limiter(defaults());
    fail(limiter, "13800000000", "10.0.0.1", 9, kStart);
    EXPECT_EQ(waitFor(limiter, "13800000000", "10.0.0.1", kStart), seconds(0));
}

TEST(LoginLimiter, RefusesAfterTenFailuresForOneMobile) {
    LoginLimiter limiter(defaults());
    fail(limiter, "13800000000", "10.0.0.1", 10, kStart);
    EXPECT_EQ(waitFor(limiter, "13800000000", "10.0.0.1", kStart), seconds(300));
    // From another address too: the mobile is what is being guessed.
    EXPECT_EQ(waitFor(limiter, "13800000000", "10.0.0.2", kStart + seconds(100)), seconds(200));
    EXPECT_EQ(waitFor(limiter, "13900000000", "10.0.0.2", kStart), seconds(0));
}

TEST(LoginLimiter, AllowsAgainOnceTheOldestFailureLeavesTheWindow) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 1, kStart);
    fail(limiter, "m", "a", 9, kStart + seconds(60));
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + seconds(299)), seconds(1));
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + seconds(300)), seconds(0));
    // The nine later failures still count: one more refuses again until they expire.
    fail(limiter, "m", "a", 1, kStart + seconds(300));
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + seconds(300)), seconds(60));
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + seconds(360)), seconds(0));
}

TEST(LoginLimiter, RoundsPartialSecondsUpAndNeverAnswersZeroWhenRefusing) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 10, kStart);
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + std::chrono::milliseconds(299'001)), seconds(1));
    EXPECT_EQ(waitFor(limiter, "m", "x", kStart + std::chrono::milliseconds(298'500)), seconds(2));
}

TEST(LoginLimiter, ForgetsFailuresOlderThanTheWindow) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 9, kStart);
    fail(limiter, "m", "a", 1, kStart + seconds(300));  // the first nine have expired by now
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart + seconds(300)), seconds(0));
}

TEST(LoginLimiter, RefusesAnAddressAfterThirtyFailuresAcrossManyMobiles) {
    LoginLimiter limiter(defaults());
    for (int i = 0; i < 29; ++i) fail(limiter, numbered("mobile", i), "10.0.0.9", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "fresh", "10.0.0.9", kStart), seconds(0));
    fail(limiter, "mobile29", "10.0.0.9", 1, kStart + seconds(10));
    EXPECT_EQ(waitFor(limiter, "fresh", "10.0.0.9", kStart + seconds(10)), seconds(50));
    EXPECT_EQ(waitFor(limiter, "fresh", "10.0.0.8", kStart + seconds(10)), seconds(0));
    EXPECT_EQ(waitFor(limiter, "fresh", "10.0.0.9", kStart + seconds(60)), seconds(0));
}

TEST(LoginLimiter, AnswersTheLongerWaitWhenBothLimitsApply) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 10, kStart);
    for (int i = 0; i < 20; ++i) fail(limiter, numbered("other", i), "a", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart + seconds(10)), seconds(290));
    EXPECT_EQ(waitFor(limiter, "other", "a", kStart + seconds(10)), seconds(50));
}

TEST(LoginLimiter, SuccessClearsThatMobileOnly) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m1", "a1", 9, kStart);
    fail(limiter, "m2", "a2", 10, kStart);
    succeed(limiter, "m1", "a1", kStart + seconds(1));
    // Nine more failures of m1 would have made nineteen.
    fail(limiter, "m1", "a1", 9, kStart + seconds(1));
    EXPECT_EQ(waitFor(limiter, "m1", "a1", kStart + seconds(1)), seconds(0));
    EXPECT_EQ(waitFor(limiter, "m2", "a2", kStart + seconds(1)), seconds(299));
}

TEST(LoginLimiter, SuccessDoesNotClearTheAddress) {
    LoginLimiter limiter(defaults());
    for (int i = 1; i < 30; ++i) fail(limiter, numbered("m", i), "a", 1, kStart);
    succeed(limiter, "m0", "a", kStart);
    fail(limiter, "m30", "a", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "m0", "a", kStart), seconds(60));
}

TEST(LoginLimiter, HonoursConfiguredLimits) {
    LoginLimiter limiter({.perMobile = 2, .mobileWindow = seconds(5), .perAddress = 3, .addressWindow = seconds(7)});
    fail(limiter, "m", "a", 2, kStart);
    EXPECT_EQ(waitFor(limiter, "m", "b", kStart), seconds(5));
    fail(limiter, "n", "a", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "o", "a", kStart), seconds(7));
}

TEST(LoginLimiter, ZeroLimitDisablesThatCheck) {
    LoginLimiter limiter({.perMobile = 0, .mobileWindow = seconds(5), .perAddress = 1, .addressWindow = seconds(7)});
    fail(limiter, "m", "a", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "m", "b", kStart), seconds(0));
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart), seconds(7));
    EXPECT_EQ(limiter.trackedMobiles(), 0u);
}

TEST(LoginLimiter, TracksAtMostMaxTrackedKeysPerKind) {
    LoginLimiter limiter({.maxTracked = 100});
    for (int i = 0; i < 1000; ++i) {
        fail(limiter, numbered("m", i), numbered("a", i), 1, kStart + seconds(i % 50));
    }
    EXPECT_EQ(limiter.trackedMobiles(), 100u);
    EXPECT_EQ(limiter.trackedAddresses(), 100u);
}

TEST(LoginLimiter, EvictsTheLeastRecentlyUpdatedKeyFirst) {
    LoginLimiter limiter({.perMobile = 3, .maxTracked = 3});
    fail(limiter, "old", "a", 2, kStart);
    fail(limiter, "stale", "a", 3, kStart);  // refused from now on, while remembered
    fail(limiter, "x", "a", 1, kStart);
    fail(limiter, "old", "a", 1, kStart + seconds(1));  // refreshes "old": "stale" is now the oldest
    fail(limiter, "y", "a", 1, kStart + seconds(2));
    EXPECT_EQ(limiter.trackedMobiles(), 3u);
    EXPECT_GT(waitFor(limiter, "old", "b", kStart + seconds(2)), seconds(0));
    EXPECT_EQ(waitFor(limiter, "stale", "b", kStart + seconds(2)), seconds(0));
}

TEST(LoginLimiter, ForgetsKeysWhoseFailuresHaveAllExpired) {
    LoginLimiter limiter(defaults());
    fail(limiter, "m", "a", 1, kStart);
    EXPECT_EQ(limiter.trackedMobiles(), 1u);
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart + seconds(300)), seconds(0));
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
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart + seconds(10)), seconds(290));
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
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart + seconds(1)), seconds(299));
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
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart), seconds(0));  // one failure of two
    fail(limiter, "m", "a", 1, kStart);
    EXPECT_EQ(waitFor(limiter, "m", "a", kStart), seconds(300));
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
