#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/PasswordHasher.hpp"

using chat::auth::PasswordHasher;
using chat::auth::PasswordRecord;

namespace {

constexpr unsigned kIterations = 1000;

bool isLowerHex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST(PasswordHasher, MakesRecordInDocumentedFormat) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("secret");
    const std::string prefix = "pbkdf2-sha256$1000$";
    ASSERT_EQ(record.hash.substr(0, prefix.size()), prefix);
    std::string digest = record.hash.substr(prefix.size());
    EXPECT_EQ(digest.size(), 64u);
    EXPECT_TRUE(isLowerHex(digest));
    EXPECT_EQ(record.salt.size(), 32u);
    EXPECT_TRUE(isLowerHex(record.salt));
}

TEST(PasswordHasher, VerifiesTheRightPassword) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("correct horse");
    EXPECT_TRUE(hasher.verify("correct horse", record));
}

TEST(PasswordHasher, RejectsAWrongPassword) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("correct horse");
    EXPECT_FALSE(hasher.verify("correct hors", record));
    EXPECT_FALSE(hasher.verify("Correct horse", record));
    EXPECT_FALSE(hasher.verify("", record));
}

TEST(PasswordHasher, HandlesAnEmptyPassword) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("");
    EXPECT_TRUE(hasher.verify("", record));
    EXPECT_FALSE(hasher.verify("x", record));
}

TEST(PasswordHasher, UsesAFreshSaltEveryTime) {
    PasswordHasher hasher(kIterations);
    PasswordRecord a = hasher.make("same");
    PasswordRecord b = hasher.make("same");
    EXPECT_NE(a.salt, b.salt);
    EXPECT_NE(a.hash, b.hash);
}

TEST(PasswordHasher, VerifiesARecordMadeElsewhere) {
    // Python: hashlib.pbkdf2_hmac('sha256', b'password', bytes(range(16)), 1000, 32).hex()
    // Pins the salt encoding (hex-decoded bytes, not the hex text) and the digest algorithm.
    PasswordHasher hasher(kIterations);
    PasswordRecord record{"pbkdf2-sha256$1000$25eb86acc76e43018f18b9a8f90c2fed462d1c799e83d48ae3d7c69046a60b67",
                          "000102030405060708090a0b0c0d0e0f"};
    EXPECT_TRUE(hasher.verify("password", record));
    EXPECT_FALSE(hasher.verify("Password", record));
}

TEST(PasswordHasher, VerifiesOldRecordsAfterTheIterationCountChanges) {
    PasswordHasher old(kIterations);
    PasswordRecord record = old.make("pw");
    PasswordHasher current(2 * kIterations);
    EXPECT_TRUE(current.verify("pw", record));
    EXPECT_EQ(current.make("pw").hash.substr(0, 19), "pbkdf2-sha256$2000$");
}

TEST(PasswordHasher, RejectsATamperedDigest) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("pw");
    char& last = record.hash.back();
    last = last == '0' ? '1' : '0';
    EXPECT_FALSE(hasher.verify("pw", record));
}

TEST(PasswordHasher, RejectsATamperedSalt) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("pw");
    record.salt[0] = record.salt[0] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(hasher.verify("pw", record));
}

TEST(PasswordHasher, RejectsATamperedIterationCount) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("pw");
    record.hash.replace(record.hash.find("$1000$"), 6, "$1001$");
    EXPECT_FALSE(hasher.verify("pw", record));
}

TEST(PasswordHasher, TreatsMalformedRecordsAsMismatches) {
    PasswordHasher hasher(kIterations);
    PasswordRecord good = hasher.make("pw");
    std::string digest = good.hash.substr(good.hash.rfind('$') + 1);
    const std::vector<PasswordRecord> bad = {
        {"", good.salt},
        {"pw", good.salt},
        {"pbkdf2-sha256", good.salt},
        {"pbkdf2-sha256$", good.salt},
        {"pbkdf2-sha256$$" + digest, good.salt},
        {"pbkdf2-sha256$1000", good.salt},
        {"pbkdf2-sha256$1000$", good.salt},
        {"pbkdf2-sha256$abc$" + digest, good.salt},
        {"pbkdf2-sha256$-1$" + digest, good.salt},
        {"pbkdf2-sha256$+1000$" + digest, good.salt},
        {"pbkdf2-sha256$0$" + digest, good.salt},
        {"pbkdf2-sha256$10000001$" + digest, good.salt},
        {"pbkdf2-sha256$99999999999999999999$" + digest, good.salt},
        {"pbkdf2-sha1$1000$" + digest, good.salt},
        {"pbkdf2-sha256$1000$" + digest.substr(1), good.salt},
        {"pbkdf2-sha256$1000$" + digest + "0", good.salt},
        {"pbkdf2-sha256$1000$" + digest.substr(1) + "g", good.salt},
        {"pbkdf2-sha256$1000$" + digest + "$x", good.salt},
        {good.hash, ""},
        {good.hash, good.salt.substr(1)},
        {good.hash, good.salt + "00"},
        {good.hash, good.salt.substr(1) + "z"},
    };
    for (const auto& record : bad) {
        EXPECT_NO_THROW(EXPECT_FALSE(hasher.verify("pw", record)) << record.hash << " / " << record.salt);
    }
    EXPECT_TRUE(hasher.verify("pw", good));  // the fixture itself is valid
}

TEST(PasswordHasher, AcceptsUppercaseHexInStoredRecords) {
    PasswordHasher hasher(kIterations);
    PasswordRecord record = hasher.make("pw");
    for (char& c : record.salt) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(hasher.verify("pw", record));
}

TEST(PasswordHasher, DummyVerificationNeverSucceeds) {
    PasswordHasher hasher(kIterations);
    EXPECT_FALSE(hasher.verifyDummy("pw"));
    EXPECT_FALSE(hasher.verifyDummy(""));
}

TEST(PasswordHasher, RefusesAnUnusableIterationCount) {
    EXPECT_THROW(PasswordHasher(0), std::invalid_argument);
    EXPECT_THROW(PasswordHasher(10'000'001), std::invalid_argument);
}
