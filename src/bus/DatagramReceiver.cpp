#include "bus/DatagramReceiver.hpp"

#include <algorithm>
#include <cerrno>

namespace chat::bus {

DatagramReceiver::DatagramReceiver() : slots_(kBatch * kSlotSize) {
    for (std::size_t i = 0; i < kBatch; ++i) {
        iov_[i] = iovec{slots_.data() + i * kSlotSize, kSlotSize};
        headers_[i].msg_hdr.msg_iov = &iov_[i];
        headers_[i].msg_hdr.msg_iovlen = 1;
    }
}

std::size_t DatagramReceiver::receive(int fd, std::error_code& ec) {
    ec.clear();
    for (auto& h : headers_) h.msg_hdr.msg_flags = 0;
    int n = 0;
    do {
        n = ::recvmmsg(fd, headers_.data(), kBatch, MSG_WAITFORONE, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec = std::error_code(errno, std::system_category());
    return 0;
}

std::string_view DatagramReceiver::datagram(std::size_t i) const {
    return {slots_.data() + i * kSlotSize, std::min<std::size_t>(headers_[i].msg_len, kSlotSize)};
}

bool DatagramReceiver::truncated(std::size_t i) const {
    return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

}  // namespace chat::bus
