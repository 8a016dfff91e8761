// Big-endian integers in byte strings: the bus's payload codecs (SeqRanges, IdList, ChatPack)
// all write and read their fields this way.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace chat::proto {

template <class T>
void appendBigEndian(std::string& out, T value) {
    for (int shift = (static_cast<int>(sizeof(T)) - 1) * 8; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>(value >> shift));
}

// Reads sizeof(T) bytes at `at`; the caller has checked that they are there.
template <class T>
T readBigEndian(std::string_view bytes, std::size_t at) {
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        value = static_cast<T>((value << 8) | static_cast<unsigned char>(bytes[at + i]));
    return value;
}

}  // namespace chat::proto
