// The receiving half of the reliable bus, for one incarnation of one origin node: puts
// sequenced datagrams back in order, drops duplicates and replays, reassembles fragments,
// finds gaps (from later datagrams or from heartbeats, which reveal a lost tail), says which
// seqs to NAK and when, and gives a gap up when it cannot be filled. Pure logic with the
// clock as a parameter; the bus calls it on its thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/Datagram.hpp"
#include "proto/SeqRanges.hpp"

namespace chat::bus {

struct StreamLimits {
    std::size_t maxPending = 16384;  // out-of-order datagrams held per origin
    std::size_t maxMessage = 64u << 10;
    std::chrono::milliseconds nakDelay{5};       // reordering shorter than this costs no NAK
    std::chrono::milliseconds nakInterval{50};   // before a seq already NAKed is asked for again
    std::chrono::milliseconds gapTimeout{5000};  // then the gap is given up and reported
};

// A whole message. The usual one, the next datagram and a message of its own, borrows its
// bytes from the datagram given to onData: it is consumed before that buffer takes another
// (the bus delivers before it receives again). One that waited or was reassembled keeps them.
struct Delivery {
    proto::DatagramHeader header;  // of the message's first fragment
    std::string kept;
    std::optional<std::string_view> borrowed;
    std::string_view payload() const { return borrowed ? *borrowed : std::string_view(kept); }
};

class PeerStream {
public:
    using Clock = std::chrono::steady_clock;
    enum class Fed { Accepted, Duplicate, Overflow, Oversize };

    // `startAt`: the first seq to deliver when known (1 for a node seen starting); otherwise
    // the stream waits for the origin's heartbeat to learn where it stands.
    PeerStream(StreamLimits limits, std::optional<std::uint64_t> startAt);

    // What it adds to `out` may borrow `payload` (see Delivery).
    Fed onData(const proto::DatagramHeader& h, std::string_view payload, Clock::time_point now,
               std::vector<Delivery>& out);
    void onHeartbeat(std::uint64_t lastSeq, Clock::time_point now, std::vector<Delivery>& out);
    // The origin no longer has these seqs: skip them. Returns how many this stream gave up
    // (0 for a Gone about seqs it has, or one replayed).
    std::uint64_t onGone(const std::vector<proto::SeqRange>& ranges, Clock::time_point now, std::vector<Delivery>& out);
    // Missing ranges to ask for now, if any (marks the NAK as sent).
    std::vector<proto::SeqRange> dueNak(Clock::time_point now);
    // Gives up a gap older than gapTimeout.
    void expire(Clock::time_point now, std::vector<Delivery>& out);

    bool synced() const { return next_ != 0; }
    std::uint64_t nextSeq() const { return next_; }
    std::uint64_t highestSeq() const { return highest_; }
    std::uint64_t lost() const { return lost_; }
    std::uint64_t gaps() const { return gaps_; }
    std::uint64_t naks() const { return naks_; }

private:
    struct Held {
        proto::DatagramHeader header;
        std::string payload;
    };

    bool hasGap() const;
    void noteGap(Clock::time_point now);
    void drain(Clock::time_point now, std::vector<Delivery>& out);
    void skipTo(std::uint64_t seq, Clock::time_point now, std::vector<Delivery>& out);
    void addNotRecentlyAsked(proto::SeqRange range, std::vector<proto::SeqRange>& out) const;
    void assemble(Held& held, std::vector<Delivery>& out);

    StreamLimits limits_;
    std::uint64_t next_ = 0;     // next seq to deliver; 0: not yet known
    std::uint64_t highest_ = 0;  // highest seq known to exist
    std::map<std::uint64_t, Held> held_;
    std::optional<Clock::time_point> gapSince_;
    // The seq spans NAKed within the last nakInterval. A seq still missing inside one was asked
    // for then; asking again before its answer can arrive only multiplies retransmissions (the
    // gap's head moving on does not make the answer come sooner). At most a few entries: one
    // NAK per bus tick at most, pruned after nakInterval.
    struct NakSpan {
        std::uint64_t first, last;
        Clock::time_point at;
    };
    std::deque<NakSpan> recentNaks_;
    // The message being reassembled.
    std::optional<Delivery> partial_;
    std::uint16_t expectIndex_ = 0;
    std::uint64_t lost_ = 0, gaps_ = 0, naks_ = 0;
};

}  // namespace chat::bus
