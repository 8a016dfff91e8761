#include <gtest/gtest.h>

#include <string>

#include "auth/TokenCache.hpp"

using chat::auth::Identity;
using chat::auth::TokenCache;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const TokenCache::Clock::time_point kStart{std::chrono::hours(1000)};

}  // namespace

TEST(TokenCache, AnswersNothingForAnUnknownDigest) {
    TokenCache cache(seconds(30));
    EXPECT_FALSE(cache.get("d1", kStart));
}

TEST(TokenCache, AnswersACachedIdentityWithinTheTtl) {
    TokenCache cache(seconds(30));
    cache.put("d1", Identity{7, 70}, kStart);
    auto id = cache.get("d1", kStart + seconds(29) + milliseconds(999));
    ASSERT_TRUE(id);
    EXPECT_EQ(id->userId, 7);
    EXPECT_EQ(id->tokenId, 70);
    EXPECT_FALSE(cache.get("d2", kStart));
}

TEST(TokenCache, ForgetsAnEntryOnceTheTtlHasPassed) {
    TokenCache cache(seconds(30));
    cache.put("d1", Identity{7, 70}, kStart);
    EXPECT_FALSE(cache.get("d1", kStart + seconds(30)));
    // Gone for good, even if asked about an earlier time afterwards.
    EXPECT_FALSE(cache.get("d1", kStart));
}

TEST(TokenCache, PuttingAgainRenewsTheTtl) {
    TokenCache cache(seconds(30));
    cache.put("d1", Identity{7, 70}, kStart);
    cache.put("d1", Identity{7, 70}, kStart + seconds(20));
    EXPECT_TRUE(cache.get("d1", kStart + seconds(45)));
    EXPECT_FALSE(cache.get("d1", kStart + seconds(50)));
}

TEST(TokenCache, CachesNothingWithAZeroTtl) {
    TokenCache cache(seconds(0));
    cache.put("d1", Identity{7, 70}, kStart);
    EXPECT_FALSE(cache.get("d1", kStart));
}

TEST(TokenCache, RevokeRemovesEveryEntryOfThatTokenOnly) {
    TokenCache cache(seconds(30));
    cache.put("d1", Identity{7, 70}, kStart);
    cache.put("d1-again", Identity{7, 70}, kStart);
    cache.put("d2", Identity{7, 71}, kStart);  // the same user on another device
    cache.put("d3", Identity{8, 80}, kStart);
    cache.revoke(70);
    EXPECT_FALSE(cache.get("d1", kStart));
    EXPECT_FALSE(cache.get("d1-again", kStart));
    EXPECT_TRUE(cache.get("d2", kStart));
    EXPECT_TRUE(cache.get("d3", kStart));
}

TEST(TokenCache, ALookupThatReadATokenBeforeItsLogoutCannotCacheItAgain) {
    TokenCache cache(seconds(30));
    const auto t0 = TokenCache::Clock::now();
    cache.put("d1", {1, 7}, t0);
    cache.revoke(7, t0);
    // The lookup that read the token before the logout's DELETE answers now.
    cache.put("d1", {1, 7}, t0 + seconds(1));
    EXPECT_FALSE(cache.get("d1", t0 + seconds(1)).has_value());
    // Other tokens of the user are cached as before.
    cache.put("d2", {1, 8}, t0 + seconds(1));
    EXPECT_TRUE(cache.get("d2", t0 + seconds(1)).has_value());
    // Once a ttl has passed no lookup of before the logout can still be answering.
    cache.put("d1", {1, 7}, t0 + seconds(31));
    EXPECT_TRUE(cache.get("d1", t0 + seconds(31)).has_value());
}

TEST(TokenCache, RevokingAnUnknownTokenChangesNothing) {
    TokenCache cache(seconds(30));
    cache.put("d1", Identity{7, 70}, kStart);
    cache.revoke(999);
    EXPECT_TRUE(cache.get("d1", kStart));
}

TEST(TokenCache, MakesRoomByDroppingExpiredEntriesFirst) {
    TokenCache cache(seconds(30), 2);
    cache.put("old", Identity{1, 10}, kStart);
    cache.put("recent", Identity{2, 20}, kStart + seconds(20));
    cache.put("new", Identity{3, 30}, kStart + seconds(31));  // "old" has expired by now
    EXPECT_TRUE(cache.get("recent", kStart + seconds(31)));
    EXPECT_TRUE(cache.get("new", kStart + seconds(31)));
}

TEST(TokenCache, StartsOverWhenFullOfLiveEntries) {
    TokenCache cache(seconds(30), 2);
    cache.put("a", Identity{1, 10}, kStart);
    cache.put("b", Identity{2, 20}, kStart);
    cache.put("c", Identity{3, 30}, kStart);
    EXPECT_FALSE(cache.get("a", kStart));
    EXPECT_FALSE(cache.get("b", kStart));
    EXPECT_TRUE(cache.get("c", kStart));
}
