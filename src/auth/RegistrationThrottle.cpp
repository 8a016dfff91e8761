// Registrations per address in a sliding window; see RegistrationThrottle.hpp.
#include "auth/RegistrationThrottle.hpp"

namespace chat::auth {

RegistrationThrottle::RegistrationThrottle(Limits limits)
    : addresses_(limits.perAddress, limits.window, limits.maxTracked) {}

std::chrono::seconds RegistrationThrottle::admit(const std::string& address, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto wait = WindowLog::retryAfter(addresses_.wait(address, now));
    // Counted under the same lock as the check, so parallel registrations cannot all pass it.
    if (wait == std::chrono::seconds::zero()) addresses_.add(address, now);
    return wait;
}

std::size_t RegistrationThrottle::trackedAddresses() const {
    std::lock_guard lock(mutex_);
    return addresses_.size();
}

}  // namespace chat::auth
