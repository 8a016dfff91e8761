// Session token helpers; see Tokens.hpp.
#include "auth/Tokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "auth/Hex.hpp"

namespace chat::auth {
namespace {
constexpr std::size_t kTokenBytes = 16;
}

std::string Tokens::generate() {
    std::array<unsigned char, kTokenBytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("random generator failed");
    }
    return hex::encode(bytes.data(), bytes.size());
}

std::string Tokens::digest(std::string_view token) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_Digest(token.data(), token.size(), out.data(), &size, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    return hex::encode(out.data(), size);
}

bool Tokens::wellFormed(std::string_view token) {
    return token.size() == 2 * kTokenBytes && hex::isHex(token);
}

}  // namespace chat::auth
