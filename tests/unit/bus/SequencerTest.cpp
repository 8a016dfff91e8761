#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "BusTestSupport.hpp"
#include "bus/Sealer.hpp"
#include "bus/Sequencer.hpp"
#include "proto/Datagram.hpp"
#include "proto/SeqRanges.hpp"

using chat::bus::RetransmitLimits;
using chat::bus::Sealer;
using chat::bus::Sequencer;
using chat::bus::SharedBytes;
using chat::bus::testing::at;
using chat::bus::testing::decoded;
using chat::bus::testing::kKey;
using chat::bus::testing::t0;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::SeqRange;
using chat::proto::SeqRanges;
using chat::proto::TargetKind;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::uint32_t kNode = 7;
constexpr std::uint64_t kIncarnation = 1000;
constexpr std::size_t kMaxMessage = 64u << 10;
constexpr std::size_t kPiece = 1376;
constexpr std::size_t kOverhead = 64 + 32;  // header and MAC around every payload

DatagramHeader chatTo(std::int64_t target, std::int64_t sender, TargetKind targetKind = TargetKind::User) {
    DatagramHeader h;
    h.kind = DatagramKind::Chat;
    h.targetKind = targetKind;
    h.target = target;
    h.sender = sender;
    return h;
}

// Every byte depends on its position, so misplaced pieces cannot reassemble to the original.
std::string patterned(std::size_t n) {
    std::string s(n, ' ');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    return s;
}

std::vector<std::uint64_t> seqsOf(const std::vector<SharedBytes>& datagrams) {
    std::vector<std::uint64_t> out;
    for (const auto& d : datagrams) out.push_back(decoded(d).header.seq);
    return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> out;
    for (auto s = first; s <= last; ++s) out.push_back(s);
    return out;
}

class SequencerTest : public ::testing::Test {
protected:
    // Seals `n` one-datagram messages of `size` bytes, at `now`.
    void sealMany(Sequencer& s, int n, std::size_t size = 10, std::chrono::steady_clock::time_point now = t0) {
        for (int i = 0; i < n; ++i) ASSERT_EQ(s.seal(chatTo(1, 2), std::string(size, 'm'), now).size(), 1u);
    }

    // Decoded views point into the bytes, so the bytes are kept for the whole test.
    chat::proto::DecodedDatagram open(const SharedBytes& bytes) {
        kept_.push_back(bytes);
        return decoded(bytes);
    }

    Sealer sealer{kKey};
    Sequencer sequencer{kNode, kIncarnation, sealer, RetransmitLimits{}, kMaxMessage};
    std::vector<SeqRange> gone;

private:
    std::deque<SharedBytes> kept_;
};

}  // namespace

// --- numbering and signing

TEST_F(SequencerTest, NumbersMessagesConsecutivelyFromOne) {
    EXPECT_EQ(sequencer.lastSeq(), 0u);
    for (std::uint64_t expected = 1; expected <= 3; ++expected) {
        auto datagrams = sequencer.seal(chatTo(1, 2), "m", t0);
        ASSERT_EQ(datagrams.size(), 1u);
        EXPECT_EQ(decoded(datagrams[0]).header.seq, expected);
    }
    EXPECT_EQ(sequencer.lastSeq(), 3u);
    EXPECT_EQ(sequencer.incarnation(), kIncarnation);
}

TEST_F(SequencerTest, StampsOriginIncarnationAndKeyIdAndSignsEveryDatagram) {
    auto d = open(sequencer.seal(chatTo(1, 2), "hello", t0).at(0));
    EXPECT_EQ(d.header.origin, kNode);
    EXPECT_EQ(d.header.incarnation, kIncarnation);
    EXPECT_EQ(d.header.keyId, sealer.keyId());
    EXPECT_EQ(d.header.length, 5u);
    EXPECT_EQ(d.payload, "hello");
    EXPECT_TRUE(Sealer(kKey).verify(d.header.keyId, d.signedBytes, d.mac));
}

TEST_F(SequencerTest, KeepsTheCallersKindAndTargetButOverridesItsOwnFields) {
    DatagramHeader h;
    h.kind = DatagramKind::Join;
    h.targetKind = TargetKind::Group;
    h.target = 100;
    h.sender = -3;
    // Fields that are the sequencer's to set, whatever the caller left in them.
    h.origin = 99;
    h.incarnation = 5;
    h.seq = 555;
    h.fragIndex = 3;
    h.fragCount = 9;
    h.length = 77;
    auto d = open(sequencer.seal(h, "", t0).at(0));
    EXPECT_EQ(d.header.kind, DatagramKind::Join);
    EXPECT_EQ(d.header.targetKind, TargetKind::Group);
    EXPECT_EQ(d.header.target, 100);
    EXPECT_EQ(d.header.sender, -3);
    EXPECT_EQ(d.header.origin, kNode);
    EXPECT_EQ(d.header.incarnation, kIncarnation);
    EXPECT_EQ(d.header.seq, 1u);
    EXPECT_EQ(d.header.fragIndex, 0u);
    EXPECT_EQ(d.header.fragCount, 1u);
    EXPECT_EQ(d.header.length, 0u);
}

// --- fragmentation

TEST_F(SequencerTest, CutsMessagesInto1376BytePiecesThatFitOneEthernetFrame) {
    const std::pair<std::size_t, std::vector<std::size_t>> cases[] = {
        {0, {0}},
        {1, {1}},
        {kPiece - 1, {kPiece - 1}},
        {kPiece, {kPiece}},
        {kPiece + 1, {kPiece, 1}},
        {2 * kPiece, {kPiece, kPiece}},
        {2 * kPiece + 1, {kPiece, kPiece, 1}},
        {3 * kPiece, {kPiece, kPiece, kPiece}},
    };
    for (const auto& [size, pieces] : cases) {
        Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{}, kMaxMessage};
        const auto payload = patterned(size);
        auto datagrams = s.seal(chatTo(1, 2), payload, t0);
        ASSERT_EQ(datagrams.size(), pieces.size()) << size;
        std::string joined;
        for (std::size_t i = 0; i < datagrams.size(); ++i) {
            auto d = decoded(datagrams[i]);
            EXPECT_LE(datagrams[i]->size(), chat::proto::kMaxDatagramSize) << size;
            EXPECT_EQ(d.payload.size(), pieces[i]) << size << " piece " << i;
            EXPECT_EQ(d.header.seq, i + 1) << size;
            joined += d.payload;
        }
        EXPECT_EQ(joined, payload) << size;
        EXPECT_EQ(s.lastSeq(), pieces.size()) << size;
    }
}

TEST_F(SequencerTest, FragmentsShareKindTargetAndSenderAndCarryTheirIndexAndCount) {
    sequencer.seal(chatTo(1, 2), "before", t0);
    auto datagrams = sequencer.seal(chatTo(100, 3, TargetKind::Group), patterned(2 * kPiece + 10), t0);
    ASSERT_EQ(datagrams.size(), 3u);
    for (std::uint16_t i = 0; i < 3; ++i) {
        auto h = decoded(datagrams[i]).header;
        EXPECT_EQ(h.kind, DatagramKind::Chat);
        EXPECT_EQ(h.targetKind, TargetKind::Group);
        EXPECT_EQ(h.target, 100);
        EXPECT_EQ(h.sender, 3);
        EXPECT_EQ(h.seq, 2u + i);  // every piece has a seq of its own, so each can be NAKed
        EXPECT_EQ(h.fragIndex, i);
        EXPECT_EQ(h.fragCount, 3u);
        EXPECT_TRUE(sealer.verify(h.keyId, decoded(datagrams[i]).signedBytes, decoded(datagrams[i]).mac));
    }
}

TEST_F(SequencerTest, RefusesAMessageOverTheMaximumAndNumbersNothing) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{}, 5000};
    EXPECT_TRUE(s.seal(chatTo(1, 2), std::string(5001, 'x'), t0).empty());
    EXPECT_EQ(s.lastSeq(), 0u);
    EXPECT_EQ(s.buffered(), 0u);
    EXPECT_EQ(s.seal(chatTo(1, 2), std::string(5000, 'x'), t0).size(), 4u);
    EXPECT_EQ(s.lastSeq(), 4u);
}

// --- the retransmit buffer

TEST_F(SequencerTest, KeepsAtMostTheCountLimitOfDatagrams) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{4, 64u << 20, seconds(30)}, kMaxMessage};
    sealMany(s, 6);
    EXPECT_EQ(s.buffered(), 4u);
    EXPECT_EQ(seqsOf(s.resend({{1, 6}}, t0, gone)), range(3, 6));
    EXPECT_EQ(gone, (std::vector<SeqRange>{{1, 2}}));
}

TEST_F(SequencerTest, CountsEveryFragmentAgainstTheCountLimit) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{4, 64u << 20, seconds(30)}, kMaxMessage};
    s.seal(chatTo(1, 2), patterned(3 * kPiece), t0);
    s.seal(chatTo(1, 2), patterned(3 * kPiece), t0);
    EXPECT_EQ(s.buffered(), 4u);
    EXPECT_EQ(seqsOf(s.resend({{1, 6}}, t0, gone)), range(3, 6));
}

TEST_F(SequencerTest, KeepsAtMostTheByteLimit) {
    const std::size_t datagram = 100 + kOverhead;
    for (std::size_t limit : {3 * datagram, 4 * datagram - 1}) {
        Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{1000, limit, seconds(30)}, kMaxMessage};
        sealMany(s, 5, 100);
        EXPECT_EQ(s.buffered(), 3u) << limit;
        std::vector<SeqRange> g;
        EXPECT_EQ(seqsOf(s.resend({{1, 5}}, t0, g)), range(3, 5)) << limit;
    }
}

TEST_F(SequencerTest, ForgetsDatagramsOlderThanTheAgeLimit) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{1000, 64u << 20, seconds(30)}, kMaxMessage};
    sealMany(s, 1, 10, t0);
    sealMany(s, 1, 10, at(seconds(10)));
    sealMany(s, 1, 10, at(seconds(30)));
    EXPECT_EQ(s.buffered(), 3u);  // exactly 30 s old is not yet too old
    sealMany(s, 1, 10, at(seconds(30) + milliseconds(1)));
    EXPECT_EQ(s.buffered(), 3u);
    // Asking is enough to age the buffer, even when nothing new was sent.
    EXPECT_EQ(seqsOf(s.resend({{1, 4}}, at(seconds(40) + milliseconds(1)), gone)), range(3, 4));
    EXPECT_EQ(gone, (std::vector<SeqRange>{{1, 2}}));
    EXPECT_EQ(s.buffered(), 2u);
}

TEST_F(SequencerTest, ResendsStoredDatagramsByteForByte) {
    std::vector<SharedBytes> sent;
    for (const auto& payload : {patterned(10), patterned(kPiece + 5), patterned(0)})
        for (auto& d : sequencer.seal(chatTo(1, 2), payload, t0)) sent.push_back(d);
    ASSERT_EQ(sent.size(), 4u);
    auto again = sequencer.resend({{1, 4}}, t0, gone);
    ASSERT_EQ(again.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(*again[i], *sent[i]) << "seq " << i + 1;
    EXPECT_TRUE(gone.empty());
    auto some = sequencer.resend({{2, 2}, {4, 4}}, at(RetransmitLimits{}.resendSpacing), gone);
    EXPECT_EQ(seqsOf(some), (std::vector<std::uint64_t>{2, 4}));
}

TEST_F(SequencerTest, ResendsASeqAgainOnlyAfterTheResendSpacing) {
    sealMany(sequencer, 4);
    const auto spacing = RetransmitLimits{}.resendSpacing;
    EXPECT_EQ(seqsOf(sequencer.resend({{1, 3}}, t0, gone)), range(1, 3));
    // A second asker, just after: the broadcast resend reached it too.
    EXPECT_EQ(seqsOf(sequencer.resend({{1, 4}}, at(spacing - milliseconds(1)), gone)), range(4, 4));
    // An asker whose resend was lost asks again a NAK interval later, and gets it.
    EXPECT_EQ(seqsOf(sequencer.resend({{1, 3}}, at(spacing), gone)), range(1, 3));
    EXPECT_TRUE(gone.empty());
}

TEST_F(SequencerTest, AReplayedNakCannotMakeTheNodeFloodTheLan) {
    sealMany(sequencer, 100);
    std::size_t resent = 0;
    // A captured NAK replayed 10,000 times within one spacing gets its datagrams sent once.
    for (int i = 0; i < 10000; ++i)
        resent += sequencer.resend({{1, 100}}, t0 + std::chrono::microseconds(i), gone).size();
    EXPECT_EQ(resent, 100u);
}

TEST_F(SequencerTest, IgnoresSeqsBeyondTheLastOneSent) {
    sealMany(sequencer, 3);
    EXPECT_EQ(seqsOf(sequencer.resend({{2, 10}}, t0, gone)), range(2, 3));
    EXPECT_TRUE(sequencer.resend({{4, 9}}, t0, gone).empty());
    EXPECT_TRUE(sequencer.resend({{UINT64_MAX - 1, UINT64_MAX}}, t0, gone).empty());
    EXPECT_TRUE(gone.empty());  // never sent is not gone
}

TEST_F(SequencerTest, ReportsExactlyTheTrimmedSeqsAsGone) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{3, 64u << 20, seconds(30)}, kMaxMessage};
    sealMany(s, 6);  // 4..6 kept
    auto again = s.resend({{1, 2}, {3, 5}, {6, 6}}, t0, gone);
    EXPECT_EQ(seqsOf(again), range(4, 6));
    EXPECT_EQ(gone, (std::vector<SeqRange>{{1, 2}, {3, 3}}));
}

TEST_F(SequencerTest, ReportsEverythingGoneWhenTheBufferIsEmpty) {
    Sequencer s{kNode, kIncarnation, sealer, RetransmitLimits{1000, 64u << 20, seconds(1)}, kMaxMessage};
    sealMany(s, 3);
    EXPECT_TRUE(s.resend({{1, 3}}, at(seconds(5)), gone).empty());
    EXPECT_EQ(s.buffered(), 0u);
    EXPECT_EQ(gone, (std::vector<SeqRange>{{1, 3}}));
}

// --- control datagrams

TEST_F(SequencerTest, AHeartbeatCarriesTheLatestSeqAndIsNeitherNumberedNorStored) {
    EXPECT_EQ(decoded(sequencer.control(DatagramKind::Heartbeat, 0, 0, {})).header.seq, 0u);
    sequencer.seal(chatTo(1, 2), "one", t0);
    sequencer.seal(chatTo(1, 2), patterned(kPiece + 1), t0);
    auto hb = open(sequencer.control(DatagramKind::Heartbeat, 0, 0, {}));
    EXPECT_EQ(hb.header.kind, DatagramKind::Heartbeat);
    EXPECT_EQ(hb.header.seq, 3u);
    EXPECT_EQ(hb.header.origin, kNode);
    EXPECT_EQ(hb.header.incarnation, kIncarnation);
    EXPECT_EQ(hb.header.fragIndex, 0u);
    EXPECT_EQ(hb.header.fragCount, 1u);
    EXPECT_TRUE(hb.payload.empty());
    EXPECT_TRUE(sealer.verify(hb.header.keyId, hb.signedBytes, hb.mac));
    EXPECT_EQ(sequencer.lastSeq(), 3u);
    EXPECT_EQ(sequencer.buffered(), 3u);
}

TEST_F(SequencerTest, EachHeartbeatOfARunCarriesItsOwnNumberSoAReplayedOneIsKnownAsOld) {
    for (std::uint64_t n = 1; n <= 3; ++n)
        EXPECT_EQ(open(sequencer.control(DatagramKind::Heartbeat, 0, 0, {})).header.pos, n);
    EXPECT_EQ(open(sequencer.control(DatagramKind::Nak, 3, 555, {})).header.pos, 0u) << "only heartbeats are numbered";
    EXPECT_EQ(open(sequencer.control(DatagramKind::Heartbeat, 0, 0, {})).header.pos, 4u);
}

TEST_F(SequencerTest, NakAndGoneCarryTheirRangesTargetAndNoSeq) {
    sealMany(sequencer, 2);
    const std::vector<SeqRange> ranges{{3, 5}, {9, 9}};
    for (auto kind : {DatagramKind::Nak, DatagramKind::Gone}) {
        auto d = open(sequencer.control(kind, 3, 555, SeqRanges::encode(ranges)));
        EXPECT_EQ(d.header.kind, kind);
        EXPECT_EQ(d.header.seq, 0u);
        EXPECT_EQ(d.header.target, 3);
        EXPECT_EQ(d.header.sender, 555);
        EXPECT_EQ(SeqRanges::decode(d.payload), ranges);
        EXPECT_TRUE(sealer.verify(d.header.keyId, d.signedBytes, d.mac));
    }
    EXPECT_EQ(sequencer.lastSeq(), 2u);
    EXPECT_EQ(sequencer.buffered(), 2u);
}

// --- threads

TEST_F(SequencerTest, ConcurrentSealsGetDistinctConsecutiveSeqsAndHeartbeatsSeeWholeMessages) {
    constexpr int kThreads = 4, kMessages = 200;
    std::vector<std::vector<std::uint64_t>> seqs(kThreads);
    std::atomic<bool> done{false};
    std::atomic<int> tornHeartbeats{0};
    std::thread watcher([&] {
        // Every message has two pieces, so a heartbeat taken between messages names an even seq.
        while (!done.load())
            if (decoded(sequencer.control(DatagramKind::Heartbeat, 0, 0, {})).header.seq % 2 != 0) ++tornHeartbeats;
    });
    std::vector<std::thread> senders;
    for (int t = 0; t < kThreads; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < kMessages; ++i)
                for (const auto& d : sequencer.seal(chatTo(t, i), patterned(kPiece + 1), t0))
                    seqs[t].push_back(decoded(d).header.seq);
        });
    }
    for (auto& s : senders) s.join();
    done = true;
    watcher.join();

    std::vector<std::uint64_t> all;
    for (const auto& mine : seqs) {
        ASSERT_EQ(mine.size(), 2u * kMessages);
        for (std::size_t i = 0; i < mine.size(); i += 2) EXPECT_EQ(mine[i + 1], mine[i] + 1);  // pieces adjacent
        all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, range(1, 2u * kThreads * kMessages));
    EXPECT_EQ(tornHeartbeats.load(), 0);
    EXPECT_EQ(sequencer.buffered(), 2u * kThreads * kMessages);
}
