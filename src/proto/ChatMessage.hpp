// A chat message as it travels between client, node and bus, and its JSON encoding.
// Encoding happens once per message; every recipient shares the resulting bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::proto {

enum class Cmd : int {
    Heartbeat = 0,
    Ack = 1,
    Single = 10,
    Group = 11,
    Sync = 12,      // client: "send me what came after `since`"
    SyncEnd = 13,   // node: the sync is complete up to `pos`; live frames follow
    Read = 15,      // node: the user read a conversation up to `pos` (on some device)
    Watch = 16,     // client: "tell me who of these users is online"
    Presence = 17,  // node: who of the watched users came online or went offline
    Error = 99
};

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
    // The message without its stream position, as the history stores it.
    static std::string encode(const ChatMessage& m);
    // An encoded message (a JSON object) with "pos" appended: what every recipient receives.
    static std::string withPos(std::string_view frame, std::uint64_t pos);
    // `cid` is the client's own id as JSON text ("42" or "\"abc\""); empty when it gave none.
    static std::string ack(std::int64_t id, const std::string& cid, std::int64_t createat, std::uint64_t pos);
    static std::string syncEnd(std::uint64_t pos);
    // `group` false: `peer` is a user.
    static std::string readMark(bool group, std::int64_t peer, std::uint64_t pos);
    static std::string presence(const std::vector<std::int64_t>& online, const std::vector<std::int64_t>& offline);
    static std::string error(int code, const std::string& msg, const std::string& cid);
};

}  // namespace chat::proto
