// The machine's own price of receiving the cluster's datagrams. A socket is bound to the bus's
// port beside the nodes' own (a broadcast reaches every socket bound to its port), set up as
// the bus sets up its socket and read as the bus reads (chat::bus::DatagramReceiver: one
// recvmmsg that waits for the first datagram, the bus's tick as its timeout), and nothing is
// done with what it reads. A node's CPU per datagram above this socket's is what the node
// itself spends on a datagram: checking it, deciding from its header, dropping it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace bench {

class UdpFloor {
public:
    // Binds 0.0.0.0:port with the bus's options and starts reading on a thread of its own.
    UdpFloor(std::uint16_t port, std::size_t receiveBuffer);
    ~UdpFloor();
    UdpFloor(const UdpFloor&) = delete;
    UdpFloor& operator=(const UdpFloor&) = delete;

    std::uint64_t datagrams() const { return datagrams_.load(std::memory_order_relaxed); }
    // The receive call's errno once it failed (the thread has stopped then), else 0.
    int error() const { return error_.load(); }

private:
    void run();

    int fd_ = -1;
    std::atomic<bool> running_{true};
    std::atomic<std::uint64_t> datagrams_{0};
    std::atomic<int> error_{0};
    std::thread thread_;
};

}  // namespace bench
