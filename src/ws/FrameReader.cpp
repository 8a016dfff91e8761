#include "ws/FrameReader.hpp"

#include <algorithm>

#include "proto/Utf8.hpp"

namespace chat::ws {

namespace {

constexpr unsigned char kContinuation = 0x0;
constexpr unsigned char kText = 0x1;
constexpr unsigned char kBinary = 0x2;
constexpr unsigned char kClose = 0x8;
constexpr unsigned char kPing = 0x9;
constexpr unsigned char kPong = 0xa;
constexpr std::size_t kMaxControlPayload = 125;

constexpr std::uint16_t kProtocolError = 1002;
constexpr std::uint16_t kNoStatus = 1005;
constexpr std::uint16_t kInvalidPayload = 1007;
constexpr std::uint16_t kTooBig = 1009;

// The codes a peer may send (RFC 6455 section 7.4, and the IANA registry's 1012-1014).
bool sendableCloseCode(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace

std::pair<FrameReader::Event, std::size_t> FrameReader::feed(std::string_view in) {
    std::size_t pos = 0;
    while (!failed_ && pos < in.size()) {
        if (!inPayload_) {
            header_[headerSize_++] = static_cast<unsigned char>(in[pos++]);
            if (headerSize_ == 2 && (header_[1] & 0x80) == 0) return {fail(kProtocolError, "unmasked frame"), pos};
            if (headerSize_ < headerNeeded()) continue;
            if (!startFrame()) return {Event::Failed, pos};
        } else {
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(payloadLeft_, in.size() - pos));
            takePayload(in.substr(pos, take));
            pos += take;
            payloadLeft_ -= take;
        }
        if (inPayload_ && payloadLeft_ == 0)
            if (auto event = endFrame(); event != Event::None) return {event, pos};
    }
    return {failed_ ? Event::Failed : Event::None, pos};
}

std::size_t FrameReader::headerNeeded() const {
    if (headerSize_ < 2) return 2;
    const unsigned length7 = header_[1] & 0x7f;
    const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    return 2 + extended + 4;
}

bool FrameReader::startFrame() {
    fin_ = (header_[0] & 0x80) != 0;
    opcode_ = header_[0] & 0x0f;
    if ((header_[0] & 0x70) != 0) return fail(kProtocolError, "reserved bits set"), false;
    const unsigned length7 = header_[1] & 0x7f;
    std::uint64_t length = length7;
    std::size_t at = 2;
    if (length7 >= 126) {
        const std::size_t bytes = length7 == 126 ? 2 : 8;
        length = 0;
        for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | header_[at + i];
        at += bytes;
        // The fewest bytes the length fits in, and never the top bit (section 5.2).
        if ((bytes == 2 && length < 126) || (bytes == 8 && (length <= 0xffff || (length >> 63) != 0)))
            return fail(kProtocolError, "badly encoded length"), false;
    }
    std::copy_n(header_.begin() + static_cast<std::ptrdiff_t>(at), 4, mask_.begin());
    maskPos_ = 0;
    payloadLeft_ = length;
    headerSize_ = 0;
    inPayload_ = true;

    if (opcode_ >= 0x8) {
        if (opcode_ != kClose && opcode_ != kPing && opcode_ != kPong)
            return fail(kProtocolError, "unknown opcode"), false;
        if (!fin_ || length > kMaxControlPayload) return fail(kProtocolError, "bad control frame"), false;
        control_.clear();
        return true;
    }
    if (opcode_ == kContinuation) {
        if (messageOpcode_ == 0) return fail(kProtocolError, "continuation of nothing"), false;
    } else if (opcode_ == kText || opcode_ == kBinary) {
        if (messageOpcode_ != 0) return fail(kProtocolError, "message inside a message"), false;
        messageOpcode_ = opcode_;
        messageSize_ = 0;
        skipping_ = false;
        message_.clear();
    } else {
        return fail(kProtocolError, "unknown opcode"), false;
    }
    if (length > hardCap_ - std::min<std::uint64_t>(messageSize_, hardCap_))
        return fail(kTooBig, "message too big"), false;
    messageSize_ += length;
    if (messageSize_ > maxMessage_ && !skipping_) {
        skipping_ = true;
        std::string().swap(message_);
    }
    if (!skipping_) message_.reserve(static_cast<std::size_t>(messageSize_));
    return true;
}

void FrameReader::takePayload(std::string_view bytes) {
    std::string& out = opcode_ >= 0x8 ? control_ : message_;
    if (opcode_ < 0x8 && skipping_) {
        maskPos_ = (maskPos_ + bytes.size()) & 3;
        return;
    }
    const std::size_t start = out.size();
    out.append(bytes);
    for (std::size_t i = start; i < out.size(); ++i, maskPos_ = (maskPos_ + 1) & 3)
        out[i] = static_cast<char>(static_cast<unsigned char>(out[i]) ^ mask_[maskPos_]);
}

FrameReader::Event FrameReader::endFrame() {
    inPayload_ = false;
    switch (opcode_) {
        case kPing:
            return Event::Ping;
        case kPong:
            return Event::Pong;
        case kClose:
            return closeFrame();
        default:
            return fin_ ? endMessage() : Event::None;
    }
}

FrameReader::Event FrameReader::endMessage() {
    const auto opcode = std::exchange(messageOpcode_, 0);
    if (std::exchange(skipping_, false)) return Event::TooLarge;
    if (opcode == kBinary) return Event::Binary;
    if (!proto::validUtf8(message_)) return fail(kInvalidPayload, "invalid UTF-8");
    return Event::Text;
}

FrameReader::Event FrameReader::closeFrame() {
    closeReason_.clear();
    if (control_.empty()) {
        closeCode_ = kNoStatus;
        return Event::Close;
    }
    if (control_.size() == 1) return fail(kProtocolError, "bad close frame");
    const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                                 static_cast<unsigned char>(control_[1]));
    if (!sendableCloseCode(code)) return fail(kProtocolError, "bad close code");
    std::string_view reason(control_);
    reason.remove_prefix(2);
    if (!proto::validUtf8(reason)) return fail(kInvalidPayload, "invalid UTF-8");
    closeCode_ = code;
    closeReason_ = std::string(reason);
    return Event::Close;
}

FrameReader::Event FrameReader::fail(std::uint16_t code, const char* reason) {
    failed_ = true;
    closeCode_ = code;
    closeReason_ = reason;
    std::string().swap(message_);
    return Event::Failed;
}

}  // namespace chat::ws
