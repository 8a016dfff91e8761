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

std::string MessageCodec::ack(std::int64_t id, const std::string& cid, std::int64_t createat) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Ack);
    j["id"] = id;
    putCid(j, cid);
    j["createat"] = createat;
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

std::string MessageCodec::gap(std::uint64_t lostDatagrams) {
    Json j;
    j["cmd"] = static_cast<int>(Cmd::Gap);
    j["lost"] = lostDatagrams;
    j["msg"] = "some messages may have been lost";
    return j.dump();
}

}  // namespace chat::proto
