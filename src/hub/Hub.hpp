// Who is connected to this node and which groups they are in. Sessions add and remove
// themselves; the Dispatcher asks the hub to deliver. Targets are copied under a shared
// lock and frames are handed out after it is released, so a slow recipient never holds it.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hub/FrameSource.hpp"
#include "hub/Presence.hpp"
#include "hub/Recipient.hpp"
#include "metrics/Metrics.hpp"

namespace chat::hub {

class Hub {
public:
    // `presence`, if given, learns of every user whose first connection here opens or whose
    // last one closes.
    explicit Hub(metrics::Metrics& metrics, Presence* presence = nullptr) : metrics_(metrics), presence_(presence) {}

    void add(const std::shared_ptr<Recipient>& r);
    void remove(const Recipient& r);
    // Merges groups into a user's memberships; a no-op for users not connected here. Returns the
    // last group position released before: group messages after it reach the user's
    // connections live, those up to it may have passed them by (a connecting session then
    // reads the history past it).
    std::uint64_t addGroups(std::int64_t user, const std::vector<std::int64_t>& groups);

    bool isMember(std::int64_t user, std::int64_t group) const;
    bool holdsUser(std::int64_t user) const;
    bool holdsGroup(std::int64_t group) const;

    // Every connection of `to` and of `from`, except `skip` (the sending connection).
    std::size_t deliverSingle(std::int64_t to, std::int64_t from, const FrameSource& frame, const Recipient* skip,
                              std::uint64_t pos);
    // Every local connection of every member of `group`, except `skip`.
    std::size_t deliverGroup(std::int64_t group, const FrameSource& frame, const Recipient* skip, std::uint64_t pos);

    // Every local connection of one user (notices outside the stream).
    std::size_t deliverUser(std::int64_t user, const SharedFrame& frame);
    // Every local connection catches up from the history (the stream gave positions up).
    void resyncAll();

    void closeToken(std::int64_t user, std::int64_t tokenId, CloseCode code, std::string_view reason);
    void closeAll(CloseCode code, std::string_view reason);
    std::size_t connectionCount() const;

private:
    struct User {
        std::vector<std::shared_ptr<Recipient>> connections;
        std::unordered_set<std::int64_t> groups;
    };
    using Targets = std::vector<std::shared_ptr<Recipient>>;

    void appendUser(std::int64_t user, const Recipient* skip, Targets& out) const;
    // A borrowed frame is copied only here, and only when there is someone to hand it to.
    std::size_t hand(const Targets& targets, const FrameSource& frame, std::uint64_t pos, Fanout fanout);

    metrics::Metrics& metrics_;
    Presence* presence_;
    mutable std::shared_mutex mutex_;
    std::atomic<std::uint64_t> groupReleased_{0};  // the highest position deliverGroup was given
    std::unordered_map<std::int64_t, User> users_;
    std::unordered_map<std::int64_t, std::unordered_set<std::int64_t>> groupMembers_;  // local members only
    std::size_t connections_ = 0;
};

}  // namespace chat::hub
