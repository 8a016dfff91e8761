// One thread of a load worker: its own io_context and its share of the connections, so the
// lanes never share state or take locks. It opens its connections (a bounded number of
// handshakes in flight) and waits for each one's cmd 13; sends through its Pacer; checks
// every frame its receivers get against the stamps; and tells the Worker when each phase ends.
// Every phase has its own deadline. Phases are started from the Worker's thread by posting.
#pragma once
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "load/Client.hpp"
#include "load/Pacer.hpp"
#include "load/Plan.hpp"
#include "load/StreamTracker.hpp"
#include "load/Tally.hpp"

namespace bench {

using SentBySender = std::unordered_map<std::int64_t, std::uint64_t>;

class Lane final : public ClientListener {
public:
    Lane(const Plan& plan, std::vector<const ConnSpec*> specs, unsigned connectConcurrency);
    ~Lane();
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;

    // Each phase runs on the lane's thread and calls `done` there when it ends.
    void connect(std::function<void()> done);
    void go(std::function<void()> sendingDone);
    void expect(std::shared_ptr<const SentBySender> sent, std::function<void()> done);
    // Called from the Worker's thread; block until the lane's thread answers.
    SentBySender sent();
    Tally tally();

    void onOpen(std::size_t index) override;
    void onFailed(std::size_t index, const std::string& why) override;
    void onFrame(std::size_t index, std::string_view text) override;
    void onClosed(std::size_t index, int code, const std::string& why) override;

private:
    enum class State { Waiting, Connecting, Open, Failed, Closed };
    struct Conn {
        const ConnSpec* spec;
        std::shared_ptr<Client> client;
        std::vector<std::pair<std::int64_t, StreamTracker>> inbox;  // one per expected sender
        State state = State::Waiting;
        bool synced = false;
        std::uint64_t startNs = 0;
        std::uint64_t openNs = 0;
        std::uint64_t nextSeq = 0;
    };

    template <typename F>
    auto onThread(F f) -> decltype(f());

    void launchMore();
    void resolved();
    void checkConnected();
    void connectTimedOut();
    void finishConnect();
    bool issue(std::size_t index);
    void receive(Conn& c, std::string_view text, std::uint64_t now);
    void answered(std::size_t index, std::string_view text, std::uint64_t now);
    void countDelivery(Conn& c, std::int64_t sender, std::uint64_t seq, std::uint64_t sentNs, std::uint64_t now);
    void finishDrain();
    void checkSlowDone();
    void finishRun();

    const Plan& plan_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::steady_timer timer_;
    std::vector<Conn> conns_;
    std::unique_ptr<Pacer> pacer_;
    Tally tally_;
    unsigned concurrency_;
    std::size_t next_ = 0;  // next connection to start
    std::size_t inFlight_ = 0;
    std::size_t resolved_ = 0;
    std::size_t awaitingSync_ = 0;
    bool syncTimerArmed_ = false;
    std::function<void()> phaseDone_;
    std::shared_ptr<const SentBySender> sent_;
    std::uint64_t missing_ = 0;  // first deliveries still due to receivers that are not slow
    bool draining_ = false;
    bool finishing_ = false;
    std::thread thread_;
};

}  // namespace bench
