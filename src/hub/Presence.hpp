// Who is online anywhere in the cluster, and which connections want to know. A user is online
// while any node holds a connection of theirs: this node's part comes from the Hub (a user's
// first connection opened, last one closed), the others' from their announcements on the bus
// (changes, and whole lists when a node joins and every presence-refresh). Node ids are 0..63,
// so where a user is online is one 64-bit mask.
//
// Changes are recorded, not acted on: flush() (the Node's presence timer) tells watchers what
// changed since the last flush, one frame per watcher, and returns this node's changes for
// the bus. So a user who reconnects within a flush causes no flicker, a storm of connections
// costs one announcement, and the Hub may record under its own lock. Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "hub/Recipient.hpp"

namespace chat::hub {

class Presence {
public:
    struct Changes {
        std::vector<std::int64_t> online, offline;
        bool empty() const { return online.empty() && offline.empty(); }
    };

    explicit Presence(std::uint32_t self) : self_(self) {}

    // This node's users (called by the Hub).
    void local(std::int64_t user, bool online);
    // Another node's announcements.
    void remote(std::uint32_t node, const std::vector<std::int64_t>& users, bool online);
    // Another node's whole list: replaces what it said before.
    void replace(std::uint32_t node, const std::vector<std::int64_t>& users);
    // A node left or restarted: nobody is online there any more.
    void forget(std::uint32_t node);

    // Tells watchers what changed since the last flush; returns what this node must announce.
    Changes flush();
    std::vector<std::int64_t> localUsers() const;
    std::size_t onlineCount() const;

    // The connection now watches exactly `users` (replacing its earlier list); returns their state.
    Changes watch(const std::shared_ptr<Recipient>& watcher, std::vector<std::int64_t> users);
    void unwatch(const Recipient& watcher);

private:
    void set(std::int64_t user, std::uint32_t node, bool online);  // mutex_ held
    bool isOnline(std::int64_t user) const;                        // mutex_ held
    void notify(const std::unordered_map<std::int64_t, bool>& flipped);

    const std::uint32_t self_;
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::uint64_t> nodes_;  // user -> nodes holding them
    // Since the last flush: the cluster status and this node's status before the first change.
    std::unordered_map<std::int64_t, bool> wasOnline_, wasLocal_;
    std::unordered_map<std::int64_t, std::vector<std::weak_ptr<Recipient>>> watchers_;
    std::unordered_map<const Recipient*, std::vector<std::int64_t>> watching_;
};

}  // namespace chat::hub
