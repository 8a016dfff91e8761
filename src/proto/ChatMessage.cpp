#include "proto/ChatMessage.hpp"

#include <nlohmann/json.hpp>

namespace chat::proto {

namespace {

using Json = nlohmann::ordered_json;

void putCid(Json& j, const std::string& cid) {
    if (!cid.empty()) j["cid"] = Json::parse(cid);
}

}  // namespace

std::string MessageCodec::encode(const ChatMessage& m) {
    Json j;
    j["id"] = m.id;
    j["userid"] = m.userid;
    j["cmd"] = static_cast<int>(m.cmd);
    j["dstid"] = m.dstid;
    j["media"] = static_cast<int>(m.media);
    if (m.content) j["content"] = *m.content;
    if (m.pic) j["pic"] = *m.pic;
    if (m.url) j["url"] = *m.url;
    if (m.memo) j["memo"] = *m.memo;
    if (m.amount) j["amount"] = *m.amount;
    j["createat"] = m.createat;
    return j.dump();
}

std::string MessageCodec::withPos(std::string_view frame, std::uint64_t pos) {
    // Appending to the encoded text is cheaper than a parse and a dump, and encode() always
    // ends an object with '}'.
    auto close = frame.rfind('}');
    if (close == std::string_view::npos) return std::string(frame);
    std::string out;
    out.reserve(frame.size() + 28);
    out.append(frame.substr(0, close));
    out.append(close > 1 ? ",\"pos\":" : "\"pos\":");
    out.append(std::to_string(pos));
    out.append(frame.substr(close));
    return out;
}

std::string MessageCodec::ack(std::int64_t id, const std::string& cid, std::int64_t createat, std::uint64_t pos) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Ack);
    j["id"] = id;
    putCid(j, cid);
    j["createat"] = createat;
    j["pos"] = pos;
    return j.dump();
}

std::string MessageCodec::syncEnd(std::uint64_t pos) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::SyncEnd);
    j["pos"] = pos;
    return j.dump();
}

std::string MessageCodec::presence(const std::vector<std::int64_t>& online, const std::vector<std::int64_t>& offline) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Presence);
    j["online"] = online;
    j["offline"] = offline;
    return j.dump();
}

std::string MessageCodec::readMark(bool group, std::int64_t peer, std::uint64_t pos) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Read);
    j[group ? "group" : "peer"] = peer;
    j["pos"] = pos;
    return j.dump();
}

std::string MessageCodec::error(int code, const std::string& msg, const std::string& cid) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Error);
    j["code"] = code;
    j["msg"] = msg;
    putCid(j, cid);
    return j.dump();
}

}  // namespace chat::proto
