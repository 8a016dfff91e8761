#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "BusTestSupport.hpp"
#include "bus/Membership.hpp"
#include "metrics/Metrics.hpp"
#include "proto/Datagram.hpp"

using chat::bus::Delivery;
using chat::bus::Membership;
using chat::bus::NakRequest;
using chat::bus::StreamLimits;
using chat::bus::testing::at;
using chat::bus::testing::Origin;
using chat::bus::testing::t0;
using chat::metrics::DropReason;
using chat::proto::DecodedDatagram;
using chat::proto::SeqRange;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Json = nlohmann::json;
using Strings = std::vector<std::string>;

namespace {

constexpr auto kPeerTimeout = seconds(5);
constexpr auto kNakDelay = milliseconds(5);
constexpr auto kGapTimeout = milliseconds(5000);
constexpr std::uint32_t kNodeA = 1, kNodeB = 2;
constexpr std::uint32_t kSelf = 9;  // the node whose membership is tested
constexpr std::uint64_t kSelfIncarnation = 900;

StreamLimits limits() {
    StreamLimits l;
    l.maxPending = 4;
    l.maxMessage = 1000;
    l.nakDelay = kNakDelay;
    l.nakInterval = milliseconds(50);
    l.gapTimeout = kGapTimeout;
    return l;
}

class MembershipTest : public ::testing::Test {
protected:
    void data(const DecodedDatagram& d, std::chrono::steady_clock::time_point now = t0) {
        membership.onSequenced(d, now, out);
    }
    void heartbeat(const DecodedDatagram& d, std::chrono::steady_clock::time_point now = t0) {
        membership.onHeartbeat(d.header, now, out);
    }
    // Node A as seen from its start: its answer to our run says it has sent nothing yet.
    void joinA(std::chrono::steady_clock::time_point now = t0) { heartbeat(a.answerTo(kSelf, kSelfIncarnation), now); }

    Strings delivered() {
        Strings payloads;
        for (const auto& d : out) payloads.emplace_back(d.payload());
        out.clear();
        return payloads;
    }
    std::uint64_t dropped(DropReason r) const { return metrics.busDropped[static_cast<std::size_t>(r)].load(); }
    Json view(std::chrono::steady_clock::time_point now = t0) const { return Json::parse(membership.view(now)); }

    chat::metrics::Metrics metrics;
    Membership membership{limits(), kPeerTimeout, kSelf, kSelfIncarnation, metrics};
    Origin a{kNodeA, 100};
    std::vector<Delivery> out;
};

}  // namespace

// --- joining and restarting

TEST_F(MembershipTest, AStreamNeverFollowedIsJoinedOnlyOnAnAnswerToThisRun) {
    // A's heartbeat from long ago (latest seq 0) and what it sent after it, replayed as this
    // node starts: a heartbeat that answers nobody, or another run of ours, is not joined on.
    auto old = a.heartbeat();
    auto toOurPreviousRun = a.answerTo(kSelf, kSelfIncarnation - 1);
    auto m1 = a.sendOne("old m1");
    heartbeat(old);
    heartbeat(toOurPreviousRun);
    data(m1);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(view().at(0).at("synced").get<bool>());
    EXPECT_TRUE(membership.waitingToJoin()) << "our heartbeats ask to be answered";
    // A's answer to this run says where its stream stands now: the replayed m1 is behind it.
    heartbeat(a.answerTo(kSelf, kSelfIncarnation));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(membership.waitingToJoin());
    data(a.sendOne("m2"));
    EXPECT_EQ(delivered(), (Strings{"m2"}));
}

TEST_F(MembershipTest, AnswersANodeThatJoinsRestartsOrAsksOncePerRequest) {
    heartbeat(a.heartbeat());
    auto answers = membership.takeAnswers();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].node, kNodeA);
    EXPECT_EQ(answers[0].incarnation, 100u);
    heartbeat(a.heartbeat());
    EXPECT_TRUE(membership.takeAnswers().empty()) << "a heartbeat that asks nothing gets no answer";
    auto asks = [&](Origin& o) {
        return o.keep(o.sequencer().control(chat::proto::DatagramKind::Heartbeat, chat::bus::kAnswersNobody,
                                            chat::bus::kAsksForAnswers, {}));
    };
    auto ask = asks(a);
    heartbeat(ask);
    EXPECT_EQ(membership.takeAnswers().size(), 1u);
    heartbeat(ask);  // replayed: no answer, or a captured ask would make us flood
    EXPECT_TRUE(membership.takeAnswers().empty());
    Origin restarted{kNodeA, 200};
    data(restarted.sendOne("r1"));
    answers = membership.takeAnswers();
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].incarnation, 200u);
}

TEST_F(MembershipTest, ANewNodeJoinsAndItsMessagesWaitForItsAnswer) {
    auto hb = a.answerTo(kSelf, kSelfIncarnation);  // latest seq 0
    data(a.sendOne("m1"));
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(metrics.busPeers.load(), 1);
    EXPECT_FALSE(view().at(0).at("synced").get<bool>());
    heartbeat(hb);
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    data(a.sendOne("m2"));
    EXPECT_EQ(delivered(), (Strings{"m2"}));
}

TEST_F(MembershipTest, ANodeHeardMidStreamIsFollowedFromItsLatestSeq) {
    auto old = a.sendOne("m1");
    a.sendOne("m2");
    auto hb = a.answerTo(kSelf, kSelfIncarnation);
    data(old);  // sent before this node listened (or replayed): never delivered
    heartbeat(hb);
    data(a.sendOne("m3"));
    EXPECT_EQ(delivered(), (Strings{"m3"}));
    data(old);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(dropped(DropReason::Replay), 1u);
}

TEST_F(MembershipTest, ARestartWithALargerIncarnationStartsAgainAtSeqOne) {
    joinA();
    data(a.sendOne("before"));
    a.sendOne("unheard");
    Origin restarted{kNodeA, 200};
    data(restarted.sendOne("after"));  // its seq 1: no heartbeat needed
    EXPECT_EQ(delivered(), (Strings{"before", "after"}));
    auto peers = view();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers.at(0).at("incarnation"), 200u);
    EXPECT_EQ(peers.at(0).at("nextSeq"), 2u);
    EXPECT_EQ(metrics.busPeers.load(), 1);
}

TEST_F(MembershipTest, ARestartedNodesEarlierDatagramsAreNakedFromSeqOne) {
    joinA();
    Origin restarted{kNodeA, 200};
    restarted.sendOne("r1");
    data(restarted.sendOne("r2"));
    EXPECT_TRUE(out.empty());
    auto naks = membership.dueNaks(t0 + kNakDelay);
    ASSERT_EQ(naks.size(), 1u);
    EXPECT_EQ(naks[0].ranges, (std::vector<SeqRange>{{1, 1}}));
}

TEST_F(MembershipTest, ASmallerIncarnationIsDroppedAndCountedStale) {
    joinA();
    Origin restarted{kNodeA, 200};
    data(restarted.sendOne("new run"));
    data(a.sendOne("old run"));
    heartbeat(a.heartbeat());
    membership.onGone(a.gone({{1, 1}}).header, {{1, 1}}, t0, out);
    EXPECT_EQ(delivered(), (Strings{"new run"}));
    EXPECT_EQ(dropped(DropReason::Stale), 3u);
    EXPECT_EQ(view().at(0).at("incarnation"), 200u);
}

TEST_F(MembershipTest, KeepsEachNodesStreamApart) {
    Origin b{kNodeB, 100};
    joinA();
    heartbeat(b.answerTo(kSelf, kSelfIncarnation));
    data(a.sendOne("a1"));
    data(b.sendOne("b1"));  // also seq 1, from another node
    data(a.sendOne("a2"));
    EXPECT_EQ(delivered(), (Strings{"a1", "b1", "a2"}));
    EXPECT_EQ(metrics.busPeers.load(), 2);
    EXPECT_EQ(dropped(DropReason::Replay), 0u);
}

// --- drops

TEST_F(MembershipTest, CountsDuplicatesAsReplays) {
    joinA();
    auto m1 = a.sendOne("m1");
    data(m1);
    data(m1);
    data(m1);
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    EXPECT_EQ(dropped(DropReason::Replay), 2u);
}

TEST_F(MembershipTest, CountsOverflowAndOversize) {
    joinA();
    std::vector<DecodedDatagram> sent;
    for (int i = 0; i < 6; ++i) sent.push_back(a.sendOne("m" + std::to_string(i + 1)));
    for (int i = 1; i < 6; ++i) data(sent[i]);  // 2..5 held, 6 refused (limit 4)
    EXPECT_EQ(dropped(DropReason::Overflow), 1u);
    Origin b{kNodeB, 100};
    heartbeat(b.heartbeat());
    auto tooBig = b.sendOne(std::string(1001, 'x'));
    data(tooBig);
    EXPECT_EQ(dropped(DropReason::Oversize), 1u);
    EXPECT_TRUE(out.empty());
}

// --- repair and loss

TEST_F(MembershipTest, DueNaksNameTheOriginItsIncarnationAndTheMissingRanges) {
    joinA();
    a.sendOne("m1");
    a.sendOne("m2");
    data(a.sendOne("m3"));
    EXPECT_TRUE(membership.dueNaks(t0).empty());
    auto naks = membership.dueNaks(t0 + kNakDelay);
    ASSERT_EQ(naks.size(), 1u);
    EXPECT_EQ(naks[0].origin, kNodeA);
    EXPECT_EQ(naks[0].incarnation, 100u);
    EXPECT_EQ(naks[0].ranges, (std::vector<SeqRange>{{1, 2}}));
}

TEST_F(MembershipTest, GoneSkipsTheSeqsTheOriginNoLongerHolds) {
    joinA();
    a.sendOne("m1");
    data(a.sendOne("m2"));
    auto gone = a.gone({{1, 1}});
    membership.onGone(gone.header, {{1, 1}}, t0, out);
    EXPECT_EQ(delivered(), (Strings{"m2"}));
    EXPECT_EQ(membership.takeLost(), 1u);
}

TEST_F(MembershipTest, TakeLostReportsEachGivenUpDatagramOnce) {
    Origin b{kNodeB, 100};
    joinA();
    heartbeat(b.answerTo(kSelf, kSelfIncarnation));
    a.sendOne("a1");
    data(a.sendOne("a2"));
    b.sendOne("b1");
    b.sendOne("b2");
    data(b.sendOne("b3"));
    EXPECT_EQ(membership.takeLost(), 0u);
    membership.expire(t0 + kGapTimeout - milliseconds(1), out);
    EXPECT_TRUE(out.empty());
    membership.expire(t0 + kGapTimeout, out);
    EXPECT_EQ(delivered(), (Strings{"a2", "b3"}));
    EXPECT_EQ(membership.takeLost(), 3u);
    EXPECT_EQ(membership.takeLost(), 0u);
}

// --- silence

TEST_F(MembershipTest, ForgetsAPeerSilentLongerThanThePeerTimeout) {
    joinA(t0);
    membership.expire(t0 + kPeerTimeout, out);
    EXPECT_EQ(view(t0 + kPeerTimeout).size(), 1u);
    membership.expire(t0 + kPeerTimeout + milliseconds(1), out);
    EXPECT_EQ(membership.view(t0 + kPeerTimeout), "[]");
    EXPECT_EQ(metrics.busPeers.load(), 0);
    // Heard again, the same run resumes where its stream stood when it was forgotten.
    const auto later = at(seconds(60));
    data(a.sendOne("m1"), later);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload(), "m1");
    EXPECT_TRUE(view(later).at(0).at("synced").get<bool>());
}

TEST_F(MembershipTest, RejectsReplaysOfAForgottenPeersOldDatagrams) {
    joinA(t0);
    auto first = a.sendOne("m1");
    data(first, at(milliseconds(1)));
    ASSERT_EQ(out.size(), 1u);
    out.clear();
    membership.expire(at(seconds(6)), out);
    ASSERT_TRUE(view(at(seconds(6))).empty());
    // An attacker replays the captured datagram once the peer is gone: still a replay, and
    // it does not bring the peer back.
    data(first, at(seconds(7)));
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(view(at(seconds(7))).empty());
}

TEST_F(MembershipTest, ReplayedHeartbeatsDoNotKeepADeadPeerAlive) {
    joinA(t0);
    auto last = a.heartbeat();
    heartbeat(last, at(seconds(1)));
    // The node dies; its last heartbeat is replayed every second.
    for (int s = 2; s <= 9; ++s) heartbeat(last, at(seconds(s)));
    EXPECT_EQ(dropped(DropReason::Replay), 8u);
    membership.expire(at(seconds(6) + milliseconds(1)), out);
    EXPECT_TRUE(view(at(seconds(7))).empty()) << "silent since its last real heartbeat at 1 s";
    // Replayed after it was forgotten, it does not come back either.
    heartbeat(last, at(seconds(10)));
    EXPECT_TRUE(view(at(seconds(10))).empty());
    // A heartbeat it really sends later is news: the same run is heard again.
    heartbeat(a.heartbeat(), at(seconds(11)));
    EXPECT_EQ(view(at(seconds(11))).size(), 1u);
}

TEST_F(MembershipTest, AReplayedDatagramDoesNotKeepAPeerAlive) {
    joinA(t0);
    auto m1 = a.sendOne("m1");
    data(m1, at(seconds(1)));
    data(m1, at(seconds(4)));  // a duplicate: not news
    membership.expire(at(seconds(6) + milliseconds(1)), out);
    EXPECT_TRUE(view(at(seconds(7))).empty());
}

TEST_F(MembershipTest, ADatagramTakenIntoAPeersStreamKeepsItAlive) {
    joinA(t0);
    data(a.sendOne("m1"), at(seconds(4)));
    membership.expire(at(seconds(8)), out);
    EXPECT_EQ(view(at(seconds(8))).size(), 1u);
    membership.expire(at(seconds(9) + milliseconds(1)), out);
    EXPECT_TRUE(view(at(seconds(10))).empty());
}

// --- the view for GET /bus

TEST_F(MembershipTest, ViewListsEveryPeerWithItsStreamState) {
    Origin b{kNodeB, 300};
    joinA(t0);
    data(a.sendOne("a1"));
    a.sendOne("a2");
    data(a.sendOne("a3"), at(milliseconds(10)));
    membership.dueNaks(at(milliseconds(20)));
    data(b.sendOne("b1"), at(milliseconds(30)));  // no heartbeat from b yet

    auto peers = view(at(milliseconds(250)));
    ASSERT_TRUE(peers.is_array());
    ASSERT_EQ(peers.size(), 2u);
    const auto& pa = peers.at(0);
    EXPECT_EQ(pa.at("node"), kNodeA);
    EXPECT_EQ(pa.at("incarnation"), 100u);
    EXPECT_EQ(pa.at("lastSeenMs"), 240);
    EXPECT_EQ(pa.at("synced"), true);
    EXPECT_EQ(pa.at("nextSeq"), 2u);
    EXPECT_EQ(pa.at("highestSeq"), 3u);
    EXPECT_EQ(pa.at("gaps"), 1u);
    EXPECT_EQ(pa.at("naks"), 1u);
    EXPECT_EQ(pa.at("lost"), 0u);
    const auto& pb = peers.at(1);
    EXPECT_EQ(pb.at("node"), kNodeB);
    EXPECT_EQ(pb.at("incarnation"), 300u);
    EXPECT_EQ(pb.at("lastSeenMs"), 220);
    EXPECT_EQ(pb.at("synced"), false);
    EXPECT_EQ(pb.at("nextSeq"), 0u);
    EXPECT_EQ(pb.size(), 9u);
    EXPECT_EQ(pa.size(), 9u);
}
