// Magic-number checks for accepted upload types; see ContentSniffer.hpp.
#include "http/ContentSniffer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace chat::http {
namespace {

std::uint8_t byteAt(std::string_view s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

SniffedType image(std::string_view sub, std::string_view ext) {
    return {"image/" + std::string(sub), std::string(ext), "image"};
}
SniffedType audio(std::string_view mime, std::string_view ext) {
    return {std::string(mime), std::string(ext), "audio"};
}

// ID3v2 header: "ID3", major version 2..4, revision, flags, four 7-bit size bytes.
bool isId3(std::string_view b) {
    if (b.size() < 10 || !startsWith(b, "ID3")) return false;
    if (byteAt(b, 3) < 2 || byteAt(b, 3) > 4 || byteAt(b, 4) == 0xFF) return false;
    for (std::size_t i = 6; i < 10; ++i) {
        if (byteAt(b, i) & 0x80) return false;
    }
    return true;
}

// An MPEG audio frame header: 11 sync bits, no reserved version/layer/bitrate/sample-rate values.
// Layer 0 (reserved) also rules out AAC ADTS, which shares the sync word.
bool isMpegFrame(std::string_view b) {
    if (b.size() < 4 || byteAt(b, 0) != 0xFF || (byteAt(b, 1) & 0xE0) != 0xE0) return false;
    unsigned version = (byteAt(b, 1) >> 3) & 0x03;
    unsigned layer = (byteAt(b, 1) >> 1) & 0x03;
    unsigned bitrate = byteAt(b, 2) >> 4;
    unsigned sampleRate = (byteAt(b, 2) >> 2) & 0x03;
    return version != 1 && layer != 0 && bitrate != 0x0F && sampleRate != 3;
}

// ISO base media: a leading "ftyp" box whose major brand picks audio or video.
std::optional<SniffedType> sniffFtyp(std::string_view b) {
    if (b.size() < 12 || b.substr(4, 4) != "ftyp") return std::nullopt;
    std::string_view brand = b.substr(8, 4);
    if (brand == "M4A ") return audio("audio/mp4", ".m4a");
    static constexpr std::array<std::string_view, 7> kVideoBrands = {"isom", "iso2", "mp41", "mp42",
                                                                     "avc1", "dash", "M4V "};
    for (std::string_view v : kVideoBrands) {
        if (brand == v) return SniffedType{"video/mp4", ".mp4", "video"};
    }
    return std::nullopt;
}

// EBML variable-length integer at b[pos]; `keepMarker` for element IDs. nullopt if truncated or invalid.
std::optional<std::uint64_t> readVint(std::string_view b, std::size_t& pos, bool keepMarker) {
    if (pos >= b.size()) return std::nullopt;
    std::uint8_t first = byteAt(b, pos);
    std::size_t length = 1;
    while (length <= 8 && !(first & (0x80 >> (length - 1)))) ++length;
    if (length > 8 || pos + length > b.size()) return std::nullopt;
    std::uint64_t value = keepMarker ? first : (first & (0xFF >> length));
    for (std::size_t i = 1; i < length; ++i) value = (value << 8) | byteAt(b, pos + i);
    pos += length;
    return value;
}

// WebM is Matroska with DocType "webm" in the EBML header; plain Matroska is not accepted.
bool isWebm(std::string_view b) {
    static constexpr std::string_view kEbmlMagic = "\x1A\x45\xDF\xA3";
    if (!startsWith(b, kEbmlMagic)) return false;
    std::size_t pos = kEbmlMagic.size();
    auto headerSize = readVint(b, pos, false);
    if (!headerSize) return false;
    std::size_t end = std::min<std::uint64_t>(b.size(), pos + std::min<std::uint64_t>(*headerSize, b.size()));
    while (pos < end) {
        auto id = readVint(b, pos, true);
        auto size = readVint(b, pos, false);
        if (!id || !size || pos > end || *size > end - pos) return false;
        std::string_view data = b.substr(pos, static_cast<std::size_t>(*size));
        if (*id == 0x4282) {  // DocType; may be padded with NULs
            std::size_t nul = data.find('\0');
            return data.substr(0, nul) == "webm";
        }
        pos += static_cast<std::size_t>(*size);
    }
    return false;
}

}  // namespace

std::optional<SniffedType> ContentSniffer::sniff(std::string_view b) {
    if (startsWith(b, "\x89PNG\r\n\x1A\n")) return image("png", ".png");
    if (startsWith(b, "\xFF\xD8\xFF")) return image("jpeg", ".jpg");
    if (startsWith(b, "GIF87a") || startsWith(b, "GIF89a")) return image("gif", ".gif");
    if (b.size() >= 12 && startsWith(b, "RIFF")) {
        if (b.substr(8, 4) == "WEBP") return image("webp", ".webp");
        if (b.substr(8, 4) == "WAVE") return audio("audio/wav", ".wav");
        return std::nullopt;
    }
    if (startsWith(b, "OggS")) return audio("audio/ogg", ".ogg");
    if (isId3(b) || isMpegFrame(b)) return audio("audio/mpeg", ".mp3");
    if (auto ftyp = sniffFtyp(b)) return ftyp;
    if (isWebm(b)) return SniffedType{"video/webm", ".webm", "video"};
    return std::nullopt;
}

}  // namespace chat::http
