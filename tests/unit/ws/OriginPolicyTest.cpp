#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/OriginPolicy.hpp"

using chat::ws::OriginPolicy;

namespace {

// Both headers as the handshake hands them over: absent or present.
bool allows(const OriginPolicy& policy, const char* origin, const char* host) {
    std::string o = origin ? origin : "", h = host ? host : "";
    return policy.allows(origin ? &o : nullptr, host ? &h : nullptr);
}

}  // namespace

TEST(OriginPolicy, AllowsClientsThatSendNoOrigin) {
    EXPECT_TRUE(allows(OriginPolicy({}), nullptr, "chat.example:8080"));
    EXPECT_TRUE(allows(OriginPolicy({}), nullptr, nullptr));
    EXPECT_TRUE(allows(OriginPolicy({"https://chat.example"}), nullptr, "chat.example"));
}

TEST(OriginPolicy, AllowsAPageFromTheSameHostAndPort) {
    OriginPolicy policy({});
    EXPECT_TRUE(allows(policy, "http://chat.example:8080", "chat.example:8080"));
    EXPECT_TRUE(allows(policy, "https://chat.example", "chat.example"));
    EXPECT_TRUE(allows(policy, "http://127.0.0.1:8080", "127.0.0.1:8080"));
    EXPECT_TRUE(allows(policy, "http://[::1]:8080", "[::1]:8080"));
}

TEST(OriginPolicy, ComparesHostsCaseInsensitively) {
    OriginPolicy policy({});
    EXPECT_TRUE(allows(policy, "HTTP://Chat.Example:8080", "chat.example:8080"));
    EXPECT_TRUE(allows(policy, "http://chat.example:8080", "CHAT.EXAMPLE:8080"));
}

TEST(OriginPolicy, RefusesAnotherHost) {
    OriginPolicy policy({});
    EXPECT_FALSE(allows(policy, "http://evil.example:8080", "chat.example:8080"));
    EXPECT_FALSE(allows(policy, "http://chat.example.evil:8080", "chat.example:8080"));
    EXPECT_FALSE(allows(policy, "http://evil.chat.example:8080", "chat.example:8080"));
}

TEST(OriginPolicy, RefusesAnotherPort) {
    OriginPolicy policy({});
    EXPECT_FALSE(allows(policy, "http://chat.example:8081", "chat.example:8080"));
    EXPECT_FALSE(allows(policy, "http://chat.example", "chat.example:8080"));
    EXPECT_FALSE(allows(policy, "http://chat.example:8080", "chat.example"));
}

TEST(OriginPolicy, RefusesAnOriginWithoutScheme) {
    OriginPolicy policy({});
    EXPECT_FALSE(allows(policy, "chat.example:8080", "chat.example:8080"));
    EXPECT_FALSE(allows(policy, "null", "null"));
    EXPECT_FALSE(allows(policy, "", ""));
}

TEST(OriginPolicy, RefusesAnOriginWhenTheRequestHasNoHost) {
    EXPECT_FALSE(allows(OriginPolicy({}), "http://chat.example:8080", nullptr));
}

TEST(OriginPolicy, AllowsOnlyTheConfiguredOriginsWhenAListIsGiven) {
    OriginPolicy policy({"https://chat.example", "http://localhost:3000"});
    EXPECT_TRUE(allows(policy, "https://chat.example", "node1.lan:8080"));
    EXPECT_TRUE(allows(policy, "HTTPS://CHAT.EXAMPLE", "node1.lan:8080"));
    EXPECT_TRUE(allows(policy, "http://localhost:3000", "node1.lan:8080"));
    EXPECT_FALSE(allows(policy, "http://chat.example", "node1.lan:8080"));  // another scheme
    EXPECT_FALSE(allows(policy, "https://chat.example:8443", "node1.lan:8080"));
    EXPECT_FALSE(allows(policy, "https://evil.example", "node1.lan:8080"));
    // The list replaces the same-host rule.
    EXPECT_FALSE(allows(policy, "http://node1.lan:8080", "node1.lan:8080"));
}
