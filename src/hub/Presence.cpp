#include "hub/Presence.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "proto/ChatMessage.hpp"

namespace chat::hub {

namespace {

std::uint64_t bit(std::uint32_t node) {
    return std::uint64_t{1} << (node & 63);
}

}  // namespace

bool Presence::isOnline(std::int64_t user) const {
    auto it = nodes_.find(user);
    return it != nodes_.end() && it->second != 0;
}

void Presence::set(std::int64_t user, std::uint32_t node, bool online) {
    wasOnline_.try_emplace(user, isOnline(user));
    auto& mask = nodes_[user];
    mask = online ? (mask | bit(node)) : (mask & ~bit(node));
    if (mask == 0) nodes_.erase(user);
}

void Presence::local(std::int64_t user, bool online) {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(user);
    wasLocal_.try_emplace(user, it != nodes_.end() && (it->second & bit(self_)));
    set(user, self_, online);
}

void Presence::remote(std::uint32_t node, const std::vector<std::int64_t>& users, bool online) {
    if (node == self_) return;
    std::lock_guard lock(mutex_);
    for (auto user : users) set(user, node, online);
}

void Presence::replace(std::uint32_t node, const std::vector<std::int64_t>& users) {
    if (node == self_) return;
    std::lock_guard lock(mutex_);
    std::set<std::int64_t> now(users.begin(), users.end());
    std::vector<std::int64_t> gone;
    for (const auto& [user, mask] : nodes_)
        if ((mask & bit(node)) && !now.contains(user)) gone.push_back(user);
    for (auto user : gone) set(user, node, false);
    for (auto user : now) set(user, node, true);
}

void Presence::forget(std::uint32_t node) {
    if (node == self_) return;
    replace(node, {});
}

Presence::Changes Presence::flush() {
    std::unordered_map<std::int64_t, bool> flipped;
    Changes mine;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [user, was] : wasOnline_)
            if (isOnline(user) != was) flipped.emplace(user, !was);
        for (const auto& [user, was] : wasLocal_) {
            auto it = nodes_.find(user);
            bool is = it != nodes_.end() && (it->second & bit(self_));
            if (is != was) (is ? mine.online : mine.offline).push_back(user);
        }
        wasOnline_.clear();
        wasLocal_.clear();
    }
    if (!flipped.empty()) notify(flipped);
    return mine;
}

// One frame per watcher with everything that changed for it.
void Presence::notify(const std::unordered_map<std::int64_t, bool>& flipped) {
    std::map<std::shared_ptr<Recipient>, Changes> frames;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [user, online] : flipped) {
            auto it = watchers_.find(user);
            if (it == watchers_.end()) continue;
            for (const auto& w : it->second)
                if (auto r = w.lock()) (online ? frames[r].online : frames[r].offline).push_back(user);
        }
    }
    // One tick reaches many connections: their strands write the frames, this thread only queues.
    for (const auto& [r, c] : frames)
        r->deliver(std::make_shared<const std::string>(proto::MessageCodec::presence(c.online, c.offline)), 0,
                   Fanout::Many);
}

std::vector<std::int64_t> Presence::localUsers() const {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (const auto& [user, mask] : nodes_)
        if (mask & bit(self_)) out.push_back(user);
    return out;
}

std::size_t Presence::onlineCount() const {
    std::lock_guard lock(mutex_);
    return nodes_.size();
}

Presence::Changes Presence::watch(const std::shared_ptr<Recipient>& watcher, std::vector<std::int64_t> users) {
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    unwatch(*watcher);
    Changes state;
    std::lock_guard lock(mutex_);
    for (auto user : users) {
        watchers_[user].push_back(watcher);
        (isOnline(user) ? state.online : state.offline).push_back(user);
    }
    if (!users.empty()) watching_[watcher.get()] = std::move(users);
    return state;
}

void Presence::unwatch(const Recipient& watcher) {
    std::lock_guard lock(mutex_);
    auto it = watching_.find(&watcher);
    if (it == watching_.end()) return;
    for (auto user : it->second) {
        auto w = watchers_.find(user);
        if (w == watchers_.end()) continue;
        std::erase_if(w->second, [&](const std::weak_ptr<Recipient>& x) {
            auto r = x.lock();
            return !r || r.get() == &watcher;
        });
        if (w->second.empty()) watchers_.erase(w);
    }
    watching_.erase(it);
}

}  // namespace chat::hub
