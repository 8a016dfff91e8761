#include "store/MessageWriter.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "store/MessageRepository.hpp"

namespace chat::store {

MessageWriter::MessageWriter(Limits limits, config::MysqlUrl url, std::chrono::seconds timeout,
                             metrics::Metrics& metrics)
    : limits_(limits), metrics_(metrics), connection_(std::move(url), timeout, Connection::Mode::Implicit) {}

MessageWriter::~MessageWriter() {
    stop();
}

void MessageWriter::start() {
    std::lock_guard lock(mutex_);
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "chat-commit");
        loop();
    });
    answerThread_ = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "chat-answer");
        answerLoop();
    });
}

void MessageWriter::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lock(answerMutex_);
        committerDone_ = true;
    }
    answerWake_.notify_all();
    if (answerThread_.joinable()) answerThread_.join();
}

bool MessageWriter::append(NewMessage message, Committed done) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || !started_ || queue_.size() >= limits_.queueMax) return false;
        queue_.push_back({std::move(message), std::move(done), std::chrono::steady_clock::now()});
    }
    wake_.notify_one();
    return true;
}

std::vector<MessageWriter::Pending> MessageWriter::takeBatch(std::unique_lock<std::mutex>& lock) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    std::vector<Pending> batch;
    std::size_t bytes = 0;
    while (!queue_.empty() && batch.size() < limits_.batchMax && bytes < limits_.batchBytes) {
        bytes += queue_.front().message.frame.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return batch;
}

void MessageWriter::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        auto batch = takeBatch(lock);
        if (batch.empty()) return;  // stopping, nothing left
        lock.unlock();
        commit(batch);
        lock.lock();
    }
}

void MessageWriter::commit(std::vector<Pending>& batch) {
    std::vector<NewMessage> messages;
    messages.reserve(batch.size());
    for (auto& p : batch) messages.push_back(std::move(p.message));
    std::optional<std::uint64_t> first;
    try {
        first = MessageRepository(connection_).appendCommitted(messages);
    } catch (const std::exception& e) {
        spdlog::warn("history: a batch of {} messages was not stored: {}", batch.size(), e.what());
    }
    auto now = std::chrono::steady_clock::now();
    (first ? metrics_.historyStored : metrics_.historyFailed).fetch_add(batch.size(), std::memory_order_relaxed);
    metrics_.historyBatches.fetch_add(1, std::memory_order_relaxed);
    for (const auto& p : batch) metrics_.historyCommitLatency.observe(now - p.appended);
    Outcome outcome{{}, first};
    outcome.callbacks.reserve(batch.size());
    for (auto& p : batch) outcome.callbacks.push_back(std::move(p.done));
    // With no batch to commit next there is nothing to overlap: answering here spares a
    // thread hand-over per batch. Only when every earlier batch has been answered, so the
    // callbacks still run in commit order.
    if (nothingInFlight()) return answer(outcome);
    {
        std::lock_guard lock(answerMutex_);
        answers_.push_back(std::move(outcome));
    }
    answerWake_.notify_one();
}

bool MessageWriter::nothingInFlight() {
    std::scoped_lock lock(mutex_, answerMutex_);
    return queue_.empty() && answers_.empty() && !answering_;
}

void MessageWriter::answer(Outcome& outcome) {
    for (std::size_t i = 0; i < outcome.callbacks.size(); ++i)
        outcome.callbacks[i](outcome.first ? std::optional<std::uint64_t>(*outcome.first + i) : std::nullopt);
    if (batchAnswered_) batchAnswered_();
}

void MessageWriter::answerLoop() {
    std::unique_lock lock(answerMutex_);
    for (;;) {
        answerWake_.wait(lock, [this] { return committerDone_ || !answers_.empty(); });
        if (answers_.empty()) return;  // the committer has stopped and everything is answered
        auto outcome = std::move(answers_.front());
        answers_.pop_front();
        answering_ = true;
        lock.unlock();
        answer(outcome);
        lock.lock();
        answering_ = false;
    }
}

}  // namespace chat::store
