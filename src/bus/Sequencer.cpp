#include "bus/Sequencer.hpp"

namespace chat::bus {

using proto::DatagramHeader;
using proto::SeqRange;

Sequencer::Sequencer(std::uint32_t origin, std::uint64_t incarnation, const Sealer& sealer, RetransmitLimits limits,
                     std::size_t maxMessage)
    : origin_(origin), incarnation_(incarnation), sealer_(sealer), limits_(limits), maxMessage_(maxMessage) {}

SharedBytes Sequencer::sealOne(DatagramHeader& h, std::string_view payload) const {
    h.origin = origin_;
    h.incarnation = incarnation_;
    h.keyId = sealer_.keyId();
    h.length = static_cast<std::uint32_t>(payload.size());
    proto::Datagram::HeaderBytes head{};
    proto::Datagram::encodeHeader(h, head);
    std::string out;
    out.reserve(head.size() + payload.size() + proto::kDatagramMacSize);
    out.append(reinterpret_cast<const char*>(head.data()), head.size());
    out.append(payload);
    auto mac = sealer_.sign(out);
    out.append(reinterpret_cast<const char*>(mac.data()), mac.size());
    return std::make_shared<const std::string>(std::move(out));
}

std::vector<SharedBytes> Sequencer::seal(DatagramHeader header, std::string_view payload, Clock::time_point now) {
    if (payload.size() > maxMessage_) return {};
    std::size_t pieces =
        payload.empty() ? 1 : (payload.size() + proto::kMaxFragmentPayload - 1) / proto::kMaxFragmentPayload;
    std::vector<SharedBytes> out;
    out.reserve(pieces);
    std::lock_guard lock(mutex_);
    header.fragCount = static_cast<std::uint16_t>(pieces);
    for (std::size_t i = 0; i < pieces; ++i) {
        header.seq = ++lastSeq_;
        header.fragIndex = static_cast<std::uint16_t>(i);
        auto piece = payload.substr(i * proto::kMaxFragmentPayload, proto::kMaxFragmentPayload);
        auto bytes = sealOne(header, piece);
        buffer_.push_back({header.seq, bytes, now, std::nullopt});
        bufferBytes_ += bytes->size();
        out.push_back(std::move(bytes));
    }
    trim(now);
    return out;
}

SharedBytes Sequencer::control(proto::DatagramKind kind, std::int64_t target, std::int64_t sender,
                               std::string_view payload) {
    DatagramHeader h;
    h.kind = kind;
    h.target = target;
    h.sender = sender;
    std::lock_guard lock(mutex_);
    if (kind == proto::DatagramKind::Heartbeat) {
        h.seq = lastSeq_;
        h.pos = ++beats_;
    }
    return sealOne(h, payload);
}

void Sequencer::trim(Clock::time_point now) {
    while (!buffer_.empty() && (buffer_.size() > limits_.count || bufferBytes_ > limits_.bytes ||
                                now - buffer_.front().sent > limits_.age)) {
        bufferBytes_ -= buffer_.front().bytes->size();
        buffer_.pop_front();
    }
}

std::vector<SharedBytes> Sequencer::resend(const std::vector<SeqRange>& ranges, Clock::time_point now,
                                           std::vector<SeqRange>& gone) {
    std::vector<SharedBytes> out;
    std::lock_guard lock(mutex_);
    trim(now);
    std::uint64_t oldest = buffer_.empty() ? lastSeq_ + 1 : buffer_.front().seq;
    for (auto r : ranges) {
        if (r.last > lastSeq_) r.last = lastSeq_;  // nothing beyond what was sent
        if (r.first > r.last) continue;
        if (r.first < oldest) {
            gone.push_back({r.first, std::min(r.last, oldest - 1)});
            r.first = oldest;
        }
        for (auto seq = r.first; seq <= r.last && out.size() < 4096; ++seq) {
            auto& stored = buffer_[seq - oldest];
            if (stored.resent && now - *stored.resent < limits_.resendSpacing) continue;
            stored.resent = now;
            out.push_back(stored.bytes);
        }
    }
    return out;
}

std::uint64_t Sequencer::lastSeq() const {
    std::lock_guard lock(mutex_);
    return lastSeq_;
}

std::size_t Sequencer::buffered() const {
    std::lock_guard lock(mutex_);
    return buffer_.size();
}

}  // namespace chat::bus
