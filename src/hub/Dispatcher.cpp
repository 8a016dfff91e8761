#include "hub/Dispatcher.hpp"

#include <spdlog/spdlog.h>

namespace chat::hub {

using proto::DatagramHeader;
using proto::DatagramKind;
using proto::TargetKind;

Dispatcher::Dispatcher(std::size_t maxMessage, Hub& hub, Broadcaster& bus, metrics::Metrics& metrics)
    : maxMessage_(maxMessage), hub_(hub), bus_(bus), metrics_(metrics) {}

PublishResult Dispatcher::publish(const proto::ChatMessage& m, const SharedFrame& encoded, const Recipient* sender) {
    if (encoded->size() > maxMessage_) return PublishResult::TooLarge;
    DatagramHeader h;
    h.kind = DatagramKind::Chat;
    h.targetKind = m.cmd == proto::Cmd::Group ? TargetKind::Group : TargetKind::User;
    h.target = m.dstid;
    h.sender = m.userid;
    if (!bus_.broadcast(h, *encoded)) return PublishResult::BusError;
    deliver(h, encoded, sender);
    return PublishResult::Sent;
}

void Dispatcher::joinGroup(std::int64_t user, std::int64_t group) {
    hub_.addGroups(user, {group});
    DatagramHeader h;
    h.kind = DatagramKind::Join;
    h.targetKind = TargetKind::Group;
    h.target = group;
    h.sender = user;
    if (!bus_.broadcast(h, {})) spdlog::warn("bus: could not announce that user {} joined group {}", user, group);
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

void Dispatcher::applyRevoke(std::int64_t user, std::int64_t tokenId) {
    if (onRevoke_) onRevoke_(tokenId);
    hub_.closeToken(user, tokenId, CloseCode::LoggedOut, "logged out");
}

bool Dispatcher::concernsThisNode(const DatagramHeader& h) const {
    if (h.targetKind == TargetKind::Group) return hub_.holdsGroup(h.target);
    return hub_.holdsUser(h.target) || hub_.holdsUser(h.sender);
}

void Dispatcher::deliver(const DatagramHeader& h, const SharedFrame& frame, const Recipient* skip) {
    if (h.targetKind == TargetKind::Group)
        hub_.deliverGroup(h.target, frame, skip);
    else
        hub_.deliverSingle(h.target, h.sender, frame, skip);
}

void Dispatcher::receive(const DatagramHeader& h, std::string_view payload) {
    switch (h.kind) {
        case DatagramKind::Chat:
            if (!concernsThisNode(h)) {
                metrics_.count(metrics::DropReason::NoRecipient);
                return;
            }
            deliver(h, std::make_shared<const std::string>(payload), nullptr);
            return;
        case DatagramKind::Join:
            hub_.addGroups(h.sender, {h.target});
            return;
        case DatagramKind::Revoke:
            // Revocations must reach every node's token cache, whoever is connected here.
            applyRevoke(h.sender, h.target);
            return;
        default:
            return;
    }
}

void Dispatcher::lost(std::uint64_t datagrams) {
    hub_.deliverAll(std::make_shared<const std::string>(proto::MessageCodec::gap(datagrams)));
}

}  // namespace chat::hub
