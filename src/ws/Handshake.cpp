#include "ws/Handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace chat::ws {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string refusal(std::string_view status, std::string_view extraHeader, std::string_view msg) {
    std::string body = std::string(R"({"code":-1,"msg":")") + std::string(msg) + "\"}";
    return "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: application/json\r\nConnection: close\r\n" +
           std::string(extraHeader) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A key is 16 random bytes in base64: 24 characters, the last two "==".
bool wellFormedKey(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") return false;
    for (char c : key.substr(0, 22))
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    return true;
}

}  // namespace

Handshake::Handshake(const http::BeastRequest& request) {
    auto key = request[bhttp::field::sec_websocket_key];
    auto version = request[bhttp::field::sec_websocket_version];
    if (version != "13") {
        response_ = refusal("426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n", "WebSocket version 13 only");
        return;
    }
    if (!wellFormedKey(std::string_view(key.data(), key.size()))) {
        response_ = refusal("400 Bad Request", "", "bad Sec-WebSocket-Key");
        return;
    }
    accepted_ = true;
    response_ =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
        acceptKey(std::string_view(key.data(), key.size())) + "\r\n\r\n";
}

std::string Handshake::acceptKey(std::string_view key) {
    std::string input = std::string(key) + std::string(kGuid);
    std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
    std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
    const int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
    return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

}  // namespace chat::ws
