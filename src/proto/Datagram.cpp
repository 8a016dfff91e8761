#include "proto/Datagram.hpp"

#include <cstring>

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

bool validKind(std::uint8_t k) { return k >= 1 && k <= 3; }
bool validTargetKind(std::uint8_t k) { return k <= 2; }

}  // namespace

void Datagram::encodeHeader(const DatagramHeader& h, std::array<std::uint8_t, kDatagramHeaderSize>& out) {
    std::uint8_t* p = out.data();
    put<std::uint32_t>(p, kDatagramMagic);
    put<std::uint8_t>(p, kDatagramVersion);
    put<std::uint8_t>(p, static_cast<std::uint8_t>(h.kind));
    put<std::uint8_t>(p, static_cast<std::uint8_t>(h.targetKind));
    put<std::uint8_t>(p, 0);
    put<std::uint32_t>(p, h.origin);
    put<std::uint32_t>(p, h.length);
    put<std::uint64_t>(p, static_cast<std::uint64_t>(h.target));
    put<std::uint64_t>(p, static_cast<std::uint64_t>(h.sender));
}

std::string Datagram::encode(const DatagramHeader& header, std::string_view payload) {
    DatagramHeader h = header;
    h.length = static_cast<std::uint32_t>(payload.size());
    std::array<std::uint8_t, kDatagramHeaderSize> head{};
    encodeHeader(h, head);
    std::string out;
    out.reserve(kDatagramHeaderSize + payload.size());
    out.append(reinterpret_cast<const char*>(head.data()), head.size());
    out.append(payload);
    return out;
}

Datagram::Result Datagram::decode(std::string_view bytes) {
    if (bytes.size() < kDatagramHeaderSize) return {std::nullopt, DecodeError::TooShort};
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (get<std::uint32_t>(p) != kDatagramMagic) return {std::nullopt, DecodeError::BadMagic};
    if (get<std::uint8_t>(p) != kDatagramVersion) return {std::nullopt, DecodeError::BadVersion};
    auto kind = get<std::uint8_t>(p);
    auto targetKind = get<std::uint8_t>(p);
    get<std::uint8_t>(p);  // flags, reserved
    if (!validKind(kind) || !validTargetKind(targetKind)) return {std::nullopt, DecodeError::BadKind};
    DecodedDatagram d;
    d.header.kind = static_cast<DatagramKind>(kind);
    d.header.targetKind = static_cast<TargetKind>(targetKind);
    d.header.origin = get<std::uint32_t>(p);
    d.header.length = get<std::uint32_t>(p);
    d.header.target = static_cast<std::int64_t>(get<std::uint64_t>(p));
    d.header.sender = static_cast<std::int64_t>(get<std::uint64_t>(p));
    if (d.header.length != bytes.size() - kDatagramHeaderSize) return {std::nullopt, DecodeError::BadLength};
    d.payload = bytes.substr(kDatagramHeaderSize);
    return {d, DecodeError::TooShort};
}

}  // namespace chat::proto
