#include <gtest/gtest.h>

#include <string>

#include "auth/RegistrationThrottle.hpp"

using chat::auth::RegistrationThrottle;
using std::chrono::seconds;

namespace {

const RegistrationThrottle::Clock::time_point kStart{std::chrono::hours(1000)};

// Admits `times` registrations from `address`; true if every one was admitted.
bool registerTimes(RegistrationThrottle& throttle, const std::string& address, int times,
                   RegistrationThrottle::Clock::time_point at) {
    bool all = true;
    for (int i = 0; i < times; ++i) all = throttle.admit(address, at) == seconds(0) && all;
    return all;
}

}  // namespace

TEST(RegistrationThrottle, AdmitsTwentyRegistrationsFromOneAddress) {
    RegistrationThrottle throttle({});
    EXPECT_TRUE(registerTimes(throttle, "10.0.0.1", 20, kStart));
}

TEST(RegistrationThrottle, RefusesTheTwentyFirstUntilTheOldestLeavesTheTenMinuteWindow) {
    RegistrationThrottle throttle({});
    throttle.admit("10.0.0.1", kStart);
    registerTimes(throttle, "10.0.0.1", 19, kStart + seconds(60));
    EXPECT_EQ(throttle.admit("10.0.0.1", kStart + seconds(60)), seconds(540));
    EXPECT_EQ(throttle.admit("10.0.0.1", kStart + seconds(599)), seconds(1));
    EXPECT_EQ(throttle.admit("10.0.0.1", kStart + seconds(600)), seconds(0));
    EXPECT_EQ(throttle.admit("10.0.0.1", kStart + seconds(600)), seconds(60));
}

TEST(RegistrationThrottle, DoesNotCountARefusal) {
    RegistrationThrottle throttle({.perAddress = 1, .window = seconds(10)});
    EXPECT_EQ(throttle.admit("a", kStart), seconds(0));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(throttle.admit("a", kStart + seconds(5)), seconds(5));
    EXPECT_EQ(throttle.admit("a", kStart + seconds(10)), seconds(0));
}

TEST(RegistrationThrottle, CountsEachAddressOnItsOwn) {
    RegistrationThrottle throttle({.perAddress = 2, .window = seconds(60)});
    EXPECT_TRUE(registerTimes(throttle, "a", 2, kStart));
    EXPECT_GT(throttle.admit("a", kStart), seconds(0));
    EXPECT_EQ(throttle.admit("b", kStart), seconds(0));
}

TEST(RegistrationThrottle, ZeroLimitDisablesIt) {
    RegistrationThrottle throttle({.perAddress = 0});
    EXPECT_TRUE(registerTimes(throttle, "a", 1000, kStart));
    EXPECT_EQ(throttle.trackedAddresses(), 0u);
}

TEST(RegistrationThrottle, TracksAtMostMaxTrackedAddresses) {
    RegistrationThrottle throttle({.maxTracked = 10});
    for (int i = 0; i < 100; ++i) throttle.admit(std::to_string(i), kStart);
    EXPECT_EQ(throttle.trackedAddresses(), 10u);
}
