// Commits chat messages to the history in batches, on its own thread and connection, so a
// sender's acknowledgement can wait for durability without costing one commit per message:
// while one batch commits, the next gathers, and the previous one's callbacks run. Sessions
// append(); the callback runs on the writer's callback thread (or, when nothing else is in
// flight, on the writer's own), in append order, with the message's stream position or a
// failure, and after a batch's callbacks the batch hook (the Dispatcher broadcasts what they
// left unsent).
// Built by the Node, which hands it to the Dispatcher as its journal.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "config/Endpoint.hpp"
#include "metrics/Metrics.hpp"
#include "store/Connection.hpp"
#include "store/Records.hpp"

namespace chat::store {

class MessageWriter {
public:
    // The message's position once its batch has committed; nullopt if the batch failed.
    using Committed = std::function<void(std::optional<std::uint64_t> pos)>;
    using BatchAnswered = std::function<void()>;

    struct Limits {
        std::size_t batchMax = 512;         // messages per commit: one fsync for many acks
        std::size_t batchBytes = 4u << 20;  // frame bytes per commit
        std::size_t queueMax = 50000;       // messages waiting before append() refuses
    };

    MessageWriter(Limits limits, config::MysqlUrl url, std::chrono::seconds timeout, metrics::Metrics& metrics);
    ~MessageWriter();  // stops
    MessageWriter(const MessageWriter&) = delete;
    MessageWriter& operator=(const MessageWriter&) = delete;

    // Runs after the callbacks of every batch, on the thread that ran them. Set before start().
    void onBatchAnswered(BatchAnswered hook) { batchAnswered_ = std::move(hook); }
    void start();
    // Commits what is queued (or fails it if the database is gone), then joins the thread.
    void stop();
    // False (and `done` is never called) when the queue is full or the writer stopped.
    bool append(NewMessage message, Committed done);

private:
    struct Pending {
        NewMessage message;
        Committed done;
        std::chrono::steady_clock::time_point appended;
    };

    // A committed (or failed) batch whose callbacks are still to run.
    struct Outcome {
        std::vector<Committed> callbacks;
        std::optional<std::uint64_t> first;
    };

    void loop();
    void answerLoop();
    std::vector<Pending> takeBatch(std::unique_lock<std::mutex>& lock);
    void commit(std::vector<Pending>& batch);
    bool nothingInFlight();  // no batch waits to be committed or answered
    void answer(Outcome& outcome);

    const Limits limits_;
    metrics::Metrics& metrics_;
    BatchAnswered batchAnswered_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> queue_;  // bounded by limits_.queueMax
    bool started_ = false;
    bool stopping_ = false;
    Connection connection_;  // the writer thread's alone; every batch is one implicit transaction
    std::thread thread_;
    // Callbacks run here, in commit order, so broadcasting one batch overlaps the next commit.
    std::mutex answerMutex_;
    std::condition_variable answerWake_;
    std::deque<Outcome> answers_;
    bool answering_ = false;  // the answer thread runs a batch's callbacks
    bool committerDone_ = false;
    std::thread answerThread_;
};

}  // namespace chat::store
