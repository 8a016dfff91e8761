// Throttles account creation per client address in a sliding window: every registration
// costs a PBKDF2 hash and a row, so one address may not make them without end. Unlike
// LoginLimiter it counts every registration admitted, not only failures: a new account is
// exactly what a flood makes. Used by the register handler before it hashes. Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "auth/WindowLog.hpp"

namespace chat::auth {

class RegistrationThrottle {
public:
    using Clock = WindowLog::Clock;

    struct Limits {
        unsigned perAddress = 20;  // 0 disables the throttle
        std::chrono::seconds window{600};
        std::size_t maxTracked = 100000;  // addresses remembered; oldest forgotten first
    };

    explicit RegistrationThrottle(Limits limits);

    // Zero when a registration from `address` may proceed, which then counts; otherwise how
    // long to wait, and nothing is counted.
    std::chrono::seconds admit(const std::string& address, Clock::time_point now = Clock::now());

    std::size_t trackedAddresses() const;

private:
    mutable std::mutex mutex_;
    WindowLog addresses_;
};

}  // namespace chat::auth
