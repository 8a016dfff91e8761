// The hand-over between a device catching up from the history and its live frames. While a
// sync runs, live stream frames are held back (up to a byte bound); when the history has been
// paged to its end, the held frames the sync already sent are dropped and the rest follow, so
// the device gets every position once and in order. Afterwards it keeps the highest position
// sent, the device's resume point. Pure logic; ChatSession guards it with its queue mutex.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "hub/Recipient.hpp"

namespace chat::ws {

class StreamSync {
public:
    explicit StreamSync(std::size_t holdBytesMax) : holdBytesMax_(holdBytesMax) {}

    enum class Live { Send, Held, Duplicate };
    // What to do with a live frame at `pos` (0: outside the stream, always sent). An ack is
    // never a duplicate: the sync may have sent the message itself, but the sender still
    // needs the answer to its frame.
    Live live(const hub::SharedFrame& frame, std::uint64_t pos, bool ack);

    // A sync starts; the device holds everything up to `since`.
    void begin(std::uint64_t since);
    bool syncing() const { return syncing_; }
    // A frame at `pos` was sent from the history.
    void sent(std::uint64_t pos);
    // The sync starts after `pos` instead (the recent part of the stream only).
    void skipTo(std::uint64_t pos) { last_ = pos > last_ ? pos : last_; }
    // The history was paged to its end, read after the stream stood at `committed`: the device
    // now holds everything of its stream up to there (or up to what the sync sent, which may
    // have committed later). This also takes a made-up or stale position back to the real end.
    void reachedEnd(std::uint64_t committed);
    std::uint64_t last() const { return last_; }

    // The stream skipped positions while this sync ran (a hole given up): held frames may lie
    // beyond the hole, past the end the sync read, so they are dropped and the sync pages on
    // through the history, as when the hold overflows.
    void pageOn();

    // The history is paged to its end: the held frames to send now, oldest first, and the sync
    // is over. nullopt if held frames had to be dropped for the bound: page on from last().
    std::optional<std::vector<hub::SharedFrame>> finish();

private:
    struct Held {
        hub::SharedFrame frame;
        std::uint64_t pos;
        bool ack;
    };

    void dropMessages();

    const std::size_t holdBytesMax_;
    bool syncing_ = false;
    bool overflowed_ = false;
    std::uint64_t last_ = 0;
    std::uint64_t sentMax_ = 0;  // the highest position this sync sent from the history
    std::vector<Held> held_;     // only while a sync runs; released after
    std::size_t heldBytes_ = 0;
};

}  // namespace chat::ws
