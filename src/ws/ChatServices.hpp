// The node's parts a WebSocket session uses, passed down by reference from the Node.
#pragma once
#include "auth/Authenticator.hpp"
#include "config/Config.hpp"
#include "hub/Dispatcher.hpp"
#include "hub/Hub.hpp"
#include "hub/KnownUsers.hpp"
#include "hub/Presence.hpp"
#include "metrics/Metrics.hpp"
#include "proto/IdGenerator.hpp"
#include "store/Database.hpp"

namespace chat::ws {

struct ChatServices {
    const config::Config& cfg;
    hub::Hub& hub;
    hub::Dispatcher& dispatcher;
    hub::Presence& presence;
    hub::KnownUsers& knownUsers;
    proto::IdGenerator& ids;
    store::Database& db;
    auth::Authenticator& auth;
    metrics::Metrics& metrics;
};

}  // namespace chat::ws
