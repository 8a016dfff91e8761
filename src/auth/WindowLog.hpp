// Recent events per key in a sliding window, plus attempts still in flight, against a limit:
// the counting beneath LoginLimiter (failed logins per mobile and per address) and
// RegistrationThrottle (registrations per address). Not thread-safe: its owner locks.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <string>
#include <unordered_map>

namespace chat::auth {

class WindowLog {
public:
    using Clock = std::chrono::steady_clock;

    // limit 0 disables the log: it tracks nothing and never asks to wait.
    WindowLog(unsigned limit, std::chrono::seconds window, std::size_t maxTracked);

    // How long until one more attempt fits under the limit, counting recent events and
    // attempts in flight; zero when it fits now.
    Clock::duration wait(const std::string& key, Clock::time_point now);
    void add(const std::string& key, Clock::time_point now);    // an event happened now
    void begin(const std::string& key, Clock::time_point now);  // one more attempt in flight
    void end(const std::string& key);                           // one attempt fewer in flight
    void clear(const std::string& key);                         // forgets its events, not its attempts
    std::size_t size() const { return entries_.size(); }

    // A wait as a Retry-After: whole seconds, rounded up so that a client that waits exactly as
    // told is not refused again, and never zero for a refusal.
    static std::chrono::seconds retryAfter(Clock::duration wait);

private:
    struct Entry {
        std::deque<Clock::time_point> events;  // oldest first, at most limit_ long
        unsigned inFlight = 0;
        std::list<std::string>::iterator recency;
    };
    using Entries = std::unordered_map<std::string, Entry>;

    Entry& touch(const std::string& key);
    void prune(Entry& entry, Clock::time_point now) const;
    void forgetIfIdle(Entries::iterator it);

    unsigned limit_;
    std::chrono::seconds window_;
    std::size_t maxTracked_;
    Entries entries_;
    std::list<std::string> recency_;  // front: most recently updated; the back is forgotten first
};

}  // namespace chat::auth
