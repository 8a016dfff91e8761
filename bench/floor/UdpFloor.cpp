// See UdpFloor.hpp.
#include "floor/UdpFloor.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bus/DatagramReceiver.hpp"

namespace bench {

namespace {

// The bus's timer tick, which is also its receive call's timeout (src/bus/UdpBus.cpp).
constexpr long kTickUs = 10'000;

void setOption(int fd, int name, const void* value, socklen_t size) {
    if (::setsockopt(fd, SOL_SOCKET, name, value, size) != 0)
        throw std::runtime_error(std::string("setsockopt: ") + std::strerror(errno));
}

}  // namespace

UdpFloor::UdpFloor(std::uint16_t port, std::size_t receiveBuffer) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int on = 1;
    const int buffer = static_cast<int>(receiveBuffer);
    const timeval timeout{0, kTickUs};
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(port);
    try {
        setOption(fd_, SO_REUSEADDR, &on, sizeof on);
        setOption(fd_, SO_REUSEPORT, &on, sizeof on);
        setOption(fd_, SO_RCVBUF, &buffer, sizeof buffer);
        setOption(fd_, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0)
            throw std::runtime_error("bind to port " + std::to_string(port) + ": " + std::strerror(errno));
    } catch (...) {
        ::close(fd_);
        throw;
    }
    thread_ = std::thread([this] { run(); });
}

UdpFloor::~UdpFloor() {
    running_ = false;  // seen within one tick
    thread_.join();
    ::close(fd_);
}

void UdpFloor::run() {
    chat::bus::DatagramReceiver receiver;
    std::error_code ec;
    while (running_) {
        auto n = receiver.receive(fd_, ec);
        if (ec) {
            error_ = ec.value();
            return;
        }
        datagrams_.fetch_add(n, std::memory_order_relaxed);
    }
}

}  // namespace bench
