// PBKDF2-HMAC-SHA256 password records; see PasswordHasher.hpp.
#include "auth/PasswordHasher.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <optional>
#include <stdexcept>
#include <vector>

#include "auth/Hex.hpp"

namespace chat::auth {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kSaltBytes = 16;
// A record read from the database must not be able to make one login take minutes.
constexpr unsigned kMaxIterations = 10'000'000;

using Digest = std::array<unsigned char, kDigestBytes>;

struct ParsedRecord {
    unsigned iterations;
    Digest digest;
    std::vector<unsigned char> salt;
};

std::optional<Digest> pbkdf2(std::string_view password, const std::vector<unsigned char>& salt, unsigned iterations) {
    if (password.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    Digest out{};
    // OpenSSL wants a non-null pointer even for an empty password.
    const char* pass = password.empty() ? "" : password.data();
    int ok = PKCS5_PBKDF2_HMAC(pass, static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                               static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()), out.data());
    if (ok != 1) return std::nullopt;
    return out;
}

// "pbkdf2-sha256$<iterations>$<64 hex>" plus a 32-hex salt; anything else is nullopt.
std::optional<ParsedRecord> parse(const PasswordRecord& record) {
    std::string_view hash = record.hash;
    if (hash.substr(0, kScheme.size()) != kScheme || hash.size() <= kScheme.size() || hash[kScheme.size()] != '$') {
        return std::nullopt;
    }
    hash.remove_prefix(kScheme.size() + 1);
    std::size_t dollar = hash.find('$');
    if (dollar == std::string_view::npos || dollar == 0) return std::nullopt;

    std::string_view count = hash.substr(0, dollar);
    unsigned iterations = 0;
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), iterations);
    if (ec != std::errc() || end != count.data() + count.size()) return std::nullopt;
    if (iterations == 0 || iterations > kMaxIterations) return std::nullopt;

    std::string_view digestHex = hash.substr(dollar + 1);
    if (digestHex.size() != 2 * kDigestBytes || record.salt.size() != 2 * kSaltBytes) return std::nullopt;
    auto digest = hex::decode(digestHex);
    auto salt = hex::decode(record.salt);
    if (!digest || !salt) return std::nullopt;

    ParsedRecord parsed{iterations, {}, std::move(*salt)};
    std::copy(digest->begin(), digest->end(), parsed.digest.begin());
    return parsed;
}

std::string format(unsigned iterations, const Digest& digest) {
    return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + hex::encode(digest.data(), digest.size());
}

std::vector<unsigned char> randomSalt() {
    std::vector<unsigned char> salt(kSaltBytes);
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        throw std::runtime_error("random generator failed");
    }
    return salt;
}

}  // namespace

PasswordHasher::PasswordHasher(unsigned iterations) : iterations_(iterations) {
    if (iterations == 0 || iterations > kMaxIterations) {
        throw std::invalid_argument("PBKDF2 iterations must be between 1 and 10000000");
    }
    // The dummy's digest never matches anything that matters: only the time verify() spends counts,
    // and that depends on the iteration count alone.
    std::vector<unsigned char> salt = randomSalt();
    dummy_ = {format(iterations_, Digest{}), hex::encode(salt.data(), salt.size())};
}

PasswordRecord PasswordHasher::make(std::string_view password) const {
    std::vector<unsigned char> salt = randomSalt();
    auto digest = pbkdf2(password, salt, iterations_);
    if (!digest) throw std::runtime_error("password hashing failed");
    return {format(iterations_, *digest), hex::encode(salt.data(), salt.size())};
}

bool PasswordHasher::verify(std::string_view password, const PasswordRecord& stored) const {
    auto parsed = parse(stored);
    if (!parsed) return false;
    auto digest = pbkdf2(password, parsed->salt, parsed->iterations);
    if (!digest) return false;
    return CRYPTO_memcmp(digest->data(), parsed->digest.data(), kDigestBytes) == 0;
}

bool PasswordHasher::verifyDummy(std::string_view password) const {
    verify(password, dummy_);
    return false;
}

}  // namespace chat::auth
