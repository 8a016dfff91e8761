// See Pacer.hpp.
#include "load/Pacer.hpp"

#include <algorithm>

namespace bench {

namespace {
constexpr auto kTick = std::chrono::milliseconds(1);
constexpr auto kNpos = static_cast<std::size_t>(-1);
}  // namespace

Pacer::Pacer(boost::asio::io_context& io, const Plan& plan, std::vector<std::size_t> senders, Send send)
    : timer_(io), plan_(plan), send_(std::move(send)) {
    std::size_t maxConn = 0;
    for (auto c : senders) {
        senders_.push_back(Sender{c});
        maxConn = std::max(maxConn, c + 1);
    }
    slotOf_.assign(maxConn, kNpos);
    for (std::size_t i = 0; i < senders_.size(); ++i) slotOf_[senders_[i].conn] = i;
}

Pacer::Sender* Pacer::find(std::size_t conn) {
    if (conn >= slotOf_.size() || slotOf_[conn] == kNpos) return nullptr;
    return &senders_[slotOf_[conn]];
}

void Pacer::start(std::function<void()> done) {
    done_ = std::move(done);
    running_ = true;
    started_ = std::chrono::steady_clock::now();
    if (senders_.empty() || plan_.pacing == Pacing::Hold) return finish();
    if (plan_.pacing == Pacing::Rate) {
        nextTick_ = started_;
        return tick();
    }
    for (auto& s : senders_) topUp(s);
    // Burst has a deadline too: a server that stops answering must not hang the run.
    timer_.expires_after(std::chrono::milliseconds(plan_.durationMs));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) finish();
    });
    checkBurstDone();
}

void Pacer::tick() {
    if (!running_) return;
    auto now = std::chrono::steady_clock::now();
    auto elapsed =
        std::min(now - started_, std::chrono::steady_clock::duration(std::chrono::milliseconds(plan_.durationMs)));
    auto seconds = std::chrono::duration<double>(elapsed).count();
    auto due = static_cast<std::uint64_t>(plan_.ratePerSender * static_cast<double>(senders_.size()) * seconds);
    for (; dueSoFar_ < due; ++dueSoFar_) {
        auto& s = senders_[cursor_];
        cursor_ = (cursor_ + 1) % senders_.size();
        if (!s.gone && send_(s.conn)) ++s.issued;
    }
    if (now - started_ >= std::chrono::milliseconds(plan_.durationMs)) return finish();
    nextTick_ += kTick;
    timer_.expires_at(nextTick_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) tick();
    });
}

void Pacer::topUp(Sender& s) {
    while (running_ && !s.gone && s.outstanding < plan_.window && s.issued < plan_.messagesPerSender) {
        if (!send_(s.conn)) {
            s.gone = true;
            break;
        }
        ++s.issued;
        ++s.outstanding;
    }
}

void Pacer::answered(std::size_t conn) {
    auto* s = find(conn);
    if (!s || plan_.pacing != Pacing::Burst || !running_) return;
    if (s->outstanding) --s->outstanding;
    topUp(*s);
    if (s->issued == plan_.messagesPerSender && s->outstanding == 0) checkBurstDone();
}

void Pacer::gone(std::size_t conn) {
    auto* s = find(conn);
    if (!s) return;
    s->gone = true;
    if (plan_.pacing == Pacing::Burst && running_) checkBurstDone();
}

void Pacer::checkBurstDone() {
    bool all = std::all_of(senders_.begin(), senders_.end(), [&](const Sender& s) {
        return s.gone || (s.issued == plan_.messagesPerSender && s.outstanding == 0);
    });
    if (all) finish();
}

void Pacer::finish() {
    if (!running_) return;
    running_ = false;
    timer_.cancel();
    if (done_) done_();
}

}  // namespace bench
