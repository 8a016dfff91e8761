// The store's thread pool: dbPoolSize threads, each owning one Connection, fed by one bounded
// queue. Network threads never block on SQL: they submit a job with run() and get its Outcome
// in a callback on the pool thread, which they post back to their own executor. Built by the
// node, used by auth and api, asked by /healthz whether MariaDB answers.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/Config.hpp"
#include "metrics/Metrics.hpp"
#include "store/Connection.hpp"

namespace chat::store {

struct DbFailure {
    std::string what;  // for logs only; never shown to clients
};

// The value on success, the failure otherwise.
template <class T>
struct Outcome {
    std::optional<T> value;
    DbFailure failure;
    bool ok() const { return value.has_value(); }
};

namespace detail {

// A submitted job with its result type erased. work() may throw; finish() runs exactly once,
// after work() or instead of it.
class Job {
public:
    virtual ~Job() = default;
    virtual void work(Connection& connection) = 0;
    virtual void finish(const DbFailure* failure) = 0;  // null: work() succeeded

    const std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
};

template <class T>
class TypedJob final : public Job {
public:
    TypedJob(std::function<T(Connection&)> work, std::function<void(Outcome<T>)> done)
        : work_(std::move(work)), done_(std::move(done)) {}

    void work(Connection& connection) override { value_.emplace(work_(connection)); }
    void finish(const DbFailure* failure) override {
        done_(failure ? Outcome<T>{std::nullopt, *failure} : Outcome<T>{std::move(value_), {}});
    }

private:
    std::function<T(Connection&)> work_;
    std::function<void(Outcome<T>)> done_;
    std::optional<T> value_;
};

}  // namespace detail

class Database {
public:
    Database(const config::Config& cfg, metrics::Metrics& metrics);
    ~Database();  // stops
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Starts the threads. Does not fail while MariaDB is down: connections are made per job.
    void start();
    // Lets running jobs finish, fails queued ones with "stopped", joins the threads.
    // Must not be called from a done callback (it would join its own thread).
    void stop();
    // True if the latest news from MariaDB (a job or a ping, on any connection) is good and
    // recent. Idle threads ping every 2 s, so this stays live without traffic.
    bool healthy() const;

    // Runs work on a pool thread; done is called exactly once on that thread, or at once on the
    // caller's thread with failure "busy" (queue full) or "stopped" (after stop()). A throwing
    // work (DbError or any std::exception) becomes a failure, logged at warn level.
    template <class T>
    void run(std::function<T(Connection&)> work, std::function<void(Outcome<T>)> done) {
        submit(std::make_unique<detail::TypedJob<T>>(std::move(work), std::move(done)));
    }

private:
    using Clock = std::chrono::steady_clock;

    void submit(std::unique_ptr<detail::Job> job);
    void worker();
    bool execute(Connection& connection, detail::Job& job);
    void prepare(Connection& connection, Clock::time_point lastUsed);
    void ping(Connection& connection, bool& wasUp);
    void deliver(detail::Job& job, const DbFailure* failure);
    void noteUp();
    void noteDown();

    const config::MysqlUrl url_;
    const std::chrono::seconds timeout_;
    const unsigned poolSize_;
    const std::size_t queueMax_;
    metrics::Metrics& metrics_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<detail::Job>> queue_;  // bounded by queueMax_
    bool started_ = false;
    bool stopped_ = false;
    std::vector<std::thread> threads_;

    // Steady-clock nanoseconds of the latest good and bad news; 0: none yet.
    std::atomic<std::int64_t> lastUpNs_{0};
    std::atomic<std::int64_t> lastDownNs_{0};
};

}  // namespace chat::store
