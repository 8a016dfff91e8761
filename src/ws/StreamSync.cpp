#include "ws/StreamSync.hpp"

#include <algorithm>

namespace chat::ws {

StreamSync::Live StreamSync::live(const hub::SharedFrame& frame, std::uint64_t pos, bool ack) {
    if (pos == 0) return Live::Send;
    if (syncing_) {
        if (!ack && (overflowed_ || heldBytes_ + frame->size() > holdBytesMax_)) {
            // Everything held is committed, so the history has it too: drop the messages and
            // page on. Acks stay (at most max-unacked of them): only they answer the device.
            if (!overflowed_) dropMessages();
            return Live::Held;
        }
        held_.push_back({frame, pos, ack});
        heldBytes_ += frame->size();
        return Live::Held;
    }
    if (pos <= last_ && !ack) return Live::Duplicate;
    last_ = std::max(last_, pos);
    return Live::Send;
}

void StreamSync::dropMessages() {
    overflowed_ = true;
    std::erase_if(held_, [](const Held& h) { return !h.ack; });
    heldBytes_ = 0;
    for (const auto& h : held_) heldBytes_ += h.frame->size();
}

void StreamSync::pageOn() {
    if (syncing_ && !overflowed_) dropMessages();
}

void StreamSync::begin(std::uint64_t since) {
    syncing_ = true;
    overflowed_ = false;
    last_ = since;
    sentMax_ = 0;
}

void StreamSync::sent(std::uint64_t pos) {
    last_ = std::max(last_, pos);
    sentMax_ = std::max(sentMax_, pos);
}

void StreamSync::reachedEnd(std::uint64_t committed) {
    last_ = std::max(committed, sentMax_);
}

std::optional<std::vector<hub::SharedFrame>> StreamSync::finish() {
    if (overflowed_) {
        overflowed_ = false;  // acks held so far stay, in order, for the next finish()
        return std::nullopt;
    }
    std::vector<hub::SharedFrame> out;
    out.reserve(held_.size());
    for (auto& h : held_) {
        if (h.pos <= last_ && !h.ack) continue;
        last_ = std::max(last_, h.pos);
        out.push_back(std::move(h.frame));
    }
    held_ = {};
    heldBytes_ = 0;
    syncing_ = false;
    return out;
}

}  // namespace chat::ws
