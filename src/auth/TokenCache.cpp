#include "auth/TokenCache.hpp"

#include <algorithm>

namespace chat::auth {

std::optional<Identity> TokenCache::get(const std::string& digest, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(digest);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires <= now) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.identity;
}

void TokenCache::put(const std::string& digest, Identity identity, Clock::time_point now) {
    if (ttl_.count() == 0) return;
    std::lock_guard lock(mutex_);
    if (auto r = revoked_.find(identity.tokenId); r != revoked_.end()) {
        if (r->second > now) return;
        revoked_.erase(r);
    }
    if (entries_.size() >= capacity_) {
        std::erase_if(entries_, [now](const auto& e) { return e.second.expires <= now; });
        if (entries_.size() >= capacity_) entries_.clear();  // a burst of new tokens: start over
    }
    entries_[digest] = Entry{identity, now + ttl_};
}

void TokenCache::revoke(std::int64_t tokenId, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [tokenId](const auto& e) { return e.second.identity.tokenId == tokenId; });
    if (ttl_.count() == 0) return;
    if (revoked_.size() >= capacity_) std::erase_if(revoked_, [now](const auto& r) { return r.second <= now; });
    if (revoked_.size() < capacity_) revoked_[tokenId] = now + ttl_;
}

}  // namespace chat::auth
