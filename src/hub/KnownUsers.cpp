#include "hub/KnownUsers.hpp"

namespace chat::hub {

bool KnownUsers::contains(std::int64_t user) const {
    std::lock_guard lock(mutex_);
    return users_.contains(user);
}

void KnownUsers::add(std::int64_t user) {
    std::lock_guard lock(mutex_);
    if (users_.size() >= capacity_) users_.clear();
    users_.insert(user);
}

}  // namespace chat::hub
