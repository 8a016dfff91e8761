// The hub's view of the cluster bus: something that puts a datagram on the wire.
// Implemented by bus::UdpBus; the indirection keeps the hub testable without sockets.
#pragma once
#include <string_view>

#include "proto/Datagram.hpp"

namespace chat::hub {

class Broadcaster {
public:
    virtual ~Broadcaster() = default;
    // False when the datagram could not be sent (too large, socket error).
    virtual bool broadcast(const proto::DatagramHeader& header, std::string_view payload) = 0;
};

}  // namespace chat::hub
