// The other nodes this node hears, each with the stream of its current incarnation. Knows
// when a node joins, restarts (a larger incarnation: its seqs begin again) or goes silent
// (forgotten after the peer timeout), logs each change, and rejects datagrams of an older
// incarnation than the one it knows. Only news keeps a peer alive — a sequenced datagram
// taken into its stream, or a heartbeat numbered above the last one heard — so a dead
// node's captured datagrams, replayed, neither keep it listed nor bring it back.
//
// A stream this node has never followed is joined only on a heartbeat that answers this run
// (it names this node and its incarnation): an old heartbeat of another node, replayed as
// this node starts, must not set where that stream starts. Every node answers a node it sees
// join or restart, and any node whose heartbeat asks for it (one that still waits to join a
// stream). Runs on the bus's thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bus/PeerStream.hpp"
#include "metrics/Metrics.hpp"
#include "proto/Datagram.hpp"

namespace chat::bus {

// A heartbeat's `target` and `sender`: the node and incarnation it answers, or kAnswersNobody
// and, in `sender`, whether its origin asks to be answered.
inline constexpr std::int64_t kAnswersNobody = -1;
inline constexpr std::int64_t kAsksForAnswers = 1;

struct Answer {
    std::uint32_t node;
    std::uint64_t incarnation;
};

struct NakRequest {
    std::uint32_t origin;
    std::uint64_t incarnation;
    std::vector<proto::SeqRange> ranges;
};

class Membership {
public:
    using Clock = std::chrono::steady_clock;

    // `self` and `incarnation`: this node's run, which answers to it name.
    Membership(StreamLimits limits, std::chrono::seconds peerTimeout, std::uint32_t self, std::uint64_t incarnation,
               metrics::Metrics& metrics)
        : limits_(limits), peerTimeout_(peerTimeout), self_(self), incarnation_(incarnation), metrics_(metrics) {}

    // Each returns the messages that became deliverable, in their origin's order. What
    // onSequenced adds may borrow `d`'s payload (see Delivery).
    void onSequenced(const proto::DecodedDatagram& d, Clock::time_point now, std::vector<Delivery>& out);
    void onHeartbeat(const proto::DatagramHeader& h, Clock::time_point now, std::vector<Delivery>& out);
    void onGone(const proto::DatagramHeader& h, const std::vector<proto::SeqRange>& ranges, Clock::time_point now,
                std::vector<Delivery>& out);
    std::vector<NakRequest> dueNaks(Clock::time_point now);
    // Gives up old gaps and forgets silent peers.
    void expire(Clock::time_point now, std::vector<Delivery>& out);
    // Datagrams given up (gaps that could not be filled) since the last call.
    std::uint64_t takeLost();

    // The nodes to answer with a heartbeat now (each once): those that joined or restarted,
    // and those that asked. An answer lets a node join our stream without a heartbeat interval.
    std::vector<Answer> takeAnswers() { return std::exchange(answers_, {}); }
    // Some stream heard is not joined yet: our heartbeats ask every node to answer.
    bool waitingToJoin() const;

    // Nodes that joined or restarted (true) and left (false) since the last call, in order.
    std::vector<std::pair<std::uint32_t, bool>> takePeerChanges() { return std::exchange(changes_, {}); }

    // JSON array of the peers, for GET /bus.
    std::string view(Clock::time_point now) const;

private:
    struct Peer {
        std::uint64_t incarnation;
        PeerStream stream;
        Clock::time_point lastSeen;  // when it last sent news
        std::uint64_t reportedLost = 0;
        std::uint64_t beat = 0;  // the number of its latest heartbeat heard
    };

    // The peer's entry for this datagram's run, made if the datagram is news from a new run
    // (or from a forgotten one that moved on); null for an older run or a replay.
    Peer* peerFor(const proto::DatagramHeader& h, Clock::time_point now);
    // News from a forgotten peer's run: a later seq or heartbeat than when it was forgotten.
    static bool newerThan(const proto::DatagramHeader& h, std::uint64_t nextSeq, std::uint64_t beat);

    void answer(std::uint32_t node, std::uint64_t incarnation);
    bool answersUs(const proto::DatagramHeader& h) const;

    StreamLimits limits_;
    std::chrono::seconds peerTimeout_;
    const std::uint32_t self_;
    const std::uint64_t incarnation_;
    metrics::Metrics& metrics_;
    std::map<std::uint32_t, Peer> peers_;
    // Where the streams of forgotten peers stood, so their old datagrams cannot be replayed
    // after they are gone. One small entry per node id ever seen (at most 64).
    struct Tombstone {
        std::uint64_t incarnation;
        std::uint64_t nextSeq;
        std::uint64_t beat;
    };
    std::map<std::uint32_t, Tombstone> forgotten_;
    std::vector<Answer> answers_;
    std::vector<std::pair<std::uint32_t, bool>> changes_;
};

}  // namespace chat::bus
