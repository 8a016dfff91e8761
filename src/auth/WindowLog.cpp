// Sliding-window counters per key; see WindowLog.hpp.
#include "auth/WindowLog.hpp"

#include <algorithm>

namespace chat::auth {

using std::chrono::seconds;
using Clock = WindowLog::Clock;

namespace {

// When only attempts in flight fill the limit, they settle within one password hash: a client
// told to come back a second later finds them settled, as successes or as counted failures.
constexpr seconds kInFlightWait{1};

}  // namespace

WindowLog::WindowLog(unsigned limit, seconds window, std::size_t maxTracked)
    : limit_(limit), window_(window), maxTracked_(maxTracked) {}

// An event counts while it is younger than the window.
void WindowLog::prune(Entry& entry, Clock::time_point now) const {
    while (!entry.events.empty() && now - entry.events.front() >= window_) entry.events.pop_front();
}

void WindowLog::forgetIfIdle(Entries::iterator it) {
    if (!it->second.events.empty() || it->second.inFlight > 0) return;
    recency_.erase(it->second.recency);
    entries_.erase(it);
}

// The key's entry, made the most recently updated; the least recently updated keys beyond
// maxTracked are forgotten, attempts in flight and all, so memory stays bounded.
WindowLog::Entry& WindowLog::touch(const std::string& key) {
    auto [it, inserted] = entries_.try_emplace(key);
    Entry& entry = it->second;
    if (inserted) {
        recency_.push_front(key);
    } else {
        recency_.splice(recency_.begin(), recency_, entry.recency);
    }
    entry.recency = recency_.begin();
    // Never the key just touched: it is at the front.
    while (entries_.size() > std::max<std::size_t>(maxTracked_, 1)) {
        entries_.erase(recency_.back());
        recency_.pop_back();
    }
    return entry;
}

Clock::duration WindowLog::wait(const std::string& key, Clock::time_point now) {
    if (limit_ == 0) return Clock::duration::zero();
    auto it = entries_.find(key);
    if (it == entries_.end()) return Clock::duration::zero();
    Entry& entry = it->second;
    prune(entry, now);
    std::size_t used = entry.events.size() + entry.inFlight;
    if (used < limit_) {
        forgetIfIdle(it);
        return Clock::duration::zero();
    }
    // One more fits once used - limit + 1 places are free; recorded events free theirs as
    // they leave the window, oldest first.
    std::size_t expiring = used - limit_;
    if (expiring < entry.events.size())
        return std::min<Clock::duration>(entry.events[expiring] + window_ - now, window_);
    return kInFlightWait;
}

void WindowLog::add(const std::string& key, Clock::time_point now) {
    if (limit_ == 0) return;
    Entry& entry = touch(key);
    prune(entry, now);
    entry.events.push_back(now);
    // Older events beyond the limit can never change the answer: the limit is reached either way.
    while (entry.events.size() > limit_) entry.events.pop_front();
}

void WindowLog::begin(const std::string& key, Clock::time_point now) {
    if (limit_ == 0) return;
    Entry& entry = touch(key);
    prune(entry, now);
    ++entry.inFlight;
}

void WindowLog::end(const std::string& key) {
    auto it = entries_.find(key);
    // Gone when the key was forgotten while the attempt was in flight.
    if (it == entries_.end() || it->second.inFlight == 0) return;
    --it->second.inFlight;
    forgetIfIdle(it);
}

void WindowLog::clear(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    it->second.events.clear();
    forgetIfIdle(it);
}

seconds WindowLog::retryAfter(Clock::duration wait) {
    if (wait <= Clock::duration::zero()) return seconds::zero();
    return std::max(std::chrono::ceil<seconds>(wait), seconds(1));
}

}  // namespace chat::auth
