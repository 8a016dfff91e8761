// Sends to many sockets in one system call, through an io_uring driven by its raw system calls
// (liburing is not among the project's dependencies). The floor uses it to price what batching
// system calls across connections could save when every connection gets one frame: the case
// of a room whose members each receive a message too seldom for their frames to coalesce.
#pragma once
#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>

namespace bench {

class UringSends {
public:
    // Throws if this kernel (or its sandbox) refuses io_uring.
    explicit UringSends(unsigned entries);
    ~UringSends();
    UringSends(const UringSends&) = delete;
    UringSends& operator=(const UringSends&) = delete;

    // Queues a send of `size` bytes to `fd`; at most `entries` before the next submitAndWait().
    void add(int fd, const char* data, unsigned size);
    // Submits every queued send in one call and waits for all of them; throws unless each sent
    // all of its bytes.
    void submitAndWait();

private:
    void map();
    void release();
    unsigned reap();

    int fd_ = -1;
    unsigned entries_ = 0;
    unsigned queued_ = 0;
    void* ring_ = nullptr;
    std::size_t ringBytes_ = 0;
    io_uring_sqe* sqes_ = nullptr;
    std::size_t sqesBytes_ = 0;
    io_uring_params params_{};
    unsigned* sqTail_ = nullptr;
    unsigned* sqMask_ = nullptr;
    unsigned* sqArray_ = nullptr;
    unsigned* cqHead_ = nullptr;
    unsigned* cqTail_ = nullptr;
    unsigned* cqMask_ = nullptr;
    io_uring_cqe* cqes_ = nullptr;
};

}  // namespace bench
