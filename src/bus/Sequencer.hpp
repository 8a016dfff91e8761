// The sending half of the reliable bus: numbers this node's datagrams, cuts messages into
// MTU-sized fragments, signs them, and keeps them in a bounded retransmit buffer (by count,
// bytes and age) so that NAKs from other nodes can be answered. Thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/Sealer.hpp"
#include "proto/Datagram.hpp"
#include "proto/SeqRanges.hpp"

namespace chat::bus {

using SharedBytes = std::shared_ptr<const std::string>;
using Clock = std::chrono::steady_clock;

struct RetransmitLimits {
    std::size_t count = 65536;
    std::size_t bytes = 64u << 20;
    std::chrono::seconds age{30};
    // A seq resent this recently is not resent again: the resend was broadcast, so every node
    // that asked gets it, and a captured NAK replayed at line rate cannot make this node
    // flood the LAN. Below the NAK interval, so an asker whose resend was lost gets it again.
    std::chrono::milliseconds resendSpacing{25};
};

class Sequencer {
public:
    Sequencer(std::uint32_t origin, std::uint64_t incarnation, const Sealer& sealer, RetransmitLimits limits,
              std::size_t maxMessage);

    // The datagrams that carry one sequenced message (Chat, Join, Revoke); empty when the
    // payload exceeds the maximum message size.
    std::vector<SharedBytes> seal(proto::DatagramHeader header, std::string_view payload, Clock::time_point now);
    // An unsequenced datagram (Heartbeat carries the latest seq, and in `pos` its own number
    // in this run, so a replayed one is known as old; Nak and Gone carry ranges).
    SharedBytes control(proto::DatagramKind kind, std::int64_t target, std::int64_t sender, std::string_view payload);
    // Stored datagrams for the requested seqs, except those resent within resendSpacing;
    // seqs no longer stored are added to `gone`.
    std::vector<SharedBytes> resend(const std::vector<proto::SeqRange>& ranges, Clock::time_point now,
                                    std::vector<proto::SeqRange>& gone);

    std::uint64_t lastSeq() const;
    std::uint64_t incarnation() const { return incarnation_; }
    std::size_t buffered() const;

private:
    struct Stored {
        std::uint64_t seq;
        SharedBytes bytes;
        Clock::time_point sent;
        std::optional<Clock::time_point> resent;
    };

    SharedBytes sealOne(proto::DatagramHeader& header, std::string_view payload) const;
    void trim(Clock::time_point now);

    const std::uint32_t origin_;
    const std::uint64_t incarnation_;
    const Sealer& sealer_;
    const RetransmitLimits limits_;
    const std::size_t maxMessage_;

    mutable std::mutex mutex_;
    std::uint64_t lastSeq_ = 0;
    std::uint64_t beats_ = 0;    // heartbeats sent in this run
    std::deque<Stored> buffer_;  // consecutive seqs, oldest first
    std::size_t bufferBytes_ = 0;
};

}  // namespace chat::bus
