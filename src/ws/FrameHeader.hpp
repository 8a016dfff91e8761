// The RFC 6455 (section 5.2) header of a server's frame: final, unmasked. The session writes
// its frames itself, a header next to the payload bytes every recipient shares, so that the
// frames queued for one connection leave in one gathered write.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace chat::ws {

class FrameHeader {
public:
    static constexpr std::size_t kMaxSize = 10;

    static constexpr unsigned char kText = 0x1;
    static constexpr unsigned char kClose = 0x8;
    static constexpr unsigned char kPing = 0x9;
    static constexpr unsigned char kPong = 0xa;

    // A frame of `opcode` carrying `payload` bytes.
    static FrameHeader of(unsigned char opcode, std::uint64_t payload);
    static FrameHeader text(std::uint64_t payload) { return of(kText, payload); }

    const unsigned char* data() const { return bytes_.data(); }
    std::size_t size() const { return size_; }

private:
    std::array<unsigned char, kMaxSize> bytes_{};
    std::size_t size_ = 0;
};

}  // namespace chat::ws
