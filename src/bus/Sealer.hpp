// Signs and checks datagrams with HMAC-SHA256 under the cluster key. Two keys may be
// configured so the key can be rotated without downtime: the primary signs, both verify.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::bus {

class Sealer {
public:
    using Mac = std::array<std::uint8_t, 32>;

    // Throws std::invalid_argument for a key shorter than 16 bytes.
    Sealer(std::string primary, std::string secondary = {});

    std::uint8_t keyId() const { return primaryId_; }
    Mac sign(std::string_view signedBytes) const;
    bool verify(std::uint8_t keyId, std::string_view signedBytes, std::string_view mac) const;

    // Names a key in datagram headers without revealing it: the first byte of its SHA-256.
    static std::uint8_t idOf(std::string_view key);

private:
    static Mac hmac(const std::string& key, std::string_view data);

    std::string primary_, secondary_;
    std::uint8_t primaryId_ = 0, secondaryId_ = 0;
};

}  // namespace chat::bus
