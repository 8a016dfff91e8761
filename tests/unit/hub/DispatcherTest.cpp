#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "HubFakes.hpp"
#include "hub/Dispatcher.hpp"
#include "hub/Hub.hpp"
#include "metrics/Metrics.hpp"
#include "proto/ChatMessage.hpp"
#include "proto/ChatPack.hpp"
#include "proto/Datagram.hpp"
#include "proto/IdList.hpp"

using chat::hub::CloseCode;
using chat::hub::Dispatcher;
using chat::hub::Hub;
using chat::hub::Presence;
using chat::hub::PublishResult;
using chat::hub::SharedFrame;
using chat::hub::StreamEntry;
using chat::hub::StreamEvent;
using chat::hub::testing::connection;
using chat::hub::testing::FakeBroadcaster;
using chat::hub::testing::FakeRecipient;
using chat::metrics::DropReason;
using chat::proto::ChatMessage;
using chat::proto::ChatPack;
using chat::proto::Cmd;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::IdList;
using chat::proto::PresenceList;
using chat::proto::TargetKind;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxMessage = 64u << 10;
constexpr std::int64_t kAlice = 1, kBob = 2, kCarol = 3;
constexpr std::int64_t kGroup = 100;
constexpr std::uint32_t kSelf = 1, kOtherNode = 2;

ChatMessage single(std::int64_t from, std::int64_t to) {
    ChatMessage m;
    m.id = 77;
    m.userid = from;
    m.cmd = Cmd::Single;
    m.dstid = to;
    m.content = "hi";
    m.createat = 1700000000000;
    return m;
}

ChatMessage group(std::int64_t from, std::int64_t groupId) {
    ChatMessage m = single(from, groupId);
    m.cmd = Cmd::Group;
    return m;
}

// A whole datagram as the bus hands it over: already checked, ordered and reassembled.
DatagramHeader header(DatagramKind kind, TargetKind targetKind, std::int64_t target, std::int64_t sender,
                      std::uint64_t pos = 0) {
    DatagramHeader h;
    h.kind = kind;
    h.targetKind = targetKind;
    h.target = target;
    h.sender = sender;
    h.pos = pos;
    return h;
}

// A pack's entries; none if it is malformed.
std::vector<chat::proto::PackedChat> entriesOf(std::string_view pack) {
    std::vector<chat::proto::PackedChat> chats;
    ChatPack::forEach(pack, [&chats](const chat::proto::PackedChat& c) { chats.push_back(c); });
    return chats;
}

// The history as the dispatcher sees it: appends wait until the test commits them.
struct FakeJournal {
    struct Entry {
        ChatMessage message;
        std::string frame;
        Dispatcher::Committed done;
    };
    bool append(const ChatMessage& m, const std::string& frame, Dispatcher::Committed done) {
        if (refusing) return false;
        entries.push_back({m, frame, std::move(done)});
        return true;
    }
    bool refusing = false;
    std::vector<Entry> entries;
};

class DispatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& c : {alice1, alice2, bob1, carol}) hub.add(c);
        dispatcher.onRevoke([this](std::int64_t tokenId) { revoked.push_back(tokenId); });
        dispatcher.anchor(0);
    }

    static Dispatcher::Limits limits() {
        Dispatcher::Limits l;
        l.maxMessage = kMaxMessage;
        l.stream.holeWait = 100ms;
        l.stream.holeTimeout = 1000ms;
        return l;
    }

    // Alice's first connection sends; returns what `done` was told once the test commits.
    PublishResult publish(const ChatMessage& m, const std::string& encoded = R"({"id":77})") {
        return dispatcher.publish(m, encoded, alice1, "\"c1\"",
                                  [this](std::optional<std::uint64_t> pos) { outcomes.push_back(pos); });
    }
    // Commits one entry as a batch of its own: its callback, then the journal's batch end.
    void commit(std::size_t entry, std::optional<std::uint64_t> pos) {
        commitInBatch(entry, pos);
        dispatcher.flushCommitted();
    }
    void commitInBatch(std::size_t entry, std::optional<std::uint64_t> pos) { journal.entries.at(entry).done(pos); }

    std::uint64_t dropped(DropReason r) const { return metrics.busDropped[static_cast<std::size_t>(r)].load(); }
    std::size_t framesHere() const {
        return alice1->frameCount() + alice2->frameCount() + bob1->frameCount() + carol->frameCount();
    }

    chat::metrics::Metrics metrics;
    Presence presence{kSelf};
    Hub hub{metrics, &presence};
    FakeBroadcaster bus;
    FakeJournal journal;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> fetches;
    Dispatcher dispatcher{limits(),
                          hub,
                          presence,
                          bus,
                          [this](const ChatMessage& m, const std::string& f, Dispatcher::Committed done) {
                              return journal.append(m, f, std::move(done));
                          },
                          [this](std::uint64_t first, std::uint64_t last) { fetches.emplace_back(first, last); },
                          metrics};
    std::vector<std::optional<std::uint64_t>> outcomes;
    std::vector<std::int64_t> revoked;
    std::shared_ptr<FakeRecipient> alice1 = connection(kAlice, 11), alice2 = connection(kAlice, 12);
    std::shared_ptr<FakeRecipient> bob1 = connection(kBob, 21);
    std::shared_ptr<FakeRecipient> carol = connection(kCarol, 31);
};

}  // namespace

// --- publish: stored first, then broadcast and delivered at its position

TEST_F(DispatcherTest, PublishStoresTheMessageAndSendsNothingBeforeItsCommit) {
    EXPECT_EQ(publish(single(kAlice, kBob)), PublishResult::Queued);
    ASSERT_EQ(journal.entries.size(), 1u);
    EXPECT_EQ(journal.entries[0].frame, R"({"id":77})");
    EXPECT_EQ(journal.entries[0].message.dstid, kBob);
    EXPECT_TRUE(bus.sent.empty());
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_TRUE(alice1->acks().empty());
}

TEST_F(DispatcherTest, CommittedMessageIsBroadcastOnceWithItsPositionInHeaderAndFrame) {
    publish(single(kAlice, kBob));
    commit(0, 1);
    ASSERT_EQ(bus.sent.size(), 1u);
    const auto& h = bus.sent[0].header;
    EXPECT_EQ(h.kind, DatagramKind::Chat);
    EXPECT_EQ(h.targetKind, TargetKind::User);
    EXPECT_EQ(h.target, kBob);
    EXPECT_EQ(h.sender, kAlice);
    EXPECT_EQ(h.pos, 1u);
    EXPECT_EQ(bus.sent[0].payload, R"({"id":77,"pos":1})");
    EXPECT_EQ(outcomes, (std::vector<std::optional<std::uint64_t>>{1}));
}

TEST_F(DispatcherTest, CommittedSingleReachesRecipientsAndTheSendersOtherDevicesWhileTheSenderGetsTheAck) {
    publish(single(kAlice, kBob));
    commit(0, 1);
    ASSERT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(carol->frameCount(), 0u);
    // Encoded once: every recipient holds the very bytes that went on the bus.
    EXPECT_EQ(*bob1->frames()[0], bus.sent[0].payload);
    EXPECT_EQ(bob1->frames()[0].get(), alice2->frames()[0].get());
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{1}));
    ASSERT_EQ(alice1->acks().size(), 1u);
    EXPECT_EQ(alice1->acks()[0].second, 1u);
    auto ack = Json::parse(*alice1->acks()[0].first);
    EXPECT_EQ(ack.at("cmd"), 1);
    EXPECT_EQ(ack.at("id"), 77);
    EXPECT_EQ(ack.at("cid"), "c1");
    EXPECT_EQ(ack.at("pos"), 1);
    EXPECT_EQ(ack.at("createat"), 1700000000000);
}

TEST_F(DispatcherTest, CommittedGroupMessageReachesLocalMembersOnly) {
    hub.addGroups(kAlice, {kGroup});
    hub.addGroups(kBob, {kGroup});
    publish(group(kAlice, kGroup));
    commit(0, 1);
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.targetKind, TargetKind::Group);
    EXPECT_EQ(bus.sent[0].header.target, kGroup);
    EXPECT_EQ(alice1->frameCount(), 0u);
    EXPECT_EQ(alice1->acks().size(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 0u);
    EXPECT_EQ(alice2->frames()[0].get(), bob1->frames()[0].get());
}

// --- a batch's messages share datagrams

TEST_F(DispatcherTest, ABatchsMessagesAreDeliveredHereAtOnceAndBroadcastTogetherAtTheBatchEnd) {
    for (int i = 0; i < 3; ++i) publish(single(kAlice, i == 1 ? kCarol : kBob));
    for (std::size_t i = 0; i < 3; ++i) commitInBatch(i, i + 1);
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{1, 3}));
    EXPECT_EQ(carol->positions(), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE(bus.sent.empty()) << "nothing leaves before the batch ends";

    dispatcher.flushCommitted();
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.kind, DatagramKind::ChatPack);
    auto chats = entriesOf(bus.sent[0].payload);
    ASSERT_EQ(chats.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(chats[i].pos, i + 1);
        EXPECT_EQ(chats[i].targetKind, TargetKind::User);
        EXPECT_EQ(chats[i].sender, kAlice);
        EXPECT_EQ(chats[i].frame, R"({"id":77,"pos":)" + std::to_string(i + 1) + "}");
    }
    EXPECT_EQ(chats[1].target, kCarol);
    dispatcher.flushCommitted();
    EXPECT_EQ(bus.sent.size(), 1u) << "a batch end with nothing committed sends nothing";
}

TEST_F(DispatcherTest, EveryPackFitsOneDatagramAndTheBatchKeepsItsOrder) {
    constexpr std::size_t kMessages = 40;
    for (std::size_t i = 0; i < kMessages; ++i) publish(single(kAlice, kBob), std::string(200, 'x'));
    for (std::size_t i = 0; i < kMessages; ++i) commitInBatch(i, i + 1);
    dispatcher.flushCommitted();
    ASSERT_GT(bus.sent.size(), 1u);
    EXPECT_LT(bus.sent.size(), kMessages / 4);
    std::uint64_t next = 1;
    for (const auto& d : bus.sent) {
        EXPECT_LE(d.payload.size(), chat::proto::kMaxFragmentPayload);
        ASSERT_EQ(d.header.kind, DatagramKind::ChatPack);
        auto chats = entriesOf(d.payload);
        for (const auto& c : chats) EXPECT_EQ(c.pos, next++);
    }
    EXPECT_EQ(next, kMessages + 1);
}

TEST_F(DispatcherTest, AMessageTooLargeToShareADatagramGoesAloneAsAChatDatagram) {
    publish(single(kAlice, kBob), std::string(100, 'a'));
    publish(single(kAlice, kBob), std::string(3000, 'b'));
    publish(single(kAlice, kBob), std::string(100, 'c'));
    for (std::size_t i = 0; i < 3; ++i) commitInBatch(i, i + 1);
    dispatcher.flushCommitted();
    ASSERT_EQ(bus.sent.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(bus.sent[i].header.kind, DatagramKind::Chat);
        EXPECT_EQ(bus.sent[i].header.pos, i + 1);
    }
    EXPECT_EQ(bus.sent[1].payload, std::string(3000, 'b'));
}

TEST_F(DispatcherTest, APackFromAnotherNodeReachesItsRecipientsEntryByEntryInPositionOrder) {
    hub.addGroups(kBob, {kGroup});
    std::string payload;
    ChatPack::append(payload, {TargetKind::Group, kGroup, kCarol, 2, R"({"n":2})"});
    ChatPack::append(payload, {TargetKind::User, 999, 998, 3, R"({"n":3})"});  // nobody here
    ChatPack::append(payload, {TargetKind::User, kBob, kCarol, 4, R"({"n":4})"});
    dispatcher.receive(header(DatagramKind::ChatPack, TargetKind::None, 0, 0), payload);
    EXPECT_EQ(bob1->frameCount(), 0u) << "position 1 has not arrived";
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kAlice, kCarol, 1), R"({"n":1})");
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{2, 4}));
    EXPECT_EQ(*bob1->frames()[1], R"({"n":4})");
    EXPECT_EQ(alice1->positions(), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(dropped(DropReason::NoRecipient), 1u);
}

TEST_F(DispatcherTest, AMessageHeldForAnEarlierPositionKeepsItsBytesAfterTheDatagramsBufferIsReused) {
    std::string buffer;
    ChatPack::append(buffer, {TargetKind::User, kBob, kCarol, 2, R"({"n":2})"});
    dispatcher.receive(header(DatagramKind::ChatPack, TargetKind::None, 0, 0), buffer);
    std::string single = R"({"n":3})";
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 3), single);
    std::fill(buffer.begin(), buffer.end(), '#');
    std::fill(single.begin(), single.end(), '#');
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 1), R"({"n":1})");
    ASSERT_EQ(bob1->frameCount(), 3u);
    EXPECT_EQ(*bob1->frames()[1], R"({"n":2})");
    EXPECT_EQ(*bob1->frames()[2], R"({"n":3})");
}

TEST_F(DispatcherTest, AMalformedPackIsCountedAndNoneOfItsEntriesIsDelivered) {
    std::string payload;
    ChatPack::append(payload, {TargetKind::User, kBob, kCarol, 1, R"({"n":1})"});
    ChatPack::append(payload, {TargetKind::User, kBob, kCarol, 2, R"({"n":2})"});
    payload.pop_back();
    dispatcher.receive(header(DatagramKind::ChatPack, TargetKind::None, 0, 0), payload);
    EXPECT_EQ(dropped(DropReason::Malformed), 1u);
    EXPECT_EQ(framesHere(), 0u);
}

TEST_F(DispatcherTest, PublishRefusesAMessageTooLargeForTheBusOnceItHasAPosition) {
    EXPECT_EQ(publish(single(kAlice, kBob), std::string(kMaxMessage - 31, 'x')), PublishResult::TooLarge);
    EXPECT_TRUE(journal.entries.empty());
    EXPECT_EQ(publish(single(kAlice, kBob), std::string(kMaxMessage - 32, 'x')), PublishResult::Queued);
}

TEST_F(DispatcherTest, PublishReportsBusyWhenTheHistoryRefuses) {
    journal.refusing = true;
    EXPECT_EQ(publish(single(kAlice, kBob)), PublishResult::Busy);
    EXPECT_TRUE(bus.sent.empty());
    EXPECT_TRUE(outcomes.empty());
}

TEST_F(DispatcherTest, AFailedCommitDeliversNothingAndTellsTheSender) {
    publish(single(kAlice, kBob));
    commit(0, std::nullopt);
    EXPECT_EQ(outcomes, (std::vector<std::optional<std::uint64_t>>{std::nullopt}));
    EXPECT_TRUE(bus.sent.empty());
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_TRUE(alice1->acks().empty());
}

TEST_F(DispatcherTest, ABusFailureAfterTheCommitStillDeliversHereBecauseTheMessageIsStored) {
    bus.failing = true;
    publish(single(kAlice, kBob));
    commit(0, 1);
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice1->acks().size(), 1u);
}

// --- one order for the whole cluster

TEST_F(DispatcherTest, AMessageWaitsForEveryEarlierPositionBeforeAnyoneHereGetsIt) {
    publish(single(kAlice, kBob));
    commit(0, 2);  // position 1 belongs to another node's message, not here yet
    EXPECT_EQ(bob1->frameCount(), 0u);
    EXPECT_TRUE(alice1->acks().empty());
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 1), R"({"from":"carol"})");
    ASSERT_EQ(bob1->frameCount(), 2u);
    EXPECT_EQ(*bob1->frames()[0], R"({"from":"carol"})");
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(alice1->acks().size(), 1u);
}

TEST_F(DispatcherTest, APositionThatDoesNotArriveIsFetchedFromTheHistoryAfterTheHoleWait) {
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 3), R"({"n":3,"pos":3})");
    auto start = std::chrono::steady_clock::now();
    dispatcher.tick(start);
    dispatcher.tick(start + 50ms);
    EXPECT_TRUE(fetches.empty());
    dispatcher.tick(start + 150ms);
    ASSERT_EQ(fetches.size(), 1u);
    EXPECT_EQ(fetches[0], (std::pair<std::uint64_t, std::uint64_t>{1, 2}));
    StreamEntry one;
    one.pos = 1;
    one.target = kBob;
    one.sender = kCarol;
    one.frame = R"({"n":1})";
    dispatcher.filled(1, 2, {one}, true);  // 2 is gone from the history (retention)
    ASSERT_EQ(bob1->frameCount(), 2u);
    EXPECT_EQ(*bob1->frames()[0], R"({"n":1,"pos":1})");
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{1, 3}));
    EXPECT_EQ(dispatcher.nextPosition(), 4u);
}

TEST_F(DispatcherTest, AHoleThatCannotBeFilledIsGivenUpAndEveryDeviceHereCatchesUpFromTheHistory) {
    // Each connection is asked to re-sync before the position after the hole reaches it, so
    // it can still fetch what the hole held once the history answers again.
    std::vector<std::size_t> bobFramesWhenAsked;
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 2), R"({"n":2})");
    auto start = std::chrono::steady_clock::now();
    dispatcher.tick(start);
    dispatcher.tick(start + 1100ms);
    for (const auto& c : {alice1, alice2, bob1, carol}) EXPECT_EQ(c->resyncs.load(), 1);
    EXPECT_EQ(bob1->positions(), (std::vector<std::uint64_t>{2}));
    EXPECT_EQ(metrics.streamGivenUp.load(), 1u);
    EXPECT_TRUE(bus.sent.empty());  // a local matter, never broadcast
}

TEST_F(DispatcherTest, TheResyncComesBeforeThePositionAfterTheHole) {
    struct Watcher : FakeRecipient {
        using FakeRecipient::FakeRecipient;
        void resync() override { framesAtResync = frameCount(); }
        std::size_t framesAtResync = 99;
    };
    auto watcher = std::make_shared<Watcher>(kBob, 22);
    hub.add(watcher);
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 2), "m2");
    auto start = std::chrono::steady_clock::now();
    dispatcher.tick(start);
    dispatcher.tick(start + 1100ms);
    EXPECT_EQ(watcher->framesAtResync, 0u);
    EXPECT_EQ(watcher->frameCount(), 1u);
}

TEST_F(DispatcherTest, NothingIsReleasedBeforeTheNodeKnowsWhereTheStreamStood) {
    Dispatcher fresh{limits(), hub, presence, bus, [](auto&&...) { return true; }, [](auto, auto) {}, metrics};
    fresh.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 8), "m8");
    fresh.receive(header(DatagramKind::Chat, TargetKind::User, kBob, kCarol, 7), "m7");
    EXPECT_EQ(bob1->frameCount(), 0u);
    fresh.anchor(7);  // 7 was committed before this node started: the device syncs it
    ASSERT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(*bob1->frames()[0], "m8");
}

// --- receive: other nodes' messages

TEST_F(DispatcherTest, ReceivedSingleReachesEveryConnectionOfTheTargetAsOneSharedFrame) {
    const std::string payload = R"({"id":5,"userid":999,"cmd":10,"dstid":1,"pos":1})";
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kAlice, 999, 1), payload);
    ASSERT_EQ(alice1->frameCount(), 1u);
    ASSERT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(*alice1->frames()[0], payload);
    EXPECT_EQ(alice1->frames()[0].get(), alice2->frames()[0].get());
    EXPECT_EQ(bob1->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(metrics.deliveries.load(), 2u);
}

TEST_F(DispatcherTest, ReceivedSingleReachesTheSendersConnectionsHere) {
    // Bob wrote from his phone on another node to someone who is not here.
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, 999, kBob, 1), "m");
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount() + carol->frameCount(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 0u);
}

TEST_F(DispatcherTest, ReceivedGroupMessageReachesLocalMembers) {
    hub.addGroups(kBob, {kGroup});
    hub.addGroups(kCarol, {kGroup});
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, 999, 1), "g");
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(carol->frameCount(), 1u);
    EXPECT_EQ(bob1->frames()[0].get(), carol->frames()[0].get());
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount(), 0u);
}

TEST_F(DispatcherTest, AMessageForNobodyHereMovesTheStreamOnWithoutBeingParsed) {
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, 998, 999, 1), "{not json");
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup + 1, kBob, 2), "{not json");
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_EQ(dropped(DropReason::NoRecipient), 2u);
    EXPECT_EQ(dispatcher.nextPosition(), 3u);
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, 999, 3), "m");
    EXPECT_EQ(bob1->frameCount(), 1u);  // not held back by the dropped ones
}

TEST_F(DispatcherTest, ARetransmittedPositionIsDeliveredOnce) {
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, 999, 1), "m");
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::User, kBob, 999, 1), "m");
    EXPECT_EQ(bob1->frameCount(), 1u);
}

// --- membership and logout

TEST_F(DispatcherTest, JoinedAnnouncesTheJoinWithItsPositionAndAddsTheGroupHere) {
    dispatcher.joined(kCarol, kGroup, 1);
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    ASSERT_EQ(bus.sent.size(), 1u);
    const auto& h = bus.sent[0].header;
    EXPECT_EQ(h.kind, DatagramKind::Join);
    EXPECT_EQ(h.targetKind, TargetKind::Group);
    EXPECT_EQ(h.target, kGroup);
    EXPECT_EQ(h.sender, kCarol);
    EXPECT_EQ(h.pos, 1u);
    EXPECT_EQ(bus.sent[0].payload, "");
}

TEST_F(DispatcherTest, JoinedStillJoinsHereWhenTheBusFails) {
    bus.failing = true;
    dispatcher.joined(kCarol, kGroup, 1);
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
}

TEST_F(DispatcherTest, AJoinTakesEffectInStreamOrderSoTheMemberGetsExactlyTheMessagesAfterIt) {
    // The group message after the join arrives first; the one before it arrives too.
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, kAlice, 3), "after");
    hub.addGroups(kAlice, {kGroup});
    dispatcher.receive(header(DatagramKind::Join, TargetKind::Group, kGroup, kCarol, 2), "");
    EXPECT_FALSE(hub.isMember(kCarol, kGroup));
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, kAlice, 1), "before");
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    ASSERT_EQ(carol->frameCount(), 1u);
    EXPECT_EQ(*carol->frames()[0], "after");
}

TEST_F(DispatcherTest, AJoinFoundInTheHistoryIsAppliedLikeOneFromTheBus) {
    dispatcher.receive(header(DatagramKind::Chat, TargetKind::Group, kGroup, kAlice, 2), "g");
    hub.addGroups(kAlice, {kGroup});
    auto start = std::chrono::steady_clock::now();
    dispatcher.tick(start);
    dispatcher.tick(start + 150ms);
    ASSERT_EQ(fetches.size(), 1u);
    StreamEntry join;
    join.pos = 1;
    join.event = StreamEvent::Join;
    join.targetKind = TargetKind::Group;
    join.target = kGroup;
    join.sender = kCarol;
    dispatcher.filled(1, 1, {join}, true);
    EXPECT_TRUE(hub.isMember(kCarol, kGroup));
    EXPECT_EQ(carol->frameCount(), 1u);
}

TEST_F(DispatcherTest, ReceivedJoinForAUserNotHereChangesNothing) {
    dispatcher.receive(header(DatagramKind::Join, TargetKind::Group, kGroup, 999, 1), "");
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

// --- notices (read marks) for one user's devices

TEST_F(DispatcherTest, NotifyReachesTheUsersDevicesHereAndOnEveryNode) {
    dispatcher.notify(kAlice, R"({"cmd":15})");
    EXPECT_EQ(alice1->frameCount(), 1u);
    EXPECT_EQ(alice2->frameCount(), 1u);
    EXPECT_EQ(alice1->positions(), (std::vector<std::uint64_t>{0}));
    EXPECT_EQ(bob1->frameCount() + carol->frameCount(), 0u);
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.kind, DatagramKind::Notice);
    EXPECT_EQ(bus.sent[0].header.target, kAlice);
    EXPECT_EQ(bus.sent[0].payload, R"({"cmd":15})");
}

TEST_F(DispatcherTest, ReceivedNoticeReachesOnlyThatUsersDevices) {
    dispatcher.receive(header(DatagramKind::Notice, TargetKind::User, kBob, kBob), R"({"cmd":15})");
    EXPECT_EQ(bob1->frameCount(), 1u);
    EXPECT_EQ(alice1->frameCount() + alice2->frameCount() + carol->frameCount(), 0u);
}

TEST_F(DispatcherTest, ReceiveIgnoresTheBussOwnControlKinds) {
    for (auto kind : {DatagramKind::Heartbeat, DatagramKind::Nak, DatagramKind::Gone})
        dispatcher.receive(header(kind, TargetKind::User, kAlice, kBob), "m");
    EXPECT_EQ(framesHere(), 0u);
    EXPECT_TRUE(revoked.empty());
    EXPECT_TRUE(alice1->closes().empty());
    EXPECT_TRUE(bus.sent.empty());
}

// --- presence

TEST_F(DispatcherTest, AnnouncePresenceBroadcastsWhoCameAndWentHereSinceTheLastTime) {
    dispatcher.announcePresence();  // the four connections of SetUp
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.kind, DatagramKind::Presence);
    EXPECT_EQ(bus.sent[0].header.target, static_cast<std::int64_t>(PresenceList::Online));
    auto ids = IdList::decode(bus.sent[0].payload).value();
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::int64_t>{kAlice, kBob, kCarol}));
    hub.remove(*carol);
    dispatcher.announcePresence();
    ASSERT_EQ(bus.sent.size(), 2u);
    EXPECT_EQ(bus.sent[1].header.target, static_cast<std::int64_t>(PresenceList::Offline));
    EXPECT_EQ(IdList::decode(bus.sent[1].payload), (std::vector<std::int64_t>{kCarol}));
    dispatcher.announcePresence();
    EXPECT_EQ(bus.sent.size(), 2u);  // nothing new
}

TEST_F(DispatcherTest, ReceivedPresenceReachesWatchersHereAtTheNextAnnouncement) {
    dispatcher.announcePresence();
    presence.watch(alice1, {500});
    auto h = header(DatagramKind::Presence, TargetKind::None, static_cast<std::int64_t>(PresenceList::Online), 0);
    h.origin = kOtherNode;
    dispatcher.receive(h, IdList::encode({500}));
    dispatcher.announcePresence();
    ASSERT_EQ(alice1->frameCount(), 1u);
    EXPECT_EQ(Json::parse(*alice1->frames()[0]), (Json{{"cmd", 17}, {"online", {500}}, {"offline", Json::array()}}));
    dispatcher.peerChanged(kOtherNode, false);  // that node went silent
    dispatcher.announcePresence();
    EXPECT_EQ(Json::parse(*alice1->frames()[1])["offline"], Json({500}));
}

TEST_F(DispatcherTest, AWholeListArrivesInPartsAndReplacesTheNodesEarlierOne) {
    presence.watch(alice1, {500, 501, 502});
    auto h = header(DatagramKind::Presence, TargetKind::None, static_cast<std::int64_t>(PresenceList::Online), 0);
    h.origin = kOtherNode;
    dispatcher.receive(h, IdList::encode({500}));
    h.target = static_cast<std::int64_t>(PresenceList::Part);
    dispatcher.receive(h, IdList::encode({501}));
    EXPECT_TRUE(presence.watch(alice1, {500, 501, 502}).online == (std::vector<std::int64_t>{500}));
    h.target = static_cast<std::int64_t>(PresenceList::Whole);
    dispatcher.receive(h, IdList::encode({502}));
    auto state = presence.watch(alice1, {500, 501, 502});
    EXPECT_EQ(state.online, (std::vector<std::int64_t>{501, 502}));
    EXPECT_EQ(state.offline, (std::vector<std::int64_t>{500}));
}

TEST_F(DispatcherTest, ANodeThatJoinsGetsThisNodesWholeListAndMalformedListsAreDropped) {
    dispatcher.peerChanged(kOtherNode, true);
    ASSERT_EQ(bus.sent.size(), 1u);
    EXPECT_EQ(bus.sent[0].header.target, static_cast<std::int64_t>(PresenceList::Whole));
    EXPECT_EQ(IdList::decode(bus.sent[0].payload).value().size(), 3u);
    auto h = header(DatagramKind::Presence, TargetKind::None, static_cast<std::int64_t>(PresenceList::Online), 0);
    h.origin = kOtherNode;
    dispatcher.receive(h, "1234567");
    h.target = 9;
    dispatcher.receive(h, IdList::encode({7}));
    EXPECT_EQ(dropped(DropReason::Malformed), 2u);
    EXPECT_EQ(presence.onlineCount(), 3u);
}
