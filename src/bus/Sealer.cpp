#include "bus/Sealer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace chat::bus {

namespace {

constexpr std::size_t kMinKeyBytes = 16;

}  // namespace

Sealer::Sealer(std::string primary, std::string secondary) : primary_(std::move(primary)), secondary_(std::move(secondary)) {
    if (primary_.size() < kMinKeyBytes) throw std::invalid_argument("the bus key must be at least 16 bytes");
    if (!secondary_.empty() && secondary_.size() < kMinKeyBytes)
        throw std::invalid_argument("the previous bus key must be at least 16 bytes");
    primaryId_ = idOf(primary_);
    if (!secondary_.empty()) secondaryId_ = idOf(secondary_);
}

std::uint8_t Sealer::idOf(std::string_view key) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    return digest[0];
}

Sealer::Mac Sealer::hmac(const std::string& key, std::string_view data) {
    Mac mac{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), mac.data(), &len);
    return mac;
}

Sealer::Mac Sealer::sign(std::string_view signedBytes) const { return hmac(primary_, signedBytes); }

bool Sealer::verify(std::uint8_t keyId, std::string_view signedBytes, std::string_view mac) const {
    if (mac.size() != std::tuple_size_v<Mac>) return false;
    // Ids are one byte, so both keys may share one: then both are tried.
    auto check = [&](const std::string& key) {
        auto expected = hmac(key, signedBytes);
        return CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) == 0;
    };
    if (keyId == primaryId_ && check(primary_)) return true;
    if (!secondary_.empty() && keyId == secondaryId_ && check(secondary_)) return true;
    return false;
}

}  // namespace chat::bus
