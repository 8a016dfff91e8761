// Connection against a real MariaDB (CHAT_TEST_MYSQL): prepared statements, long values,
// transactions, and recovery after the server drops the link.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "StoreTestSupport.hpp"
#include "store/Connection.hpp"

namespace chat::store {
namespace {

using namespace std::chrono_literals;
using test::testUrl;

TEST(Connection, BindsTextNumbersAndNullAndFetchesEveryColumnAsText) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    auto rows = connection.query("SELECT ?, ?, ?, CONCAT(?, 'b')",
                                 {std::string("text"), std::int64_t{-42}, nullptr, std::string("a")});
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_EQ(rows[0].size(), 4u);
    EXPECT_EQ(rows[0][0], "text");
    EXPECT_EQ(rows[0][1], "-42");
    EXPECT_FALSE(rows[0][2].has_value());
    EXPECT_EQ(rows[0][3], "ab");
}

TEST(Connection, FetchesValuesLongerThanItsFirstBufferInFull) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    std::string longText;
    for (int i = 0; i < 3000; ++i) longText += static_cast<char>('a' + i % 26);
    longText += "\xC3\xA9";  // é: utf8mb4 travels intact
    auto rows = connection.query("SELECT ?, 'short', ?", {longText, longText});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], longText);
    EXPECT_EQ(rows[0][1], "short");
    EXPECT_EQ(rows[0][2], longText);
}

TEST(Connection, ReturnsEveryRowInOrder) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    auto rows = connection.query("SELECT seq FROM seq_1_to_1000 WHERE seq > ? ORDER BY seq", {std::int64_t{990}});
    ASSERT_EQ(rows.size(), 10u);
    EXPECT_EQ(rows.front()[0], "991");
    EXPECT_EQ(rows.back()[0], "1000");
}

TEST(Connection, ReportsDuplicateEntryWithItsErrorCodeAndStaysUsable) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    const std::string digest = test::uniqueText("", 64);
    connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, digest});
    try {
        connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, digest});
        FAIL() << "a second row with the same digest was accepted";
    } catch (const DbError& e) {
        EXPECT_EQ(e.errorCode(), DbError::kDuplicateEntry);
        EXPECT_FALSE(e.connectionLost());
    }
    EXPECT_TRUE(connection.connected());
    EXPECT_EQ(connection.execute("DELETE FROM tokens WHERE token_hash = ?", {digest}), 1u);
}

TEST(Connection, RefusesAWrongNumberOfParameters) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    EXPECT_THROW(connection.query("SELECT ?, ?", {std::int64_t{1}}), DbError);
    EXPECT_EQ(connection.query("SELECT 1", {}).size(), 1u);
}

TEST(Connection, TransactionRollsBackUnlessCommitted) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    const std::string kept = test::uniqueText("", 64);
    const std::string dropped = test::uniqueText("", 64);
    {
        Transaction transaction(connection);
        connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, dropped});
        EXPECT_TRUE(connection.inTransaction());
    }
    EXPECT_FALSE(connection.inTransaction());
    {
        Transaction transaction(connection);
        connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, kept});
        transaction.commit();
    }
    Connection other(*url, 5s);
    EXPECT_TRUE(other.query("SELECT id FROM tokens WHERE token_hash = ?", {dropped}).empty());
    EXPECT_EQ(other.query("SELECT id FROM tokens WHERE token_hash = ?", {kept}).size(), 1u);
    other.execute("DELETE FROM tokens WHERE token_hash = ?", {kept});
}

TEST(Connection, InImplicitModeTheFirstStatementOpensTheTransactionAndOnlyCommitEndsIt) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s, Connection::Mode::Implicit);
    Connection other(*url, 5s);
    const std::string dropped = test::uniqueText("", 64);
    const std::string kept = test::uniqueText("", 64);
    {
        Transaction transaction(connection);
        connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, dropped});
    }
    {
        Transaction transaction(connection);
        connection.execute("INSERT INTO tokens (user_id, token_hash) VALUES (?, ?)", {std::int64_t{1}, kept});
        EXPECT_TRUE(other.query("SELECT id FROM tokens WHERE token_hash = ?", {kept}).empty())
            << "visible before its commit";
        transaction.commit();
    }
    EXPECT_TRUE(other.query("SELECT id FROM tokens WHERE token_hash = ?", {dropped}).empty());
    EXPECT_EQ(other.query("SELECT id FROM tokens WHERE token_hash = ?", {kept}).size(), 1u);
    other.execute("DELETE FROM tokens WHERE token_hash = ?", {kept});
}

TEST(Connection, InImplicitModeATransactionAfterALostLinkReconnectsWithAutocommitOff) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s, Connection::Mode::Implicit);
    connection.execute("SET SESSION wait_timeout = 1", {});
    std::this_thread::sleep_for(2500ms);  // the server closes the idle link
    try {
        Transaction transaction(connection);
        connection.query("SELECT 1", {});
        FAIL() << "a statement on a link the server closed succeeded";
    } catch (const DbError& e) {
        EXPECT_TRUE(e.connectionLost()) << e.what();
    }
    Transaction transaction(connection);
    auto rows = connection.query("SELECT @@autocommit", {});
    transaction.commit();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "0");
}

TEST(Connection, ReconnectsOnTheStatementAfterTheServerDroppedTheLink) {
    auto url = testUrl();
    if (!url) GTEST_SKIP() << test::kSkipMessage;
    Connection connection(*url, 5s);
    auto before = connection.query("SELECT CONNECTION_ID()", {});
    connection.execute("SET SESSION wait_timeout = 1", {});
    std::this_thread::sleep_for(2500ms);  // the server closes the idle link
    try {
        connection.query("SELECT CONNECTION_ID()", {});
        FAIL() << "a statement on a link the server closed succeeded";
    } catch (const DbError& e) {
        EXPECT_TRUE(e.connectionLost()) << e.what();
    }
    EXPECT_FALSE(connection.connected());
    auto after = connection.query("SELECT CONNECTION_ID()", {});
    EXPECT_NE(before[0][0], after[0][0]);
    EXPECT_TRUE(connection.ping());
}

TEST(Connection, PingFailsWithoutThrowingWhenNothingListens) {
    Connection connection(test::unreachableUrl(), 5s);
    EXPECT_FALSE(connection.ping());
    EXPECT_FALSE(connection.connected());
    try {
        connection.query("SELECT 1", {});
        FAIL() << "a statement succeeded without a server";
    } catch (const DbError& e) {
        EXPECT_TRUE(e.connectionLost());
    }
}

TEST(Connection, ColumnReadersRejectNullAndNonNumbers) {
    EXPECT_EQ(asInt(std::optional<std::string>("-12")), -12);
    EXPECT_THROW(asInt(std::nullopt), DbError);
    EXPECT_THROW(asInt(std::optional<std::string>("12.5")), DbError);
    EXPECT_EQ(asText(std::optional<std::string>("x")), "x");
    EXPECT_THROW(asText(std::nullopt), DbError);
}

}  // namespace
}  // namespace chat::store
