// Failed-login counters with attempts in flight; see LoginLimiter.hpp.
#include "auth/LoginLimiter.hpp"

#include <algorithm>
#include <utility>

namespace chat::auth {

using std::chrono::seconds;
using Clock = LoginLimiter::Clock;

LoginLimiter::Attempt::Attempt(LoginLimiter& limiter, std::string mobile, std::string address)
    : limiter_(&limiter), mobile_(std::move(mobile)), address_(std::move(address)) {}

LoginLimiter::Attempt::Attempt(Attempt&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)),
      mobile_(std::move(other.mobile_)),
      address_(std::move(other.address_)) {}

LoginLimiter::Attempt::~Attempt() {
    if (limiter_) limiter_->settle(*this, Outcome::Released, Clock::now());
}

void LoginLimiter::Attempt::failed(Clock::time_point now) {
    if (auto* limiter = std::exchange(limiter_, nullptr)) limiter->settle(*this, Outcome::Failed, now);
}

void LoginLimiter::Attempt::succeeded(Clock::time_point now) {
    if (auto* limiter = std::exchange(limiter_, nullptr)) limiter->settle(*this, Outcome::Succeeded, now);
}

LoginLimiter::LoginLimiter(Limits limits)
    : mobiles_(limits.perMobile, limits.mobileWindow, limits.maxTracked),
      addresses_(limits.perAddress, limits.addressWindow, limits.maxTracked) {}

Clock::duration LoginLimiter::waitLocked(const std::string& mobile, const std::string& address, Clock::time_point now) {
    return std::max(mobiles_.wait(mobile, now), addresses_.wait(address, now));
}

LoginLimiter::Admission LoginLimiter::admit(const std::string& mobile, const std::string& address,
                                            Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (auto wait = waitLocked(mobile, address, now); wait > Clock::duration::zero())
        return Admission{std::nullopt, WindowLog::retryAfter(wait)};
    // Counted under the same lock as the check: the next caller already sees this attempt.
    mobiles_.begin(mobile, now);
    addresses_.begin(address, now);
    return Admission{Attempt(*this, mobile, address), seconds::zero()};
}

void LoginLimiter::settle(const Attempt& attempt, Outcome outcome, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    mobiles_.end(attempt.mobile_);
    addresses_.end(attempt.address_);
    if (outcome == Outcome::Failed) {
        mobiles_.add(attempt.mobile_, now);
        addresses_.add(attempt.address_, now);
    } else if (outcome == Outcome::Succeeded) {
        mobiles_.clear(attempt.mobile_);
    }
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
