// What the hub needs of a connection: a non-blocking, thread-safe way to hand it bytes
// and to close it. WebSocket sessions implement it; hub tests use a plain fake.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chat::hub {

// One encoded frame, shared by every recipient of a message.
using SharedFrame = std::shared_ptr<const std::string>;

enum class CloseCode : std::uint16_t {
    GoingAway = 1001,        // node shutting down
    PolicyViolation = 1008,  // slow consumer, abusive client
    LoggedOut = 4001,        // the token this connection used was revoked
};

// How many connections one delivery hands a frame to, which decides how a connection writes
// it. A frame for one person (a single chat, a notice, an ack) leaves at once from the
// delivering thread when the connection has nothing else to write: no hand-over to its
// strand and no thread woken for one small write. A room's frame is queued for the strand,
// so the delivering thread only queues, and frames that arrive together leave in one write.
enum class Fanout { One, Many };

class Recipient {
public:
    Recipient(std::int64_t userId, std::int64_t tokenId) : userId_(userId), tokenId_(tokenId) {}
    virtual ~Recipient() = default;
    Recipient(const Recipient&) = delete;
    Recipient& operator=(const Recipient&) = delete;

    // Queues the frame; never blocks. Past the connection's bound, closes it instead. `pos` is
    // the frame's stream position (chat messages and acks), 0 for frames outside the stream
    // (errors, notices), so a connection that is catching up from the history can tell which
    // live frames it has already sent.
    virtual void deliver(const SharedFrame& frame, std::uint64_t pos, Fanout fanout) = 0;
    // The answer to a message this connection sent, at the message's stream position
    // (written like Fanout::One).
    virtual void acknowledge(const SharedFrame& ack, std::uint64_t pos) = 0;
    // Stream positions before the next live frame were given up: catch up from the history
    // before taking live frames again. Called before that next frame is delivered.
    virtual void resync() = 0;
    virtual void close(CloseCode code, std::string_view reason) = 0;

    std::int64_t userId() const { return userId_; }
    std::int64_t tokenId() const { return tokenId_; }

private:
    std::int64_t userId_;
    std::int64_t tokenId_;
};

}  // namespace chat::hub
