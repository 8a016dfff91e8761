// /user/login and /user/register through their routes, as a client sees them. The database is
// the private MariaDB named by CHAT_TEST_MYSQL (schema applied) when it is set; otherwise a
// closed port, which is enough for the answers that must come before any SQL runs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../store/StoreTestSupport.hpp"
#include "api/ApiContext.hpp"
#include "api/UserApi.hpp"
#include "auth/RegistrationThrottle.hpp"
#include "http/Router.hpp"

namespace chat::api {
namespace {

using namespace std::chrono_literals;

using store::test::closedPort;
using store::test::kSkipMessage;
using store::test::testUrl;

constexpr const char* kMobileRule = "mobile must be 5 to 20 digits, optionally starting with +";

config::Config testConfig() {
    config::Config cfg;
    cfg.mysql = testUrl().value_or(config::MysqlUrl{"chat", "chat", "127.0.0.1", closedPort(), "chat"});
    cfg.dbPoolSize = 2;
    cfg.dbTimeout = 5s;
    cfg.pbkdf2Iterations = 1000;  // the minimum: these tests count attempts, not hashing cost
    cfg.loginFailuresPerMobile = 3;
    cfg.registrationsPerAddress = 2;
    return cfg;
}

// Mobiles are unique in the table: a random one per test lets reruns share a database.
std::string uniqueMobile() {
    static std::mt19937_64 random{std::random_device{}()};
    std::string mobile = "1";
    for (int i = 0; i < 19; ++i) mobile += static_cast<char>('0' + random() % 10);
    return mobile;
}

class NoBus : public hub::Broadcaster {
public:
    bool broadcast(const proto::DatagramHeader&, std::string_view) override { return true; }
};

struct Answer {
    int status = 0;
    std::string msg;
    std::string retryAfter;  // "" when absent
};

class UserApiTest : public ::testing::Test {
protected:
    UserApiTest() {
        db_.start();
        api_.install(router_);
    }
    ~UserApiTest() override { db_.stop(); }  // before the limiter its jobs may still settle

    bool hasDatabase() const { return testUrl().has_value(); }

    // POSTs a form from `address` and waits for the answer.
    Answer post(const std::string& path, const std::string& form, const std::string& address = "10.0.0.1") {
        auto answer = std::make_shared<std::promise<http::Response>>();
        auto future = answer->get_future();
        http::Request request;
        request.method = "POST";
        request.path = path;
        request.headers["content-type"] = "application/x-www-form-urlencoded";
        request.body = form;
        request.clientAddress = address;
        router_.route(request, [answer](http::Response r) { answer->set_value(std::move(r)); });
        if (future.wait_for(20s) != std::future_status::ready) {
            ADD_FAILURE() << path << " got no answer";
            return {};
        }
        auto response = future.get();
        Answer a{response.status, nlohmann::json::parse(response.body).value("msg", ""), ""};
        for (const auto& [name, value] : response.headers)
            if (name == "Retry-After") a.retryAfter = value;
        return a;
    }

    Answer login(const std::string& mobile, const std::string& passwd) {
        return post("/user/login", form(mobile, passwd));
    }

    Answer registerUser(const std::string& mobile, const std::string& address = "10.0.0.1") {
        return post("/user/register", form(mobile, "secret1"), address);
    }

    static std::string form(const std::string& mobile, const std::string& passwd) {
        return std::string("mobile=").append(mobile).append("&passwd=").append(passwd);
    }

    config::Config cfg_ = testConfig();
    metrics::Metrics metrics_;
    store::Database db_{cfg_, metrics_};
    auth::Authenticator auth_{db_, 0s};
    auth::LoginLimiter limiter_{{.perMobile = cfg_.loginFailuresPerMobile}};
    auth::RegistrationThrottle registrations_{{.perAddress = cfg_.registrationsPerAddress}};
    auth::PasswordHasher hasher_{cfg_.pbkdf2Iterations};
    hub::Presence presence_{1};
    hub::Hub hub_{metrics_, &presence_};
    NoBus bus_;
    hub::Dispatcher dispatcher_{
        {}, hub_, presence_, bus_, [](auto&&...) { return false; }, [](std::uint64_t, std::uint64_t) {}, metrics_};
    hub::KnownUsers knownUsers_;
    ApiContext ctx_{cfg_,    db_,         auth_,       limiter_, registrations_,
                    hasher_, dispatcher_, knownUsers_, metrics_, [](std::function<void()> job) { job(); }};
    UserApi api_{ctx_};
    http::Router router_;
};

}  // namespace

TEST_F(UserApiTest, RefusesAMobileWithTrailingSpaces) {
    // MariaDB's collation ignores trailing spaces: such a mobile would find the account under a
    // limiter key of its own.
    for (const char* mobile : {"13800000000%20", "13800000000%20%20", "%2013800000000"}) {
        auto a = login(mobile, "secret1");
        EXPECT_EQ(a.status, 400) << mobile;
        EXPECT_EQ(a.msg, kMobileRule) << mobile;
    }
    EXPECT_EQ(limiter_.trackedMobiles(), 0u);
}

TEST_F(UserApiTest, TrailingSpacesDoNotEscapeTheLimitOfAMobile) {
    if (!hasDatabase()) GTEST_SKIP() << kSkipMessage;
    const auto mobile = uniqueMobile();
    ASSERT_EQ(registerUser(mobile).status, 200);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(login(mobile, "wrong-guess").status, 401);
    EXPECT_EQ(login(mobile, "secret1").status, 429);
    EXPECT_EQ(login(std::string(mobile).append("%20"), "secret1").status, 400);
}

TEST_F(UserApiTest, AdmitsNoMoreParallelLoginsThanTheLimitOfAMobile) {
    if (!hasDatabase()) GTEST_SKIP() << kSkipMessage;
    const auto mobile = uniqueMobile();
    ASSERT_EQ(registerUser(mobile).status, 200);
    // Every guess is sent before any answer is awaited, as a burst of parallel requests would be.
    std::vector<std::future<http::Response>> answers;
    for (int i = 0; i < 8; ++i) {
        auto answer = std::make_shared<std::promise<http::Response>>();
        answers.push_back(answer->get_future());
        http::Request request;
        request.method = "POST";
        request.path = "/user/login";
        request.headers["content-type"] = "application/x-www-form-urlencoded";
        request.body = form(mobile, "wrong-guess");
        request.clientAddress = std::string("10.0.0.").append(std::to_string(i + 1));
        router_.route(request, [answer](http::Response r) { answer->set_value(std::move(r)); });
    }
    int checked = 0, refused = 0;
    for (auto& answer : answers) {
        ASSERT_EQ(answer.wait_for(20s), std::future_status::ready);
        int status = answer.get().status;
        checked += status == 401;
        refused += status == 429;
    }
    EXPECT_EQ(checked, 3);
    EXPECT_EQ(refused, 5);
}

TEST_F(UserApiTest, AnswersTooManyRegistrationsFromOneAddressWith429AndRetryAfter) {
    // Without a database the first two fail later, with a 500; they count all the same.
    for (int i = 0; i < 2; ++i) EXPECT_NE(registerUser(uniqueMobile(), "10.0.0.7").status, 429);
    auto refused = registerUser(uniqueMobile(), "10.0.0.7");
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(refused.msg, "too many registrations, try again later");
    EXPECT_EQ(refused.retryAfter, "600");
    EXPECT_EQ(metrics_.registrationsRateLimited.load(), 1u);
    EXPECT_NE(registerUser(uniqueMobile(), "10.0.0.8").status, 429);
}

TEST_F(UserApiTest, DoesNotCountARegistrationRefusedForItsFields) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(post("/user/register", "mobile=12&passwd=secret1", "10.0.0.7").status, 400);
    EXPECT_NE(registerUser(uniqueMobile(), "10.0.0.7").status, 429);
}

TEST_F(UserApiTest, RefusesAnAvatarLongerThanItsColumn) {
    const std::string avatar = std::string("%2Fasset%2F").append(std::string(600, 'a'));
    auto a = post("/user/register", form(uniqueMobile(), "secret1").append("&avatar=").append(avatar));
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.msg, "avatar must be at most 512 characters");
}

TEST_F(UserApiTest, RefusesANicknameThatIsNotUtf8) {
    auto a = post("/user/register", form(uniqueMobile(), "secret1").append("&nickname=%FF"));
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.msg, "nickname must be valid UTF-8");
}

}  // namespace chat::api
