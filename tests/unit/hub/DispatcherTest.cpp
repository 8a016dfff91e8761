#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
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
using chat::proto::TargetKind;

namespace {

constexpr std::size_t kMaxMessage = 64u << 10;
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

// A whole message as the bus hands it over: already checked, ordered and reassembled.
DatagramHeader header(DatagramKind kind, TargetKind targetKind, std::int64_t target, std::int64_t sender) {
    DatagramHeader h;
    h.kind = kind;
    h.targetKind = targetKind;
    h.target = target;
    h.sender = sender;
    return h;
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
    Dispatcher dispatcher{kMaxMessage, hub, bus, metrics};
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

TEST_F(DispatcherTest, PublishRefusesAMessageLargerThanTheBusCarries) {
    auto f = frame(std::string(kMaxMessage + 1, 'x'));
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), f, alice1.get()), PublishResult::TooLarge);
    EXPECT_TRUE(bus.sent.empty());
    EXPECT_EQ(framesHere(), 0u);
}

TEST_F(DispatcherTest, PublishSendsAMessageOfExactlyTheLargestSizeAsOneBroadcast) {
    // Far more than one datagram: cutting it into fragments is the bus's business.
    auto f = frame(std::string(kMaxMessage, 'x'));
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), f, alice1.get()), PublishResult::Sent);
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].payload.size(), kMaxMessage);
    EXPECT_EQ(bob1->frameCount(), 1u);
}

TEST_F(DispatcherTest, PublishDeliversNothingWhenTheBusFails) {
    bus.failing = true;
    EXPECT_EQ(dispatcher.publish(single(kAlice, kBob), frame("m"), alice1.get()), PublishResult::BusError);
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 0u);
}

// --- receive: chat

TEST_F(DispatcherTest, ReceiveDeliversASingleToEveryConnectionOfTheTarget) {
    const std::string payload = R"({"id":5,"userid":999,"cmd":10,"dstid":1})";
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kAlice, 999), payload);
    ASSERT_EQ(alice1->frameCount(), 1u);
    ASSERT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(*alice1->frames()[0], payload);
    EXPECT_EQ(alice1->frames()[0].get(), alice2->frames()[0].get());  // one copy for everyone
    EXPECT_EQ(bob1->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 2u);
}

TEST_F(DispatcherTest, ReceiveDeliversASingleToTheSendersConnectionsHere) {
    // Bob wrote from his phone on another node to someone who is not here.
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, 999, kBob), "m");
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 0u);
}

TEST_F(DispatcherTest, ReceiveDeliversAGroupMessageToLocalMembers) {
    hub.addGroups(kBob, {kGroup});
    hub.addGroups(kCarol, {kGroup});
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, 999), "g");
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 1u);
    EXPECT_EQ(bob1->frames()[0].get(), carol->frames()[0].get());
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount(), 0u);
}

TEST_F(DispatcherTest, ReceiveDropsASingleForNobodyHereWithoutParsingIt) {
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, 998, 999), "{not json");
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 1u);
    EXPECT_EQ(dropped(DropReason::Malformed), 0u);
}

TEST_F(DispatcherTest, ReceiveDropsAGroupMessageForAGroupWithNoMemberHere) {
    hub.addGroups(kBob, {kGroup});
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup + 1, kBob), "{not json");
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
    dispatcher.receive(header(DatagramKind::Join, TargetKind::Group, kGroup, kCarol), "");
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, kAlice), "g");
    EXPECT_EQ(carol->frameCount(), 1u);  // at once, without reconnecting
}

TEST_F(DispatcherTest, ReceivedJoinForAUserNotHereChangesNothing) {
    dispatcher.receive(header(DatagramKind::Join, TargetKind::Group, kGroup, 999), "");
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
}

TEST_F(DispatcherTest, RevokeTokenStillAppliesLocallyWhenTheBusFails) {
    bus.failing = true;
    dispatcher.revokeToken(kAlice, 12);
    EXPECT_EQ(revoked, std::vector<std::int64_t>{12});
    EXPECT_EQ(alice2->closes().size(), 1u);
}

TEST_F(DispatcherTest, ReceivedRevokeTellsTheListenerAndClosesTheTokensConnections) {
    dispatcher.receive(header(DatagramKind::Revoke, TargetKind::User, 21, kBob), "");
    EXPECT_EQ(revoked, std::vector<std::int64_t>{21});
    ASSERT_EQ(bob1->closes().size(), 1u);
    EXPECT_EQ(bob1->closes()[0].first, CloseCode::LoggedOut);
    EXPECT_TRUE(alice1->closes().empty());
    EXPECT_TRUE(bus.sent.empty());  // not echoed back to the cluster
}

TEST_F(DispatcherTest, ReceivedRevokeReachesTheTokenCacheEvenWithNobodyConnectedHere) {
    dispatcher.receive(header(DatagramKind::Revoke, TargetKind::User, 55, 999), "");
    EXPECT_EQ(revoked, std::vector<std::int64_t>{55});
    EXPECT_EQ(dropped(DropReason::NoRecipient), 0u);
}

TEST_F(DispatcherTest, ReceiveIgnoresTheBussOwnControlKinds) {
    for (auto kind : {DatagramKind::Heartbeat, DatagramKind::Nak, DatagramKind::Gone})
        dispatcher.receive(header(kind, TargetKind::User, kAlice, kBob), "m");
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_TRUE(revoked.empty());
    EXPECT_TRUE(alice1->closes().empty());
    EXPECT_TRUE(bus.sent.empty());
}

// --- losses the bus could not repair

TEST_F(DispatcherTest, LostTellsEveryLocalConnectionOnceWithOneSharedGapFrame) {
    dispatcher.lost(3);
    for (const auto& c : {alice1, alice2, bob1, carol}) {
        ASSERT_EQ(c->frameCount(), 1u);
        EXPECT_EQ(c->frames()[0].get(), alice1->frames()[0].get());
    }
    auto j = nlohmann::json::parse(*alice1->frames()[0]);
    EXPECT_EQ(j.at("cmd"), 14);
    EXPECT_EQ(j.at("lost"), 3);
    EXPECT_TRUE(j.at("msg").is_string());
    EXPECT_TRUE(bus.sent.empty());  // a local notice, never broadcast
}

TEST_F(DispatcherTest, LostWithNobodyConnectedDeliversNothing) {
    for (const auto& c : {alice1, alice2, bob1, carol}) hub.remove(*c);
    dispatcher.lost(1);
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 0u);
}
