#include "auth/Authenticator.hpp"

#include "auth/Tokens.hpp"
#include "store/TokenRepository.hpp"

namespace chat::auth {

namespace {

void finish(const Identity& id, std::optional<std::int64_t> claimedUser, const Authenticator::Done& done) {
    if (claimedUser && *claimedUser != id.userId) return done(AuthStatus::Invalid, {});
    done(AuthStatus::Ok, id);
}

}  // namespace

void Authenticator::check(const std::string& token, std::optional<std::int64_t> claimedUser, Done done) {
    if (!Tokens::wellFormed(token)) return done(AuthStatus::Invalid, {});
    auto digest = Tokens::digest(token);
    if (auto cached = cache_.get(digest)) return finish(*cached, claimedUser, done);

    using Found = std::optional<store::TokenRepository::Found>;
    db_.run<Found>([digest](store::Connection& c) { return store::TokenRepository(c).find(digest); },
                   [this, digest, claimedUser, done = std::move(done)](store::Outcome<Found> r) {
                       if (!r.ok()) return done(AuthStatus::Unavailable, {});
                       if (!*r.value) return done(AuthStatus::Invalid, {});
                       Identity id{(*r.value)->userId, (*r.value)->tokenId};
                       cache_.put(digest, id);
                       finish(id, claimedUser, done);
                   });
}

}  // namespace chat::auth
