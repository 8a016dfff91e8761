// Throttles password guessing: counts failed logins per mobile and per client address in
// sliding windows. The login handler admits each attempt on the network thread before it
// queues the password check; the attempt counts as in flight from then until the check on a
// database thread settles it, so a burst of parallel logins cannot all pass one check: for
// each mobile and each address, attempts in flight plus recent failures never exceed the
// limit. A failed attempt becomes a recorded failure, a successful one is released and clears
// its mobile's failures (not its address's: one good account must not launder guesses against
// others from the same address). Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "auth/WindowLog.hpp"

namespace chat::auth {

class LoginLimiter {
public:
    using Clock = WindowLog::Clock;

    struct Limits {
        unsigned perMobile = 10;  // 0 disables the per-mobile check
        std::chrono::seconds mobileWindow{300};
        unsigned perAddress = 30;  // 0 disables the per-address check
        std::chrono::seconds addressWindow{60};
        std::size_t maxTracked = 100000;  // keys remembered per kind; oldest forgotten first
    };

    // An admitted login attempt, in flight until settled by failed() or succeeded(). One that
    // is dropped unsettled just frees its place: its password was never checked (the database
    // was busy or failed). Must not outlive its limiter.
    class Attempt {
    public:
        Attempt(Attempt&& other) noexcept;
        Attempt& operator=(Attempt&&) = delete;
        ~Attempt();

        void failed(Clock::time_point now = Clock::now());
        void succeeded(Clock::time_point now = Clock::now());

    private:
        friend class LoginLimiter;
        Attempt(LoginLimiter& limiter, std::string mobile, std::string address);

        LoginLimiter* limiter_;  // null once settled or moved from
        std::string mobile_;
        std::string address_;
    };

    struct Admission {
        std::optional<Attempt> attempt;      // set when admitted
        std::chrono::seconds retryAfter{0};  // set when refused
    };

    explicit LoginLimiter(Limits limits);

    // Admits an attempt, counting it in flight at once, or says how long to wait.
    Admission admit(const std::string& mobile, const std::string& address, Clock::time_point now = Clock::now());

    // Keys currently remembered (for tests and metrics).
    std::size_t trackedMobiles() const;
    std::size_t trackedAddresses() const;

private:
    enum class Outcome { Released, Failed, Succeeded };
    void settle(const Attempt& attempt, Outcome outcome, Clock::time_point now);
    Clock::duration waitLocked(const std::string& mobile, const std::string& address, Clock::time_point now);

    mutable std::mutex mutex_;
    WindowLog mobiles_;
    WindowLog addresses_;
};

}  // namespace chat::auth
