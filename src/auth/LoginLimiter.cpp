// Sliding-window failed-login counters; see LoginLimiter.hpp.
#include "auth/LoginLimiter.hpp"

#include <algorithm>

namespace chat::auth {

using std::chrono::seconds;
using Clock = LoginLimiter::Clock;

LoginLimiter::FailureLog::FailureLog(unsigned limit, seconds window, std::size_t maxTracked)
    : limit_(limit), window_(window), maxTracked_(maxTracked) {}

// A failure counts while it is younger than the window.
void LoginLimiter::FailureLog::prune(Entry& entry, Clock::time_point now) const {
    while (!entry.failures.empty() && now - entry.failures.front() >= window_) entry.failures.pop_front();
}

LoginLimiter::Clock::duration LoginLimiter::FailureLog::wait(const std::string& key, Clock::time_point now) {
    if (limit_ == 0) return Clock::duration::zero();
    auto it = entries_.find(key);
    if (it == entries_.end()) return Clock::duration::zero();
    Entry& entry = it->second;
    prune(entry, now);
    if (entry.failures.empty()) {
        recency_.erase(entry.recency);
        entries_.erase(it);
        return Clock::duration::zero();
    }
    if (entry.failures.size() < limit_) return Clock::duration::zero();
    // The attempt is allowed again once the oldest counted failure leaves the window.
    return std::min<Clock::duration>(entry.failures.front() + window_ - now, window_);
}

void LoginLimiter::FailureLog::add(const std::string& key, Clock::time_point now) {
    if (limit_ == 0) return;
    auto [it, inserted] = entries_.try_emplace(key);
    Entry& entry = it->second;
    if (inserted) {
        recency_.push_front(key);
    } else {
        recency_.splice(recency_.begin(), recency_, entry.recency);
    }
    entry.recency = recency_.begin();
    prune(entry, now);
    entry.failures.push_back(now);
    // Older failures beyond the limit can never change the answer: the limit is reached either way.
    while (entry.failures.size() > limit_) entry.failures.pop_front();

    while (entries_.size() > maxTracked_) {
        entries_.erase(recency_.back());
        recency_.pop_back();
    }
}

void LoginLimiter::FailureLog::clear(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    recency_.erase(it->second.recency);
    entries_.erase(it);
}

LoginLimiter::LoginLimiter(Limits limits)
    : mobiles_(limits.perMobile, limits.mobileWindow, limits.maxTracked),
      addresses_(limits.perAddress, limits.addressWindow, limits.maxTracked) {}

seconds LoginLimiter::retryAfter(const std::string& mobile, const std::string& address, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Clock::duration wait = std::max(mobiles_.wait(mobile, now), addresses_.wait(address, now));
    if (wait <= Clock::duration::zero()) return seconds::zero();
    // Round up so a client that waits exactly as told is not refused again.
    return std::max(std::chrono::ceil<seconds>(wait), seconds(1));
}

void LoginLimiter::recordFailure(const std::string& mobile, const std::string& address, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    mobiles_.add(mobile, now);
    addresses_.add(address, now);
}

void LoginLimiter::recordSuccess(const std::string& mobile, Clock::time_point) {
    std::lock_guard lock(mutex_);
    mobiles_.clear(mobile);
}

std::size_t LoginLimiter::trackedMobiles() const {
    std::lock_guard lock(mutex_);
    return mobiles_.size();
}

std::size_t LoginLimiter::trackedAddresses() const {
    std::lock_guard lock(mutex_);
    return addresses_.size();
}

}  // namespace chat::auth
