// A chat message as it travels between client, node and bus, and its JSON encoding.
// Encoding happens once per message; every recipient shares the resulting bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace chat::proto {

enum class Cmd : int { Heartbeat = 0, Ack = 1, Single = 10, Group = 11, Gap = 14, Error = 99 };

enum class Media : int {
    Text = 1,
    News = 2,
    Voice = 3,
    Image = 4,
    RedPacket = 5,
    Emoji = 6,
    Link = 7,
    Video = 8,
    Card = 9,
    Custom = 100
};

struct ChatMessage {
    std::int64_t id = 0;      // assigned by the sender's node
    std::int64_t userid = 0;  // the authenticated sender, never the client's word
    Cmd cmd = Cmd::Single;
    std::int64_t dstid = 0;  // user (single) or group id
    Media media = Media::Text;
    std::optional<std::string> content, pic, url, memo;
    std::optional<std::int64_t> amount;
    std::int64_t createat = 0;  // milliseconds since the Unix epoch, from the id
};

// Wire encodings of what a node sends to clients.
class MessageCodec {
public:
    static std::string encode(const ChatMessage& m);
    // `cid` is the client's own id as JSON text ("42" or "\"abc\""); empty when it gave none.
    static std::string ack(std::int64_t id, const std::string& cid, std::int64_t createat);
    static std::string error(int code, const std::string& msg, const std::string& cid);
    // The bus lost datagrams it could not recover: messages for this client may be missing.
    static std::string gap(std::uint64_t lostDatagrams);
};

}  // namespace chat::proto
