// /attach/upload: stores an image, audio or video file under a random name in the upload
// folder (shared by every node) and answers its URL under /mnt/. The kind is decided by
// the file's bytes; nothing the client sends becomes part of a path.
#pragma once
#include "api/ApiContext.hpp"
#include "api/Guard.hpp"
#include "http/Router.hpp"

namespace chat::api {

class AttachApi {
public:
    explicit AttachApi(ApiContext& ctx) : ctx_(ctx) {}
    void install(http::Router& router);

private:
    void upload(const Call& call, const auth::Identity& id);

    ApiContext& ctx_;
};

}  // namespace chat::api
