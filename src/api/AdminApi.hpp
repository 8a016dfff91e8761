// The admin address's endpoints: /metrics (Prometheus text) and /healthz.
#pragma once
#include <functional>

#include "http/Router.hpp"
#include "metrics/Metrics.hpp"
#include "store/Database.hpp"

namespace chat::api {

class AdminApi {
public:
    AdminApi(metrics::Metrics& metrics, store::Database& db, std::function<bool()> busOpen)
        : metrics_(metrics), db_(db), busOpen_(std::move(busOpen)) {}
    void install(http::Router& router);

private:
    metrics::Metrics& metrics_;
    store::Database& db_;
    std::function<bool()> busOpen_;
};

}  // namespace chat::api
