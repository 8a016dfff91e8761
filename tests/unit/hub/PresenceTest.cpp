// Presence: a user is online while any node holds them; watchers hear of changes once per
// flush, and this node announces exactly its own changes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "HubFakes.hpp"
#include "hub/Presence.hpp"

using chat::hub::Presence;
using chat::hub::testing::connection;
using Json = nlohmann::json;
using Ids = std::vector<std::int64_t>;

namespace {

constexpr std::uint32_t kSelf = 1, kOther = 2, kThird = 3;

Json lastFrame(const chat::hub::testing::FakeRecipient& r) {
    auto frames = r.frames();
    return frames.empty() ? Json() : Json::parse(*frames.back());
}

}  // namespace

TEST(Presence, WatchingAnswersWithTheCurrentStateOfEveryWatchedUser) {
    Presence p(kSelf);
    p.local(10, true);
    p.remote(kOther, {11}, true);
    auto w = connection(99);
    auto state = p.watch(w, {12, 11, 10, 11});
    EXPECT_EQ(state.online, (Ids{10, 11}));
    EXPECT_EQ(state.offline, (Ids{12}));
}

TEST(Presence, AUserIsOnlineWhileAnyNodeHoldsThem) {
    Presence p(kSelf);
    auto w = connection(99);
    p.watch(w, {10});
    p.remote(kOther, {10}, true);
    p.remote(kThird, {10}, true);
    p.flush();
    EXPECT_EQ(lastFrame(*w), (Json{{"cmd", 17}, {"online", {10}}, {"offline", Json::array()}}));
    p.remote(kOther, {10}, false);
    p.flush();
    EXPECT_EQ(w->frameCount(), 1u);  // still on the third node
    p.forget(kThird);
    p.flush();
    EXPECT_EQ(lastFrame(*w), (Json{{"cmd", 17}, {"online", Json::array()}, {"offline", {10}}}));
}

TEST(Presence, AReconnectWithinAFlushIsNoChangeAtAll) {
    Presence p(kSelf);
    p.local(10, true);
    p.flush();
    auto w = connection(99);
    p.watch(w, {10});
    p.local(10, false);
    p.local(10, true);
    auto mine = p.flush();
    EXPECT_TRUE(mine.empty());
    EXPECT_EQ(w->frameCount(), 0u);
}

TEST(Presence, FlushReturnsOnlyThisNodesOwnChangesToAnnounce) {
    Presence p(kSelf);
    p.local(10, true);
    p.local(11, true);
    p.remote(kOther, {12}, true);
    auto mine = p.flush();
    EXPECT_EQ(mine.online.size(), 2u);
    EXPECT_TRUE(mine.offline.empty());
    p.local(11, false);
    mine = p.flush();
    EXPECT_EQ(mine.offline, (Ids{11}));
    EXPECT_EQ(p.localUsers(), (Ids{10}));
    EXPECT_TRUE(p.flush().empty());
}

TEST(Presence, AWholeListReplacesWhatThatNodeSaidBefore) {
    Presence p(kSelf);
    auto w = connection(99);
    p.watch(w, {10, 11, 12});
    p.remote(kOther, {10, 11}, true);
    p.flush();
    p.replace(kOther, {11, 12});
    p.flush();
    auto f = lastFrame(*w);
    EXPECT_EQ(f["online"], Json({12}));
    EXPECT_EQ(f["offline"], Json({10}));
    EXPECT_EQ(p.onlineCount(), 2u);
}

TEST(Presence, ANodeCannotSpeakForThisOne) {
    Presence p(kSelf);
    p.remote(kSelf, {10}, true);
    p.replace(kSelf, {11});
    EXPECT_EQ(p.onlineCount(), 0u);
}

TEST(Presence, AWatcherHearsOnlyOfTheUsersItWatchesNow) {
    Presence p(kSelf);
    auto w = connection(99);
    p.watch(w, {10});
    p.watch(w, {11});  // replaces the list
    p.remote(kOther, {10, 11}, true);
    p.flush();
    EXPECT_EQ(lastFrame(*w)["online"], Json({11}));
    p.unwatch(*w);
    p.remote(kOther, {11}, false);
    p.flush();
    EXPECT_EQ(w->frameCount(), 1u);
}
