// Signs and checks datagrams with HMAC-SHA256 under the cluster key. Two keys may be
// configured so the key can be rotated without downtime: the primary signs, both verify.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace chat::bus {

class Sealer {
public:
    using Mac = std::array<std::uint8_t, 32>;

    // Throws std::invalid_argument for a key shorter than 16 bytes.
    Sealer(std::string_view primary, std::string_view secondary = {});

    std::uint8_t keyId() const { return primary_.id; }
    Mac sign(std::string_view signedBytes) const;
    bool verify(std::uint8_t keyId, std::string_view signedBytes, std::string_view mac) const;

    // Names a key in datagram headers without revealing it: the first byte of its SHA-256.
    static std::uint8_t idOf(std::string_view key);

private:
    struct DigestFree {
        void operator()(evp_md_ctx_st* c) const;
    };
    using Digest = std::unique_ptr<evp_md_ctx_st, DigestFree>;

    // HMAC (RFC 2104) hashes the padded key first, twice; those two states are kept, and every
    // MAC starts from copies, so a datagram costs its own bytes only (and no algorithm lookup).
    struct Key {
        Digest inner, outer;
        std::uint8_t id = 0;
    };

    static Key prepare(std::string_view key);
    static Mac mac(const Key& key, std::string_view data);

    Key primary_, secondary_;
};

}  // namespace chat::bus
