// Big-endian integers in byte strings: the datagram header and the bus's payload codecs
// (SeqRanges, IdList, ChatPack) all write and read their fields this way.
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace chat::proto {

// Writes `value` at `p` and moves `p` past it.
template <class T>
void putBigEndian(std::uint8_t*& p, T value) {
    for (int shift = (static_cast<int>(sizeof(T)) - 1) * 8; shift >= 0; shift -= 8)
        *p++ = static_cast<std::uint8_t>(value >> shift);
}

// Reads a value at `p` and moves `p` past it; the caller has checked that the bytes are there.
// One load and one byte swap: every node reads these fields in every datagram it receives.
template <class T>
T takeBigEndian(const unsigned char*& p) {
    static_assert(std::is_unsigned_v<T>);
    T value;
    std::memcpy(&value, p, sizeof(T));
    p += sizeof(T);
    if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
        return value;
    } else if constexpr (sizeof(T) == 2) {
        return __builtin_bswap16(value);
    } else if constexpr (sizeof(T) == 4) {
        return __builtin_bswap32(value);
    } else {
        static_assert(sizeof(T) == 8);
        return __builtin_bswap64(value);
    }
}

template <class T>
void appendBigEndian(std::string& out, T value) {
    std::array<std::uint8_t, sizeof(T)> bytes;
    std::uint8_t* p = bytes.data();
    putBigEndian(p, value);
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Reads sizeof(T) bytes at `at`; the caller has checked that they are there.
template <class T>
T readBigEndian(std::string_view bytes, std::size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    return takeBigEndian<T>(p);
}

}  // namespace chat::proto
