#include "bus/Sealer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace chat::bus {

namespace {

constexpr std::size_t kMinKeyBytes = 16;
constexpr std::size_t kBlockBytes = 64;  // SHA-256's block

void check(int ok) {
    if (ok != 1) throw std::runtime_error("HMAC-SHA256 failed");
}

}  // namespace

void Sealer::DigestFree::operator()(evp_md_ctx_st* c) const {
    EVP_MD_CTX_free(c);
}

Sealer::Sealer(std::string_view primary, std::string_view secondary) {
    if (primary.size() < kMinKeyBytes) throw std::invalid_argument("the bus key must be at least 16 bytes");
    if (!secondary.empty() && secondary.size() < kMinKeyBytes)
        throw std::invalid_argument("the previous bus key must be at least 16 bytes");
    primary_ = prepare(primary);
    if (!secondary.empty()) secondary_ = prepare(secondary);
}

std::uint8_t Sealer::idOf(std::string_view key) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    return digest[0];
}

Sealer::Key Sealer::prepare(std::string_view key) {
    unsigned char block[kBlockBytes] = {};
    if (key.size() > kBlockBytes)
        SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
    else
        std::copy(key.begin(), key.end(), block);
    auto padded = [&](unsigned char pad) {
        unsigned char bytes[kBlockBytes];
        for (std::size_t i = 0; i < kBlockBytes; ++i) bytes[i] = block[i] ^ pad;
        Digest d(EVP_MD_CTX_new());
        if (!d) throw std::bad_alloc();
        check(EVP_DigestInit_ex(d.get(), EVP_sha256(), nullptr));
        check(EVP_DigestUpdate(d.get(), bytes, sizeof bytes));
        OPENSSL_cleanse(bytes, sizeof bytes);
        return d;
    };
    Key k{padded(0x36), padded(0x5c), idOf(key)};
    OPENSSL_cleanse(block, sizeof block);
    return k;
}

Sealer::Mac Sealer::mac(const Key& key, std::string_view data) {
    Digest d(EVP_MD_CTX_new());
    if (!d) throw std::bad_alloc();
    unsigned char inner[SHA256_DIGEST_LENGTH];
    check(EVP_MD_CTX_copy_ex(d.get(), key.inner.get()));
    check(EVP_DigestUpdate(d.get(), data.data(), data.size()));
    check(EVP_DigestFinal_ex(d.get(), inner, nullptr));
    Mac out{};
    check(EVP_MD_CTX_copy_ex(d.get(), key.outer.get()));
    check(EVP_DigestUpdate(d.get(), inner, sizeof inner));
    check(EVP_DigestFinal_ex(d.get(), out.data(), nullptr));
    return out;
}

Sealer::Mac Sealer::sign(std::string_view signedBytes) const {
    return mac(primary_, signedBytes);
}

bool Sealer::verify(std::uint8_t keyId, std::string_view signedBytes, std::string_view given) const {
    if (given.size() != std::tuple_size_v<Mac>) return false;
    // Ids are one byte, so both keys may share one: then both are tried.
    auto matches = [&](const Key& key) {
        auto expected = mac(key, signedBytes);
        return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
    };
    if (keyId == primary_.id && matches(primary_)) return true;
    if (secondary_.inner && keyId == secondary_.id && matches(secondary_)) return true;
    return false;
}

}  // namespace chat::bus
