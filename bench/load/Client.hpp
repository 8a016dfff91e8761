// One WebSocket client connection of the load generator: binds its source address, connects,
// upgrades with the user's token, then reads frames until told to pause or the server closes,
// and writes what it is given one frame at a time. It knows nothing of the benchmark: it
// reports to a ClientListener, by the index the lane gave it. Beast stays inside Client.cpp
// (a Beast file costs ~15 s to compile).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "load/Plan.hpp"

namespace boost::asio {
class io_context;
}

namespace bench {

class ClientListener {
public:
    virtual void onOpen(std::size_t index) = 0;
    // Connect or upgrade failed (the client never opened); called once.
    virtual void onFailed(std::size_t index, const std::string& why) = 0;
    virtual void onFrame(std::size_t index, std::string_view text) = 0;
    // An open connection ended: a close frame's code, or -1 with the error; called once.
    virtual void onClosed(std::size_t index, int code, const std::string& why) = 0;

protected:
    ~ClientListener() = default;
};

class Client {
public:
    static std::shared_ptr<Client> create(boost::asio::io_context& io, const ConnSpec& spec, int receiveBuffer,
                                          ClientListener& listener, std::size_t index);
    virtual ~Client() = default;

    virtual void start() = 0;
    virtual void send(std::string text) = 0;
    // Frames written or waiting to be written.
    virtual std::size_t queued() const = 0;
    // The slow reader: stop asking the socket for data, and start again.
    virtual void pauseReading() = 0;
    virtual void resumeReading() = 0;
    // Closes the socket at once: pending operations end with an error.
    virtual void abort() = 0;
};

}  // namespace bench
