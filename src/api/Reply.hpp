// The seed's answer envelope {"code":0|-1,"msg":"...","data":...} and the mapping of
// store failures to answers that say nothing about internals.
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "http/Request.hpp"
#include "store/Database.hpp"
#include "store/Records.hpp"

namespace chat::api {

using Json = nlohmann::json;

// A request the caller got wrong; thrown inside handlers and answered at their boundary.
struct ApiError : std::runtime_error {
    ApiError(int status, const std::string& msg) : std::runtime_error(msg), status(status) {}
    int status;
};

class Reply {
public:
    static http::Response ok(Json data);
    static http::Response fail(int status, const std::string& msg);
    static http::Response failure(const store::DbFailure& f);  // 503 when busy, 500 otherwise

    static Json publicProfile(const store::UserRecord& u);
    static Json ownProfile(const store::UserRecord& u);  // adds the mobile number
    static Json community(const store::CommunityRecord& c);
};

}  // namespace chat::api
