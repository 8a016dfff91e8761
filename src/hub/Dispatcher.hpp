// Moves chat messages and membership events between this node's connections and the cluster,
// in the cluster's one order. publish() (from sessions) hands a stamped message to the
// history; once its batch commits, the message has a stream position: it is broadcast with
// it (a batch's messages packed several to a datagram) and submitted to the StreamOrderer,
// which also receives every other node's messages from the bus (receive()) and releases them
// all to the hub in position order. The sending connection gets an acknowledgement at the
// message's place in that order, everyone else the message. The header alone decides whether
// a datagram concerns anyone here, so most datagrams move the stream on without their JSON
// being touched.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/Broadcaster.hpp"
#include "hub/Hub.hpp"
#include "hub/Presence.hpp"
#include "hub/StreamOrderer.hpp"
#include "metrics/Metrics.hpp"
#include "proto/ChatMessage.hpp"
#include "proto/Datagram.hpp"

namespace chat::hub {

enum class PublishResult { Queued, TooLarge, Busy };

// An event of the history, as a hole fetch finds it (the frame without its position).
struct StreamEntry {
    std::uint64_t pos = 0;
    StreamEvent event = StreamEvent::Message;
    proto::TargetKind targetKind = proto::TargetKind::User;
    std::int64_t target = 0;
    std::int64_t sender = 0;
    std::string frame;
};

class Dispatcher {
public:
    // The message's stream position once its commit is done; nullopt if it was not stored.
    using Committed = std::function<void(std::optional<std::uint64_t> pos)>;
    // Stores a message (its encoded frame without position) in the history and calls back
    // once, on the writer's thread; false when the history refuses it now (queue full).
    using Journal = std::function<bool(const proto::ChatMessage&, const std::string& frame, Committed)>;
    using RevokeListener = std::function<void(std::int64_t tokenId)>;

    struct Limits {
        std::size_t maxMessage = 64u << 10;  // the bus's largest message
        StreamOrderer::Limits stream;
    };

    Dispatcher(Limits limits, Hub& hub, Presence& presence, Broadcaster& bus, Journal journal,
               StreamOrderer::Fetch fetch, metrics::Metrics& metrics);

    // Stores, then broadcasts and delivers the message in stream order; `sender` (the sending
    // connection) gets the ack instead of the message. `done` runs once the store has answered
    // (only when the result is Queued).
    PublishResult publish(const proto::ChatMessage& m, std::string encoded, std::weak_ptr<Recipient> sender,
                          const std::string& cid, Committed done);
    // `user` joined `group` at stream position `pos` (committed): every node's hub learns it in order.
    void joined(std::int64_t user, std::int64_t group, std::uint64_t pos);
    // The journal has run the callbacks of one committed batch: what they left unsent goes on
    // the bus now. Until then, committed messages wait to fill a datagram together.
    void flushCommitted();
    void revokeToken(std::int64_t user, std::int64_t tokenId);
    void onRevoke(RevokeListener listener) { onRevoke_ = std::move(listener); }
    // A frame for every connection of `user`, on every node (read marks).
    void notify(std::int64_t user, const std::string& frame);

    // Presence: tells watchers here what changed and the cluster what changed here (the Node's
    // presence timer); this node's whole list (when a node joins, and every presence-refresh);
    // a node joining, restarting or leaving the bus.
    void announcePresence();
    void announceWholePresence();
    void peerChanged(std::uint32_t node, bool present);

    // A whole datagram from another node, in its origin's order (the bus has checked it).
    void receive(const proto::DatagramHeader& h, std::string_view payload);

    // The stream: where it stood at start-up, holes filled from the history, timers.
    void anchor(std::uint64_t committed) { stream_.anchor(committed); }
    void noteCommitted(std::uint64_t committed) { stream_.noteCommitted(committed); }
    void filled(std::uint64_t first, std::uint64_t last, std::vector<StreamEntry> entries, bool ok);
    void tick(StreamOrderer::Clock::time_point now) { stream_.tick(now); }
    std::uint64_t nextPosition() const { return stream_.next(); }

private:
    void committed(const proto::ChatMessage& m, const std::string& encoded, const std::weak_ptr<Recipient>& sender,
                   const std::string& cid, std::uint64_t pos);
    void queueForBus(const Positioned& p);
    void sendQueued();  // packMutex_ held
    Positioned positioned(std::uint64_t pos, StreamEvent event, proto::TargetKind kind, std::int64_t target,
                          std::int64_t sender, std::string_view frame) const;
    void release(const Positioned& p);
    void giveUp(std::uint64_t positions);
    void broadcastIds(proto::PresenceList list, const std::vector<std::int64_t>& ids);
    void receivePresence(const proto::DatagramHeader& h, std::string_view payload);
    void receivePack(std::string_view payload);
    void applyRevoke(std::int64_t user, std::int64_t tokenId);

    const std::size_t maxMessage_;
    Hub& hub_;
    Presence& presence_;
    Broadcaster& bus_;
    Journal journal_;
    metrics::Metrics& metrics_;
    RevokeListener onRevoke_;
    StreamOrderer stream_;
    // Committed messages of the batch being answered, not yet broadcast: at most one
    // datagram's worth. The journal answers one batch at a time, so the mutex is never contended.
    std::mutex packMutex_;
    std::vector<Positioned> unsent_;
    std::size_t unsentBytes_ = 0;
    // Whole lists arriving in parts, by origin node. The bus's strand only.
    std::unordered_map<std::uint32_t, std::vector<std::int64_t>> partialLists_;
};

}  // namespace chat::hub
