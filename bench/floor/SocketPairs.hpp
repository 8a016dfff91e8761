// N connected loopback TCP sockets: the writer's ends (blocking, TCP_NODELAY, as a server
// that sends each frame at once would set them) and the reader's ends (non-blocking, for
// epoll). Closed by the destructor.
#pragma once
#include <cstddef>
#include <vector>

namespace bench {

class SocketPairs {
public:
    explicit SocketPairs(std::size_t n);
    ~SocketPairs();
    SocketPairs(const SocketPairs&) = delete;
    SocketPairs& operator=(const SocketPairs&) = delete;

    const std::vector<int>& writers() const { return writers_; }
    const std::vector<int>& readers() const { return readers_; }

private:
    std::vector<int> writers_;
    std::vector<int> readers_;
};

}  // namespace bench
