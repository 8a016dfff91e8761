// The node's parts the HTTP endpoints use, passed down by reference from the Node.
#pragma once
#include <functional>

#include "auth/Authenticator.hpp"
#include "auth/LoginLimiter.hpp"
#include "auth/PasswordHasher.hpp"
#include "auth/RegistrationThrottle.hpp"
#include "config/Config.hpp"
#include "hub/Dispatcher.hpp"
#include "hub/KnownUsers.hpp"
#include "metrics/Metrics.hpp"
#include "store/Database.hpp"

namespace chat::api {

struct ApiContext {
    const config::Config& cfg;
    store::Database& db;
    auth::Authenticator& auth;
    auth::LoginLimiter& limiter;
    auth::RegistrationThrottle& registrations;
    const auth::PasswordHasher& hasher;
    hub::Dispatcher& dispatcher;
    hub::KnownUsers& knownUsers;
    metrics::Metrics& metrics;
    // Runs blocking file work (uploads) off the network threads.
    std::function<void(std::function<void()>)> runBlocking;
};

}  // namespace chat::api
