// Takes the datagrams arriving at a UDP socket, up to kBatch with one recvmmsg call, each into
// a slot of its own. A node receives every datagram of the cluster, most of them for nobody it
// holds, so the per-datagram system-call cost is most of what dropping one costs: the call
// itself waits for the first datagram, so a wake-up costs one system call, not a readiness
// wait and a read.
#pragma once
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <vector>

namespace chat::bus {

class DatagramReceiver {
public:
    static constexpr std::size_t kBatch = 32;
    // Ours are at most 1472 bytes (proto::kMaxDatagramSize); a longer one is cut and marked.
    static constexpr std::size_t kSlotSize = 2048;

    DatagramReceiver();
    DatagramReceiver(const DatagramReceiver&) = delete;
    DatagramReceiver& operator=(const DatagramReceiver&) = delete;

    // Waits for a first datagram, at most the socket's receive timeout (SO_RCVTIMEO; none on
    // a non-blocking socket), then takes it and those waiting behind it. Returns how many
    // were taken (0: none came in time, or `ec` set).
    std::size_t receive(int fd, std::error_code& ec);
    std::string_view datagram(std::size_t i) const;
    // The datagram was longer than its slot: what datagram(i) holds is only its start.
    bool truncated(std::size_t i) const;

private:
    std::vector<char> slots_;
    std::array<iovec, kBatch> iov_{};
    std::array<mmsghdr, kBatch> headers_{};
};

}  // namespace chat::bus
