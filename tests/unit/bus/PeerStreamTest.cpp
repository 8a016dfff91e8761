#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "BusTestSupport.hpp"
#include "bus/PeerStream.hpp"
#include "proto/Datagram.hpp"
#include "proto/SeqRanges.hpp"

using chat::bus::Delivery;
using chat::bus::PeerStream;
using chat::bus::RetransmitLimits;
using chat::bus::StreamLimits;
using chat::bus::testing::at;
using chat::bus::testing::Origin;
using chat::bus::testing::t0;
using chat::proto::DecodedDatagram;
using chat::proto::SeqRange;
using chat::proto::SeqRanges;
using Fed = chat::bus::PeerStream::Fed;
using std::chrono::milliseconds;
using Ranges = std::vector<SeqRange>;
using Strings = std::vector<std::string>;

namespace {

constexpr auto kNakDelay = milliseconds(5);
constexpr auto kNakInterval = milliseconds(50);
constexpr auto kGapTimeout = milliseconds(5000);
constexpr std::size_t kPiece = 1376;

StreamLimits limits(std::size_t maxPending = 1000, std::size_t maxMessage = 64u << 10) {
    StreamLimits l;
    l.maxPending = maxPending;
    l.maxMessage = maxMessage;
    l.nakDelay = kNakDelay;
    l.nakInterval = kNakInterval;
    l.gapTimeout = kGapTimeout;
    return l;
}

// Another node's datagrams by seq, fed to one PeerStream in whatever order a test chooses.
class PeerStreamTest : public ::testing::Test {
protected:
    // Sends messages "m<seq>" that each fit one datagram, up to seq `last`.
    void sendUpTo(std::uint64_t last) {
        while (origin.sequencer().lastSeq() < last) {
            auto seq = origin.sequencer().lastSeq() + 1;
            remember(origin.send("m" + std::to_string(seq)));
        }
    }
    void remember(const std::vector<DecodedDatagram>& datagrams) {
        for (const auto& d : datagrams) bySeq.emplace(d.header.seq, d);
    }
    Fed feed(std::uint64_t seq, std::chrono::steady_clock::time_point now = t0) {
        const auto& d = bySeq.at(seq);
        return stream.onData(d.header, d.payload, now, out);
    }
    void feedAll(std::initializer_list<std::uint64_t> seqs, std::chrono::steady_clock::time_point now = t0) {
        for (auto s : seqs) EXPECT_EQ(feed(s, now), Fed::Accepted) << "seq " << s;
    }
    // The payloads delivered so far, and forgets them.
    Strings delivered() {
        Strings payloads;
        for (const auto& d : out) payloads.emplace_back(d.payload());
        out.clear();
        return payloads;
    }

    Origin origin{7, 100};
    std::map<std::uint64_t, DecodedDatagram> bySeq;
    PeerStream stream{limits(), 1};
    std::vector<Delivery> out;
};

}  // namespace

// --- order and duplicates

TEST_F(PeerStreamTest, DeliversConsecutiveDatagramsAtOnceFromAKnownStart) {
    sendUpTo(3);
    EXPECT_TRUE(stream.synced());
    feedAll({1, 2, 3});
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3"}));
    EXPECT_EQ(stream.nextSeq(), 4u);
    EXPECT_EQ(stream.highestSeq(), 3u);
}

TEST_F(PeerStreamTest, TheNextWholeMessageIsDeliveredFromItsDatagramWithoutACopy) {
    sendUpTo(3);
    feedAll({1, 3});  // 3 waits for 2
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload().data(), bySeq.at(1).payload.data());
    out.clear();
    feedAll({2});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].payload().data(), bySeq.at(2).payload.data());
    EXPECT_FALSE(out[1].borrowed) << "a datagram that waited keeps a copy of its own";
    EXPECT_EQ(out[1].payload(), "m3");
}

TEST_F(PeerStreamTest, DeliversWholeMessagesWithTheirHeader) {
    remember(origin.send("payload", t0, chat::proto::DatagramKind::Join, 100, 3));
    feedAll({1});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].header.kind, chat::proto::DatagramKind::Join);
    EXPECT_EQ(out[0].header.target, 100);
    EXPECT_EQ(out[0].header.sender, 3);
    EXPECT_EQ(out[0].header.origin, 7u);
    EXPECT_EQ(out[0].header.seq, 1u);
}

TEST_F(PeerStreamTest, PutsReorderedDatagramsBackInOrder) {
    sendUpTo(5);
    feedAll({3, 5});
    EXPECT_TRUE(delivered().empty());
    feedAll({1});
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    feedAll({4});
    EXPECT_TRUE(delivered().empty());
    feedAll({2});
    EXPECT_EQ(delivered(), (Strings{"m2", "m3", "m4", "m5"}));
}

TEST_F(PeerStreamTest, RefusesADeliveredOrHeldDatagramAsADuplicate) {
    sendUpTo(3);
    feedAll({1, 3});
    EXPECT_EQ(feed(1), Fed::Duplicate);  // delivered already
    EXPECT_EQ(feed(3), Fed::Duplicate);  // held, waiting for 2
    feedAll({2});
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3"}));  // each once
    EXPECT_EQ(feed(3), Fed::Duplicate);
    EXPECT_TRUE(delivered().empty());
}

// --- the start of a stream heard mid-way

TEST_F(PeerStreamTest, WithoutAKnownStartHoldsEverythingUntilTheOriginsHeartbeat) {
    PeerStream late(limits(), std::nullopt);
    sendUpTo(2);
    auto hb = origin.heartbeat();  // "my latest seq is 2"
    sendUpTo(4);
    for (std::uint64_t s : {3, 4})
        EXPECT_EQ(late.onData(bySeq.at(s).header, bySeq.at(s).payload, t0, out), Fed::Accepted);
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(late.synced());
    late.onHeartbeat(hb.header.seq, t0, out);
    EXPECT_TRUE(late.synced());
    EXPECT_EQ(delivered(), (Strings{"m3", "m4"}));
    EXPECT_EQ(late.nextSeq(), 5u);
}

TEST_F(PeerStreamTest, DropsWhatTheFirstHeartbeatCoversSoOldDatagramsCannotBeReplayed) {
    PeerStream late(limits(), std::nullopt);
    sendUpTo(2);
    auto hb = origin.heartbeat();
    sendUpTo(3);
    // Datagrams 1 and 2 were sent before this node listened: a replay, or a stale copy.
    for (std::uint64_t s : {1, 2, 3})
        EXPECT_EQ(late.onData(bySeq.at(s).header, bySeq.at(s).payload, t0, out), Fed::Accepted);
    late.onHeartbeat(hb.header.seq, t0, out);
    EXPECT_EQ(delivered(), (Strings{"m3"}));
    for (std::uint64_t s : {1, 2, 3})
        EXPECT_EQ(late.onData(bySeq.at(s).header, bySeq.at(s).payload, t0, out), Fed::Duplicate) << s;
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(late.lost(), 0u);  // never ours to deliver
}

TEST_F(PeerStreamTest, AFirstHeartbeatBehindHeldDatagramsLeavesAGapToNak) {
    PeerStream late(limits(), std::nullopt);
    sendUpTo(4);
    late.onData(bySeq.at(4).header, bySeq.at(4).payload, t0, out);
    late.onHeartbeat(2, t0, out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(late.dueNak(t0 + kNakDelay), (Ranges{{3, 3}}));
}

TEST_F(PeerStreamTest, ALaterHeartbeatNeverMovesTheStart) {
    sendUpTo(3);
    stream.onHeartbeat(3, t0, out);  // synced from seq 1: nothing is skipped
    EXPECT_EQ(stream.nextSeq(), 1u);
    feedAll({1, 2, 3});
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3"}));
}

// --- gaps and NAKs

TEST_F(PeerStreamTest, AsksForAGapOnlyAfterTheNakDelay) {
    sendUpTo(3);
    feedAll({1, 3});
    EXPECT_TRUE(stream.dueNak(t0).empty());
    EXPECT_TRUE(stream.dueNak(t0 + kNakDelay - milliseconds(1)).empty());
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{2, 2}}));
    EXPECT_EQ(stream.gaps(), 1u);
    EXPECT_EQ(stream.naks(), 1u);
}

TEST_F(PeerStreamTest, RepeatsTheNakEveryNakIntervalWhileTheGapLasts) {
    sendUpTo(3);
    feedAll({1, 3});
    const auto first = t0 + kNakDelay;
    EXPECT_EQ(stream.dueNak(first), (Ranges{{2, 2}}));
    EXPECT_TRUE(stream.dueNak(first + milliseconds(1)).empty());
    EXPECT_TRUE(stream.dueNak(first + kNakInterval - milliseconds(1)).empty());
    EXPECT_EQ(stream.dueNak(first + kNakInterval), (Ranges{{2, 2}}));
    EXPECT_TRUE(stream.dueNak(first + kNakInterval + milliseconds(1)).empty());
    EXPECT_EQ(stream.dueNak(first + 2 * kNakInterval), (Ranges{{2, 2}}));
    EXPECT_EQ(stream.naks(), 3u);
    EXPECT_EQ(stream.gaps(), 1u);  // one gap, asked for three times
}

TEST_F(PeerStreamTest, NaksExactlyTheMissingRangesAcrossSeveralHoles) {
    sendUpTo(10);
    feedAll({1, 3, 6, 7, 10});
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{2, 2}, {4, 5}, {8, 9}}));
}

TEST_F(PeerStreamTest, AHeartbeatRevealsALostTail) {
    sendUpTo(4);
    feedAll({1, 2});
    EXPECT_TRUE(stream.dueNak(at(milliseconds(1000))).empty());  // nothing known to be missing
    const auto hbAt = at(milliseconds(2000));
    stream.onHeartbeat(origin.heartbeat().header.seq, hbAt, out);
    EXPECT_EQ(stream.highestSeq(), 4u);
    EXPECT_TRUE(stream.dueNak(hbAt + kNakDelay - milliseconds(1)).empty());
    EXPECT_EQ(stream.dueNak(hbAt + kNakDelay), (Ranges{{3, 4}}));
}

TEST_F(PeerStreamTest, AHeartbeatRevealsALostTailBehindAHole) {
    sendUpTo(5);
    feedAll({1, 3});
    stream.onHeartbeat(5, t0, out);
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{2, 2}, {4, 5}}));
}

TEST_F(PeerStreamTest, FillingTheGapDeliversTheHeldDatagramsAndEndsTheNaks) {
    sendUpTo(4);
    feedAll({1, 3, 4});
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{2, 2}}));
    feedAll({2}, t0 + milliseconds(20));
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3", "m4"}));
    EXPECT_TRUE(stream.dueNak(t0 + kNakDelay + kNakInterval).empty());
    EXPECT_TRUE(stream.dueNak(t0 + kGapTimeout * 2).empty());
}

TEST_F(PeerStreamTest, ANewGapAfterProgressWaitsItsOwnNakDelay) {
    sendUpTo(5);
    feedAll({1, 3, 5});
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{2, 2}, {4, 4}}));
    const auto later = at(milliseconds(100));
    feedAll({2}, later);  // 2 and 3 delivered; 4 still missing
    EXPECT_TRUE(stream.dueNak(later + kNakDelay - milliseconds(1)).empty());
    EXPECT_EQ(stream.dueNak(later + kNakDelay), (Ranges{{4, 4}}));
    EXPECT_EQ(stream.gaps(), 2u);
}

// --- giving up

TEST_F(PeerStreamTest, GoneSkipsExactlyTheGoneSeqsAndCountsThemLost) {
    sendUpTo(6);
    feedAll({1, 4, 6});
    EXPECT_EQ(stream.onGone({{2, 3}}, t0, out), 2u);
    EXPECT_EQ(delivered(), (Strings{"m1", "m4"}));
    EXPECT_EQ(stream.lost(), 2u);
    EXPECT_EQ(stream.nextSeq(), 5u);
    EXPECT_EQ(stream.dueNak(t0 + kNakDelay), (Ranges{{5, 5}}));  // 5 may still come
    feedAll({5});
    EXPECT_EQ(delivered(), (Strings{"m5", "m6"}));
    EXPECT_EQ(stream.lost(), 2u);
}

TEST_F(PeerStreamTest, GoneAppliesRangeAfterRangeAcrossHeldDatagrams) {
    sendUpTo(6);
    feedAll({1, 4});
    stream.onGone({{2, 3}, {5, 5}}, t0, out);
    EXPECT_EQ(delivered(), (Strings{"m1", "m4"}));
    EXPECT_EQ(stream.lost(), 3u);
    EXPECT_EQ(stream.nextSeq(), 6u);
}

TEST_F(PeerStreamTest, GoneForSeqsAlreadyDeliveredChangesNothing) {
    sendUpTo(3);
    feedAll({1, 2});
    EXPECT_EQ(stream.onGone({{1, 2}}, t0, out), 0u);
    EXPECT_EQ(stream.lost(), 0u);
    EXPECT_EQ(stream.nextSeq(), 3u);
    feedAll({3});
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3"}));
}

TEST_F(PeerStreamTest, AReplayedGoneGivesUpNothingMore) {
    sendUpTo(6);
    feedAll({1, 4, 6});
    EXPECT_EQ(stream.onGone({{2, 3}}, t0, out), 2u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(stream.onGone({{2, 3}}, t0, out), 0u);
    EXPECT_EQ(stream.lost(), 2u);
}

TEST_F(PeerStreamTest, RecoversFromTheOriginsAnswerOfResentAndGoneSeqs) {
    Origin small(8, 200, RetransmitLimits{3, 64u << 20, std::chrono::seconds(30)});
    std::map<std::uint64_t, DecodedDatagram> sent;
    for (int i = 1; i <= 6; ++i) sent.emplace(i, small.sendOne("m" + std::to_string(i)));
    PeerStream s(limits(), 1);
    for (std::uint64_t seq : {1, 5, 6}) s.onData(sent.at(seq).header, sent.at(seq).payload, t0, out);
    auto nak = s.dueNak(t0 + kNakDelay);
    ASSERT_EQ(nak, (Ranges{{2, 4}}));
    // The origin kept only 4..6: it resends 4 and says 2..3 are gone.
    std::vector<SeqRange> gone;
    auto again = small.sequencer().resend(nak, t0, gone);
    ASSERT_EQ(again.size(), 1u);
    auto goneDatagram = small.gone(gone);
    auto ranges = SeqRanges::decode(goneDatagram.payload);
    ASSERT_TRUE(ranges);
    s.onGone(*ranges, t0, out);
    auto resent = small.keep(again[0]);
    EXPECT_EQ(s.onData(resent.header, resent.payload, t0, out), Fed::Accepted);
    EXPECT_EQ(delivered(), (Strings{"m1", "m4", "m5", "m6"}));
    EXPECT_EQ(s.lost(), 2u);
}

TEST_F(PeerStreamTest, GivesAGapUpAfterTheGapTimeoutCountsItLostAndCarriesOn) {
    sendUpTo(4);
    feedAll({1, 3});
    stream.expire(t0 + kGapTimeout - milliseconds(1), out);
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    stream.expire(t0 + kGapTimeout, out);
    EXPECT_EQ(delivered(), (Strings{"m3"}));
    EXPECT_EQ(stream.lost(), 1u);
    EXPECT_EQ(stream.nextSeq(), 4u);
    EXPECT_TRUE(stream.dueNak(t0 + kGapTimeout + kNakDelay).empty());
    feedAll({4}, t0 + kGapTimeout);
    EXPECT_EQ(delivered(), (Strings{"m4"}));
    EXPECT_EQ(feed(2), Fed::Duplicate);  // too late now
}

TEST_F(PeerStreamTest, GivesALostTailUpAfterTheGapTimeout) {
    sendUpTo(3);
    feedAll({1});
    stream.onHeartbeat(3, t0, out);
    stream.expire(t0 + kGapTimeout, out);
    EXPECT_EQ(delivered(), (Strings{"m1"}));
    EXPECT_EQ(stream.lost(), 2u);
    EXPECT_EQ(stream.nextSeq(), 4u);
    sendUpTo(4);
    feedAll({4});
    EXPECT_EQ(delivered(), (Strings{"m4"}));
}

TEST_F(PeerStreamTest, ExpireWithoutAGapDoesNothing) {
    sendUpTo(2);
    feedAll({1, 2});
    stream.expire(t0 + kGapTimeout * 10, out);
    EXPECT_EQ(stream.lost(), 0u);
    EXPECT_EQ(stream.nextSeq(), 3u);
}

// --- fragments

TEST_F(PeerStreamTest, ReassemblesAFragmentedMessageWhateverTheOrderOfItsPieces) {
    const std::string big = std::string(kPiece, 'a') + std::string(kPiece, 'b') + std::string(100, 'c');
    remember(origin.send(big, t0, chat::proto::DatagramKind::Chat, 42, 9));
    ASSERT_EQ(bySeq.size(), 3u);
    sendUpTo(4);
    feedAll({3, 1, 4});
    EXPECT_TRUE(out.empty());
    feedAll({2});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].payload(), big);
    EXPECT_EQ(out[0].header.seq, 1u);
    EXPECT_EQ(out[0].header.fragIndex, 0u);
    EXPECT_EQ(out[0].header.fragCount, 3u);
    EXPECT_EQ(out[0].header.target, 42);
    EXPECT_EQ(out[0].header.sender, 9);
    EXPECT_EQ(out[1].payload(), "m4");
}

TEST_F(PeerStreamTest, AGivenUpPieceAbandonsOnlyItsMessage) {
    const std::string big(3 * kPiece, 'f');
    remember(origin.send(big));  // seqs 1..3
    sendUpTo(4);
    for (std::uint64_t missing : {1, 2, 3}) {
        PeerStream s(limits(), 1);
        for (std::uint64_t seq = 1; seq <= 4; ++seq)
            if (seq != missing) s.onData(bySeq.at(seq).header, bySeq.at(seq).payload, t0, out);
        s.expire(t0 + kGapTimeout, out);
        EXPECT_EQ(delivered(), (Strings{"m4"})) << "piece " << missing << " lost";
        EXPECT_EQ(s.lost(), 1u);
        EXPECT_EQ(s.nextSeq(), 5u);
    }
}

TEST_F(PeerStreamTest, AbandonsAMessageThatWouldReassembleLargerThanTheMaximum) {
    PeerStream s(limits(1000, 2000), 1);
    remember(origin.send(std::string(2500, 'x')));  // two pieces of at most 1376 bytes
    sendUpTo(3);
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
        EXPECT_EQ(s.onData(bySeq.at(seq).header, bySeq.at(seq).payload, t0, out), Fed::Accepted);
    EXPECT_EQ(delivered(), (Strings{"m3"}));
}

// --- bounds

TEST_F(PeerStreamTest, RefusesDatagramsBeyondMaxPendingButAlwaysTakesTheOneThatFillsTheGap) {
    PeerStream s(limits(4), 1);
    sendUpTo(7);
    auto feedTo = [&](std::uint64_t seq) { return s.onData(bySeq.at(seq).header, bySeq.at(seq).payload, t0, out); };
    for (std::uint64_t seq : {2, 3, 4, 5}) EXPECT_EQ(feedTo(seq), Fed::Accepted);
    EXPECT_EQ(feedTo(6), Fed::Overflow);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(feedTo(1), Fed::Accepted);
    EXPECT_EQ(delivered(), (Strings{"m1", "m2", "m3", "m4", "m5"}));
    EXPECT_EQ(feedTo(6), Fed::Accepted);  // fetched again after the refusal
    EXPECT_EQ(feedTo(7), Fed::Accepted);
    EXPECT_EQ(delivered(), (Strings{"m6", "m7"}));
    EXPECT_EQ(s.lost(), 0u);
}

TEST_F(PeerStreamTest, RefusesAPieceLargerThanTheMaximumMessageWithoutHoldingIt) {
    PeerStream s(limits(1000, 100), 1);
    remember(origin.send(std::string(101, 'x')));
    sendUpTo(2);
    EXPECT_EQ(s.onData(bySeq.at(1).header, bySeq.at(1).payload, t0, out), Fed::Oversize);
    EXPECT_EQ(s.onData(bySeq.at(1).header, bySeq.at(1).payload, t0, out), Fed::Oversize);  // not held
    EXPECT_EQ(s.onData(bySeq.at(2).header, bySeq.at(2).payload, t0, out), Fed::Accepted);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(s.nextSeq(), 1u);
}
