#include "ws/FrameHeader.hpp"

namespace chat::ws {

namespace {
constexpr unsigned char kFin = 0x80;
constexpr unsigned char kLength16 = 126;
constexpr unsigned char kLength64 = 127;
}  // namespace

FrameHeader FrameHeader::of(unsigned char opcode, std::uint64_t payload) {
    FrameHeader h;
    h.bytes_[0] = static_cast<unsigned char>(kFin | opcode);
    if (payload < kLength16) {
        h.bytes_[1] = static_cast<unsigned char>(payload);
        h.size_ = 2;
        return h;
    }
    // Longer lengths are in network byte order, in the fewest bytes the RFC allows.
    const std::size_t lengthBytes = payload <= 0xffff ? 2 : 8;
    h.bytes_[1] = lengthBytes == 2 ? kLength16 : kLength64;
    for (std::size_t i = 0; i < lengthBytes; ++i)
        h.bytes_[2 + i] = static_cast<unsigned char>(payload >> (8 * (lengthBytes - 1 - i)));
    h.size_ = 2 + lengthBytes;
    return h;
}

}  // namespace chat::ws
