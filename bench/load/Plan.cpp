// See Plan.hpp.
#include "load/Plan.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace bench {

namespace {

Pacing pacingOf(const std::string& name) {
    if (name == "rate") return Pacing::Rate;
    if (name == "burst") return Pacing::Burst;
    if (name == "hold") return Pacing::Hold;
    throw std::runtime_error("plan: unknown pacing '" + name + "'");
}

ConnSpec connOf(const nlohmann::json& j) {
    ConnSpec c;
    c.user = j.at("user").get<std::int64_t>();
    c.token = j.at("token").get<std::string>();
    c.host = j.at("host").get<std::string>();
    c.port = j.at("port").get<std::uint16_t>();
    c.source = j.value("source", std::string("127.0.0.1"));
    c.cmd = j.value("cmd", 0);
    c.dst = j.value("dst", std::int64_t{0});
    c.expect = j.value("expect", std::vector<std::int64_t>{});
    c.slow = j.value("slow", false);
    return c;
}

}  // namespace

Plan Plan::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("plan: cannot read " + path);
    auto j = nlohmann::json::parse(in);
    Plan p;
    p.tag = j.at("tag").get<std::string>();
    p.pacing = pacingOf(j.at("pacing").get<std::string>());
    p.ratePerSender = j.value("ratePerSender", 0.0);
    p.durationMs = j.value("durationMs", std::uint64_t{0});
    p.messagesPerSender = j.value("messagesPerSender", std::uint64_t{0});
    p.window = j.value("window", 32u);
    p.contentBytes = j.value("contentBytes", std::size_t{64});
    p.connectConcurrency = j.value("connectConcurrency", 256u);
    p.connectTimeoutMs = j.value("connectTimeoutMs", p.connectTimeoutMs);
    p.syncTimeoutMs = j.value("syncTimeoutMs", p.syncTimeoutMs);
    p.drainTimeoutMs = j.value("drainTimeoutMs", p.drainTimeoutMs);
    p.slowResumeMs = j.value("slowResumeMs", p.slowResumeMs);
    p.slowReceiveBuffer = j.value("slowReceiveBuffer", p.slowReceiveBuffer);
    for (const auto& c : j.at("connections")) p.connections.push_back(connOf(c));
    if (p.tag.empty() || p.tag.find_first_of(" \"\\") != std::string::npos)
        throw std::runtime_error("plan: the tag must be one word");
    return p;
}

}  // namespace bench
