// A connection's outgoing frames, first in first out. A vector read from a moving head rather
// than a std::deque: an empty deque still holds a 512-byte block, and most connections are
// idle most of the time; this one gives its memory back once drained past a few frames.
#pragma once
#include <cstddef>
#include <vector>

#include "hub/Recipient.hpp"

namespace chat::ws {

class FrameQueue {
public:
    bool empty() const { return head_ == frames_.size(); }
    std::size_t size() const { return frames_.size() - head_; }
    const hub::SharedFrame& front() const { return frames_[head_]; }
    const hub::SharedFrame& at(std::size_t i) const { return frames_[head_ + i]; }
    void push(hub::SharedFrame frame) { frames_.push_back(std::move(frame)); }
    void pop() {
        frames_[head_++].reset();
        if (empty()) {
            frames_.clear();
            head_ = 0;
            if (frames_.capacity() > kKeptCapacity) frames_.shrink_to_fit();
        } else if (head_ >= kCompactAfter && head_ * 2 >= frames_.size()) {
            // A queue that never drains (a steady stream) would otherwise grow by a slot a frame.
            frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }
    // Slots held, popped ones included (what the queue's memory is bounded by).
    std::size_t slots() const { return frames_.size(); }

private:
    // A few slots stay allocated: a connection that receives at all usually receives again.
    static constexpr std::size_t kKeptCapacity = 8;
    static constexpr std::size_t kCompactAfter = 256;
    std::vector<hub::SharedFrame> frames_;
    std::size_t head_ = 0;
};

}  // namespace chat::ws
