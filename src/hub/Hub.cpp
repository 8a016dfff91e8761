#include "hub/Hub.hpp"

#include <algorithm>
#include <mutex>

namespace chat::hub {

void Hub::add(const std::shared_ptr<Recipient>& r) {
    std::unique_lock lock(mutex_);
    auto& user = users_[r->userId()];
    // Under the lock, so that a quick disconnect cannot overtake the connect.
    if (user.connections.empty() && presence_) presence_->local(r->userId(), true);
    user.connections.push_back(r);
    ++connections_;
    metrics_.connections.store(static_cast<std::int64_t>(connections_), std::memory_order_relaxed);
}

void Hub::remove(const Recipient& r) {
    std::unique_lock lock(mutex_);
    auto it = users_.find(r.userId());
    if (it == users_.end()) return;
    auto& conns = it->second.connections;
    auto pos = std::find_if(conns.begin(), conns.end(), [&](const auto& c) { return c.get() == &r; });
    if (pos == conns.end()) return;
    conns.erase(pos);
    --connections_;
    metrics_.connections.store(static_cast<std::int64_t>(connections_), std::memory_order_relaxed);
    if (!conns.empty()) return;
    if (presence_) presence_->local(r.userId(), false);
    for (auto group : it->second.groups) {
        auto g = groupMembers_.find(group);
        if (g == groupMembers_.end()) continue;
        g->second.erase(r.userId());
        if (g->second.empty()) groupMembers_.erase(g);
    }
    users_.erase(it);
}

std::uint64_t Hub::addGroups(std::int64_t user, const std::vector<std::int64_t>& groups) {
    std::unique_lock lock(mutex_);
    auto it = users_.find(user);
    if (it != users_.end()) {
        for (auto group : groups) {
            it->second.groups.insert(group);
            groupMembers_[group].insert(user);
        }
    }
    // Read under the lock: a delivery that looked the members up before noted its position first.
    return groups.empty() ? 0 : groupReleased_.load();
}

bool Hub::isMember(std::int64_t user, std::int64_t group) const {
    std::shared_lock lock(mutex_);
    auto it = users_.find(user);
    return it != users_.end() && it->second.groups.contains(group);
}

bool Hub::holdsUser(std::int64_t user) const {
    std::shared_lock lock(mutex_);
    return users_.contains(user);
}

bool Hub::holdsGroup(std::int64_t group) const {
    std::shared_lock lock(mutex_);
    return groupMembers_.contains(group);
}

void Hub::appendUser(std::int64_t user, const Recipient* skip, Targets& out) const {
    auto it = users_.find(user);
    if (it == users_.end()) return;
    for (const auto& c : it->second.connections)
        if (c.get() != skip) out.push_back(c);
}

std::size_t Hub::hand(const Targets& targets, const FrameSource& frame, std::uint64_t pos, Fanout fanout) {
    if (targets.empty()) return 0;
    const auto& shared = frame.get();
    for (const auto& t : targets) t->deliver(shared, pos, fanout);
    metrics_.deliveries.fetch_add(targets.size(), std::memory_order_relaxed);
    return targets.size();
}

std::size_t Hub::deliverSingle(std::int64_t to, std::int64_t from, const FrameSource& frame, const Recipient* skip,
                               std::uint64_t pos) {
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        appendUser(to, skip, targets);
        if (from != to) appendUser(from, skip, targets);
    }
    return hand(targets, frame, pos, Fanout::One);
}

std::size_t Hub::deliverGroup(std::int64_t group, const FrameSource& frame, const Recipient* skip, std::uint64_t pos) {
    for (auto seen = groupReleased_.load(); pos > seen && !groupReleased_.compare_exchange_weak(seen, pos);) {
    }
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        auto g = groupMembers_.find(group);
        if (g == groupMembers_.end()) return 0;
        for (auto user : g->second) appendUser(user, skip, targets);
    }
    return hand(targets, frame, pos, Fanout::Many);
}

std::size_t Hub::deliverUser(std::int64_t user, const SharedFrame& frame) {
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        appendUser(user, nullptr, targets);
    }
    return hand(targets, frame, 0, Fanout::One);
}

void Hub::resyncAll() {
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [id, user] : users_)
            targets.insert(targets.end(), user.connections.begin(), user.connections.end());
    }
    for (const auto& t : targets) t->resync();
}

void Hub::closeToken(std::int64_t user, std::int64_t tokenId, CloseCode code, std::string_view reason) {
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        auto it = users_.find(user);
        if (it == users_.end()) return;
        for (const auto& c : it->second.connections)
            if (c->tokenId() == tokenId) targets.push_back(c);
    }
    for (const auto& t : targets) t->close(code, reason);
}

void Hub::closeAll(CloseCode code, std::string_view reason) {
    Targets targets;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [id, user] : users_)
            targets.insert(targets.end(), user.connections.begin(), user.connections.end());
    }
    for (const auto& t : targets) t->close(code, reason);
}

std::size_t Hub::connectionCount() const {
    std::shared_lock lock(mutex_);
    return connections_;
}

}  // namespace chat::hub
