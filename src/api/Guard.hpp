// Wraps endpoint handlers: parses parameters, answers ApiError with its status and any
// other exception with a bare 500, and for protected endpoints establishes who the
// caller is (id + token fields, or Authorization: Bearer) before the handler runs.
#pragma once
#include <functional>

#include "api/Params.hpp"
#include "auth/Authenticator.hpp"
#include "http/Request.hpp"

namespace chat::api {

struct Call {
    http::Request request;
    Params params;
    http::Respond respond;
};

using OpenHandler = std::function<void(const Call&)>;
using AuthedHandler = std::function<void(const Call&, const auth::Identity&)>;

class Guard {
public:
    static http::Handler open(OpenHandler handler);
    static http::Handler authenticated(auth::Authenticator& auth, AuthedHandler handler);
    // Runs fn, answering any escaping exception; every handler body goes through it.
    static void shielded(const http::Respond& respond, const std::function<void()>& fn);
};

}  // namespace chat::api
