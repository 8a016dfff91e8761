// See Lane.hpp.
#include "load/Lane.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>

#include "load/FrameScanner.hpp"
#include "load/Stamp.hpp"

namespace bench {

namespace net = boost::asio;
using std::chrono::milliseconds;

namespace {

// A rate sender whose socket has this many frames waiting skips its turn instead of piling up
// memory: the skips are counted, and the run shows the clients could not keep the rate.
constexpr std::size_t kMaxQueuedFrames = 1024;
constexpr std::size_t kMaxReasonChars = 100;

std::string frameOf(const ConnSpec& spec, const Stamp& stamp, const Plan& plan) {
    std::string out;
    out.reserve(plan.contentBytes + 128);
    out.append("{\"id\":\"").append(Stamp::cid(stamp)).append("\",\"cmd\":").append(std::to_string(spec.cmd));
    out.append(",\"dstid\":").append(std::to_string(spec.dst)).append(",\"media\":1,\"content\":\"");
    out.append(Stamp::content(plan.tag, stamp, plan.contentBytes)).append("\"}");
    return out;
}

}  // namespace

Lane::Lane(const Plan& plan, std::vector<const ConnSpec*> specs, unsigned connectConcurrency)
    : plan_(plan), work_(io_.get_executor()), timer_(io_), concurrency_(std::max(1u, connectConcurrency)) {
    conns_.reserve(specs.size());
    for (const auto* spec : specs) {
        Conn c{spec, nullptr, {}};
        for (auto sender : spec->expect) c.inbox.emplace_back(sender, StreamTracker{});
        conns_.push_back(std::move(c));
    }
    thread_ = std::thread([this] { io_.run(); });
}

Lane::~Lane() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

template <typename F>
auto Lane::onThread(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(io_, [&task] { task(); });
    return result.get();
}

// ---- connect phase

void Lane::connect(std::function<void()> done) {
    net::post(io_, [this, done = std::move(done)] {
        phaseDone_ = done;
        timer_.expires_after(milliseconds(plan_.connectTimeoutMs));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) connectTimedOut();
        });
        launchMore();
        checkConnected();
    });
}

void Lane::launchMore() {
    while (inFlight_ < concurrency_ && next_ < conns_.size()) {
        auto index = next_++;
        auto& c = conns_[index];
        c.state = State::Connecting;
        c.startNs = monotonicNs();
        tally_.firstStartNs = std::min(tally_.firstStartNs, c.startNs);
        c.client = Client::create(io_, *c.spec, plan_.slowReceiveBuffer, *this, index);
        ++inFlight_;
        c.client->start();
    }
}

void Lane::onOpen(std::size_t index) {
    auto& c = conns_[index];
    c.state = State::Open;
    c.openNs = monotonicNs();
    ++tally_.opened;
    tally_.connectLatency.record((c.openNs - c.startNs) / 1000);
    tally_.lastOpenNs = std::max(tally_.lastOpenNs, c.openNs);
    ++awaitingSync_;
    resolved();
}

void Lane::onFailed(std::size_t index, const std::string& why) {
    auto& c = conns_[index];
    if (c.state != State::Connecting) return;
    c.state = State::Failed;
    ++tally_.failed;
    ++tally_.failures[why.substr(0, kMaxReasonChars)];
    resolved();
}

void Lane::resolved() {
    --inFlight_;
    ++resolved_;
    launchMore();
    checkConnected();
}

void Lane::checkConnected() {
    if (!phaseDone_ || draining_ || pacer_) return;
    if (resolved_ < conns_.size()) return;
    if (awaitingSync_ == 0) return finishConnect();
    // Nodes that send no cmd 13 (older ones, the baseline) are not waited for beyond this.
    if (syncTimerArmed_) return;
    syncTimerArmed_ = true;
    timer_.expires_after(milliseconds(plan_.syncTimeoutMs));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) finishConnect();
    });
}

void Lane::connectTimedOut() {
    for (auto& c : conns_) {
        if (c.state == State::Waiting) {
            c.state = State::Failed;
            ++tally_.failed;
            ++tally_.failures["not started within the connect timeout"];
            ++resolved_;
        } else if (c.state == State::Connecting) {
            c.client->abort();  // its handler reports the failure
        }
    }
    next_ = conns_.size();
    checkConnected();
}

void Lane::finishConnect() {
    if (!phaseDone_) return;
    timer_.cancel();
    auto done = std::move(phaseDone_);
    phaseDone_ = nullptr;
    done();
}

// ---- send phase

void Lane::go(std::function<void()> sendingDone) {
    net::post(io_, [this, sendingDone = std::move(sendingDone)] {
        std::vector<std::size_t> senders;
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            auto& c = conns_[i];
            if (c.spec->cmd != 0) senders.push_back(i);
            if (c.spec->slow && c.state == State::Open) {
                ++tally_.slowClients;
                c.client->pauseReading();
            }
        }
        pacer_ = std::make_unique<Pacer>(io_, plan_, std::move(senders), [this](std::size_t i) { return issue(i); });
        pacer_->start(sendingDone);
    });
}

bool Lane::issue(std::size_t index) {
    auto& c = conns_[index];
    if (c.state != State::Open || c.client->queued() >= kMaxQueuedFrames) {
        ++tally_.skipped;
        return false;
    }
    Stamp stamp{c.spec->user, c.nextSeq++, monotonicNs()};
    c.client->send(frameOf(*c.spec, stamp, plan_));
    ++tally_.issued;
    tally_.firstSendNs = std::min(tally_.firstSendNs, stamp.sentNs);
    tally_.lastSendNs = stamp.sentNs;
    return true;
}

SentBySender Lane::sent() {
    return onThread([this] {
        SentBySender out;
        for (const auto& c : conns_)
            if (c.spec->cmd != 0) out[c.spec->user] += c.nextSeq;
        return out;
    });
}

// ---- receiving

void Lane::onFrame(std::size_t index, std::string_view text) {
    auto now = monotonicNs();
    auto& c = conns_[index];
    auto cmd = FrameScanner::cmd(text);
    if (!cmd) {
        ++tally_.otherFrames;
        return;
    }
    switch (*cmd) {
        case 10:
        case 11:
            return receive(c, text, now);
        case 1:
        case 99:
            return answered(index, text, now);
        case 13:
            if (c.synced) return;
            c.synced = true;
            ++tally_.synced;
            tally_.syncLatency.record((now - c.openNs) / 1000);
            tally_.lastSyncNs = std::max(tally_.lastSyncNs, now);
            if (awaitingSync_) --awaitingSync_;
            return checkConnected();
        case 14:
            ++tally_.gapNotices;
            return;
        default:
            ++tally_.otherFrames;
    }
}

void Lane::receive(Conn& c, std::string_view text, std::uint64_t now) {
    auto content = FrameScanner::string(text, "content");
    if (!content || content->substr(0, plan_.tag.size()) != plan_.tag) {
        ++tally_.foreign;
        return;
    }
    auto stamp = Stamp::fromContent(*content, plan_.tag);
    if (!stamp) {
        ++tally_.invalid;
        return;
    }
    countDelivery(c, stamp->sender, stamp->seq, stamp->sentNs, now);
}

void Lane::countDelivery(Conn& c, std::int64_t sender, std::uint64_t seq, std::uint64_t sentNs, std::uint64_t now) {
    tally_.lastReceiveNs = std::max(tally_.lastReceiveNs, now);
    auto it = std::find_if(c.inbox.begin(), c.inbox.end(), [&](const auto& e) { return e.first == sender; });
    if (it == c.inbox.end()) {
        ++tally_.unexpected;
        return;
    }
    auto& into = c.spec->slow ? tally_.slow : tally_.receivers;
    switch (it->second.record(seq)) {
        case StreamTracker::Outcome::Duplicate:
            ++into.duplicates;
            return;
        case StreamTracker::Outcome::Invalid:
            ++tally_.invalid;
            return;
        case StreamTracker::Outcome::Late:
            ++into.late;
            break;
        case StreamTracker::Outcome::InOrder:
            break;
    }
    ++into.unique;
    into.latency.record(now > sentNs ? (now - sentNs) / 1000 : 0);
    if (!draining_ || c.spec->slow) return;
    auto sent = sent_->find(sender);
    if (sent != sent_->end() && seq < sent->second && missing_ && --missing_ == 0) finishDrain();
}

void Lane::answered(std::size_t index, std::string_view text, std::uint64_t now) {
    if (FrameScanner::cmd(text) == 99) {
        ++tally_.errorCodes[FrameScanner::integer(text, "code").value_or(0)];
    } else {
        ++tally_.acked;
        auto cid = FrameScanner::string(text, "cid");
        if (auto stamp = cid ? Stamp::fromCid(*cid) : std::nullopt; stamp && now > stamp->sentNs)
            tally_.ackLatency.record((now - stamp->sentNs) / 1000);
    }
    if (pacer_) pacer_->answered(index);
}

void Lane::onClosed(std::size_t index, int code, const std::string&) {
    auto& c = conns_[index];
    bool wasAwaitingSync = c.state == State::Open && !c.synced && !pacer_;
    c.state = State::Closed;
    if (c.spec->slow && pacer_) {
        ++tally_.slowClosed;
        ++tally_.slowCloseCodes[code];
        if (finishing_) checkSlowDone();
    } else {
        ++tally_.closedEarly;
        ++tally_.closeCodes[code];
    }
    if (pacer_) pacer_->gone(index);
    if (wasAwaitingSync) {
        if (awaitingSync_) --awaitingSync_;
        checkConnected();
    }
}

// ---- drain: wait for every expected message, then let slow readers read again

void Lane::expect(std::shared_ptr<const SentBySender> sent, std::function<void()> done) {
    net::post(io_, [this, sent = std::move(sent), done = std::move(done)] {
        sent_ = sent;
        phaseDone_ = done;
        draining_ = true;
        for (auto& c : conns_) {
            if (c.state == State::Failed || c.state == State::Waiting) continue;
            auto& into = c.spec->slow ? tally_.slow : tally_.receivers;
            for (auto& [sender, tracker] : c.inbox) {
                auto it = sent_->find(sender);
                auto n = it == sent_->end() ? 0 : it->second;
                into.expected += n;
                // A closed receiver will get nothing more: its shortfall is loss, not something to wait for.
                if (!c.spec->slow && c.state == State::Open) missing_ += n - tracker.uniqueBelow(n);
            }
        }
        if (missing_ == 0) return finishDrain();
        timer_.expires_after(milliseconds(plan_.drainTimeoutMs));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) finishDrain();
        });
    });
}

void Lane::finishDrain() {
    if (finishing_) return;
    finishing_ = true;
    timer_.cancel();
    bool anySlow = false;
    for (auto& c : conns_) {
        if (!c.spec->slow || c.state != State::Open) continue;
        anySlow = true;
        c.client->resumeReading();
    }
    if (!anySlow) return finishRun();
    // Reading again shows how the server ended the slow reader: a close code, a reset, or not at all.
    timer_.expires_after(milliseconds(plan_.slowResumeMs));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) finishRun();
    });
}

void Lane::checkSlowDone() {
    for (const auto& c : conns_)
        if (c.spec->slow && c.state == State::Open) return;
    finishRun();
}

void Lane::finishRun() {
    if (!phaseDone_) return;
    timer_.cancel();
    auto done = std::move(phaseDone_);
    phaseDone_ = nullptr;
    done();
}

Tally Lane::tally() {
    return onThread([this] { return tally_; });
}

}  // namespace bench
