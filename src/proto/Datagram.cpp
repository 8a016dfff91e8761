#include "proto/Datagram.hpp"

#include "proto/BigEndian.hpp"

namespace chat::proto {

namespace {

bool validKind(std::uint8_t k) {
    return k >= 1 && k <= 9;
}
bool validTargetKind(std::uint8_t k) {
    return k <= 2;
}

}  // namespace

void Datagram::encodeHeader(const DatagramHeader& h, HeaderBytes& out) {
    std::uint8_t* p = out.data();
    putBigEndian<std::uint32_t>(p, kDatagramMagic);
    putBigEndian<std::uint8_t>(p, kDatagramVersion);
    putBigEndian<std::uint8_t>(p, static_cast<std::uint8_t>(h.kind));
    putBigEndian<std::uint8_t>(p, static_cast<std::uint8_t>(h.targetKind));
    putBigEndian<std::uint8_t>(p, 0);
    putBigEndian<std::uint8_t>(p, h.keyId);
    putBigEndian<std::uint8_t>(p, 0);
    putBigEndian<std::uint16_t>(p, 0);
    putBigEndian<std::uint32_t>(p, h.origin);
    putBigEndian<std::uint64_t>(p, h.incarnation);
    putBigEndian<std::uint64_t>(p, h.seq);
    putBigEndian<std::uint16_t>(p, h.fragIndex);
    putBigEndian<std::uint16_t>(p, h.fragCount);
    putBigEndian<std::uint32_t>(p, h.length);
    putBigEndian<std::uint64_t>(p, static_cast<std::uint64_t>(h.target));
    putBigEndian<std::uint64_t>(p, static_cast<std::uint64_t>(h.sender));
    putBigEndian<std::uint64_t>(p, h.pos);
}

Datagram::Result Datagram::decode(std::string_view bytes) {
    if (bytes.size() < kDatagramHeaderSize + kDatagramMacSize) return {std::nullopt, DecodeError::TooShort};
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (takeBigEndian<std::uint32_t>(p) != kDatagramMagic) return {std::nullopt, DecodeError::BadMagic};
    if (takeBigEndian<std::uint8_t>(p) != kDatagramVersion) return {std::nullopt, DecodeError::BadVersion};
    auto kind = takeBigEndian<std::uint8_t>(p);
    auto targetKind = takeBigEndian<std::uint8_t>(p);
    takeBigEndian<std::uint8_t>(p);  // flags
    if (!validKind(kind) || !validTargetKind(targetKind)) return {std::nullopt, DecodeError::BadKind};
    DecodedDatagram d;
    auto& h = d.header;
    h.kind = static_cast<DatagramKind>(kind);
    h.targetKind = static_cast<TargetKind>(targetKind);
    h.keyId = takeBigEndian<std::uint8_t>(p);
    takeBigEndian<std::uint8_t>(p);
    takeBigEndian<std::uint16_t>(p);
    h.origin = takeBigEndian<std::uint32_t>(p);
    h.incarnation = takeBigEndian<std::uint64_t>(p);
    h.seq = takeBigEndian<std::uint64_t>(p);
    h.fragIndex = takeBigEndian<std::uint16_t>(p);
    h.fragCount = takeBigEndian<std::uint16_t>(p);
    h.length = takeBigEndian<std::uint32_t>(p);
    h.target = static_cast<std::int64_t>(takeBigEndian<std::uint64_t>(p));
    h.sender = static_cast<std::int64_t>(takeBigEndian<std::uint64_t>(p));
    h.pos = takeBigEndian<std::uint64_t>(p);
    if (bytes.size() != kDatagramHeaderSize + h.length + kDatagramMacSize)
        return {std::nullopt, DecodeError::BadLength};
    if (h.fragCount == 0 || h.fragIndex >= h.fragCount) return {std::nullopt, DecodeError::BadFragment};
    d.payload = bytes.substr(kDatagramHeaderSize, h.length);
    d.signedBytes = bytes.substr(0, kDatagramHeaderSize + h.length);
    d.mac = bytes.substr(kDatagramHeaderSize + h.length);
    return {d, DecodeError::TooShort};
}

}  // namespace chat::proto
