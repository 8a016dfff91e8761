#include "proto/Datagram.hpp"

namespace chat::proto {

namespace {

template <class T>
void put(std::uint8_t*& p, T v) {
    for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) *p++ = static_cast<std::uint8_t>(v >> shift);
}

template <class T>
T get(const unsigned char*& p) {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | *p++);
    return v;
}

bool validKind(std::uint8_t k) {
    return k >= 1 && k <= 9;
}
bool validTargetKind(std::uint8_t k) {
    return k <= 2;
}

}  // namespace

void Datagram::encodeHeader(const DatagramHeader& h, HeaderBytes& out) {
    std::uint8_t* p = out.data();
    put<std::uint32_t>(p, kDatagramMagic);
    put<std::uint8_t>(p, kDatagramVersion);
    put<std::uint8_t>(p, static_cast<std::uint8_t>(h.kind));
    put<std::uint8_t>(p, static_cast<std::uint8_t>(h.targetKind));
    put<std::uint8_t>(p, 0);
    put<std::uint8_t>(p, h.keyId);
    put<std::uint8_t>(p, 0);
    put<std::uint16_t>(p, 0);
    put<std::uint32_t>(p, h.origin);
    put<std::uint64_t>(p, h.incarnation);
    put<std::uint64_t>(p, h.seq);
    put<std::uint16_t>(p, h.fragIndex);
    put<std::uint16_t>(p, h.fragCount);
    put<std::uint32_t>(p, h.length);
    put<std::uint64_t>(p, static_cast<std::uint64_t>(h.target));
    put<std::uint64_t>(p, static_cast<std::uint64_t>(h.sender));
    put<std::uint64_t>(p, h.pos);
}

Datagram::Result Datagram::decode(std::string_view bytes) {
    if (bytes.size() < kDatagramHeaderSize + kDatagramMacSize) return {std::nullopt, DecodeError::TooShort};
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (get<std::uint32_t>(p) != kDatagramMagic) return {std::nullopt, DecodeError::BadMagic};
    if (get<std::uint8_t>(p) != kDatagramVersion) return {std::nullopt, DecodeError::BadVersion};
    auto kind = get<std::uint8_t>(p);
    auto targetKind = get<std::uint8_t>(p);
    get<std::uint8_t>(p);  // flags
    if (!validKind(kind) || !validTargetKind(targetKind)) return {std::nullopt, DecodeError::BadKind};
    DecodedDatagram d;
    auto& h = d.header;
    h.kind = static_cast<DatagramKind>(kind);
    h.targetKind = static_cast<TargetKind>(targetKind);
    h.keyId = get<std::uint8_t>(p);
    get<std::uint8_t>(p);
    get<std::uint16_t>(p);
    h.origin = get<std::uint32_t>(p);
    h.incarnation = get<std::uint64_t>(p);
    h.seq = get<std::uint64_t>(p);
    h.fragIndex = get<std::uint16_t>(p);
    h.fragCount = get<std::uint16_t>(p);
    h.length = get<std::uint32_t>(p);
    h.target = static_cast<std::int64_t>(get<std::uint64_t>(p));
    h.sender = static_cast<std::int64_t>(get<std::uint64_t>(p));
    h.pos = get<std::uint64_t>(p);
    if (bytes.size() != kDatagramHeaderSize + h.length + kDatagramMacSize)
        return {std::nullopt, DecodeError::BadLength};
    if (h.fragCount == 0 || h.fragIndex >= h.fragCount) return {std::nullopt, DecodeError::BadFragment};
    d.payload = bytes.substr(kDatagramHeaderSize, h.length);
    d.signedBytes = bytes.substr(0, kDatagramHeaderSize + h.length);
    d.mac = bytes.substr(kDatagramHeaderSize + h.length);
    return {d, DecodeError::TooShort};
}

}  // namespace chat::proto
