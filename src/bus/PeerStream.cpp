#include "bus/PeerStream.hpp"

#include <iterator>

namespace chat::bus {

using proto::SeqRange;

PeerStream::PeerStream(StreamLimits limits, std::optional<std::uint64_t> startAt) : limits_(limits) {
    if (startAt) {
        next_ = *startAt;
        highest_ = *startAt - 1;
    }
}

PeerStream::Fed PeerStream::onData(const proto::DatagramHeader& h, std::string_view payload, Clock::time_point now,
                                   std::vector<Delivery>& out) {
    if (synced() && h.seq < next_) return Fed::Duplicate;
    if (held_.contains(h.seq)) return Fed::Duplicate;
    // A NAK fetches a refused datagram again later; the one that fills the gap is always taken,
    // since it is delivered at once and is the only way out of a full buffer.
    if (held_.size() >= limits_.maxPending && !(synced() && h.seq == next_)) return Fed::Overflow;
    if (payload.size() > limits_.maxMessage) return Fed::Oversize;
    if (h.seq > highest_) highest_ = h.seq;
    if (synced() && h.seq == next_ && h.fragCount == 1) {
        // The usual case, a whole message next in order: delivered from the datagram itself,
        // never copied or held (every node pays this for every datagram of the cluster).
        partial_.reset();
        out.push_back(Delivery{h, {}, payload});
        ++next_;
        gapSince_.reset();
    } else {
        held_.emplace(h.seq, Held{h, std::string(payload)});
    }
    if (synced()) drain(now, out);
    return Fed::Accepted;
}

void PeerStream::onHeartbeat(std::uint64_t lastSeq, Clock::time_point now, std::vector<Delivery>& out) {
    if (!synced()) {
        // Everything up to lastSeq was sent before we listened; held copies of it are
        // dropped, which also defeats replays of old datagrams to a freshly started node.
        next_ = lastSeq + 1;
        held_.erase(held_.begin(), held_.lower_bound(next_));
        if (highest_ < lastSeq) highest_ = lastSeq;
        drain(now, out);
        return;
    }
    if (lastSeq > highest_) highest_ = lastSeq;
    if (hasGap()) noteGap(now);
}

bool PeerStream::hasGap() const {
    return synced() && highest_ >= next_ && !held_.contains(next_);
}

void PeerStream::noteGap(Clock::time_point now) {
    if (!gapSince_) {
        gapSince_ = now;
        ++gaps_;
    }
}

void PeerStream::drain(Clock::time_point now, std::vector<Delivery>& out) {
    for (auto it = held_.find(next_); it != held_.end() && it->first == next_; it = held_.find(next_)) {
        assemble(it->second, out);
        held_.erase(it);
        ++next_;
        gapSince_.reset();
    }
    if (hasGap()) noteGap(now);
}

// Fragments arrive here in seq order; a message is complete at its last fragment. A piece
// out of place (its predecessors were given up) abandons the message.
void PeerStream::assemble(Held& held, std::vector<Delivery>& out) {
    const auto& h = held.header;
    if (h.fragCount == 1) {
        partial_.reset();
        out.push_back(Delivery{h, std::move(held.payload), std::nullopt});
        return;
    }
    if (h.fragIndex == 0) {
        partial_ = Delivery{h, std::move(held.payload), std::nullopt};
        expectIndex_ = 1;
        return;
    }
    if (!partial_ || h.fragIndex != expectIndex_ || h.fragCount != partial_->header.fragCount ||
        partial_->kept.size() + held.payload.size() > limits_.maxMessage) {
        partial_.reset();
        return;
    }
    partial_->kept += held.payload;
    if (++expectIndex_ == h.fragCount) {
        out.push_back(std::move(*partial_));
        partial_.reset();
    }
}

std::vector<SeqRange> PeerStream::dueNak(Clock::time_point now) {
    if (!hasGap()) return {};
    noteGap(now);
    if (now - *gapSince_ < limits_.nakDelay) return {};
    while (!recentNaks_.empty() && now - recentNaks_.front().at >= limits_.nakInterval) recentNaks_.pop_front();
    std::vector<SeqRange> missing;
    std::uint64_t seq = next_;
    for (auto it = held_.lower_bound(next_); seq <= highest_ && missing.size() < proto::SeqRanges::kMaxRanges;) {
        std::uint64_t end = it == held_.end() ? highest_ + 1 : it->first;
        if (seq < end) addNotRecentlyAsked({seq, end - 1}, missing);
        if (it == held_.end()) break;
        seq = it->first + 1;
        ++it;
    }
    if (missing.empty()) return {};
    recentNaks_.push_back({missing.front().first, missing.back().last, now});
    ++naks_;
    return missing;
}

// Adds the parts of `range` that no recent NAK covered. A seq missing now inside a recent
// NAK's span was missing then too (held seqs only ever leave by being delivered), so it was asked for.
void PeerStream::addNotRecentlyAsked(SeqRange range, std::vector<SeqRange>& out) const {
    std::uint64_t from = range.first;
    while (from <= range.last && out.size() < proto::SeqRanges::kMaxRanges) {
        const NakSpan* covering = nullptr;
        std::uint64_t nextCovered = range.last + 1;
        for (const auto& span : recentNaks_) {
            if (span.first <= from && from <= span.last) covering = &span;
            if (span.first > from && span.first < nextCovered) nextCovered = span.first;
        }
        if (covering) {
            if (covering->last >= range.last) return;
            from = covering->last + 1;
            continue;
        }
        out.push_back({from, nextCovered - 1});
        from = nextCovered;
    }
}

void PeerStream::skipTo(std::uint64_t seq, Clock::time_point now, std::vector<Delivery>& out) {
    if (seq <= next_) return;
    // Counted, not walked: a skip may span a huge range of seqs.
    auto heldBelow = held_.lower_bound(seq);
    auto heldSkipped = static_cast<std::uint64_t>(std::distance(held_.lower_bound(next_), heldBelow));
    lost_ += (seq - next_) - heldSkipped;
    // Anything held below the new start belongs to messages whose pieces were lost.
    held_.erase(held_.begin(), heldBelow);
    next_ = seq;
    if (highest_ < seq - 1) highest_ = seq - 1;
    partial_.reset();
    gapSince_.reset();
    drain(now, out);
}

std::uint64_t PeerStream::onGone(const std::vector<SeqRange>& ranges, Clock::time_point now,
                                 std::vector<Delivery>& out) {
    if (!synced()) return 0;
    const auto lostBefore = lost_;
    for (const auto& r : ranges)
        if (r.first <= next_ && r.last >= next_) skipTo(r.last + 1, now, out);
    return lost_ - lostBefore;
}

void PeerStream::expire(Clock::time_point now, std::vector<Delivery>& out) {
    if (!hasGap() || !gapSince_ || now - *gapSince_ < limits_.gapTimeout) return;
    auto first = held_.lower_bound(next_);
    skipTo(first == held_.end() ? highest_ + 1 : first->first, now, out);
}

}  // namespace chat::bus
