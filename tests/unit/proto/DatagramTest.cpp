#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "proto/Datagram.hpp"

using chat::proto::Datagram;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::DecodeError;
using chat::proto::kDatagramHeaderSize;
using chat::proto::kMaxDatagramPayload;
using chat::proto::kMaxDatagramSize;
using chat::proto::TargetKind;

namespace {

DatagramHeader header(DatagramKind kind, TargetKind targetKind) {
    DatagramHeader h;
    h.kind = kind;
    h.targetKind = targetKind;
    h.origin = 0x01020304;
    h.target = 0x0A0B0C0D0E0F1011;
    h.sender = 0x2122232425262728;
    return h;
}

std::uint8_t byteAt(const std::string& s, std::size_t i) {
    return static_cast<std::uint8_t>(s.at(i));
}

void expectRoundTrip(const DatagramHeader& h, const std::string& payload) {
    auto bytes = Datagram::encode(h, payload);
    auto r = Datagram::decode(bytes);
    ASSERT_TRUE(r.datagram);
    const auto& d = *r.datagram;
    EXPECT_EQ(d.header.kind, h.kind);
    EXPECT_EQ(d.header.targetKind, h.targetKind);
    EXPECT_EQ(d.header.origin, h.origin);
    EXPECT_EQ(d.header.length, payload.size());
    EXPECT_EQ(d.header.target, h.target);
    EXPECT_EQ(d.header.sender, h.sender);
    EXPECT_EQ(d.payload, payload);
}

}  // namespace

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

TEST(Datagram, RoundTripsNegativeAndExtremeIds) {
    auto h = header(DatagramKind::Chat, TargetKind::None);
    h.origin = 0xFFFFFFFF;
    h.target = -1;
    h.sender = INT64_MIN;
    expectRoundTrip(h, "x");
}

TEST(Datagram, RoundTripsTheLargestPayload) {
    EXPECT_EQ(kMaxDatagramSize, 65507u);  // the largest UDP payload over IPv4
    EXPECT_EQ(kMaxDatagramPayload, 65507u - 32u);
    expectRoundTrip(header(DatagramKind::Chat, TargetKind::User), std::string(kMaxDatagramPayload, 'p'));
}

TEST(Datagram, HeaderIsExactly32BytesOfBigEndianFields) {
    ASSERT_EQ(kDatagramHeaderSize, 32u);
    auto bytes = Datagram::encode(header(DatagramKind::Revoke, TargetKind::Group), "");
    ASSERT_EQ(bytes.size(), 32u);
    const std::uint8_t expected[32] = {
        'C',  'H',  'A',  'T',                           // magic
        1,                                               // version
        3,                                               // kind: revoke
        2,                                               // target kind: group
        0,                                               // flags
        0x01, 0x02, 0x03, 0x04,                          // origin
        0x00, 0x00, 0x00, 0x00,                          // length
        0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,  // target
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,  // sender
    };
    for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(byteAt(bytes, i), expected[i]) << "offset " << i;
}

TEST(Datagram, WritesThePayloadLengthBigEndianAtOffset12AndThePayloadAfterTheHeader) {
    std::string payload(0x0102, 'z');
    auto h = header(DatagramKind::Chat, TargetKind::User);
    h.length = 7;  // ignored: the encoder measures the payload
    auto bytes = Datagram::encode(h, payload);
    ASSERT_EQ(bytes.size(), 32u + 0x0102);
    EXPECT_EQ(byteAt(bytes, 12), 0x00);
    EXPECT_EQ(byteAt(bytes, 13), 0x00);
    EXPECT_EQ(byteAt(bytes, 14), 0x01);
    EXPECT_EQ(byteAt(bytes, 15), 0x02);
    EXPECT_EQ(bytes.substr(32), payload);
}

TEST(Datagram, EncodeHeaderWritesTheSameBytesAsEncode) {
    auto h = header(DatagramKind::Chat, TargetKind::User);
    h.length = 3;
    std::array<std::uint8_t, kDatagramHeaderSize> head{};
    Datagram::encodeHeader(h, head);
    auto bytes = Datagram::encode(h, "abc");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(head.data()), head.size()), bytes.substr(0, 32));
}

TEST(Datagram, DecodedPayloadPointsIntoTheBuffer) {
    auto bytes = Datagram::encode(header(DatagramKind::Chat, TargetKind::User), "payload");
    auto r = Datagram::decode(bytes);
    ASSERT_TRUE(r.datagram);
    EXPECT_EQ(r.datagram->payload.data(), bytes.data() + 32);
}

TEST(Datagram, RefusesFewerBytesThanAHeader) {
    auto bytes = Datagram::encode(header(DatagramKind::Join, TargetKind::Group), "");
    for (std::size_t n : {0u, 1u, 31u}) {
        auto r = Datagram::decode(std::string_view(bytes).substr(0, n));
        EXPECT_FALSE(r.datagram);
        EXPECT_EQ(r.error, DecodeError::TooShort) << n;
    }
}

TEST(Datagram, RefusesABadMagic) {
    auto bytes = Datagram::encode(header(DatagramKind::Chat, TargetKind::User), "x");
    bytes[3] = 'X';
    auto r = Datagram::decode(bytes);
    EXPECT_FALSE(r.datagram);
    EXPECT_EQ(r.error, DecodeError::BadMagic);
}

TEST(Datagram, RefusesAnotherVersion) {
    auto bytes = Datagram::encode(header(DatagramKind::Chat, TargetKind::User), "x");
    for (char version : {'\0', '\2', '\xff'}) {
        bytes[4] = version;
        auto r = Datagram::decode(bytes);
        EXPECT_FALSE(r.datagram);
        EXPECT_EQ(r.error, DecodeError::BadVersion);
    }
}

TEST(Datagram, RefusesAnUnknownKindOrTargetKind) {
    auto good = Datagram::encode(header(DatagramKind::Chat, TargetKind::User), "x");
    for (char kind : {'\0', '\4', '\xff'}) {
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

TEST(Datagram, RefusesALengthThatDoesNotMatchThePayload) {
    auto bytes = Datagram::encode(header(DatagramKind::Chat, TargetKind::User), "four");
    auto longer = bytes + "!";
    EXPECT_EQ(Datagram::decode(longer).error, DecodeError::BadLength);
    EXPECT_FALSE(Datagram::decode(longer).datagram);
    auto shorter = bytes.substr(0, bytes.size() - 1);
    EXPECT_EQ(Datagram::decode(shorter).error, DecodeError::BadLength);
    bytes[12] = '\x80';  // a length far beyond any datagram
    EXPECT_EQ(Datagram::decode(bytes).error, DecodeError::BadLength);
}
