// Shared by the store tests: the private MariaDB named by CHAT_TEST_MYSQL, unique test data,
// a port nothing listens on, and a blocking wrapper around Database::run.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <random>
#include <string>

#include "config/Config.hpp"
#include "store/Database.hpp"
#include "store/UserRepository.hpp"

namespace chat::store::test {

inline constexpr const char* kSkipMessage =
    "set CHAT_TEST_MYSQL=mysql://user:password@127.0.0.1:port/database (schema applied) to run this test";

// nullopt when the variable is unset; a malformed value fails the test rather than skipping it.
inline std::optional<config::MysqlUrl> testUrl() {
    const char* text = std::getenv("CHAT_TEST_MYSQL");
    if (text == nullptr || *text == '\0') return std::nullopt;
    auto url = config::MysqlUrl::parse(text);
    if (!url) ADD_FAILURE() << "CHAT_TEST_MYSQL is not a mysql:// URL: " << text;
    return url;
}

// Mobiles are unique in the table: a random one per test lets reruns share a database.
inline std::string uniqueText(const std::string& prefix, std::size_t digits = 18) {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    std::string text = prefix;
    for (std::size_t i = 0; i < digits; ++i) text += static_cast<char>('0' + random() % 10);
    return text;
}

inline std::string uniqueMobile() {
    return uniqueText("1", 20);
}

// A loopback port that was free a moment ago: connections to it are refused at once.
inline std::uint16_t closedPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        ADD_FAILURE() << "cannot find a free port";
    ::close(fd);
    return ntohs(address.sin_port);
}

inline config::Config configFor(const config::MysqlUrl& url, unsigned poolSize = 2, std::size_t queueMax = 100) {
    config::Config cfg;
    cfg.mysql = url;
    cfg.dbPoolSize = poolSize;
    cfg.dbQueueMax = queueMax;
    cfg.dbTimeout = std::chrono::seconds(5);
    return cfg;
}

inline config::MysqlUrl unreachableUrl() {
    return config::MysqlUrl{"chat", "chat", "127.0.0.1", closedPort(), "chat"};
}

// A test against the private MariaDB through a connection of its own; skipped when
// CHAT_TEST_MYSQL is unset.
class ConnectedTest : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = testUrl();
        if (!url_) GTEST_SKIP() << kSkipMessage;
        connection_.emplace(*url_, std::chrono::seconds(5));
    }

    Connection& db() { return *connection_; }

    std::int64_t newUser(const std::string& nickname = "user") {
        auto id = UserRepository(db()).insert(uniqueMobile(), "pbkdf2-sha256$1$00", std::string(32, 'a'), nickname, "");
        if (!id) ADD_FAILURE() << "a random mobile was taken";
        return id.value_or(0);
    }

    std::optional<config::MysqlUrl> url_;

private:
    std::optional<Connection> connection_;
};

// Submits a job and waits for its outcome; a job that never completes fails the test.
template <class T>
Outcome<T> runAndWait(Database& db, std::function<T(Connection&)> work) {
    auto promise = std::make_shared<std::promise<Outcome<T>>>();
    auto future = promise->get_future();
    db.run<T>(std::move(work), [promise](Outcome<T> outcome) { promise->set_value(std::move(outcome)); });
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        ADD_FAILURE() << "database job did not complete";
        return Outcome<T>{std::nullopt, DbFailure{"test timeout"}};
    }
    return future.get();
}

}  // namespace chat::store::test
