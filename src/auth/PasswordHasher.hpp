// Password hashing with PBKDF2-HMAC-SHA256. Used by the login and registration handlers
// (through the Authenticator); the record it makes is what users.passwd / users.salt store.
#pragma once
#include <string>
#include <string_view>

namespace chat::auth {

// As stored in users.passwd / users.salt.
// hash: "pbkdf2-sha256$<iterations>$<64 hex>"; salt: 32 hex chars (16 random bytes).
struct PasswordRecord {
    std::string hash;
    std::string salt;
};

class PasswordHasher {
public:
    // The iteration count applies to new records only: verify() reads the count stored in each
    // record, so raising it later keeps older hashes verifiable.
    explicit PasswordHasher(unsigned iterations);

    // A new random salt; throws std::runtime_error if the random generator or PBKDF2 fails.
    PasswordRecord make(std::string_view password) const;

    // Constant-time comparison. A malformed record is a mismatch, never an exception.
    bool verify(std::string_view password, const PasswordRecord& stored) const;

    // Spends the same time as verify() of a wrong password against a current record, so a login
    // for a mobile that does not exist cannot be told apart by timing. Always returns false.
    bool verifyDummy(std::string_view password) const;

    unsigned iterations() const { return iterations_; }

private:
    unsigned iterations_;
    PasswordRecord dummy_;  // a record for a random password, made once at construction
};

}  // namespace chat::auth
