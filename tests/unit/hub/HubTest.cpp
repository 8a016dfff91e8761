#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "HubFakes.hpp"
#include "hub/Hub.hpp"
#include "metrics/Metrics.hpp"

using chat::hub::CloseCode;
using chat::hub::Hub;
using chat::hub::testing::connection;
using chat::hub::testing::FakeRecipient;
using chat::hub::testing::frame;

namespace {

constexpr std::int64_t kAlice = 1, kBob = 2, kCarol = 3;
constexpr std::int64_t kGroup = 100, kOtherGroup = 200;

// Alice has two devices, Bob two, Carol one; all on this node.
class HubTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& c : {alice1, alice2, bob1, bob2, carol}) hub.add(c);
    }

    chat::metrics::Metrics metrics;
    Hub hub{metrics};
    std::shared_ptr<FakeRecipient> alice1 = connection(kAlice, 11), alice2 = connection(kAlice, 12);
    std::shared_ptr<FakeRecipient> bob1 = connection(kBob, 21), bob2 = connection(kBob, 22);
    std::shared_ptr<FakeRecipient> carol = connection(kCarol, 31);
};

}  // namespace

TEST_F(HubTest, CountsConnectionsInTheGauge) {
    EXPECT_EQ(hub.connectionCount(), 5u);
    EXPECT_EQ(metrics.connections.load(), 5);
    hub.remove(*carol);
    EXPECT_EQ(hub.connectionCount(), 4u);
    EXPECT_EQ(metrics.connections.load(), 4);
}

TEST_F(HubTest, SingleReachesEveryConnectionOfTheTargetAndTheSendersOtherConnections) {
    auto f = frame("m");
    EXPECT_EQ(hub.deliverSingle(kBob, kAlice, f, alice1.get(), 7), 3u);
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(bob2->frameCount(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);  // the sender's other device stays in sync
    EXPECT_EQ(alice1->frameCount(), 0u);  // the sending connection gets an ack instead
    EXPECT_EQ(carol->frameCount(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 3u);
}

TEST_F(HubTest, ABorrowedFrameReachesRecipientsAsACopyOfItsOwn) {
    std::string datagram = "m";
    hub.addGroups(kBob, {kGroup});
    EXPECT_EQ(hub.deliverSingle(kCarol, kCarol, chat::hub::FrameSource(std::string_view(datagram)), nullptr, 7), 1u);
    EXPECT_EQ(hub.deliverGroup(kGroup, chat::hub::FrameSource(std::string_view(datagram)), nullptr, 8), 2u);
    EXPECT_EQ(hub.deliverSingle(99, 98, chat::hub::FrameSource(std::string_view(datagram)), nullptr, 9), 0u);
    datagram = "x";  // the receive buffer takes the next datagram
    ASSERT_EQ(carol->frameCount(), 1u);
    EXPECT_EQ(*carol->frames()[0], "m");
    ASSERT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(*bob1->frames()[0], "m");
}

TEST_F(HubTest, EveryRecipientIsToldTheFramesStreamPosition) {
    hub.addGroups(kBob, {kGroup});
    hub.deliverSingle(kBob, kAlice, frame("m"), nullptr, 41);
    hub.deliverGroup(kGroup, frame("g"), nullptr, 42);
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{41, 42}));
    EXPECT_EQ(alice2->positions(), (std::vector<std::uint64_t>{41}));
}

TEST_F(HubTest, SinglesAndNoticesAreHandedAsFramesForOneAndRoomMessagesAsFramesForMany) {
    using chat::hub::Fanout;
    hub.addGroups(kBob, {kGroup});
    hub.deliverSingle(kBob, kAlice, frame("m"), nullptr, 41);
    hub.deliverGroup(kGroup, frame("g"), nullptr, 42);
    hub.deliverUser(kBob, frame("notice"));
    EXPECT_EQ(bob1->fanouts(), (std::vector<Fanout>{Fanout::One, Fanout::Many, Fanout::One}));
    EXPECT_EQ(alice2->fanouts(), (std::vector<Fanout>{Fanout::One}));
}

TEST_F(HubTest, DeliverUserReachesOnlyThatUsersConnectionsOutsideTheStream) {
    EXPECT_EQ(hub.deliverUser(kBob, frame("notice")), 2u);
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{0}));
    EXPECT_EQ(bob2->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(hub.deliverUser(999, frame("notice")), 0u);
}

TEST_F(HubTest, SingleHandsEveryRecipientTheSameSharedFrame) {
    auto f = frame("shared");
    hub.deliverSingle(kBob, kAlice, f, nullptr, 7);
    for (const auto& c : {alice1, alice2, bob1, bob2}) {
        ASSERT_EQ(c->frameCount(), 1u);
        EXPECT_EQ(c->frames()[0].get(), f.get());
    }
}

TEST_F(HubTest, SingleToOneselfReachesEachOtherConnectionOnce) {
    EXPECT_EQ(hub.deliverSingle(kAlice, kAlice, frame("note to self"), alice1.get(), 7), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount(), 0u);
}

TEST_F(HubTest, SingleToAUserNotConnectedHereReachesOnlyTheSendersOtherConnections) {
    EXPECT_EQ(hub.deliverSingle(999, kAlice, frame("m"), alice1.get(), 7), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(bob1->frameCount() + bob2->frameCount() + carol->frameCount(), 0u);
}

TEST_F(HubTest, SingleFromAnotherNodeReachesEveryConnectionOfTargetAndSender) {
    EXPECT_EQ(hub.deliverSingle(kBob, kAlice, frame("m"), nullptr, 7), 4u);
    EXPECT_EQ(alice1->frameCount(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
}

TEST_F(HubTest, GroupReachesEveryLocalConnectionOfEveryMemberButTheSendingOne) {
    hub.addGroups(kAlice, {kGroup});
    hub.addGroups(kBob, {kGroup, kOtherGroup});
    hub.addGroups(kCarol, {kOtherGroup});
    auto f = frame("g");
    EXPECT_EQ(hub.deliverGroup(kGroup, f, alice1.get(), 7), 3u);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(bob2->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 0u);  // not a member
    for (const auto& c : {alice2, bob1, bob2}) EXPECT_EQ(c->frames()[0].get(), f.get());
    EXPECT_EQ(metrics.deliveries.load(), 3u);
}

TEST_F(HubTest, GroupWithNoLocalMemberReachesNobody) {
    hub.addGroups(kAlice, {kGroup});
    EXPECT_EQ(hub.deliverGroup(kOtherGroup, frame("g"), nullptr, 7), 0u);
    for (const auto& c : {alice1, alice2, bob1, bob2, carol}) EXPECT_EQ(c->frameCount(), 0u);
}

TEST_F(HubTest, KnowsWhoIsConnectedAndWhoIsInWhichGroup) {
    hub.addGroups(kBob, {kGroup});
    EXPECT_TRUE(hub.holdsUser(kBob));
    EXPECT_FALSE(hub.holdsUser(999));
    EXPECT_TRUE(hub.holdsGroup(kGroup));
    EXPECT_FALSE(hub.holdsGroup(kOtherGroup));
    EXPECT_TRUE(hub.isMember(kBob, kGroup));
    EXPECT_FALSE(hub.isMember(kAlice, kGroup));
    EXPECT_FALSE(hub.isMember(999, kGroup));
}

TEST_F(HubTest, AddGroupsMergesWithExistingMemberships) {
    hub.addGroups(kBob, {kGroup});
    hub.addGroups(kBob, {kOtherGroup, kGroup});
    EXPECT_TRUE(hub.isMember(kBob, kGroup));
    EXPECT_TRUE(hub.isMember(kBob, kOtherGroup));
    EXPECT_EQ(hub.deliverGroup(kGroup, frame("g"), nullptr, 7), 2u);  // once per connection, not per join
}

// A connecting session adds its groups only after it read the history: what it may have
// missed in between is what addGroups says was released before.
TEST_F(HubTest, AddGroupsTellsTheLastGroupPositionReleasedBefore) {
    EXPECT_EQ(hub.addGroups(kAlice, {kGroup}), 0u);
    hub.deliverGroup(kGroup, frame("g"), nullptr, 42);
    hub.deliverGroup(kOtherGroup, frame("g"), nullptr, 57);  // nobody here; still released
    hub.deliverSingle(kBob, kAlice, frame("m"), nullptr, 60);
    EXPECT_EQ(hub.addGroups(kBob, {kOtherGroup}), 57u);
    EXPECT_EQ(hub.addGroups(kCarol, {}), 0u);  // without groups nothing can have passed by
}

TEST_F(HubTest, AddGroupsForAUserNotConnectedHereIsANoOp) {
    hub.addGroups(999, {kGroup});
    EXPECT_FALSE(hub.holdsUser(999));
    EXPECT_FALSE(hub.holdsGroup(kGroup));
    EXPECT_FALSE(hub.isMember(999, kGroup));
}

TEST_F(HubTest, RemovingOneOfSeveralConnectionsKeepsTheUsersGroups) {
    hub.addGroups(kAlice, {kGroup});
    hub.remove(*alice1);
    EXPECT_TRUE(hub.holdsUser(kAlice));
    EXPECT_TRUE(hub.isMember(kAlice, kGroup));
    EXPECT_EQ(hub.deliverGroup(kGroup, frame("g"), nullptr, 7), 1u);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(alice2->frameCount(), 1u);
}

TEST_F(HubTest, RemovingTheLastConnectionDropsTheUserAndTheirMemberships) {
    hub.addGroups(kCarol, {kGroup});
    hub.addGroups(kBob, {kOtherGroup});
    hub.remove(*carol);
    EXPECT_FALSE(hub.holdsUser(kCarol));
    EXPECT_FALSE(hub.isMember(kCarol, kGroup));
    EXPECT_FALSE(hub.holdsGroup(kGroup));  // Carol was its only local member
    EXPECT_TRUE(hub.holdsGroup(kOtherGroup));
    // A new connection starts without memberships: the session loads them again.
    auto again = connection(kCarol);
    hub.add(again);
    EXPECT_FALSE(hub.isMember(kCarol, kGroup));
    EXPECT_EQ(hub.deliverGroup(kGroup, frame("g"), nullptr, 7), 0u);
}

TEST_F(HubTest, RemovingAConnectionTwiceOrAnUnknownOneChangesNothing) {
    hub.remove(*carol);
    hub.remove(*carol);
    FakeRecipient stranger(kBob, 99);  // same user, never added
    hub.remove(stranger);
    EXPECT_EQ(hub.connectionCount(), 4u);
    EXPECT_EQ(hub.deliverSingle(kBob, kBob, frame("m"), nullptr, 7), 2u);
}

TEST_F(HubTest, ARemovedConnectionReceivesNothing) {
    hub.remove(*bob1);
    EXPECT_EQ(hub.deliverSingle(kBob, kAlice, frame("m"), alice1.get(), 7), 2u);
    EXPECT_EQ(bob1->frameCount(), 0u);
    EXPECT_EQ(bob2->frameCount(), 1u);
}

TEST_F(HubTest, CloseTokenClosesOnlyThatTokensConnections) {
    auto alice3 = connection(kAlice, 11);  // a second socket from the same login
    auto bobSameNumber = connection(kBob, 11);
    hub.add(alice3);
    hub.add(bobSameNumber);
    hub.closeToken(kAlice, 11, CloseCode::LoggedOut, "logged out");
    for (const auto& c : {alice1, alice3}) {
        ASSERT_EQ(c->closes().size(), 1u);
        EXPECT_EQ(c->closes()[0].first, CloseCode::LoggedOut);
        EXPECT_EQ(c->closes()[0].second, "logged out");
    }
    for (const auto& c : {alice2, bob1, bob2, bobSameNumber, carol}) EXPECT_TRUE(c->closes().empty());
}

TEST_F(HubTest, CloseTokenOfAUserNotConnectedHereClosesNothing) {
    hub.closeToken(999, 11, CloseCode::LoggedOut, "logged out");
    for (const auto& c : {alice1, alice2, bob1, bob2, carol}) EXPECT_TRUE(c->closes().empty());
}

TEST_F(HubTest, CloseAllClosesEveryConnection) {
    hub.closeAll(CloseCode::GoingAway, "server shutting down");
    for (const auto& c : {alice1, alice2, bob1, bob2, carol}) {
        ASSERT_EQ(c->closes().size(), 1u);
        EXPECT_EQ(c->closes()[0].first, CloseCode::GoingAway);
        EXPECT_EQ(c->closes()[0].second, "server shutting down");
    }
}

TEST_F(HubTest, RecipientsMayCallBackIntoTheHubWhileBeingHandedAFrame) {
    // A session that closes itself on a full queue removes itself from the hub from
    // inside deliver(); the hub must not hold its lock then.
    class SelfRemoving : public FakeRecipient {
    public:
        explicit SelfRemoving(Hub& hub) : FakeRecipient(kCarol, 32), hub_(hub) {}
        void deliver(const chat::hub::SharedFrame& f, std::uint64_t pos, chat::hub::Fanout fanout) override {
            FakeRecipient::deliver(f, pos, fanout);
            hub_.remove(*this);
        }

    private:
        Hub& hub_;
    };
    auto slow = std::make_shared<SelfRemoving>(hub);
    hub.add(slow);
    EXPECT_EQ(hub.deliverSingle(kCarol, kAlice, frame("m"), nullptr, 7), 4u);
    EXPECT_EQ(slow->frameCount(), 1u);
    EXPECT_EQ(hub.connectionCount(), 5u);
}

TEST_F(HubTest, SurvivesConcurrentConnectsDisconnectsAndDeliveries) {
    hub.addGroups(kAlice, {kGroup});
    std::atomic<bool> stop{false};
    std::thread deliverer([&] {
        while (!stop) {
            hub.deliverGroup(kGroup, frame("g"), nullptr, 7);
            hub.deliverSingle(kAlice, kBob, frame("s"), nullptr, 7);
        }
    });
    std::vector<std::thread> churners;
    for (int t = 0; t < 3; ++t) {
        churners.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i) {
                auto c = connection(1000 + t);
                hub.add(c);
                hub.addGroups(1000 + t, {kGroup});
                hub.remove(*c);
            }
        });
    }
    for (auto& c : churners) c.join();
    stop = true;
    deliverer.join();
    EXPECT_EQ(hub.connectionCount(), 5u);
    EXPECT_FALSE(hub.holdsUser(1000));
    EXPECT_TRUE(hub.isMember(kAlice, kGroup));
}
