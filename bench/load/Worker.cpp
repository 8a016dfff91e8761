// See Worker.hpp.
#include "load/Worker.hpp"

#include <sys/resource.h>

#include <condition_variable>
#include <istream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>

namespace bench {

namespace {

// Lets the Worker's thread wait until every lane has called arrive().
class Countdown {
public:
    explicit Countdown(std::size_t n) : left_(n) {}
    void arrive() {
        std::lock_guard lock(mutex_);
        if (left_ && --left_ == 0) cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return left_ == 0; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::size_t left_;
};

// This process's CPU time so far (user + system), µs: what the clients themselves cost.
long long cpuUs() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

void emit(std::ostream& out, const nlohmann::json& event) {
    out << event.dump() << '\n' << std::flush;
}

}  // namespace

Worker::Worker(Plan plan, unsigned threads) : plan_(std::move(plan)) {
    threads = std::max(1u, threads);
    std::vector<std::vector<const ConnSpec*>> shares(threads);
    for (std::size_t i = 0; i < plan_.connections.size(); ++i) shares[i % threads].push_back(&plan_.connections[i]);
    auto perLane = std::max(1u, plan_.connectConcurrency / threads);
    for (auto& share : shares) lanes_.push_back(std::make_unique<Lane>(plan_, std::move(share), perLane));
}

template <typename Start>
void Worker::onEveryLane(Start start) {
    Countdown countdown(lanes_.size());
    for (auto& lane : lanes_) start(*lane, [&countdown] { countdown.arrive(); });
    countdown.wait();
}

int Worker::run(std::istream& in, std::ostream& out) {
    emit(out, {{"ev", "loaded"}, {"connections", plan_.connections.size()}, {"lanes", lanes_.size()}});
    std::string line;
    while (std::getline(in, line)) {
        if (line == "connect") {
            connect(out);
        } else if (line == "go") {
            go(out);
        } else if (line.rfind("expect ", 0) == 0) {
            expect(line.substr(7), out);
        } else if (line == "quit") {
            return 0;
        } else if (!line.empty()) {
            emit(out, {{"ev", "error"}, {"msg", "unknown command: " + line}});
        }
    }
    return 0;
}

void Worker::connect(std::ostream& out) {
    cpuAtStartUs_ = cpuUs();
    onEveryLane([](Lane& lane, auto done) { lane.connect(done); });
    cpuAtReadyUs_ = cpuUs();
    Tally all;
    for (auto& lane : lanes_) all.merge(lane->tally());
    auto event = all.connectJson();
    event["ev"] = "ready";
    event["cpuUs"] = cpuAtReadyUs_ - cpuAtStartUs_;
    emit(out, event);
}

void Worker::go(std::ostream& out) {
    cpuAtGoUs_ = cpuUs();
    onEveryLane([](Lane& lane, auto done) { lane.go(done); });
    nlohmann::json sent = nlohmann::json::object();
    for (auto& lane : lanes_)
        for (const auto& [user, n] : lane->sent()) sent[std::to_string(user)] = n;
    emit(out, {{"ev", "sent"}, {"sent", sent}});
}

void Worker::expect(const std::string& sentJson, std::ostream& out) {
    auto sent = std::make_shared<SentBySender>();
    auto parsed = nlohmann::json::parse(sentJson);  // items() refers into it: keep it alive
    for (const auto& [user, n] : parsed.items()) (*sent)[std::stoll(user)] = n.get<std::uint64_t>();
    onEveryLane([&sent](Lane& lane, auto done) { lane.expect(sent, done); });
    Tally all;
    for (auto& lane : lanes_) all.merge(lane->tally());
    auto event = all.toJson();
    event["ev"] = "done";
    event["cpuUs"] = {{"connect", cpuAtReadyUs_ - cpuAtStartUs_}, {"run", cpuUs() - cpuAtGoUs_}};
    emit(out, event);
}

}  // namespace bench
