// Moves stamped messages and membership events between this node's connections and the
// cluster. publish() is called by sessions and API handlers; receive() by the bus for
// every message from another node. The header alone decides whether a datagram concerns
// anyone here, so most datagrams are dropped without touching their JSON.
#pragma once
#include <cstdint>
#include <functional>

#include "hub/Broadcaster.hpp"
#include "hub/Hub.hpp"
#include "metrics/Metrics.hpp"
#include "proto/ChatMessage.hpp"
#include "proto/Datagram.hpp"

namespace chat::hub {

enum class PublishResult { Sent, TooLarge, BusError };

class Dispatcher {
public:
    using RevokeListener = std::function<void(std::int64_t tokenId)>;

    Dispatcher(std::size_t maxMessage, Hub& hub, Broadcaster& bus, metrics::Metrics& metrics);

    // Sends to the cluster and delivers to local recipients; `sender` (the sending
    // connection) gets nothing, it is acknowledged separately.
    PublishResult publish(const proto::ChatMessage& m, const SharedFrame& encoded, const Recipient* sender);
    void joinGroup(std::int64_t user, std::int64_t group);
    void revokeToken(std::int64_t user, std::int64_t tokenId);
    void onRevoke(RevokeListener listener) { onRevoke_ = std::move(listener); }

    // A whole message from another node, in its origin's order (the bus has checked it).
    void receive(const proto::DatagramHeader& h, std::string_view payload);
    // The bus gave up datagrams: tell every local connection it may have missed messages.
    void lost(std::uint64_t datagrams);

private:
    bool concernsThisNode(const proto::DatagramHeader& h) const;
    void deliver(const proto::DatagramHeader& h, const SharedFrame& frame, const Recipient* skip);
    void applyRevoke(std::int64_t user, std::int64_t tokenId);

    std::size_t maxMessage_;
    Hub& hub_;
    Broadcaster& bus_;
    metrics::Metrics& metrics_;
    RevokeListener onRevoke_;
};

}  // namespace chat::hub
