// The admin address's endpoints: /metrics (Prometheus text), /healthz and /bus (the
// cluster as this node's bus sees it: peers, incarnations, sequence numbers, gaps).
#pragma once
#include <functional>

#include "bus/UdpBus.hpp"
#include "http/Router.hpp"
#include "metrics/Metrics.hpp"
#include "store/Database.hpp"

namespace chat::api {

class AdminApi {
public:
    AdminApi(metrics::Metrics& metrics, store::Database& db, bus::UdpBus& bus)
        : metrics_(metrics), db_(db), bus_(bus) {}
    void install(http::Router& router);

private:
    metrics::Metrics& metrics_;
    store::Database& db_;
    bus::UdpBus& bus_;
};

}  // namespace chat::api
