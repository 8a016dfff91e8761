// Shared by the bus tests: a cluster key, explicit time points, and an Origin that stands
// for another node's sending half. Its datagrams are real: sealed by a Sequencer and decoded
// with proto::Datagram::decode, exactly as the receiving bus would see them.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "bus/Membership.hpp"
#include "bus/Sealer.hpp"
#include "bus/Sequencer.hpp"
#include "proto/Datagram.hpp"
#include "proto/SeqRanges.hpp"

namespace chat::bus::testing {

inline const std::string kKey = "the-cluster-key-0123456789";
inline const std::string kOtherKey = "some-other-cluster-key-9876";

// Steady-clock time points at a fixed distance from an arbitrary epoch: no test reads the clock.
inline Clock::time_point at(std::chrono::milliseconds sinceStart) {
    return Clock::time_point{} + std::chrono::hours(1) + sinceStart;
}
inline const Clock::time_point t0 = at(std::chrono::milliseconds(0));

// A decoded datagram, or an exception (which fails the test) when the bytes do not decode.
inline proto::DecodedDatagram decoded(const SharedBytes& bytes) {
    auto r = proto::Datagram::decode(*bytes);
    if (!r.datagram) throw std::logic_error("the sequencer produced a datagram that does not decode");
    return *r.datagram;
}

class Origin {
public:
    Origin(std::uint32_t node, std::uint64_t incarnation, RetransmitLimits limits = {},
           std::size_t maxMessage = 64u << 10, const std::string& key = kKey)
        : sealer_(key), sequencer_(node, incarnation, sealer_, limits, maxMessage) {}
    Origin(const Origin&) = delete;
    Origin& operator=(const Origin&) = delete;

    // The datagrams of one sequenced message, decoded; their bytes live as long as the Origin.
    std::vector<proto::DecodedDatagram> send(const std::string& payload, Clock::time_point now = t0,
                                             proto::DatagramKind kind = proto::DatagramKind::Chat,
                                             std::int64_t target = 42, std::int64_t sender = 7) {
        proto::DatagramHeader h;
        h.kind = kind;
        h.targetKind = proto::TargetKind::User;
        h.target = target;
        h.sender = sender;
        std::vector<proto::DecodedDatagram> out;
        for (const auto& bytes : sequencer_.seal(h, payload, now)) out.push_back(keep(bytes));
        return out;
    }
    // A message that fits one datagram.
    proto::DecodedDatagram sendOne(const std::string& payload, Clock::time_point now = t0) {
        auto datagrams = send(payload, now);
        if (datagrams.size() != 1) throw std::logic_error("expected a one-datagram message");
        return datagrams[0];
    }
    // A periodic heartbeat (answering nobody), and one that answers a node's run.
    proto::DecodedDatagram heartbeat() {
        return keep(sequencer_.control(proto::DatagramKind::Heartbeat, kAnswersNobody, 0, {}));
    }
    proto::DecodedDatagram answerTo(std::uint32_t node, std::uint64_t incarnation) {
        return keep(
            sequencer_.control(proto::DatagramKind::Heartbeat, node, static_cast<std::int64_t>(incarnation), {}));
    }
    proto::DecodedDatagram gone(const std::vector<proto::SeqRange>& ranges) {
        return keep(sequencer_.control(proto::DatagramKind::Gone, 0, 0, proto::SeqRanges::encode(ranges)));
    }
    proto::DecodedDatagram keep(const SharedBytes& bytes) {
        kept_.push_back(bytes);
        return decoded(bytes);
    }

    Sequencer& sequencer() { return sequencer_; }
    const Sealer& sealer() const { return sealer_; }

private:
    Sealer sealer_;
    Sequencer sequencer_;
    std::deque<SharedBytes> kept_;
};

}  // namespace chat::bus::testing
