// Puts the chat messages of every node back into the cluster's one order, their stream
// position (taken at commit), before they reach this node's connections. So every device
// receives its messages in position order, and the last position it holds is a safe place
// to resume from.
//
// A position that does not arrive in time (a datagram the bus could not repair, a node that
// died between its commit and its broadcast) is fetched from the history, where it is sure
// to be: positions are broadcast only after their commit, and commits take positions in
// order, so every position below one that has arrived is committed. What the history no
// longer has (retention) is skipped; what cannot be fetched before holeTimeout is given up
// and reported, and devices re-sync.
//
// Owned by the Dispatcher (which submits from the bus's and the history writer's threads and
// releases to the hub); the Node fetches holes on the store's pool and drives tick().
// Releases happen under the lock, so that two threads releasing consecutive positions cannot
// overtake each other on the way to a connection's queue.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "hub/FrameSource.hpp"
#include "hub/Recipient.hpp"
#include "proto/Datagram.hpp"

namespace chat::hub {

// What takes a stream position: a chat message, or a user joining a group (`sender` joins
// group `target`), which must reach the hub in order with the group's messages.
enum class StreamEvent : std::uint8_t { Message, Join };

// An event at its stream position, with what delivering it needs.
struct Positioned {
    std::uint64_t pos = 0;
    StreamEvent event = StreamEvent::Message;
    proto::TargetKind targetKind = proto::TargetKind::User;
    std::int64_t target = 0;
    std::int64_t sender = 0;
    SharedFrame frame;  // null (and nothing borrowed): nobody here receives it; it only moves the stream on
    // Or the frame's bytes in the datagram being received, copied only when the position has
    // to wait for an earlier one (keep()) or someone here receives it (FrameSource).
    std::optional<std::string_view> borrowedFrame;
    std::weak_ptr<Recipient> origin;  // the sending connection, if on this node: it gets `ack`, not `frame`
    SharedFrame ack;

    bool hasFrame() const { return frame || borrowedFrame; }
    // Nothing to hand to anyone here: releasing it only moves the stream on.
    bool empty() const { return event == StreamEvent::Message && !hasFrame() && !ack; }
    // Makes the frame its own, so that it can outlive the datagram it came in.
    void keep();
    FrameSource frameSource() const { return borrowedFrame ? FrameSource(*borrowedFrame) : FrameSource(frame); }
};

class StreamOrderer {
public:
    using Clock = std::chrono::steady_clock;
    using Release = std::function<void(const Positioned&)>;
    // Asks for the committed messages in [first, last]; the answer comes back through fill().
    using Fetch = std::function<void(std::uint64_t first, std::uint64_t last)>;
    // Positions given up; called before the next position is released.
    using GiveUp = std::function<void(std::uint64_t positions)>;

    struct Limits {
        std::size_t maxHeld = 65536;
        std::chrono::milliseconds holeWait{200};
        std::chrono::milliseconds holeTimeout{10000};
        std::size_t maxFetch = 1000;  // positions per fetch
    };

    StreamOrderer(Limits limits, Release release, Fetch fetch, GiveUp giveUp);

    // The latest position committed when this node started: earlier ones are history, which
    // devices get by syncing. Until anchored, everything is held.
    void anchor(std::uint64_t committed);
    void submit(Positioned p);
    // The history's latest committed position, polled: positions up to it that never arrive
    // (a node cut off from the bus) are holes too, even with nothing held after them.
    void noteCommitted(std::uint64_t committed);
    // A fetch's answer: the messages found in [first, last], or ok = false if the history
    // could not be read (asked again on a later tick).
    void fill(std::uint64_t first, std::uint64_t last, std::vector<Positioned> found, bool ok);
    // Fetches holes older than holeWait and gives up those older than holeTimeout.
    void tick(Clock::time_point now);

    std::uint64_t next() const;  // the next position to release
    std::size_t held() const;

private:
    void drain();  // mutex_ held
    void hold(Positioned p);
    bool hasHole() const;
    std::uint64_t holeEnd() const;  // the last missing position of the first hole
    void giveUpHole();

    const Limits limits_;
    Release release_;
    Fetch fetch_;
    GiveUp giveUp_;
    mutable std::mutex mutex_;
    std::optional<std::uint64_t> next_;
    std::map<std::uint64_t, Positioned> held_;
    std::uint64_t horizon_ = 0;  // committed in the history, as last polled
    std::optional<Clock::time_point> holeSince_;
    std::optional<Clock::time_point> fetchedAt_;  // a fetch is out since then
};

}  // namespace chat::hub
