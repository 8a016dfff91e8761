#include "api/AttachApi.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "api/Reply.hpp"
#include "auth/Tokens.hpp"
#include "http/ContentSniffer.hpp"
#include "http/MultipartParser.hpp"

namespace chat::api {

namespace fs = std::filesystem;

namespace {

// Written under a temporary name and renamed, so no node ever serves half a file.
bool store(const fs::path& dir, const std::string& name, std::string_view data) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto tmp = dir / (".part-" + name);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out.good()) {
            fs::remove(tmp, ec);
            return false;
        }
    }
    fs::rename(tmp, dir / name, ec);
    if (ec) fs::remove(tmp, ec);
    return !ec;
}

}  // namespace

void AttachApi::install(http::Router& router) {
    router.add("POST", "/attach/upload",
               Guard::authenticated(ctx_.auth, [this](const Call& c, const auth::Identity& id) { upload(c, id); }));
    router.setBodyLimit("/attach/upload", ctx_.cfg.maxUploadBytes);
}

void AttachApi::upload(const Call& call, const auth::Identity& id) {
    auto* type = call.request.header("content-type");
    if (!type) throw ApiError(400, "expected multipart/form-data with a file part");
    auto parts = http::MultipartParser::parse(call.request.body, *type);
    if (!parts) throw ApiError(400, "expected multipart/form-data with a file part");
    auto file = std::find_if(parts->begin(), parts->end(), [](const auto& p) { return p.name == "file"; });
    if (file == parts->end() || file->data.empty()) throw ApiError(400, "the file part is missing or empty");
    auto sniffed = http::ContentSniffer::sniff(file->data);
    if (!sniffed) throw ApiError(400, "unsupported file type");

    auto name = auth::Tokens::generate() + sniffed->extension;
    // The request (and the views into its body) live in the shared Call until the write ends.
    auto keep = std::make_shared<Call>(call);
    auto offset = file->data.data() - call.request.body.data();
    std::string_view data(keep->request.body.data() + offset, file->data.size());
    ctx_.runBlocking([this, keep, data, name, user = id.userId, kind = sniffed->kind] {
        if (!store(ctx_.cfg.uploadDir, name, data)) {
            spdlog::error("api: could not store an upload in {}", ctx_.cfg.uploadDir.string());
            return keep->respond(Reply::fail(500, "internal error"));
        }
        ctx_.metrics.uploads.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("api: user {} uploaded {} bytes ({})", user, data.size(), kind);
        keep->respond(Reply::ok("/mnt/" + name));
    });
}

}  // namespace chat::api
