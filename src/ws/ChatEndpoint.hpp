// GET /chat with Upgrade: checks the Origin and the token before the handshake (a bad
// one gets a plain HTTP 401/403 and never becomes a WebSocket), then starts a ChatSession.
#pragma once
#include "http/UpgradeHandler.hpp"
#include "ws/ChatServices.hpp"
#include "ws/OriginPolicy.hpp"

namespace chat::ws {

class ChatEndpoint : public http::UpgradeHandler {
public:
    explicit ChatEndpoint(ChatServices services) : services_(services), origins_(services.cfg.allowedOrigins) {}
    void upgrade(boost::beast::tcp_stream stream, http::BeastRequest request, std::string clientAddress) override;

private:
    ChatServices services_;
    OriginPolicy origins_;
};

}  // namespace chat::ws
