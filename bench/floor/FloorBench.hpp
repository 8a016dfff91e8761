// The machine's own price of delivering a small WebSocket frame: one thread writes ready-made
// ~100-byte text frames round-robin to N loopback sockets — one frame per write(), or `batch`
// frames coalesced into one write() to the same socket — while another thread drains the other
// ends through epoll. Each thread's CPU time comes from getrusage(RUSAGE_THREAD). On loopback
// the kernel does most of the receiving side's TCP work inside the writer's send call, so the
// writer's figure is the bound a server's fan-out can approach; the reader's is noted beside it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bench {

struct FloorResult {
    std::size_t sockets = 0;
    std::size_t frameBytes = 0;
    std::size_t batch = 0;  // frames per write()
    std::uint64_t frames = 0;
    std::uint64_t writes = 0;
    double writerUs = 0;  // CPU µs of the writing thread
    double readerUs = 0;  // CPU µs of the reading thread
    double wallUs = 0;
};

class FloorBench {
public:
    FloorBench(std::size_t sockets, std::size_t frameBytes);
    FloorResult run(std::uint64_t frames, std::size_t batch);

private:
    std::size_t sockets_;
    std::size_t frameBytes_;
};

}  // namespace bench
