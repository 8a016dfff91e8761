#include "http/BodyBudget.hpp"

#include <algorithm>
#include <utility>

namespace chat::http {

BodyBudget::Share& BodyBudget::Share::operator=(Share&& other) noexcept {
    if (this == &other) return *this;
    giveBack();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = other.bytes_;
    return *this;
}

void BodyBudget::Share::giveBack() {
    if (!budget_) return;
    budget_->used_.fetch_sub(bytes_, std::memory_order_relaxed);
    budget_->note(-static_cast<std::int64_t>(bytes_));
    budget_ = nullptr;
}

std::optional<BodyBudget::Share> BodyBudget::take(std::size_t bytes) {
    bytes = std::min(bytes, limit_);
    auto used = used_.load(std::memory_order_relaxed);
    do {
        if (used + bytes > limit_) return std::nullopt;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    note(static_cast<std::int64_t>(bytes));
    return Share(*this, bytes);
}

}  // namespace chat::http
