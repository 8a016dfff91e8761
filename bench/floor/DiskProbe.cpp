// See DiskProbe.hpp.
#include "floor/DiskProbe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace bench {

namespace {

constexpr std::size_t kWriteBytes = 4096;
// The writes cycle through this many blocks, so the file stays small and allocated.
constexpr std::size_t kBlocks = 256;

}  // namespace

DiskProbe::DiskProbe(std::filesystem::path file, std::chrono::microseconds interval, std::chrono::microseconds stallAt)
    : file_(std::move(file)), interval_(interval), stallAt_(stallAt) {
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("open " + file_.string() + ": " + std::strerror(errno));
    thread_ = std::thread([this] { run(); });
}

DiskProbe::~DiskProbe() {
    running_ = false;  // seen after the write under way and one interval
    thread_.join();
    ::close(fd_);
    std::error_code ignored;
    std::filesystem::remove(file_, ignored);
}

DiskWindow DiskProbe::window() {
    std::lock_guard lock(mutex_);
    return std::exchange(current_, {});
}

void DiskProbe::run() {
    std::array<char, kWriteBytes> block;
    block.fill('x');
    for (std::uint64_t n = 0; running_; ++n) {
        const auto wall = std::chrono::system_clock::now();
        const auto start = std::chrono::steady_clock::now();
        const auto offset = static_cast<off_t>((n % kBlocks) * kWriteBytes);
        if (::pwrite(fd_, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size())) {
            error_ = errno ? errno : EIO;
            return;
        }
        note(std::chrono::steady_clock::now() - start, wall);
        std::this_thread::sleep_for(interval_);
    }
}

void DiskProbe::note(std::chrono::steady_clock::duration took, std::chrono::system_clock::time_point began) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took);
    const double ms = static_cast<double>(us.count()) / 1000.0;
    std::lock_guard lock(mutex_);
    ++current_.writes;
    if (current_.micros.size() < kMaxSamples) current_.micros.push_back(static_cast<std::uint32_t>(us.count()));
    if (ms > current_.maxMs) current_.maxMs = ms;
    if (us < stallAt_) return;
    ++current_.stalled;
    if (current_.stalls.size() < kMaxStalls) {
        const auto atMs = std::chrono::duration_cast<std::chrono::milliseconds>(began.time_since_epoch()).count();
        current_.stalls.push_back({atMs, ms});
    }
}

}  // namespace bench
