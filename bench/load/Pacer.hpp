// When a lane's senders send. Rate: open loop — the lane's share of the total rate is spread
// round-robin over its senders on a 1 ms tick, whatever the server answers, so a slow server
// shows up as latency instead of quietly lowering the load. Burst: each sender keeps `window`
// messages unacknowledged until it has sent its count, so the clients go as fast as the
// server lets them without queueing without bound.
#pragma once
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <vector>

#include "load/Plan.hpp"

namespace bench {

class Pacer {
public:
    // Issues one message from the sender at `conn`; false when that connection cannot send now.
    using Send = std::function<bool(std::size_t conn)>;

    Pacer(boost::asio::io_context& io, const Plan& plan, std::vector<std::size_t> senders, Send send);

    // Starts pacing; `done` runs once, on the lane's thread, when every sender is finished.
    void start(std::function<void()> done);
    // A sender's message was acknowledged or refused: in burst mode its window has room again.
    void answered(std::size_t conn);
    // A sender's connection closed: it will send nothing more.
    void gone(std::size_t conn);

private:
    struct Sender {
        std::size_t conn;
        std::uint64_t issued = 0;
        std::uint64_t outstanding = 0;
        bool gone = false;
    };

    void tick();
    void topUp(Sender& s);
    Sender* find(std::size_t conn);
    void checkBurstDone();
    void finish();

    boost::asio::steady_timer timer_;
    const Plan& plan_;
    std::vector<Sender> senders_;
    std::vector<std::size_t> slotOf_;  // conn index -> position in senders_ (npos: not a sender)
    Send send_;
    std::function<void()> done_;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point nextTick_;
    std::uint64_t dueSoFar_ = 0;
    std::size_t cursor_ = 0;
    bool running_ = false;
};

}  // namespace bench
