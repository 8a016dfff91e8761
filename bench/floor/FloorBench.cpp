// See FloorBench.hpp.
#include "floor/FloorBench.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "floor/SocketPairs.hpp"
#include "floor/UringSends.hpp"

namespace bench {

namespace {

double threadCpuUs() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return static_cast<double>((u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec +
                               u.ru_stime.tv_usec);
}

// An unmasked server-to-client text frame (FIN + opcode 1, 7-bit length) with JSON-ish bytes,
// the shape of a small chat message.
std::string textFrame(std::size_t bytes) {
    if (bytes < 3 || bytes > 127) throw std::runtime_error("frame size must be 3..127 bytes");
    std::string payload = "{\"id\":1,\"userid\":2,\"cmd\":11,\"dstid\":3,\"media\":1,\"content\":\"";
    payload.resize(bytes - 2 - 2, 'x');
    payload += "\"}";
    std::string frame;
    frame.push_back(static_cast<char>(0x81));
    frame.push_back(static_cast<char>(payload.size()));
    return frame + payload;
}

// Reads every byte the writer sends, from whichever socket has some, until `total` arrived.
void drain(const std::vector<int>& readers, std::uint64_t total, double& cpuUs) {
    auto start = threadCpuUs();
    int ep = epoll_create1(0);
    if (ep < 0) throw std::runtime_error("epoll_create1 failed");
    for (int fd : readers) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    std::vector<epoll_event> events(256);
    std::vector<char> buffer(64 * 1024);
    std::uint64_t got = 0;
    int idleSeconds = 0;  // a writer that died must not leave this thread waiting for ever
    while (got < total && idleSeconds < 10) {
        int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
        idleSeconds = n > 0 ? 0 : idleSeconds + 1;
        for (int i = 0; i < n; ++i) {
            for (;;) {
                auto r = ::read(events[i].data.fd, buffer.data(), buffer.size());
                if (r <= 0) break;
                got += static_cast<std::uint64_t>(r);
            }
        }
    }
    ::close(ep);
    cpuUs = threadCpuUs() - start;
}

void writeAll(int fd, const char* data, std::size_t size) {
    while (size) {
        auto w = ::write(fd, data, size);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("write: ") + std::strerror(errno));
        }
        data += w;
        size -= static_cast<std::size_t>(w);
    }
}

}  // namespace

FloorBench::FloorBench(std::size_t sockets, std::size_t frameBytes) : sockets_(sockets), frameBytes_(frameBytes) {}

// Runs write() on this thread while another drains the readers; both threads' CPU is counted.
template <class Write>
FloorResult FloorBench::measure(SocketPairs& pairs, FloorResult r, Write write) {
    r.sockets = sockets_;
    r.frameBytes = frameBytes_;
    std::thread reader([&] { drain(pairs.readers(), r.frames * frameBytes_, r.readerUs); });
    auto wallStart = std::chrono::steady_clock::now();
    auto cpuStart = threadCpuUs();
    write(pairs.writers());
    r.writerUs = threadCpuUs() - cpuStart;
    reader.join();
    r.wallUs = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wallStart).count();
    return r;
}

FloorResult FloorBench::run(std::uint64_t frames, std::size_t batch) {
    SocketPairs pairs(sockets_);
    std::string chunk;
    for (std::size_t i = 0; i < batch; ++i) chunk += textFrame(frameBytes_);
    FloorResult r;
    r.batch = batch;
    r.writes = frames / batch;
    r.frames = r.writes * batch;
    return measure(pairs, r, [&](const std::vector<int>& writers) {
        for (std::uint64_t i = 0; i < r.writes; ++i) writeAll(writers[i % writers.size()], chunk.data(), chunk.size());
    });
}

FloorResult FloorBench::runSpread(std::uint64_t frames, std::size_t perSubmit) {
    if (perSubmit == 0) throw std::runtime_error("--spread must be at least 1");
    SocketPairs pairs(sockets_);
    UringSends sends(static_cast<unsigned>(perSubmit));
    const auto frame = textFrame(frameBytes_);
    FloorResult r;
    r.batch = 1;
    r.perSubmit = perSubmit;
    r.writes = frames / perSubmit;  // submissions
    r.frames = r.writes * perSubmit;
    return measure(pairs, r, [&](const std::vector<int>& writers) {
        std::uint64_t next = 0;
        for (std::uint64_t i = 0; i < r.writes; ++i) {
            for (std::size_t k = 0; k < perSubmit; ++k, ++next)
                sends.add(writers[next % writers.size()], frame.data(), static_cast<unsigned>(frame.size()));
            sends.submitAndWait();
        }
    });
}

}  // namespace bench
