// See UringSends.hpp.
#include "floor/UringSends.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench {

namespace {

std::runtime_error failure(const char* what) {
    return std::runtime_error(std::string("io_uring ") + what + ": " + std::strerror(errno));
}

template <class T>
T* at(void* base, unsigned offset) {
    return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace

UringSends::UringSends(unsigned entries) {
    fd_ = static_cast<int>(::syscall(__NR_io_uring_setup, entries, &params_));
    if (fd_ < 0) throw failure("setup");
    entries_ = params_.sq_entries;
    try {
        map();
    } catch (...) {
        release();
        throw;
    }
}

UringSends::~UringSends() {
    release();
}

void UringSends::release() {
    if (sqes_) ::munmap(sqes_, sqesBytes_);
    if (ring_) ::munmap(ring_, ringBytes_);
    if (fd_ >= 0) ::close(fd_);
    sqes_ = nullptr;
    ring_ = nullptr;
    fd_ = -1;
}

// Both rings share one mapping (IORING_FEAT_SINGLE_MMAP, every kernel since 5.4).
void UringSends::map() {
    if (!(params_.features & IORING_FEAT_SINGLE_MMAP)) throw std::runtime_error("io_uring: kernel too old");
    const auto& sq = params_.sq_off;
    const auto& cq = params_.cq_off;
    ringBytes_ =
        std::max(sq.array + params_.sq_entries * sizeof(unsigned), cq.cqes + params_.cq_entries * sizeof(io_uring_cqe));
    ring_ = ::mmap(nullptr, ringBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (ring_ == MAP_FAILED) {
        ring_ = nullptr;
        throw failure("mmap");
    }
    sqesBytes_ = params_.sq_entries * sizeof(io_uring_sqe);
    void* sqes = ::mmap(nullptr, sqesBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) throw failure("mmap");
    sqes_ = static_cast<io_uring_sqe*>(sqes);
    sqTail_ = at<unsigned>(ring_, sq.tail);
    sqMask_ = at<unsigned>(ring_, sq.ring_mask);
    sqArray_ = at<unsigned>(ring_, sq.array);
    cqHead_ = at<unsigned>(ring_, cq.head);
    cqTail_ = at<unsigned>(ring_, cq.tail);
    cqMask_ = at<unsigned>(ring_, cq.ring_mask);
    cqes_ = at<io_uring_cqe>(ring_, cq.cqes);
}

void UringSends::add(int fd, const char* data, unsigned size) {
    if (queued_ == entries_) throw std::runtime_error("io_uring: more sends than the ring holds");
    unsigned tail = *sqTail_ + queued_;
    unsigned index = tail & *sqMask_;
    io_uring_sqe& e = sqes_[index];
    std::memset(&e, 0, sizeof e);
    e.opcode = IORING_OP_SEND;
    e.fd = fd;
    e.addr = reinterpret_cast<std::uintptr_t>(data);
    e.len = size;
    e.user_data = size;  // what the completion must report
    sqArray_[index] = index;
    ++queued_;
}

void UringSends::submitAndWait() {
    const unsigned n = queued_;
    if (n == 0) return;
    __atomic_store_n(sqTail_, *sqTail_ + n, __ATOMIC_RELEASE);
    queued_ = 0;
    unsigned toSubmit = n, done = 0;
    while (done < n) {
        auto r = ::syscall(__NR_io_uring_enter, fd_, toSubmit, n - done, IORING_ENTER_GETEVENTS, nullptr, 0);
        if (r < 0 && errno != EINTR) throw failure("enter");
        if (r > 0) toSubmit -= static_cast<unsigned>(r);
        done += reap();
    }
}

// Takes the completions that have arrived; each must have sent its whole frame.
unsigned UringSends::reap() {
    unsigned head = *cqHead_;
    unsigned tail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
    unsigned seen = 0;
    for (; head != tail; ++head, ++seen) {
        const auto& c = cqes_[head & *cqMask_];
        if (c.res < 0 || static_cast<std::uint64_t>(c.res) != c.user_data)
            throw std::runtime_error("io_uring send: " + (c.res < 0 ? std::string(std::strerror(-c.res)) : "partial"));
    }
    __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
    return seen;
}

}  // namespace bench
