#include "store/Database.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace chat::store {

namespace {

using namespace std::chrono_literals;

// Idle connections check in this often: /healthz stays live and dead links are found before a job.
constexpr auto kPingInterval = 2s;
// A connection idle this long is pinged before a job, so a server restart since the last ping
// costs a reconnect rather than the job.
constexpr auto kStaleAfter = 1s;
// Good news older than this no longer counts: a bit more than one ping interval plus a slow ping.
constexpr auto kHealthyWindow = 5s;

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Database::Database(const config::Config& cfg, metrics::Metrics& metrics)
    : url_(cfg.mysql),
      timeout_(cfg.dbTimeout),
      poolSize_(std::max(1u, cfg.dbPoolSize)),
      queueMax_(cfg.dbQueueMax),
      metrics_(metrics) {}

Database::~Database() {
    stop();
}

void Database::start() {
    std::lock_guard lock(mutex_);
    if (started_ || stopped_) return;
    started_ = true;
    for (unsigned i = 0; i < poolSize_; ++i)
        threads_.emplace_back([this] {
            ::pthread_setname_np(::pthread_self(), "chat-db");
            worker();
        });
}

void Database::stop() {
    std::deque<std::unique_ptr<detail::Job>> abandoned;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        abandoned.swap(queue_);
    }
    wake_.notify_all();
    const DbFailure stopped{"stopped"};
    for (auto& job : abandoned) deliver(*job, &stopped);
    for (auto& thread : threads_) thread.join();
    threads_.clear();
}

bool Database::healthy() const {
    std::int64_t up = lastUpNs_.load();
    return up != 0 && up >= lastDownNs_.load() && nowNs() - up < std::chrono::nanoseconds(kHealthyWindow).count();
}

void Database::submit(std::unique_ptr<detail::Job> job) {
    const char* refusal = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (stopped_)
            refusal = "stopped";
        else if (queue_.size() >= queueMax_)
            refusal = "busy";
        else
            queue_.push_back(std::move(job));
    }
    if (refusal == nullptr) {
        wake_.notify_one();
        return;
    }
    metrics_.count(metrics::ErrorKind::Db);
    const DbFailure failure{refusal};
    deliver(*job, &failure);
}

void Database::worker() {
    Connection connection(url_, timeout_);
    Clock::time_point lastUsed{};  // long ago: the first ping goes out at once
    bool wasUp = true;             // so a database that is down at start-up is logged once
    std::unique_lock lock(mutex_);
    while (!stopped_) {
        if (queue_.empty()) {
            if (Clock::now() < lastUsed + kPingInterval) {
                wake_.wait_until(lock, lastUsed + kPingInterval);
                continue;
            }
            lock.unlock();
            ping(connection, wasUp);
            lastUsed = Clock::now();
            lock.lock();
            continue;
        }
        std::unique_ptr<detail::Job> job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        prepare(connection, lastUsed);
        // After a failure the next job starts on a fresh link.
        if (!execute(connection, *job)) connection.disconnect();
        job.reset();  // releases the callbacks' captures outside the lock
        lastUsed = Clock::now();
        lock.lock();
    }
}

void Database::prepare(Connection& connection, Clock::time_point lastUsed) {
    if (!connection.connected() || Clock::now() - lastUsed < kStaleAfter) return;
    if (connection.ping())
        noteUp();
    else
        connection.disconnect();  // the job's first statement reconnects
}

void Database::ping(Connection& connection, bool& wasUp) {
    bool up = connection.ping();
    up ? noteUp() : noteDown();
    if (up != wasUp) {
        if (up)
            spdlog::info("database {}:{} reachable", url_.host, url_.port);
        else
            spdlog::warn("database {}:{} unreachable", url_.host, url_.port);
    }
    wasUp = up;
}

bool Database::execute(Connection& connection, detail::Job& job) {
    std::optional<DbFailure> failure;
    try {
        job.work(connection);
    } catch (const DbError& e) {
        failure = DbFailure{e.what()};
        if (e.connectionLost()) noteDown();
    } catch (const std::exception& e) {
        failure = DbFailure{e.what()};
    } catch (...) {
        failure = DbFailure{"unknown exception"};
    }
    if (connection.inTransaction()) {
        // Transaction guards roll back on the way out; this catches a bare begin() without commit().
        if (!failure) failure = DbFailure{"job left a transaction open"};
        try {
            connection.rollback();
        } catch (const DbError&) {
            // The link is dropped below; the server rolls back when it closes.
        }
    }
    if (!failure && connection.connected()) noteUp();
    metrics_.dbLatency.observe(Clock::now() - job.submitted);
    if (failure) {
        metrics_.count(metrics::ErrorKind::Db);
        spdlog::warn("database job failed: {}", failure->what);
    }
    deliver(job, failure ? &*failure : nullptr);
    return !failure;
}

void Database::deliver(detail::Job& job, const DbFailure* failure) {
    // A throwing callback must not take a pool thread (or the submitter) down with it.
    try {
        job.finish(failure);
    } catch (const std::exception& e) {
        spdlog::error("database callback threw: {}", e.what());
    } catch (...) {
        spdlog::error("database callback threw");
    }
}

void Database::noteUp() {
    lastUpNs_.store(nowNs());
}

void Database::noteDown() {
    lastDownNs_.store(nowNs());
}

}  // namespace chat::store
