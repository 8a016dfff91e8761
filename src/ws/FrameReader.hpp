// Reads a client's WebSocket frames (RFC 6455, section 5) from bytes in whatever pieces they
// arrive: unmasks them, joins fragmented messages, checks every rule a client frame must keep,
// and reports one event at a time. It keeps no memory between messages but what the session
// has not yet released, so an idle connection holds nothing here.
//
// A data message above maxMessage is skipped as it arrives, never kept (the session answers it
// and reads on); one above hardCap, or any breach of the protocol, fails the connection with
// the close code to send.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace chat::ws {

class FrameReader {
public:
    enum class Event {
        None,      // all the bytes given were taken; no event yet
        Text,      // message() holds a whole text message, valid UTF-8
        Binary,    // message() holds a whole binary message
        TooLarge,  // a data message above maxMessage was skipped
        Ping,      // control() holds the payload
        Pong,
        Close,   // closeCode() (1005: the frame had none) and closeReason()
        Failed,  // closeCode(): 1002 protocol error, 1007 invalid UTF-8, 1009 above the hard cap
    };

    FrameReader(std::size_t maxMessage, std::size_t hardCap) : maxMessage_(maxMessage), hardCap_(hardCap) {}

    // Takes bytes from `in` up to and including the next event; returns it and the bytes taken.
    // After Failed, every call returns Failed.
    std::pair<Event, std::size_t> feed(std::string_view in);

    const std::string& message() const { return message_; }
    std::string_view control() const { return control_; }
    std::uint16_t closeCode() const { return closeCode_; }
    const std::string& closeReason() const { return closeReason_; }
    // Gives the last message's memory back (not a message still arriving); call after each event.
    void release() {
        if (messageOpcode_ == 0) std::string().swap(message_);
    }

private:
    std::size_t headerNeeded() const;
    bool startFrame();
    void takePayload(std::string_view bytes);
    Event endFrame();
    Event endMessage();
    Event closeFrame();
    Event fail(std::uint16_t code, const char* reason);

    const std::size_t maxMessage_;
    const std::size_t hardCap_;
    std::array<unsigned char, 14> header_{};
    std::size_t headerSize_ = 0;
    bool inPayload_ = false;
    // The frame being read.
    unsigned char opcode_ = 0;
    bool fin_ = false;
    std::uint64_t payloadLeft_ = 0;
    std::array<unsigned char, 4> mask_{};
    std::size_t maskPos_ = 0;
    // The data message being read (opcode 0: none).
    unsigned char messageOpcode_ = 0;
    std::uint64_t messageSize_ = 0;
    bool skipping_ = false;
    std::string message_;
    std::string control_;
    std::uint16_t closeCode_ = 0;
    std::string closeReason_;
    bool failed_ = false;
};

}  // namespace chat::ws
