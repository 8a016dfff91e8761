// Throttles password guessing: counts failed logins per mobile and per client address in
// sliding windows. Used by the login handler before it checks a password. Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chat::auth {

class LoginLimiter {
public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        unsigned perMobile = 10;  // 0 disables the per-mobile check
        std::chrono::seconds mobileWindow{300};
        unsigned perAddress = 30;  // 0 disables the per-address check
        std::chrono::seconds addressWindow{60};
        std::size_t maxTracked = 100000;  // keys remembered per kind; oldest forgotten first
    };

    explicit LoginLimiter(Limits limits);

    // How long the caller must wait; zero when a login attempt may proceed.
    std::chrono::seconds retryAfter(const std::string& mobile, const std::string& address,
                                    Clock::time_point now = Clock::now());
    void recordFailure(const std::string& mobile, const std::string& address, Clock::time_point now = Clock::now());
    // Clears that mobile's failures; the address keeps its count, so one good account cannot
    // launder guesses against others from the same address.
    void recordSuccess(const std::string& mobile, Clock::time_point now = Clock::now());

    // Keys currently remembered (for tests and metrics).
    std::size_t trackedMobiles() const;
    std::size_t trackedAddresses() const;

private:
    // Failure times per key for one kind of key, least recently updated key at the back.
    class FailureLog {
    public:
        FailureLog(unsigned limit, std::chrono::seconds window, std::size_t maxTracked);
        Clock::duration wait(const std::string& key, Clock::time_point now);
        void add(const std::string& key, Clock::time_point now);
        void clear(const std::string& key);
        std::size_t size() const { return entries_.size(); }

    private:
        struct Entry {
            std::deque<Clock::time_point> failures;  // oldest first, at most limit_ long
            std::list<std::string>::iterator recency;
        };
        void prune(Entry& entry, Clock::time_point now) const;

        unsigned limit_;
        std::chrono::seconds window_;
        std::size_t maxTracked_;
        std::unordered_map<std::string, Entry> entries_;
        std::list<std::string> recency_;  // front: most recently updated
    };

    mutable std::mutex mutex_;
    FailureLog mobiles_;
    FailureLog addresses_;
};

}  // namespace chat::auth
