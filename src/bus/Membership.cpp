#include "bus/Membership.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace chat::bus {

Membership::Peer* Membership::peerFor(const proto::DatagramHeader& h, Clock::time_point now) {
    auto it = peers_.find(h.origin);
    if (it == peers_.end()) {
        std::optional<std::uint64_t> startAt;
        if (auto t = forgotten_.find(h.origin); t != forgotten_.end()) {
            if (h.incarnation < t->second.incarnation) {
                metrics_.count(metrics::DropReason::Stale);
                return nullptr;
            }
            // The same run back from silence resumes where it stood; a new run starts at 1.
            // What that run had sent before it fell silent is a replay, not a return.
            const bool sameRun = h.incarnation == t->second.incarnation;
            if (sameRun && !newerThan(h, t->second.nextSeq, t->second.beat)) {
                metrics_.count(metrics::DropReason::Replay);
                return nullptr;
            }
            startAt = sameRun ? t->second.nextSeq : 1;
        }
        spdlog::info("bus: node {} joined (incarnation {})", h.origin, h.incarnation);
        it = peers_.emplace(h.origin, Peer{h.incarnation, PeerStream(limits_, startAt), now, 0}).first;
        metrics_.busPeers.store(static_cast<std::int64_t>(peers_.size()), std::memory_order_relaxed);
        answer(h.origin, h.incarnation);
        changes_.emplace_back(h.origin, true);
    } else if (h.incarnation > it->second.incarnation) {
        // We saw its previous run, so this run's stream matters from its first datagram.
        spdlog::info("bus: node {} restarted (incarnation {} -> {})", h.origin, it->second.incarnation, h.incarnation);
        it->second = Peer{h.incarnation, PeerStream(limits_, 1), now, 0};
        answer(h.origin, h.incarnation);
        changes_.emplace_back(h.origin, true);
    } else if (h.incarnation < it->second.incarnation) {
        metrics_.count(metrics::DropReason::Stale);
        return nullptr;
    }
    return &it->second;
}

bool Membership::newerThan(const proto::DatagramHeader& h, std::uint64_t nextSeq, std::uint64_t beat) {
    if (proto::isSequenced(h.kind)) return h.seq >= nextSeq;
    return h.kind == proto::DatagramKind::Heartbeat && h.pos > beat;
}

void Membership::onSequenced(const proto::DecodedDatagram& d, Clock::time_point now, std::vector<Delivery>& out) {
    auto* peer = peerFor(d.header, now);
    if (!peer) return;
    switch (peer->stream.onData(d.header, d.payload, now, out)) {
        case PeerStream::Fed::Accepted:
            peer->lastSeen = now;
            break;
        case PeerStream::Fed::Duplicate:
            metrics_.count(metrics::DropReason::Replay);
            break;
        case PeerStream::Fed::Overflow:
            metrics_.count(metrics::DropReason::Overflow);
            break;
        case PeerStream::Fed::Oversize:
            metrics_.count(metrics::DropReason::Oversize);
            break;
    }
}

void Membership::onHeartbeat(const proto::DatagramHeader& h, Clock::time_point now, std::vector<Delivery>& out) {
    auto* peer = peerFor(h, now);
    if (!peer) return;
    if (h.pos <= peer->beat) return metrics_.count(metrics::DropReason::Replay);
    peer->beat = h.pos;
    peer->lastSeen = now;
    if (h.target == kAnswersNobody && h.sender == kAsksForAnswers) answer(h.origin, h.incarnation);
    if (!peer->stream.synced() && !answersUs(h)) return;
    peer->stream.onHeartbeat(h.seq, now, out);
}

void Membership::answer(std::uint32_t node, std::uint64_t incarnation) {
    for (const auto& a : answers_)
        if (a.node == node && a.incarnation == incarnation) return;
    answers_.push_back({node, incarnation});
}

bool Membership::answersUs(const proto::DatagramHeader& h) const {
    return h.target == static_cast<std::int64_t>(self_) && static_cast<std::uint64_t>(h.sender) == incarnation_;
}

bool Membership::waitingToJoin() const {
    for (const auto& [origin, peer] : peers_)
        if (!peer.stream.synced()) return true;
    return false;
}

void Membership::onGone(const proto::DatagramHeader& h, const std::vector<proto::SeqRange>& ranges,
                        Clock::time_point now, std::vector<Delivery>& out) {
    auto* peer = peerFor(h, now);
    if (!peer) return;
    // Logged only when it costs us something: a Gone is unsequenced, so a replayed one
    // arrives as often as it is sent and would otherwise write a line each time.
    if (auto lost = peer->stream.onGone(ranges, now, out))
        spdlog::warn("bus: node {} no longer holds {} datagram(s) we missed", h.origin, lost);
}

std::vector<NakRequest> Membership::dueNaks(Clock::time_point now) {
    std::vector<NakRequest> out;
    for (auto& [origin, peer] : peers_) {
        auto ranges = peer.stream.dueNak(now);
        if (!ranges.empty()) out.push_back({origin, peer.incarnation, std::move(ranges)});
    }
    return out;
}

void Membership::expire(Clock::time_point now, std::vector<Delivery>& out) {
    for (auto it = peers_.begin(); it != peers_.end();) {
        it->second.stream.expire(now, out);
        if (now - it->second.lastSeen > peerTimeout_) {
            spdlog::info("bus: node {} left (silent for {} s)", it->first, peerTimeout_.count());
            const auto& stream = it->second.stream;
            if (stream.synced())
                forgotten_[it->first] = Tombstone{it->second.incarnation, stream.nextSeq(), it->second.beat};
            changes_.emplace_back(it->first, false);
            it = peers_.erase(it);
        } else {
            ++it;
        }
    }
    metrics_.busPeers.store(static_cast<std::int64_t>(peers_.size()), std::memory_order_relaxed);
}

std::uint64_t Membership::takeLost() {
    std::uint64_t lost = 0;
    for (auto& [origin, peer] : peers_) {
        lost += peer.stream.lost() - peer.reportedLost;
        peer.reportedLost = peer.stream.lost();
    }
    return lost;
}

std::string Membership::view(Clock::time_point now) const {
    auto list = nlohmann::json::array();
    for (const auto& [origin, peer] : peers_) {
        const auto& s = peer.stream;
        list.push_back(
            {{"node", origin},
             {"incarnation", peer.incarnation},
             {"lastSeenMs", std::chrono::duration_cast<std::chrono::milliseconds>(now - peer.lastSeen).count()},
             {"synced", s.synced()},
             {"nextSeq", s.nextSeq()},
             {"highestSeq", s.highestSeq()},
             {"gaps", s.gaps()},
             {"naks", s.naks()},
             {"lost", s.lost()}});
    }
    return list.dump();
}

}  // namespace chat::bus
