#include "ws/ChatEndpoint.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "http/UrlCodec.hpp"
#include "ws/ChatSession.hpp"

namespace chat::ws {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

struct Credentials {
    std::string token;
    std::optional<std::int64_t> claimedUser;
    bool claimMalformed = false;
};

using QueryParams = std::map<std::string, std::string>;

QueryParams queryOf(const http::BeastRequest& req) {
    auto query = http::UrlCodec::splitTarget(std::string_view(req.target().data(), req.target().size())).second;
    return http::UrlCodec::parseForm(query).value_or(QueryParams{});
}

// The last stream position the device holds: nullopt when it gave none; false when malformed.
std::optional<std::optional<std::uint64_t>> sinceOf(const QueryParams& params) {
    auto it = params.find("since");
    if (it == params.end() || it->second.empty()) return std::optional<std::uint64_t>{};
    auto pos = proto::FrameParser::position(it->second);
    if (!pos) return std::nullopt;
    return pos;
}

Credentials credentialsOf(const http::BeastRequest& req, const QueryParams& params) {
    Credentials c;
    if (auto it = params.find("token"); it != params.end()) c.token = it->second;
    auto auth = req[bhttp::field::authorization];
    if (c.token.empty() && auth.size() > 7 && beast::iequals(auth.substr(0, 7), "Bearer "))
        c.token = std::string(auth.substr(7));
    if (auto it = params.find("id"); it != params.end()) {
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), id);
        if (ec != std::errc{} || end != it->second.data() + it->second.size())
            c.claimMalformed = true;
        else
            c.claimedUser = id;
    }
    return c;
}

// Answers a refused upgrade with plain HTTP and closes the connection.
void refuse(std::shared_ptr<beast::tcp_stream> stream, unsigned version, bhttp::status status, const char* msg) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(status, version);
    res->set(bhttp::field::content_type, "application/json");
    res->body() = std::string(R"({"code":-1,"msg":")") + msg + "\"}";
    res->keep_alive(false);
    res->prepare_payload();
    stream->expires_after(std::chrono::seconds(5));
    bhttp::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream->socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    });
}

}  // namespace

void ChatEndpoint::upgrade(beast::tcp_stream stream, http::BeastRequest request, std::string clientAddress) {
    auto holder = std::make_shared<beast::tcp_stream>(std::move(stream));
    auto version = request.version();
    auto origin = request.find(bhttp::field::origin);
    auto host = request.find(bhttp::field::host);
    std::string originValue = origin == request.end() ? "" : std::string(origin->value());
    std::string hostValue = host == request.end() ? "" : std::string(host->value());
    if (!origins_.allows(origin == request.end() ? nullptr : &originValue,
                         host == request.end() ? nullptr : &hostValue)) {
        spdlog::info("ws: refused origin {} from {}", originValue, clientAddress);
        return refuse(holder, version, bhttp::status::forbidden, "origin not allowed");
    }
    auto params = queryOf(request);
    auto creds = credentialsOf(request, params);
    if (creds.token.empty() || creds.claimMalformed)
        return refuse(holder, version, bhttp::status::unauthorized, "invalid or missing credentials");
    auto since = sinceOf(params);
    if (!since) return refuse(holder, version, bhttp::status::bad_request, "since must be a stream position");

    auto req = std::make_shared<http::BeastRequest>(std::move(request));
    services_.auth.check(
        creds.token, creds.claimedUser,
        [this, holder, req, since = *since, client = std::move(clientAddress)](auth::AuthStatus status,
                                                                               auth::Identity id) {
            net::post(holder->get_executor(), [this, holder, req, since, client, status, id] {
                if (status == auth::AuthStatus::Unavailable)
                    return refuse(holder, req->version(), bhttp::status::service_unavailable, "service unavailable");
                if (status == auth::AuthStatus::Invalid) {
                    spdlog::info("ws: refused a bad token from {}", client);
                    return refuse(holder, req->version(), bhttp::status::unauthorized,
                                  "invalid or missing credentials");
                }
                std::make_shared<ChatSession>(std::move(*holder), id, client, services_)->start(std::move(*req), since);
            });
        });
}

}  // namespace chat::ws
