// One MariaDB connection, used by exactly one Database pool thread. Only prepared statements
// with bound values: no SQL is ever built from data. The MYSQL handle stays behind a pimpl so
// <mysql/mysql.h> is included by Connection.cpp alone.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/Endpoint.hpp"
#include "store/DbError.hpp"

namespace chat::store {

using Param = std::variant<std::nullptr_t, std::int64_t, std::string>;
using Row = std::vector<std::optional<std::string>>;  // every column fetched as text

class Connection {
public:
    // Autocommit: each statement outside begin()/commit() commits alone (pool connections).
    // Implicit: the session runs with autocommit off, so begin() costs no round trip: the next
    // statement opens the transaction. Only for a connection whose every statement sits inside
    // a Transaction (the history writer): a bare SELECT would otherwise hold a snapshot open.
    enum class Mode { Autocommit, Implicit };

    // Does not connect: the first statement (or ping) does, and so does the first one after a failure.
    Connection(config::MysqlUrl url, std::chrono::seconds timeout, Mode mode = Mode::Autocommit);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // All of these throw DbError. `sql` must be a constant of the code: each distinct text is
    // prepared once per connection and cached, so the cache is bounded by the program's statements.
    std::vector<Row> query(std::string_view sql, std::initializer_list<Param> params);
    std::uint64_t execute(std::string_view sql, std::initializer_list<Param> params);  // affected rows
    // The same for statements whose parameter count depends on the data (multi-row inserts):
    // keep the distinct texts few (a handful of row counts), as each is cached.
    std::vector<Row> query(std::string_view sql, std::span<const Param> params);
    std::uint64_t execute(std::string_view sql, std::span<const Param> params);
    std::uint64_t lastInsertId() const;
    // A compound statement (BEGIN NOT ATOMIC ... END) that ends the open transaction itself
    // with COMMIT and then SELECTs what the caller needs: the whole transaction in one round
    // trip. Returns that SELECT's rows; afterwards no transaction is open. On failure the
    // transaction stays open, for the Transaction to roll back.
    std::vector<Row> queryCommitting(std::string_view sql, std::span<const Param> params);

    void begin();
    void commit();
    void rollback();
    bool inTransaction() const;

    // Connects if needed, then checks the link with one round trip. Never throws.
    bool ping();
    bool connected() const;
    // Closes the link (and every cached statement); the next statement reconnects.
    void disconnect();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Rolls back unless commit() was called, so an exception leaves nothing half-written.
class Transaction {
public:
    explicit Transaction(Connection& connection) : connection_(connection) { connection_.begin(); }
    ~Transaction() {
        if (committed_) return;
        try {
            connection_.rollback();
        } catch (const DbError&) {
            // rollback() already dropped the link; the server rolls back when it sees it close.
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() {
        connection_.commit();
        committed_ = true;
    }

private:
    Connection& connection_;
    bool committed_ = false;
};

// Column readers for repositories. A NULL or non-numeric value in a NOT NULL column is a
// schema mismatch, reported as DbError rather than a silent zero.
std::int64_t asInt(const std::optional<std::string>& column);
std::string asText(const std::optional<std::string>& column);

}  // namespace chat::store
