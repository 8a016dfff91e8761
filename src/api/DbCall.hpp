// Runs an endpoint's database work on the pool and answers with what it returns. An
// ApiError thrown by the work becomes its status; a store failure a bare 500/503.
#pragma once
#include <utility>

#include "api/Reply.hpp"
#include "store/Database.hpp"

namespace chat::api {

template <class Work>
void answerFromDb(store::Database& db, const http::Respond& respond, Work work) {
    db.run<http::Response>(
        [work = std::move(work)](store::Connection& c) -> http::Response {
            try {
                return work(c);
            } catch (const ApiError& e) {
                return Reply::fail(e.status, e.what());
            }
        },
        [respond](store::Outcome<http::Response> r) {
            respond(r.ok() ? std::move(*r.value) : Reply::failure(r.failure));
        });
}

}  // namespace chat::api
