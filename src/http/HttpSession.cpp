#include "http/HttpSession.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <limits>

#include "http/ClientAddress.hpp"
#include "http/UrlCodec.hpp"

namespace chat::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;
// A refused body is read and thrown away for at most this long and this much, so the
// client sees our answer instead of a reset, without letting it keep the socket forever.
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr std::size_t kLingerBytes = 64u << 20;

std::string errorBody(const char* msg) {
    return std::string(R"({"code":-1,"msg":")") + msg + "\"}";
}

std::map<std::string, std::string> lowerHeaders(const BeastRequest& req) {
    std::map<std::string, std::string> out;
    for (const auto& field : req) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.emplace(std::move(name), std::string(field.value()));
    }
    return out;
}

template <class Body>
void applyCommon(bhttp::response<Body>& res, const Response& r, unsigned version, bool keepAlive) {
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    res.set(bhttp::field::content_type, r.contentType);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keepAlive);
}

}  // namespace

HttpSession::HttpSession(net::ip::tcp::socket&& socket, SessionContext context)
    : stream_(std::move(socket)), context_(context) {
    boost::system::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? "unknown" : ep.address().to_string();
    client_ = peer_;
}

void HttpSession::run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->doReadHeader(); });
}

void HttpSession::doReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The route decides the body limit once the header is in (see onHeader).
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    closeAfterWrite_ = false;
    stream_.expires_after(context_.cfg.keepAliveTimeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
}

void HttpSession::onHeader(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof)
        return;  // the client went away or stayed idle: nothing to answer
    if (ec == bhttp::error::header_limit) return refuse(431, "request header too large");
    if (ec) return refuse(400, "malformed request");

    const auto& req = parser_->get();
    client_ = ClientAddress::resolve(peer_, lowerHeaders(req), context_.cfg.trustedProxies);
    method_ = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    auto [rawPath, query] = UrlCodec::splitTarget(target);
    auto decoded = UrlCodec::decode(rawPath, false);
    if (!decoded || decoded->find('\0') != std::string::npos) return refuse(400, "malformed request path");
    path_ = *decoded;

    if (beast::websocket::is_upgrade(req)) {
        if (!context_.upgrader || path_ != "/chat") return refuse(404, "not found");
        stream_.expires_never();
        context_.upgrader->upgrade(std::move(stream_), parser_->release(), client_);
        return;
    }
    std::size_t limit = context_.router.bodyLimit(path_, context_.cfg.maxBodyBytes);
    if (auto length = parser_->content_length(); length && *length > limit)
        return refuse(413, "request body too large");
    parser_->body_limit(limit);
    if (!takeBodyShare(limit)) return refuse(503, "server busy, try again later");
    doReadBody();
}

// A body in flight needs its share of the node's budget before it is read; a request
// without one needs none.
bool HttpSession::takeBodyShare(std::size_t limit) {
    const auto length = parser_->content_length();
    const bool chunked = parser_->chunked();
    if (!chunked && (!length || *length == 0)) return true;
    bodyShare_ = context_.bodies.take(chunked || !length ? limit : static_cast<std::size_t>(*length));
    if (!bodyShare_) context_.metrics.bodiesRefused.fetch_add(1, std::memory_order_relaxed);
    return bodyShare_.has_value();
}

void HttpSession::doReadBody() {
    if (parser_->is_done()) return dispatch();
    stream_.expires_after(context_.cfg.httpTimeout);
    const auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
        auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, req.version());
        bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
            if (!ec) self->readBodySome();
        });
        return;
    }
    readBodySome();
}

// Each read of the body has http-timeout of its own: a large upload takes as long as it keeps
// moving, and one that stalls for the timeout ends.
void HttpSession::readBodySome() {
    stream_.expires_after(context_.cfg.httpTimeout);
    bhttp::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec || self->parser_->is_done()) return self->onBody(ec);
        self->readBodySome();
    });
}

void HttpSession::onBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return refuse(413, "request body too large");
    if (ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::error::connection_reset)
        return;
    if (ec) return refuse(400, "malformed request");
    dispatch();
}

void HttpSession::dispatch() {
    auto& req = parser_->get();
    Request request;
    request.method = method_;
    request.target = std::string(req.target());
    request.path = path_;
    request.query = std::string(UrlCodec::splitTarget(request.target).second);
    request.headers = lowerHeaders(req);
    request.body = std::move(req.body());
    request.clientAddress = client_;
    closeAfterWrite_ = !req.keep_alive();
    context_.metrics.httpRequests.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    context_.router.route(request, [self](Response response) {
        net::post(self->stream_.get_executor(),
                  [self, r = std::move(response)]() mutable { self->write(std::move(r)); });
    });
}

void HttpSession::refuse(int status, const char* msg) {
    method_ = method_.empty() ? "?" : method_;
    closeAfterWrite_ = true;
    write(Response::json(status, errorBody(msg)));
}

void HttpSession::write(Response r) {
    unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    bool head = method_ == "HEAD";
    bool keepAlive = !closeAfterWrite_;
    if (r.status >= 500) context_.metrics.count(metrics::ErrorKind::Http);
    spdlog::debug("{}: {} {} {} from {}", context_.name, method_, path_, r.status, client_);
    stream_.expires_after(context_.cfg.httpTimeout);
    auto done = [self = shared_from_this(), keepAlive](beast::error_code ec, std::size_t) {
        self->onWrite(ec, keepAlive);
    };

    if (r.file) {
        bhttp::file_body::value_type body;
        beast::error_code ec;
        body.open(r.file->c_str(), beast::file_mode::scan, ec);
        if (ec) return write(Response::json(404, errorBody("not found")));
        auto res = std::make_shared<bhttp::response<bhttp::file_body>>();
        applyCommon(*res, r, version, keepAlive);
        res->body() = std::move(body);
        res->prepare_payload();
        pending_ = res;
        auto sr = std::make_shared<bhttp::response_serializer<bhttp::file_body>>(*res);
        pending_ = std::make_shared<std::pair<decltype(res), decltype(sr)>>(res, sr);
        if (head) return bhttp::async_write_header(stream_, *sr, done);
        return writeFileSome(sr, keepAlive);
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    applyCommon(*res, r, version, keepAlive);
    res->set(bhttp::field::cache_control, "no-store");
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head) res->body().clear();
    pending_ = res;
    bhttp::async_write(stream_, *res, done);
}

// Like a body read, each write of a file has http-timeout of its own: a large file goes to a
// slow client as long as it keeps taking it.
void HttpSession::writeFileSome(const std::shared_ptr<FileSerializer>& sr, bool keepAlive) {
    stream_.expires_after(context_.cfg.httpTimeout);
    bhttp::async_write_some(stream_, *sr,
                            [self = shared_from_this(), sr, keepAlive](beast::error_code ec, std::size_t) {
                                if (ec || sr->is_done()) return self->onWrite(ec, keepAlive);
                                self->writeFileSome(sr, keepAlive);
                            });
}

void HttpSession::onWrite(beast::error_code ec, bool keepAlive) {
    pending_.reset();
    bodyShare_.reset();  // the request is answered: its body is gone
    if (ec) return;
    if (keepAlive) return doReadHeader();
    bool bodyUnread = parser_ && parser_->is_header_done() && !parser_->is_done();
    if (bodyUnread) return lingeringClose();
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

void HttpSession::lingeringClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain_ = std::make_shared<std::array<char, 16384>>();
    doDrain();
}

void HttpSession::doDrain() {
    stream_.async_read_some(net::buffer(*drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->drained_ += n;
        if (ec || self->drained_ > kLingerBytes) return;  // EOF, timeout or enough: the destructor closes
        self->doDrain();
    });
}

}  // namespace chat::http
