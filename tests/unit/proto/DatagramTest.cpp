#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "proto/Datagram.hpp"

using chat::proto::Datagram;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::DecodeError;
using chat::proto::isSequenced;
using chat::proto::kDatagramHeaderSize;
using chat::proto::kDatagramMacSize;
using chat::proto::kMaxDatagramSize;
using chat::proto::kMaxFragmentPayload;
using chat::proto::TargetKind;

namespace {

// Every field distinct and more than one byte wide where it can be, so a misplaced or
// byte-swapped field shows up at its offset.
DatagramHeader header(DatagramKind kind, TargetKind targetKind) {
    DatagramHeader h;
    h.kind = kind;
    h.targetKind = targetKind;
    h.keyId = 0x5A;
    h.origin = 0x01020304;
    h.incarnation = 0x3132333435363738;
    h.seq = 0x4142434445464748;
    h.fragIndex = 0x0102;
    h.fragCount = 0x0A0B;
    h.target = 0x0A0B0C0D0E0F1011;
    h.sender = 0x2122232425262728;
    h.pos = 0x5152535455565758;
    return h;
}

// The header, the payload and a stand-in MAC: decode checks the layout, not the MAC.
std::string wire(DatagramHeader h, const std::string& payload, char macByte = '\xEE') {
    h.length = static_cast<std::uint32_t>(payload.size());
    Datagram::HeaderBytes head{};
    Datagram::encodeHeader(h, head);
    std::string out(reinterpret_cast<const char*>(head.data()), head.size());
    out += payload;
    out.append(kDatagramMacSize, macByte);
    return out;
}

std::uint8_t byteAt(const std::string& s, std::size_t i) {
    return static_cast<std::uint8_t>(s.at(i));
}

void expectRoundTrip(const DatagramHeader& h, const std::string& payload) {
    auto bytes = wire(h, payload);
    auto r = Datagram::decode(bytes);
    ASSERT_TRUE(r.datagram);
    const auto& d = r.datagram->header;
    EXPECT_EQ(d.kind, h.kind);
    EXPECT_EQ(d.targetKind, h.targetKind);
    EXPECT_EQ(d.keyId, h.keyId);
    EXPECT_EQ(d.origin, h.origin);
    EXPECT_EQ(d.incarnation, h.incarnation);
    EXPECT_EQ(d.seq, h.seq);
    EXPECT_EQ(d.fragIndex, h.fragIndex);
    EXPECT_EQ(d.fragCount, h.fragCount);
    EXPECT_EQ(d.length, payload.size());
    EXPECT_EQ(d.target, h.target);
    EXPECT_EQ(d.sender, h.sender);
    EXPECT_EQ(d.pos, h.pos);
    EXPECT_EQ(r.datagram->payload, payload);
}

}  // namespace

// --- round trips

TEST(Datagram, RoundTripsAChatMessageToAUser) {
    expectRoundTrip(header(DatagramKind::Chat, TargetKind::User), R"({"id":1,"content":"hi"})");
}

TEST(Datagram, RoundTripsAChatMessageToAGroup) {
    expectRoundTrip(header(DatagramKind::Chat, TargetKind::Group), R"({"id":2})");
}

TEST(Datagram, RoundTripsAJoinWithoutPayload) {
    expectRoundTrip(header(DatagramKind::Join, TargetKind::Group), "");
}

TEST(Datagram, RoundTripsARevokeWithoutPayload) {
    expectRoundTrip(header(DatagramKind::Revoke, TargetKind::User), "");
}

TEST(Datagram, RoundTripsTheControlKinds) {
    expectRoundTrip(header(DatagramKind::Heartbeat, TargetKind::None), "");
    expectRoundTrip(header(DatagramKind::Nak, TargetKind::None), std::string(32, '\x01'));
    expectRoundTrip(header(DatagramKind::Gone, TargetKind::None), std::string(16, '\x02'));
}

TEST(Datagram, RoundTripsNegativeAndExtremeValues) {
    auto h = header(DatagramKind::Chat, TargetKind::None);
    h.keyId = 0xFF;
    h.origin = 0xFFFFFFFF;
    h.incarnation = UINT64_MAX;
    h.seq = UINT64_MAX;
    h.fragIndex = 0xFFFE;
    h.fragCount = 0xFFFF;
    h.target = -1;
    h.sender = INT64_MIN;
    expectRoundTrip(h, "x");
}

TEST(Datagram, RoundTripsTheLargestFragmentInOneEthernetFrame) {
    EXPECT_EQ(kDatagramHeaderSize, 64u);
    EXPECT_EQ(kDatagramMacSize, 32u);
    EXPECT_EQ(kMaxDatagramSize, 1500u - 20u - 8u);  // MTU minus the IPv4 and UDP headers
    EXPECT_EQ(kMaxFragmentPayload, 1376u);
    auto h = header(DatagramKind::Chat, TargetKind::User);
    std::string payload(kMaxFragmentPayload, 'p');
    EXPECT_EQ(wire(h, payload).size(), kMaxDatagramSize);
    expectRoundTrip(h, payload);
}

// --- layout

TEST(Datagram, HeaderIsExactly64BytesOfBigEndianFields) {
    auto h = header(DatagramKind::Revoke, TargetKind::Group);
    Datagram::HeaderBytes head{};
    h.length = 0x00010203;
    Datagram::encodeHeader(h, head);
    ASSERT_EQ(head.size(), 64u);
    const std::uint8_t expected[64] = {
        'C',  'H',  'A',  'T',                           //  0 magic
        5,                                               //  4 version
        3,                                               //  5 kind: revoke
        2,                                               //  6 target kind: group
        0,                                               //  7 flags
        0x5A,                                            //  8 key id
        0,    0,    0,                                   //  9 reserved
        0x01, 0x02, 0x03, 0x04,                          // 12 origin
        0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,  // 16 incarnation
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,  // 24 seq
        0x01, 0x02,                                      // 32 fragment index
        0x0A, 0x0B,                                      // 34 fragment count
        0x00, 0x01, 0x02, 0x03,                          // 36 length
        0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,  // 40 target
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,  // 48 sender
        0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,  // 56 stream position
    };
    for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(head[i], expected[i]) << "offset " << i;
}

TEST(Datagram, NumbersTheKindsAsDocumented) {
    const std::pair<DatagramKind, std::uint8_t> kinds[] = {
        {DatagramKind::Chat, 1},      {DatagramKind::Join, 2},     {DatagramKind::Revoke, 3},
        {DatagramKind::Heartbeat, 4}, {DatagramKind::Nak, 5},      {DatagramKind::Gone, 6},
        {DatagramKind::Notice, 7},    {DatagramKind::Presence, 8}, {DatagramKind::ChatPack, 9},
    };
    for (auto [kind, number] : kinds) {
        auto bytes = wire(header(kind, TargetKind::None), "");
        EXPECT_EQ(byteAt(bytes, 5), number);
        EXPECT_EQ(byteAt(bytes, 6), 0);  // target kind: none
    }
    EXPECT_EQ(byteAt(wire(header(DatagramKind::Chat, TargetKind::User), ""), 6), 1);
}

TEST(Datagram, PutsThePayloadAtOffset64AndTheMacRightAfterIt) {
    std::string payload(0x0102, 'z');
    auto bytes = wire(header(DatagramKind::Chat, TargetKind::User), payload, '\x77');
    ASSERT_EQ(bytes.size(), 64u + 0x0102 + 32u);
    EXPECT_EQ(byteAt(bytes, 36), 0x00);
    EXPECT_EQ(byteAt(bytes, 37), 0x00);
    EXPECT_EQ(byteAt(bytes, 38), 0x01);
    EXPECT_EQ(byteAt(bytes, 39), 0x02);
    EXPECT_EQ(bytes.substr(64, 0x0102), payload);
    EXPECT_EQ(bytes.substr(64 + 0x0102), std::string(32, '\x77'));
}

TEST(Datagram, DecodedViewsPointIntoTheBuffer) {
    auto bytes = wire(header(DatagramKind::Chat, TargetKind::User), "payload");
    auto r = Datagram::decode(bytes);
    ASSERT_TRUE(r.datagram);
    const auto& d = *r.datagram;
    EXPECT_EQ(d.payload.data(), bytes.data() + 64);
    EXPECT_EQ(d.payload.size(), 7u);
    // The MAC covers the header and the payload, and nothing else.
    EXPECT_EQ(d.signedBytes.data(), bytes.data());
    EXPECT_EQ(d.signedBytes.size(), 64u + 7u);
    EXPECT_EQ(d.mac.data(), bytes.data() + 64 + 7);
    EXPECT_EQ(d.mac.size(), 32u);
}

TEST(Datagram, SequencesEverythingButTheBussOwnControlKinds) {
    EXPECT_TRUE(isSequenced(DatagramKind::Chat));
    EXPECT_TRUE(isSequenced(DatagramKind::Join));
    EXPECT_TRUE(isSequenced(DatagramKind::Revoke));
    EXPECT_TRUE(isSequenced(DatagramKind::Notice));
    EXPECT_TRUE(isSequenced(DatagramKind::Presence));
    EXPECT_TRUE(isSequenced(DatagramKind::ChatPack));
    EXPECT_FALSE(isSequenced(DatagramKind::Heartbeat));
    EXPECT_FALSE(isSequenced(DatagramKind::Nak));
    EXPECT_FALSE(isSequenced(DatagramKind::Gone));
}

// --- refusals

TEST(Datagram, RefusesFewerBytesThanAHeaderAndAMac) {
    auto bytes = wire(header(DatagramKind::Join, TargetKind::Group), "");
    ASSERT_EQ(bytes.size(), 96u);
    for (std::size_t n : {0u, 1u, 63u, 64u, 95u}) {
        auto r = Datagram::decode(std::string_view(bytes).substr(0, n));
        EXPECT_FALSE(r.datagram);
        EXPECT_EQ(r.error, DecodeError::TooShort) << n;
    }
    EXPECT_TRUE(Datagram::decode(bytes).datagram);
}

TEST(Datagram, RefusesABadMagic) {
    auto bytes = wire(header(DatagramKind::Chat, TargetKind::User), "x");
    bytes[3] = 'X';
    auto r = Datagram::decode(bytes);
    EXPECT_FALSE(r.datagram);
    EXPECT_EQ(r.error, DecodeError::BadMagic);
}

TEST(Datagram, RefusesAnotherVersionIncludingTheEarlierOnes) {
    auto bytes = wire(header(DatagramKind::Chat, TargetKind::User), "x");
    for (char version : {'\0', '\1', '\2', '\3', '\4', '\6', '\xff'}) {
        bytes[4] = version;
        auto r = Datagram::decode(bytes);
        EXPECT_FALSE(r.datagram);
        EXPECT_EQ(r.error, DecodeError::BadVersion) << int(version);
    }
}

TEST(Datagram, RefusesAnUnknownKindOrTargetKind) {
    auto good = wire(header(DatagramKind::Chat, TargetKind::User), "x");
    for (char kind : {'\0', '\x0a', '\xff'}) {
        auto bytes = good;
        bytes[5] = kind;
        auto r = Datagram::decode(bytes);
        EXPECT_FALSE(r.datagram);
        EXPECT_EQ(r.error, DecodeError::BadKind) << int(kind);
    }
    auto bytes = good;
    bytes[6] = 3;
    EXPECT_EQ(Datagram::decode(bytes).error, DecodeError::BadKind);
    EXPECT_FALSE(Datagram::decode(bytes).datagram);
}

TEST(Datagram, RefusesALengthThatDoesNotMatchThePayloadAndMac) {
    auto bytes = wire(header(DatagramKind::Chat, TargetKind::User), "four");
    auto longer = bytes + "!";
    EXPECT_EQ(Datagram::decode(longer).error, DecodeError::BadLength);
    EXPECT_FALSE(Datagram::decode(longer).datagram);
    auto shorter = bytes.substr(0, bytes.size() - 1);  // a MAC one byte short
    EXPECT_EQ(Datagram::decode(shorter).error, DecodeError::BadLength);
    EXPECT_FALSE(Datagram::decode(shorter).datagram);
    bytes[36] = '\xFF';  // a length far beyond any datagram
    EXPECT_EQ(Datagram::decode(bytes).error, DecodeError::BadLength);
    EXPECT_FALSE(Datagram::decode(bytes).datagram);
}

TEST(Datagram, RefusesAFragmentIndexOutsideItsCount) {
    auto h = header(DatagramKind::Chat, TargetKind::User);
    for (auto [index, count] : {std::pair{0, 0}, std::pair{1, 1}, std::pair{5, 3}, std::pair{0xFFFF, 0xFFFF}}) {
        h.fragIndex = static_cast<std::uint16_t>(index);
        h.fragCount = static_cast<std::uint16_t>(count);
        auto r = Datagram::decode(wire(h, "x"));
        EXPECT_FALSE(r.datagram) << index << "/" << count;
        EXPECT_EQ(r.error, DecodeError::BadFragment) << index << "/" << count;
    }
    h.fragIndex = 2;
    h.fragCount = 3;
    EXPECT_TRUE(Datagram::decode(wire(h, "x")).datagram);
}
