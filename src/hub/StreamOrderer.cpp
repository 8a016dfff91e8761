#include "hub/StreamOrderer.hpp"

#include <spdlog/spdlog.h>

namespace chat::hub {

void Positioned::keep() {
    if (!borrowedFrame) return;
    frame = frameSource().get();
    borrowedFrame.reset();
}

StreamOrderer::StreamOrderer(Limits limits, Release release, Fetch fetch, GiveUp giveUp)
    : limits_(limits), release_(std::move(release)), fetch_(std::move(fetch)), giveUp_(std::move(giveUp)) {}

void StreamOrderer::anchor(std::uint64_t committed) {
    std::lock_guard lock(mutex_);
    if (next_) return;
    next_ = committed + 1;
    held_.erase(held_.begin(), held_.lower_bound(*next_));
    drain();
}

void StreamOrderer::submit(Positioned p) {
    std::lock_guard lock(mutex_);
    if (next_ && p.pos < *next_) return;  // released already (a retransmission, a late fill)
    if (next_ && p.pos == *next_) {
        // The usual case, its turn: released as it came (its frame still borrowed, if it is),
        // then whatever waited behind it.
        if (!p.empty()) release_(p);
        ++*next_;
        holeSince_.reset();
        if (!held_.empty()) drain();
        return;
    }
    hold(std::move(p));
    drain();
}

void StreamOrderer::noteCommitted(std::uint64_t committed) {
    std::lock_guard lock(mutex_);
    horizon_ = std::max(horizon_, committed);
}

bool StreamOrderer::hasHole() const {
    return next_ && (!held_.empty() || horizon_ >= *next_);
}

std::uint64_t StreamOrderer::holeEnd() const {
    return held_.empty() ? horizon_ : held_.begin()->first - 1;
}

void StreamOrderer::hold(Positioned p) {
    if (held_.size() >= limits_.maxHeld && !held_.contains(p.pos)) {
        // Memory stays bounded: the hole is given up now instead of after its timeout.
        spdlog::warn("stream: {} positions held back waiting for position {}; giving it up", held_.size(),
                     next_.value_or(0));
        if (next_) giveUpHole();
        if (held_.size() >= limits_.maxHeld) return;  // unanchored: nothing can be released yet
    }
    p.keep();
    auto pos = p.pos;
    auto [it, added] = held_.try_emplace(pos, std::move(p));
    // A fill may bring a message the bus brought too; what the bus brought can carry the
    // sender's ack, so it is kept.
    if (!added && !it->second.ack && p.ack) it->second = std::move(p);
}

void StreamOrderer::drain() {
    if (!next_) return;
    bool moved = false;
    for (auto it = held_.begin(); it != held_.end() && it->first <= *next_;) {
        if (it->first == *next_) {
            if (!it->second.empty()) release_(it->second);
            ++*next_;
            moved = true;
        }
        it = held_.erase(it);
    }
    if (moved || !hasHole()) holeSince_.reset();
}

void StreamOrderer::fill(std::uint64_t first, std::uint64_t last, std::vector<Positioned> found, bool ok) {
    std::lock_guard lock(mutex_);
    fetchedAt_.reset();
    if (!ok || !next_ || last < first || last - first >= limits_.maxFetch) return;
    std::vector<bool> present(last - first + 1, false);
    for (auto& p : found) {
        if (p.pos < first || p.pos > last) continue;
        present[p.pos - first] = true;
        if (p.pos >= *next_) hold(std::move(p));
    }
    // Committed, yet not in the history: removed by retention. Nobody is owed them live.
    std::uint64_t skipped = 0;
    for (std::uint64_t pos = std::max(first, *next_); pos <= last; ++pos) {
        if (present[pos - first] || held_.contains(pos)) continue;
        Positioned gone;
        gone.pos = pos;
        held_.emplace(pos, std::move(gone));
        ++skipped;
    }
    if (skipped) spdlog::info("stream: {} positions in [{}, {}] are no longer in the history", skipped, first, last);
    drain();
}

void StreamOrderer::tick(Clock::time_point now) {
    std::uint64_t first = 0, last = 0;
    {
        std::lock_guard lock(mutex_);
        if (!hasHole()) return;
        if (!holeSince_) holeSince_ = now;
        if (now - *holeSince_ >= limits_.holeTimeout) {
            spdlog::warn("stream: position {} did not arrive in {} ms; giving it up", *next_,
                         limits_.holeTimeout.count());
            giveUpHole();
            return;
        }
        if (now - *holeSince_ < limits_.holeWait) return;
        // One fetch at a time; one that got no answer is asked again after holeWait.
        if (fetchedAt_ && now - *fetchedAt_ < limits_.holeWait) return;
        first = *next_;
        last = std::min(holeEnd(), first + limits_.maxFetch - 1);
        fetchedAt_ = now;
    }
    fetch_(first, last);
}

void StreamOrderer::giveUpHole() {
    if (!hasHole()) return;
    auto resume = holeEnd() + 1;
    auto lost = resume - *next_;
    next_ = resume;
    holeSince_.reset();
    // Told before the next position is released, so a device can catch up across the hole.
    giveUp_(lost);
    drain();
}

std::uint64_t StreamOrderer::next() const {
    std::lock_guard lock(mutex_);
    return next_.value_or(0);
}

std::size_t StreamOrderer::held() const {
    std::lock_guard lock(mutex_);
    return held_.size();
}

}  // namespace chat::hub
