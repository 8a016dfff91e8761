// Bounds the request bodies a node holds at once, whoever sends them. Each request with a body
// takes a share (its declared length, or its route's limit when it declares none) before the
// body is read, and gives it back once its answer is written. Credentials are checked only
// after the body (they may come with it), so without a bound any client could make a node hold
// max-upload bytes per connection, on as many connections as it opens. Shared by the
// listeners' sessions; thread-safe.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "metrics/Metrics.hpp"

namespace chat::http {

class BodyBudget {
public:
    // `held`, if given, follows the bytes taken (a metrics gauge).
    explicit BodyBudget(std::size_t bytes, metrics::Gauge* held = nullptr) : limit_(bytes), held_(held) {}
    BodyBudget(const BodyBudget&) = delete;
    BodyBudget& operator=(const BodyBudget&) = delete;

    // Bytes taken from the budget until destroyed.
    class Share {
    public:
        Share(Share&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.budget_ = nullptr; }
        Share& operator=(Share&& other) noexcept;
        ~Share() { giveBack(); }

    private:
        friend class BodyBudget;
        Share(BodyBudget& budget, std::size_t bytes) : budget_(&budget), bytes_(bytes) {}
        void giveBack();
        BodyBudget* budget_;
        std::size_t bytes_;
    };

    // A share of `bytes` (at most the whole budget, so one body larger than it still goes
    // alone), or nullopt while the rest is taken.
    std::optional<Share> take(std::size_t bytes);
    std::size_t inUse() const { return used_.load(std::memory_order_relaxed); }

private:
    void note(std::int64_t delta) {
        if (held_) held_->fetch_add(delta, std::memory_order_relaxed);
    }

    const std::size_t limit_;
    std::atomic<std::size_t> used_{0};
    metrics::Gauge* held_;
};

}  // namespace chat::http
