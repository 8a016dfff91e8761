#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "HubFakes.hpp"
#include "hub/Dispatcher.hpp"
#include "hub/Hub.hpp"
#include "metrics/Metrics.hpp"
#include "proto/ChatMessage.hpp"
#include "proto/Datagram.hpp"

using chat::hub::CloseCode;
using chat::hub::Dispatcher;
using chat::hub::Hub;
using chat::hub::PublishResult;
using chat::hub::SharedFrame;
using chat::hub::testing::connection;
using chat::hub::testing::FakeBroadcaster;
using chat::hub::testing::FakeRecipient;
using chat::hub::testing::frame;
using chat::metrics::DropReason;
using chat::proto::ChatMessage;
using chat::proto::Cmd;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::DecodedDatagram;
using chat::proto::TargetKind;

namespace {

constexpr std::uint32_t kThisNode = 4, kOtherNode = 9;
constexpr std::int64_t kAlice = 1, kBob = 2, kCarol = 3;
constexpr std::int64_t kGroup = 100;

ChatMessage single(std::int64_t from, std::int64_t to) {
    ChatMessage m;
    m.id = 77;
    m.userid = from;
    m.cmd = Cmd::Single;
    m.dstid = to;
    m.content = "hi";
    return m;
}

ChatMessage group(std::int64_t from, std::int64_t groupId) {
    ChatMessage m = single(from, groupId);
    m.cmd = Cmd::Group;
    return m;
}

DecodedDatagram datagram(DatagramKind kind, TargetKind targetKind, std::int64_t target, std::int64_t sender,
                         std::string_view payload, std::uint32_t origin = kOtherNode) {
    DecodedDatagram d;
    d.header = DatagramHeader{kind, targetKind, origin, static_cast<std::uint32_t>(payload.size()), target, sender};
    d.payload = payload;
    return d;
}

class DispatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& c : {alice1, alice2, bob1, carol}) hub.add(c);
        dispatcher.onRevoke([this](std::int64_t tokenId) { revoked.push_back(tokenId); });
    }

    std::uint64_t dropped(DropReason r) const { return metrics.busDropped[static_cast<std::size_t>(r)].load(); }
    std::size_t framesHere() const {
        return alice1->frameCount() + alice2->frameCount() + bob1->frameCount() + carol->frameCount();
    }

    chat::metrics::Metrics metrics;
    Hub hub{metrics};
    FakeBroadcaster bus;
    Dispatcher dispatcher{kThisNode, hub, bus, metrics};
    std::vector<std::int64_t> revoked;
    std::shared_ptr<FakeRecipient> alice1 = connection(kAlice, 11), alice2 = connection(kAlice, 12);
    std::shared_ptr<FakeRecipient> bob1 = connection(kBob, 21);
    std::shared_ptr<FakeRecipient> carol = connection(kCarol, 31);
};

}  // namespace

// --- publish

TEST_F(DispatcherTest, PublishBroadcastsOneDatagramNamingTargetAndSender) {
    auto f = frame(R"({"id":77})");
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), f, alice1.get()), PublishResult::Sent);
    ASSERT_EQ(bus.sent.size(), 1u);
    const auto& h = bus.sent[0].header;
    EXPECT_EQ(h.kind, DatagramKind::Chat);
    EXPECT_EQ(h.targetKind, TargetKind::User);
    EXPECT_EQ(h.origin, kThisNode);
    EXPECT_EQ(h.target, kBob);
    EXPECT_EQ(h.sender, kAlice);
    EXPECT_EQ(bus.sent[0].payload, *f);
}

TEST_F(DispatcherTest, PublishDeliversASingleLocallyButNotToTheSendingConnection) {
    auto f = frame("m");
    dispatcher.publish(single(kAlice, kBob), f, alice1.get());
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(carol->frameCount(), 0u);
    // Encoded once: every recipient holds the very bytes that went on the bus.
    EXPECT_EQ(bob1->frames()[0].get(), f.get());
    EXPECT_EQ(alice2->frames()[0].get(), f.get());
    EXPECT_EQ(metrics.deliveries.load(), 2u);
}

TEST_F(DispatcherTest, PublishNamesTheGroupAndDeliversToLocalMembers) {
    hub.addGroups(kAlice, {kGroup});
    hub.addGroups(kBob, {kGroup});
    auto f = frame("g");
    EXPECT_EQ(dispatcher.publish(group(kAlice, kGroup), f, alice1.get()), PublishResult::Sent);
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.targetKind, TargetKind::Group);
    EXPECT_EQ(bus.sent[0].header.target, kGroup);
    EXPECT_EQ(bus.sent[0].header.sender, kAlice);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 0u);
    EXPECT_EQ(alice2->frames()[0].get(), bob1->frames()[0].get());
}

TEST_F(DispatcherTest, PublishRefusesAPayloadLargerThanADatagramCanCarry) {
    auto f = frame(std::string(chat::proto::kMaxDatagramPayload + 1, 'x'));
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), f, alice1.get()), PublishResult::TooLarge);
    EXPECT_TRUE(bus.sent.empty());
    EXPECT_EQ(framesHere(), 0u);
}

TEST_F(DispatcherTest, PublishSendsAPayloadOfExactlyTheLargestSize) {
    auto f = frame(std::string(chat::proto::kMaxDatagramPayload, 'x'));
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), f, alice1.get()), PublishResult::Sent);
    EXPECT_EQ(bus.sent.size(), 1u);
}

TEST_F(DispatcherTest, PublishDeliversNothingWhenTheBusFails) {
    bus.failing = true;
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), frame("m"), alice1.get()), PublishResult::BusError);
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 0u);
}

// --- receive: chat

TEST_F(DispatcherTest, ReceiveDropsOurOwnDatagrams) {
    auto d = datagram(DatagramKind::Chat, TargetKind::User, kBob, kAlice, "m", kThisNode);
    dispatcher.receive(d);
    EXPECT_EQ(framesHere(), 0u);  // already delivered when published
    EXPECT_EQ(dropped(DropReason::SelfOrigin), 1u);
}

TEST_F(DispatcherTest, ReceiveDeliversASingleToEveryConnectionOfTheTarget) {
    const std::string payload = R"({"id":5,"userid":999,"cmd":10,"dstid":1})";
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::User, kAlice, 999, payload));
    ASSERT_EQ(alice1->frameCount(), 1u);
    ASSERT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(*alice1->frames()[0], payload);
    EXPECT_EQ(alice1->frames()[0].get(), alice2->frames()[0].get());  // one copy for everyone
    EXPECT_EQ(bob1->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 2u);
}

TEST_F(DispatcherTest, ReceiveDeliversASingleToTheSendersConnectionsHere) {
    // Bob wrote from his phone on another node to someone who is not here.
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::User, 999, kBob, "m"));
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 0u);
}

TEST_F(DispatcherTest, ReceiveDeliversAGroupMessageToLocalMembers) {
    hub.addGroups(kBob, {kGroup});
    hub.addGroups(kCarol, {kGroup});
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::Group, kGroup, 999, "g"));
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 1u);
    EXPECT_EQ(bob1->frames()[0].get(), carol->frames()[0].get());
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount(), 0u);
}

TEST_F(DispatcherTest, ReceiveDropsASingleForNobodyHereWithoutParsingIt) {
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::User, 998, 999, "{not json"));
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 1u);
    EXPECT_EQ(dropped(DropReason::Malformed), 0u);
}

TEST_F(DispatcherTest, ReceiveDropsAGroupMessageForAGroupWithNoMemberHere) {
    hub.addGroups(kBob, {kGroup});
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::Group, kGroup + 1, kBob, "{not json"));
    EXPECT_EQ(framesHere(), 0u);  // the sender's own devices see group messages only as members
    EXPECT_EQ(dropped(DropReason::NoRecipient), 1u);
}

// --- membership and logout

TEST_F(DispatcherTest, JoinGroupAddsTheGroupHereAndAnnouncesIt) {
    dispatcher.joinGroup(kCarol, kGroup);
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    ASSERT_EQ(bus.sent.size(), 1u);
    const auto& h = bus.sent[0].header;
    EXPECT_EQ(h.kind, DatagramKind::Join);
    EXPECT_EQ(h.targetKind, TargetKind::Group);
    EXPECT_EQ(h.origin, kThisNode);
    EXPECT_EQ(h.target, kGroup);
    EXPECT_EQ(h.sender, kCarol);
    EXPECT_EQ(bus.sent[0].payload, "");
}

TEST_F(DispatcherTest, JoinGroupStillJoinsLocallyWhenTheBusFails) {
    bus.failing = true;
    dispatcher.joinGroup(kCarol, kGroup);
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
}

TEST_F(DispatcherTest, ReceivedJoinAddsTheGroupToAConnectedUser) {
    dispatcher.receive(datagram(DatagramKind::Join, TargetKind::Group, kGroup, kCarol, ""));
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    dispatcher.receive(datagram(DatagramKind::Chat, TargetKind::Group, kGroup, kAlice, "g"));
    EXPECT_EQ(carol->frameCount(), 1u);  // at once, without reconnecting
}

TEST_F(DispatcherTest, ReceivedJoinForAUserNotHereChangesNothing) {
    dispatcher.receive(datagram(DatagramKind::Join, TargetKind::Group, kGroup, 999, ""));
    EXPECT_FALSE(hub.holdsGroup(kGroup));
    EXPECT_FALSE(hub.holdsUser(999));
}

TEST_F(DispatcherTest, RevokeTokenTellsTheListenerClosesThatTokensConnectionsAndAnnouncesIt) {
    dispatcher.revokeToken(kAlice, 11);
    EXPECT_EQ(revoked, std::vector<std::int64_t>{11});
    ASSERT_EQ(alice1->closes().size(), 1u);
    EXPECT_EQ(alice1->closes()[0].first, CloseCode::LoggedOut);
    EXPECT_EQ(alice1->closes()[0].second, "logged out");
    EXPECT_TRUE(alice2->closes().empty());  // another device, another token
    ASSERT_EQ(bus.sent.size(), 1u);
    const auto& h = bus.sent[0].header;
    EXPECT_EQ(h.kind, DatagramKind::Revoke);
    EXPECT_EQ(h.target, 11);
    EXPECT_EQ(h.sender, kAlice);
    EXPECT_EQ(h.origin, kThisNode);
}

TEST_F(DispatcherTest, RevokeTokenStillAppliesLocallyWhenTheBusFails) {
    bus.failing = true;
    dispatcher.revokeToken(kAlice, 12);
    EXPECT_EQ(revoked, std::vector<std::int64_t>{12});
    EXPECT_EQ(alice2->closes().size(), 1u);
}

TEST_F(DispatcherTest, ReceivedRevokeTellsTheListenerAndClosesTheTokensConnections) {
    dispatcher.receive(datagram(DatagramKind::Revoke, TargetKind::User, 21, kBob, ""));
    EXPECT_EQ(revoked, std::vector<std::int64_t>{21});
    ASSERT_EQ(bob1->closes().size(), 1u);
    EXPECT_EQ(bob1->closes()[0].first, CloseCode::LoggedOut);
    EXPECT_TRUE(alice1->closes().empty());
    EXPECT_TRUE(bus.sent.empty());  // not echoed back to the cluster
}

TEST_F(DispatcherTest, ReceivedRevokeReachesTheTokenCacheEvenWithNobodyConnectedHere) {
    dispatcher.receive(datagram(DatagramKind::Revoke, TargetKind::User, 55, 999, ""));
    EXPECT_EQ(revoked, std::vector<std::int64_t>{55});
    EXPECT_EQ(dropped(DropReason::NoRecipient), 0u);
}

TEST_F(DispatcherTest, OwnRevokeComingBackFromTheBusIsNotAppliedTwice) {
    dispatcher.revokeToken(kAlice, 11);
    dispatcher.receive(datagram(DatagramKind::Revoke, TargetKind::User, 11, kAlice, "", kThisNode));
    EXPECT_EQ(revoked.size(), 1u);
    EXPECT_EQ(alice1->closes().size(), 1u);
    EXPECT_EQ(dropped(DropReason::SelfOrigin), 1u);
}
