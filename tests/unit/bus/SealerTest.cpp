#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "BusTestSupport.hpp"
#include "bus/Sealer.hpp"

using chat::bus::Sealer;
using chat::bus::testing::kKey;
using chat::bus::testing::kOtherKey;

namespace {

std::string_view view(const Sealer::Mac& mac) {
    return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

std::string hex(const Sealer::Mac& mac) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (auto b : mac) {
        out += digits[b >> 4];
        out += digits[b & 0x0F];
    }
    return out;
}

// 100 bytes of every value, standing in for a datagram's header and payload.
std::string signedBytes() {
    std::string s;
    for (int i = 0; i < 100; ++i) s += static_cast<char>(i * 37);
    return s;
}

}  // namespace

TEST(Sealer, VerifiesWhatItSigned) {
    Sealer sealer(kKey);
    auto bytes = signedBytes();
    auto mac = sealer.sign(bytes);
    EXPECT_TRUE(sealer.verify(sealer.keyId(), bytes, view(mac)));
    // Another node with the same key agrees.
    EXPECT_TRUE(Sealer(kKey).verify(sealer.keyId(), bytes, view(mac)));
}

TEST(Sealer, SignsWithHmacSha256AsRfc4231Defines) {
    // RFC 4231, test case 1: a 20-byte key of 0x0b, data "Hi There".
    Sealer sealer(std::string(20, '\x0b'));
    EXPECT_EQ(hex(sealer.sign("Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(Sealer, HashesAKeyLongerThanABlockFirstAsRfc4231Defines) {
    // RFC 4231, test case 6: a 131-byte key of 0xaa.
    Sealer sealer(std::string(131, '\xaa'));
    EXPECT_EQ(hex(sealer.sign("Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Sealer, GivesTheSameMacEveryTime) {
    // Each MAC starts from copies of the key's states; nothing of one carries into the next.
    Sealer sealer(kKey);
    auto bytes = signedBytes();
    auto first = sealer.sign(bytes);
    sealer.sign("something else");
    EXPECT_EQ(sealer.sign(bytes), first);
}

TEST(Sealer, RefusesAMacMadeWithAnotherKey) {
    Sealer ours(kKey), theirs(kOtherKey);
    auto bytes = signedBytes();
    auto mac = theirs.sign(bytes);
    EXPECT_FALSE(ours.verify(theirs.keyId(), bytes, view(mac)));
    EXPECT_FALSE(ours.verify(ours.keyId(), bytes, view(mac)));
}

TEST(Sealer, RefusesATamperedByteAnywhereInTheSignedBytes) {
    Sealer sealer(kKey);
    const auto bytes = signedBytes();
    const auto mac = sealer.sign(bytes);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto tampered = bytes;
        tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
        EXPECT_FALSE(sealer.verify(sealer.keyId(), tampered, view(mac))) << "byte " << i;
    }
    EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes + "x", view(mac)));
    EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes.substr(1), view(mac)));
}

TEST(Sealer, RefusesATamperedByteAnywhereInTheMac) {
    Sealer sealer(kKey);
    const auto bytes = signedBytes();
    const auto mac = sealer.sign(bytes);
    for (std::size_t i = 0; i < mac.size(); ++i) {
        auto tampered = mac;
        tampered[i] ^= 0x80;
        EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes, view(tampered))) << "byte " << i;
    }
}

TEST(Sealer, RefusesAMacOfTheWrongLength) {
    Sealer sealer(kKey);
    const auto bytes = signedBytes();
    const std::string mac(view(sealer.sign(bytes)));
    EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes, ""));
    EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes, mac.substr(0, 31)));
    EXPECT_FALSE(sealer.verify(sealer.keyId(), bytes, mac + '\0'));
}

TEST(Sealer, RefusesAKeyIdItDoesNotHold) {
    Sealer sealer(kKey);
    const auto bytes = signedBytes();
    auto mac = sealer.sign(bytes);
    EXPECT_FALSE(sealer.verify(static_cast<std::uint8_t>(sealer.keyId() + 1), bytes, view(mac)));
}

TEST(Sealer, NamesAKeyByTheFirstByteOfItsSha256) {
    EXPECT_EQ(Sealer::idOf("abc"), 0xba);  // SHA-256("abc") = ba7816bf...
    EXPECT_EQ(Sealer::idOf(""), 0xe3);     // SHA-256("") = e3b0c442...
    EXPECT_EQ(Sealer(kKey).keyId(), Sealer::idOf(kKey));
    EXPECT_EQ(Sealer(kKey, kOtherKey).keyId(), Sealer::idOf(kKey));  // the primary signs
}

TEST(Sealer, AcceptsThePreviousKeyDuringARotation) {
    ASSERT_NE(Sealer::idOf(kKey), Sealer::idOf(kOtherKey));
    Sealer oldNode(kOtherKey), rotating(kKey, kOtherKey), newNode(kKey);
    const auto bytes = signedBytes();
    auto oldMac = oldNode.sign(bytes);
    EXPECT_TRUE(rotating.verify(oldNode.keyId(), bytes, view(oldMac)));
    EXPECT_FALSE(newNode.verify(oldNode.keyId(), bytes, view(oldMac)));  // once the rotation is over
    // A rotating node signs with its new key, which nodes already on it accept.
    auto newMac = rotating.sign(bytes);
    EXPECT_TRUE(newNode.verify(rotating.keyId(), bytes, view(newMac)));
    EXPECT_FALSE(oldNode.verify(rotating.keyId(), bytes, view(newMac)));
}

TEST(Sealer, ThePreviousKeysMacNeedsThePreviousKeysId) {
    ASSERT_NE(Sealer::idOf(kKey), Sealer::idOf(kOtherKey));
    Sealer oldNode(kOtherKey), rotating(kKey, kOtherKey);
    const auto bytes = signedBytes();
    EXPECT_FALSE(rotating.verify(rotating.keyId(), bytes, view(oldNode.sign(bytes))));
}

TEST(Sealer, TriesBothKeysWhenTheirOneByteIdsCollide) {
    // One byte names a key, so two keys share an id once in 256: find such a pair.
    const std::string first = "colliding-key-0000";
    std::string second;
    for (int i = 1; i < 100000 && second.empty(); ++i) {
        auto candidate = "colliding-key-" + std::to_string(10000 + i);
        if (Sealer::idOf(candidate) == Sealer::idOf(first)) second = candidate;
    }
    ASSERT_FALSE(second.empty());
    Sealer rotating(first, second);
    const auto bytes = signedBytes();
    EXPECT_TRUE(rotating.verify(Sealer::idOf(first), bytes, view(Sealer(second).sign(bytes))));
    EXPECT_TRUE(rotating.verify(Sealer::idOf(first), bytes, view(Sealer(first).sign(bytes))));
    EXPECT_FALSE(rotating.verify(Sealer::idOf(first), bytes, view(Sealer(kOtherKey).sign(bytes))));
}

TEST(Sealer, RefusesAKeyShorterThan16Bytes) {
    EXPECT_THROW(Sealer(std::string(15, 'k')), std::invalid_argument);
    EXPECT_THROW(Sealer(""), std::invalid_argument);
    EXPECT_THROW(Sealer(kKey, std::string(15, 'k')), std::invalid_argument);
    EXPECT_NO_THROW(Sealer(std::string(16, 'k')));
    EXPECT_NO_THROW(Sealer(kKey, std::string(16, 'k')));
    EXPECT_NO_THROW(Sealer(kKey, ""));  // no previous key
}
