// The machine's own price of delivering a small WebSocket frame: one thread writes ready-made
// ~100-byte text frames round-robin to N loopback sockets — one frame per write(), or `batch`
// frames coalesced into one write() to the same socket — while another thread drains the other
// ends through epoll. Each thread's CPU time comes from getrusage(RUSAGE_THREAD). On loopback
// the kernel does most of the receiving side's TCP work inside the writer's send call, so the
// writer's figure is the bound a server's fan-out can approach; the reader's is noted beside it.
// runSpread prices a third way: one frame per socket, the sends to many sockets submitted in
// one system call (io_uring).
#pragma once
#include <cstddef>
#include <cstdint>

namespace bench {

class SocketPairs;

struct FloorResult {
    std::size_t sockets = 0;
    std::size_t frameBytes = 0;
    std::size_t batch = 0;      // frames per write()
    std::size_t perSubmit = 0;  // runSpread: sends per io_uring submission
    std::uint64_t frames = 0;
    std::uint64_t writes = 0;  // write() calls, or io_uring submissions
    double writerUs = 0;       // CPU µs of the writing thread
    double readerUs = 0;       // CPU µs of the reading thread
    double wallUs = 0;
};

class FloorBench {
public:
    FloorBench(std::size_t sockets, std::size_t frameBytes);
    FloorResult run(std::uint64_t frames, std::size_t batch);
    // One frame to each socket in turn, the sends to `perSubmit` sockets submitted together
    // through io_uring: what batching system calls across connections saves when no frames
    // can coalesce. Throws where io_uring is refused.
    FloorResult runSpread(std::uint64_t frames, std::size_t perSubmit);

private:
    template <class Write>
    FloorResult measure(SocketPairs& pairs, FloorResult r, Write write);

    std::size_t sockets_;
    std::size_t frameBytes_;
};

}  // namespace bench
