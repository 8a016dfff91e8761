#include "hub/Dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "proto/ChatPack.hpp"
#include "proto/IdList.hpp"

namespace chat::hub {

using proto::DatagramHeader;
using proto::DatagramKind;
using proto::TargetKind;

namespace {

SharedFrame share(std::string text) {
    return std::make_shared<const std::string>(std::move(text));
}

TargetKind targetKindOf(const proto::ChatMessage& m) {
    return m.cmd == proto::Cmd::Group ? TargetKind::Group : TargetKind::User;
}

}  // namespace

Dispatcher::Dispatcher(Limits limits, Hub& hub, Presence& presence, Broadcaster& bus, Journal journal,
                       StreamOrderer::Fetch fetch, metrics::Metrics& metrics)
    : maxMessage_(limits.maxMessage),
      hub_(hub),
      presence_(presence),
      bus_(bus),
      journal_(std::move(journal)),
      metrics_(metrics),
      stream_(
          limits.stream, [this](const Positioned& p) { release(p); }, std::move(fetch),
          [this](std::uint64_t positions) { giveUp(positions); }) {}

PublishResult Dispatcher::publish(const proto::ChatMessage& m, std::string encoded, std::weak_ptr<Recipient> sender,
                                  const std::string& cid, Committed done) {
    // Room for the position the frame gains at its commit.
    if (encoded.size() + 32 > maxMessage_) return PublishResult::TooLarge;
    auto shared = share(std::move(encoded));
    bool queued = journal_(
        m, *shared,
        [this, m, shared, sender = std::move(sender), cid, done = std::move(done)](std::optional<std::uint64_t> pos) {
            if (pos) committed(m, *shared, sender, cid, *pos);
            done(pos);
        });
    return queued ? PublishResult::Queued : PublishResult::Busy;
}

void Dispatcher::committed(const proto::ChatMessage& m, const std::string& encoded,
                           const std::weak_ptr<Recipient>& sender, const std::string& cid, std::uint64_t pos) {
    Positioned p;
    p.pos = pos;
    p.targetKind = targetKindOf(m);
    p.target = m.dstid;
    p.sender = m.userid;
    p.frame = share(proto::MessageCodec::withPos(encoded, pos));
    p.origin = sender;
    p.ack = share(proto::MessageCodec::ack(m.id, cid, m.createat, pos));
    queueForBus(p);
    stream_.submit(std::move(p));
}

void Dispatcher::queueForBus(const Positioned& p) {
    std::lock_guard lock(packMutex_);
    auto bytes = proto::ChatPack::entrySize(p.frame->size());
    if (!unsent_.empty() && unsentBytes_ + bytes > proto::kMaxFragmentPayload) sendQueued();
    unsent_.push_back(p);
    unsentBytes_ += bytes;
}

void Dispatcher::flushCommitted() {
    std::lock_guard lock(packMutex_);
    sendQueued();
}

// One message alone goes as a Chat datagram (fragmented if it is large), several as a ChatPack
// that fits one datagram. They are durable already: a node that misses one fetches it from
// the history.
void Dispatcher::sendQueued() {
    if (unsent_.empty()) return;
    DatagramHeader h;
    std::string packed;
    std::string_view payload;
    if (unsent_.size() == 1) {
        const auto& p = unsent_.front();
        h.kind = DatagramKind::Chat;
        h.targetKind = p.targetKind;
        h.target = p.target;
        h.sender = p.sender;
        h.pos = p.pos;
        payload = *p.frame;
    } else {
        h.kind = DatagramKind::ChatPack;
        packed.reserve(unsentBytes_);
        for (const auto& p : unsent_)
            proto::ChatPack::append(packed, {p.targetKind, p.target, p.sender, p.pos, *p.frame});
        payload = packed;
    }
    if (!bus_.broadcast(h, payload))
        spdlog::warn("bus: could not broadcast the messages at positions {} to {}", unsent_.front().pos,
                     unsent_.back().pos);
    unsent_.clear();
    unsentBytes_ = 0;
}

void Dispatcher::joined(std::int64_t user, std::int64_t group, std::uint64_t pos) {
    DatagramHeader h;
    h.kind = DatagramKind::Join;
    h.targetKind = TargetKind::Group;
    h.target = group;
    h.sender = user;
    h.pos = pos;
    if (!bus_.broadcast(h, {})) spdlog::warn("bus: could not announce that user {} joined group {}", user, group);
    stream_.submit(positioned(pos, StreamEvent::Join, TargetKind::Group, group, user, {}));
}

void Dispatcher::revokeToken(std::int64_t user, std::int64_t tokenId) {
    applyRevoke(user, tokenId);
    DatagramHeader h;
    h.kind = DatagramKind::Revoke;
    h.targetKind = TargetKind::User;
    h.target = tokenId;
    h.sender = user;
    if (!bus_.broadcast(h, {})) spdlog::warn("bus: could not announce a logout of user {}", user);
}

void Dispatcher::notify(std::int64_t user, const std::string& frame) {
    hub_.deliverUser(user, share(frame));
    DatagramHeader h;
    h.kind = DatagramKind::Notice;
    h.targetKind = TargetKind::User;
    h.target = user;
    h.sender = user;
    if (!bus_.broadcast(h, frame)) spdlog::warn("bus: could not send a notice to user {}", user);
}

void Dispatcher::applyRevoke(std::int64_t user, std::int64_t tokenId) {
    if (onRevoke_) onRevoke_(tokenId);
    hub_.closeToken(user, tokenId, CloseCode::LoggedOut, "logged out");
}

Positioned Dispatcher::positioned(std::uint64_t pos, StreamEvent event, TargetKind kind, std::int64_t target,
                                  std::int64_t sender, std::string_view frame) const {
    Positioned p;
    p.pos = pos;
    p.event = event;
    p.targetKind = kind;
    p.target = target;
    p.sender = sender;
    // Borrowed even when nobody here receives it now: who does is decided at its release,
    // after the joins before it have taken effect. The orderer keeps it if it must wait.
    if (event == StreamEvent::Message) p.borrowedFrame = frame;
    return p;
}

void Dispatcher::receive(const DatagramHeader& h, std::string_view payload) {
    switch (h.kind) {
        case DatagramKind::Chat:
            return stream_.submit(positioned(h.pos, StreamEvent::Message, h.targetKind, h.target, h.sender, payload));
        case DatagramKind::ChatPack:
            return receivePack(payload);
        case DatagramKind::Join:
            return stream_.submit(positioned(h.pos, StreamEvent::Join, TargetKind::Group, h.target, h.sender, {}));
        case DatagramKind::Revoke:
            // Revocations must reach every node's token cache, whoever is connected here.
            return applyRevoke(h.sender, h.target);
        case DatagramKind::Notice:
            if (hub_.holdsUser(h.target)) hub_.deliverUser(h.target, share(std::string(payload)));
            return;
        case DatagramKind::Presence:
            return receivePresence(h, payload);
        default:
            return;
    }
}

void Dispatcher::receivePack(std::string_view payload) {
    bool whole = proto::ChatPack::forEach(payload, [this](const proto::PackedChat& c) {
        stream_.submit(positioned(c.pos, StreamEvent::Message, c.targetKind, c.target, c.sender, c.frame));
    });
    if (!whole) metrics_.count(metrics::DropReason::Malformed);
}

void Dispatcher::filled(std::uint64_t first, std::uint64_t last, std::vector<StreamEntry> entries, bool ok) {
    std::vector<Positioned> found;
    found.reserve(entries.size());
    for (const auto& e : entries) {
        auto frame = e.event == StreamEvent::Message ? proto::MessageCodec::withPos(e.frame, e.pos) : std::string();
        auto p = positioned(e.pos, e.event, e.targetKind, e.target, e.sender, frame);
        p.keep();  // `frame` ends with this turn
        found.push_back(std::move(p));
    }
    stream_.fill(first, last, std::move(found), ok);
}

void Dispatcher::release(const Positioned& p) {
    if (p.event == StreamEvent::Join) {
        hub_.addGroups(p.sender, {p.target});
        return;
    }
    auto origin = p.origin.lock();
    if (origin && p.ack) origin->acknowledge(p.ack, p.pos);
    if (!p.hasFrame()) return;
    // The header decides; the JSON of a message for nobody here is never parsed.
    auto delivered = p.targetKind == TargetKind::Group
                         ? hub_.deliverGroup(p.target, p.frameSource(), origin.get(), p.pos)
                         : hub_.deliverSingle(p.target, p.sender, p.frameSource(), origin.get(), p.pos);
    if (delivered == 0 && !p.ack) metrics_.count(metrics::DropReason::NoRecipient);
}

// The history had no answer in time (the database unreachable, most likely): devices here
// catch up from it themselves, each from the last position it holds.
void Dispatcher::giveUp(std::uint64_t positions) {
    metrics_.streamGivenUp.fetch_add(positions, std::memory_order_relaxed);
    spdlog::warn("stream: {} positions given up; connections here catch up from the history", positions);
    hub_.resyncAll();
}

void Dispatcher::announcePresence() {
    auto mine = presence_.flush();
    metrics_.onlineUsers.store(static_cast<std::int64_t>(presence_.onlineCount()), std::memory_order_relaxed);
    if (!mine.online.empty()) broadcastIds(proto::PresenceList::Online, mine.online);
    if (!mine.offline.empty()) broadcastIds(proto::PresenceList::Offline, mine.offline);
}

void Dispatcher::announceWholePresence() {
    broadcastIds(proto::PresenceList::Whole, presence_.localUsers());
}

void Dispatcher::peerChanged(std::uint32_t node, bool present) {
    // A restarted node holds nobody yet; one that left holds nobody we can reach. A whole
    // list it was sending in parts will never be finished.
    presence_.forget(node);
    partialLists_.erase(node);
    // A node that just joined learns who is here.
    if (present) announceWholePresence();
}

void Dispatcher::broadcastIds(proto::PresenceList list, const std::vector<std::int64_t>& ids) {
    DatagramHeader h;
    h.kind = DatagramKind::Presence;
    h.targetKind = TargetKind::None;
    for (std::size_t from = 0;; from += proto::IdList::kMaxIds) {
        auto to = std::min(ids.size(), from + proto::IdList::kMaxIds);
        bool last = to == ids.size();
        h.target =
            static_cast<std::int64_t>(list == proto::PresenceList::Whole && !last ? proto::PresenceList::Part : list);
        std::vector<std::int64_t> part(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                       ids.begin() + static_cast<std::ptrdiff_t>(to));
        if (!bus_.broadcast(h, proto::IdList::encode(part))) spdlog::warn("bus: could not announce presence");
        if (last) return;
    }
}

void Dispatcher::receivePresence(const DatagramHeader& h, std::string_view payload) {
    auto ids = proto::IdList::decode(payload);
    if (!ids) return metrics_.count(metrics::DropReason::Malformed);
    switch (static_cast<proto::PresenceList>(h.target)) {
        case proto::PresenceList::Online:
        case proto::PresenceList::Offline:
            return presence_.remote(h.origin, *ids, h.target == static_cast<std::int64_t>(proto::PresenceList::Online));
        case proto::PresenceList::Part: {
            auto& list = partialLists_[h.origin];
            list.insert(list.end(), ids->begin(), ids->end());
            return;
        }
        case proto::PresenceList::Whole: {
            auto list = std::move(partialLists_[h.origin]);
            partialLists_.erase(h.origin);
            list.insert(list.end(), ids->begin(), ids->end());
            return presence_.replace(h.origin, list);
        }
        default:
            return metrics_.count(metrics::DropReason::Malformed);
    }
}

}  // namespace chat::hub
