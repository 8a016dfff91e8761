// How long this machine's disk takes to make a small write durable, measured beside the
// benchmark: one 4 KiB O_DSYNC write to a file of its own at a fixed interval, as a log flush
// that commits one small batch is. A chat message is delivered once its batch has committed,
// so a stall here shows in every delivery's latency at the same moment. window() hands over
// what the writes since the previous window took, and which of them stalled, with the wall
// time they began at, to line up with the nodes' and the load generator's records.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

struct DiskWindow {
    struct Stall {
        std::int64_t startedAtMs = 0;  // wall clock, ms since the epoch
        double ms = 0;
    };
    std::uint64_t writes = 0;
    std::uint64_t stalled = 0;          // writes longer than the stall threshold
    std::vector<std::uint32_t> micros;  // each write's duration (the first kMaxSamples)
    std::vector<Stall> stalls;          // writes longer than the stall threshold (the first kMaxStalls)
    double maxMs = 0;
};

class DiskProbe {
public:
    static constexpr std::size_t kMaxSamples = 1u << 20;
    static constexpr std::size_t kMaxStalls = 200;

    // Creates `file` (truncating it) and starts writing to it on a thread of its own.
    DiskProbe(std::filesystem::path file, std::chrono::microseconds interval, std::chrono::microseconds stallAt);
    ~DiskProbe();  // stops the thread and removes the file
    DiskProbe(const DiskProbe&) = delete;
    DiskProbe& operator=(const DiskProbe&) = delete;

    DiskWindow window();
    // The write call's errno once it failed (the thread has stopped then), else 0.
    int error() const { return error_.load(); }

private:
    void run();
    void note(std::chrono::steady_clock::duration took, std::chrono::system_clock::time_point began);

    const std::filesystem::path file_;
    const std::chrono::microseconds interval_;
    const std::chrono::microseconds stallAt_;
    int fd_ = -1;
    std::atomic<bool> running_{true};
    std::atomic<int> error_{0};
    std::mutex mutex_;
    DiskWindow current_;
    std::thread thread_;
};

}  // namespace bench
