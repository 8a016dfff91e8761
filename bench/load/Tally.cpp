// See Tally.hpp.
#include "load/Tally.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bench {

namespace {

template <typename K>
void add(std::map<K, std::uint64_t>& into, const std::map<K, std::uint64_t>& from) {
    for (const auto& [k, v] : from) into[k] += v;
}

template <typename K>
nlohmann::json keyed(const std::map<K, std::uint64_t>& m) {
    auto out = nlohmann::json::object();
    for (const auto& [k, v] : m) {
        if constexpr (std::is_same_v<K, std::string>)
            out[k] = v;
        else
            out[std::to_string(k)] = v;
    }
    return out;
}

nlohmann::json optionalNs(std::uint64_t ns) {
    if (ns == 0 || ns == std::numeric_limits<std::uint64_t>::max()) return nullptr;
    return ns;
}

}  // namespace

void ReceiveTally::merge(const ReceiveTally& o) {
    expected += o.expected;
    unique += o.unique;
    duplicates += o.duplicates;
    late += o.late;
    latency.merge(o.latency);
}

nlohmann::json ReceiveTally::toJson() const {
    return {{"expected", expected},
            {"unique", unique},
            {"duplicates", duplicates},
            {"late", late},
            {"latency", latency.toJson()}};
}

void Tally::merge(const Tally& o) {
    opened += o.opened;
    failed += o.failed;
    add(failures, o.failures);
    synced += o.synced;
    firstStartNs = std::min(firstStartNs, o.firstStartNs);
    lastOpenNs = std::max(lastOpenNs, o.lastOpenNs);
    lastSyncNs = std::max(lastSyncNs, o.lastSyncNs);
    connectLatency.merge(o.connectLatency);
    syncLatency.merge(o.syncLatency);
    issued += o.issued;
    skipped += o.skipped;
    acked += o.acked;
    add(errorCodes, o.errorCodes);
    firstSendNs = std::min(firstSendNs, o.firstSendNs);
    lastSendNs = std::max(lastSendNs, o.lastSendNs);
    ackLatency.merge(o.ackLatency);
    receivers.merge(o.receivers);
    slow.merge(o.slow);
    slowClients += o.slowClients;
    slowClosed += o.slowClosed;
    add(slowCloseCodes, o.slowCloseCodes);
    unexpected += o.unexpected;
    foreign += o.foreign;
    invalid += o.invalid;
    gapNotices += o.gapNotices;
    otherFrames += o.otherFrames;
    lastReceiveNs = std::max(lastReceiveNs, o.lastReceiveNs);
    closedEarly += o.closedEarly;
    add(closeCodes, o.closeCodes);
}

nlohmann::json Tally::connectJson() const {
    return {{"opened", opened},
            {"failed", failed},
            {"failures", keyed(failures)},
            {"synced", synced},
            {"firstStartNs", optionalNs(firstStartNs)},
            {"lastOpenNs", optionalNs(lastOpenNs)},
            {"lastSyncNs", optionalNs(lastSyncNs)},
            {"connectLatency", connectLatency.toJson()},
            {"syncLatency", syncLatency.toJson()}};
}

nlohmann::json Tally::toJson() const {
    auto out = connectJson();
    out["issued"] = issued;
    out["skipped"] = skipped;
    out["acked"] = acked;
    out["errorCodes"] = keyed(errorCodes);
    out["firstSendNs"] = optionalNs(firstSendNs);
    out["lastSendNs"] = optionalNs(lastSendNs);
    out["ackLatency"] = ackLatency.toJson();
    out["receivers"] = receivers.toJson();
    out["slow"] = slow.toJson();
    out["slow"]["clients"] = slowClients;
    out["slow"]["closed"] = slowClosed;
    out["slow"]["closeCodes"] = keyed(slowCloseCodes);
    out["unexpected"] = unexpected;
    out["foreign"] = foreign;
    out["invalid"] = invalid;
    out["gapNotices"] = gapNotices;
    out["otherFrames"] = otherFrames;
    out["lastReceiveNs"] = optionalNs(lastReceiveNs);
    out["closedEarly"] = closedEarly;
    out["closeCodes"] = keyed(closeCodes);
    return out;
}

}  // namespace bench
