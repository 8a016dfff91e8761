#include "store/Connection.hpp"

#include <mysql/mysql.h>

#include <charconv>
#include <map>
#include <mutex>

namespace chat::store {

namespace {

// Error numbers from 2000 up come from the client library (CR_*, then Connector/C's own 5000s):
// the link is broken or its state unknown, so the connection is dropped.
constexpr unsigned kFirstClientError = 2000;
// Most columns fit; longer ones are fetched again at their full length.
constexpr unsigned long kInitialColumnBytes = 256;

void initLibraryOnce() {
    // mysql_library_init is not thread-safe, and pool threads open their first connections together.
    static std::once_flag once;
    std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// Releases a statement's result set however the fetch loop ends.
class ResultGuard {
public:
    explicit ResultGuard(MYSQL_STMT* stmt) : stmt_(stmt) {}
    ~ResultGuard() { mysql_stmt_free_result(stmt_); }
    ResultGuard(const ResultGuard&) = delete;
    ResultGuard& operator=(const ResultGuard&) = delete;

private:
    MYSQL_STMT* stmt_;
};

MYSQL_BIND textBind(std::string& buffer, unsigned long* length, my_bool* isNull) {
    MYSQL_BIND bind{};
    bind.buffer_type = MYSQL_TYPE_STRING;
    bind.buffer = buffer.data();
    bind.buffer_length = buffer.size();
    bind.length = length;
    bind.is_null = isNull;
    return bind;
}

}  // namespace

struct Connection::Impl {
    config::MysqlUrl url;
    unsigned timeoutSeconds;
    Mode mode;
    MYSQL* mysql = nullptr;
    // Set when a statement hit a client-side error. The handle (and every statement pointer a
    // caller may still hold) stays valid until the next statement closes it and reconnects.
    bool broken = false;
    std::map<std::string, MYSQL_STMT*, std::less<>> statements;
    std::uint64_t lastInsertId = 0;
    bool inTransaction = false;

    Impl(config::MysqlUrl u, unsigned timeout, Mode m) : url(std::move(u)), timeoutSeconds(timeout), mode(m) {}
    ~Impl() { close(); }

    void close() {
        if (mysql != nullptr) mysql_close(mysql);  // invalidates the statements: closing them is then local
        for (auto& [sql, stmt] : statements) mysql_stmt_close(stmt);
        statements.clear();
        mysql = nullptr;
        broken = false;
    }

    [[noreturn]] void fail(const std::string& context, unsigned code, const std::string& message) {
        bool lost = code >= kFirstClientError;
        if (lost) broken = true;
        throw DbError(context + ": " + message + " (" + std::to_string(code) + ")", code, lost);
    }

    [[noreturn]] void failStatement(MYSQL_STMT* stmt, std::string_view sql) {
        fail(std::string(sql), mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    }

    MYSQL* handle() {
        if (broken) {
            // Reconnecting here would run the rest of the transaction's statements outside it.
            if (inTransaction) throw DbError("connection lost inside a transaction", 0, true);
            close();
        }
        if (mysql == nullptr) connect();
        return mysql;
    }

    void connect() {
        initLibraryOnce();
        MYSQL* m = mysql_init(nullptr);
        if (m == nullptr) throw DbError("mysql_init: out of memory", 0, true);
        unsigned timeout = timeoutSeconds;
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        // Automatic reconnection stays off: it would silently drop a transaction and the statements.
        if (mysql_real_connect(m, url.host.c_str(), url.user.c_str(), url.password.c_str(), url.database.c_str(),
                               url.port, nullptr, 0) == nullptr) {
            std::string message = mysql_error(m);
            unsigned code = mysql_errno(m);
            mysql_close(m);
            throw DbError("connect to " + url.host + ":" + std::to_string(url.port) + "/" + url.database + ": " +
                              message + " (" + std::to_string(code) + ")",
                          code, true);
        }
        mysql = m;
        // UTC keeps UNIX_TIMESTAMP(created) independent of the server's zone and its DST jumps.
        plain(mode == Mode::Implicit ? "SET time_zone = '+00:00', autocommit = 0" : "SET time_zone = '+00:00'");
    }

    // For constant statements without values only (transactions, session settings).
    void plain(std::string_view sql) {
        MYSQL* m = handle();
        if (mysql_real_query(m, sql.data(), sql.size()) != 0) fail(std::string(sql), mysql_errno(m), mysql_error(m));
    }

    MYSQL_STMT* prepared(std::string_view sql) {
        MYSQL* m = handle();
        if (auto it = statements.find(sql); it != statements.end()) return it->second;
        MYSQL_STMT* stmt = mysql_stmt_init(m);
        if (stmt == nullptr) fail("mysql_stmt_init", mysql_errno(m), mysql_error(m));
        if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
            unsigned code = mysql_stmt_errno(stmt);
            std::string message = mysql_stmt_error(stmt);
            mysql_stmt_close(stmt);
            fail("prepare " + std::string(sql), code, message);
        }
        statements.emplace(std::string(sql), stmt);
        return stmt;
    }

    MYSQL_STMT* run(std::string_view sql, std::span<const Param> params) {
        MYSQL_STMT* stmt = prepared(sql);
        if (mysql_stmt_param_count(stmt) != params.size())
            throw DbError("wrong parameter count for " + std::string(sql), 0, false);
        std::vector<MYSQL_BIND> binds(params.size());
        std::vector<unsigned long> lengths(params.size());
        std::size_t i = 0;
        for (const Param& param : params) {
            MYSQL_BIND& bind = binds[i];
            // The library only reads input buffers; MYSQL_BIND merely lacks the const.
            if (auto* number = std::get_if<std::int64_t>(&param)) {
                bind.buffer_type = MYSQL_TYPE_LONGLONG;
                bind.buffer = const_cast<std::int64_t*>(number);
            } else if (auto* text = std::get_if<std::string>(&param)) {
                bind.buffer_type = MYSQL_TYPE_STRING;
                bind.buffer = const_cast<char*>(text->data());
                bind.buffer_length = lengths[i] = text->size();
                bind.length = &lengths[i];
            } else {
                bind.buffer_type = MYSQL_TYPE_NULL;
            }
            ++i;
        }
        if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) failStatement(stmt, sql);
        if (mysql_stmt_execute(stmt) != 0) failStatement(stmt, sql);
        return stmt;
    }

    std::vector<Row> fetchAll(MYSQL_STMT* stmt, std::string_view sql) {
        ResultGuard guard(stmt);
        if (mysql_stmt_store_result(stmt) != 0) failStatement(stmt, sql);
        unsigned columns = mysql_stmt_field_count(stmt);
        std::vector<std::string> buffers(columns, std::string(kInitialColumnBytes, '\0'));
        std::vector<unsigned long> lengths(columns);
        std::vector<my_bool> nulls(columns);
        std::vector<MYSQL_BIND> binds;
        for (unsigned c = 0; c < columns; ++c) binds.push_back(textBind(buffers[c], &lengths[c], &nulls[c]));
        if (columns > 0 && mysql_stmt_bind_result(stmt, binds.data()) != 0) failStatement(stmt, sql);

        std::vector<Row> rows;
        while (columns > 0) {
            int rc = mysql_stmt_fetch(stmt);
            if (rc == MYSQL_NO_DATA) break;
            if (rc != 0 && rc != MYSQL_DATA_TRUNCATED) failStatement(stmt, sql);
            Row& row = rows.emplace_back(columns);
            for (unsigned c = 0; c < columns; ++c) {
                if (nulls[c]) continue;
                if (lengths[c] <= buffers[c].size()) {
                    row[c].emplace(buffers[c].data(), lengths[c]);
                    continue;
                }
                std::string full(lengths[c], '\0');
                unsigned long length = 0;
                my_bool isNull = 0;
                MYSQL_BIND bind = textBind(full, &length, &isNull);
                if (mysql_stmt_fetch_column(stmt, &bind, c, 0) != 0) failStatement(stmt, sql);
                row[c] = std::move(full);
            }
        }
        return rows;
    }
};

Connection::Connection(config::MysqlUrl url, std::chrono::seconds timeout, Mode mode)
    : impl_(std::make_unique<Impl>(std::move(url), static_cast<unsigned>(timeout.count()), mode)) {}

Connection::~Connection() = default;

std::vector<Row> Connection::query(std::string_view sql, std::initializer_list<Param> params) {
    return query(sql, std::span<const Param>(params.begin(), params.size()));
}

std::uint64_t Connection::execute(std::string_view sql, std::initializer_list<Param> params) {
    return execute(sql, std::span<const Param>(params.begin(), params.size()));
}

std::vector<Row> Connection::query(std::string_view sql, std::span<const Param> params) {
    return impl_->fetchAll(impl_->run(sql, params), sql);
}

std::uint64_t Connection::execute(std::string_view sql, std::span<const Param> params) {
    MYSQL_STMT* stmt = impl_->run(sql, params);
    std::uint64_t affected = mysql_stmt_affected_rows(stmt);
    impl_->lastInsertId = mysql_stmt_insert_id(stmt);
    if (mysql_stmt_field_count(stmt) > 0) mysql_stmt_free_result(stmt);  // not meant for SELECTs: discard rows
    return affected;
}

std::vector<Row> Connection::queryCommitting(std::string_view sql, std::span<const Param> params) {
    if (!impl_->inTransaction) throw DbError("commit without a transaction", 0, false);
    MYSQL_STMT* stmt = impl_->run(sql, params);
    auto rows = impl_->fetchAll(stmt, sql);
    // A compound statement ends with a status result after the SELECT's; the link is out of
    // step until it is read.
    int more = 0;
    while ((more = mysql_stmt_next_result(stmt)) == 0) mysql_stmt_free_result(stmt);
    if (more > 0) impl_->failStatement(stmt, sql);
    impl_->inTransaction = false;
    return rows;
}

std::uint64_t Connection::lastInsertId() const {
    return impl_->lastInsertId;
}

void Connection::begin() {
    if (impl_->inTransaction) throw DbError("transaction already open", 0, false);
    if (impl_->mode == Mode::Implicit)
        impl_->handle();  // reconnects now if the link broke: inside the transaction it may not
    else
        impl_->plain("START TRANSACTION");
    impl_->inTransaction = true;
}

void Connection::commit() {
    if (!impl_->inTransaction) throw DbError("commit without a transaction", 0, false);
    impl_->inTransaction = false;
    // Never reconnect here: COMMIT on a fresh link would "succeed" with the transaction lost.
    if (impl_->broken || impl_->mysql == nullptr) throw DbError("connection lost inside a transaction", 0, true);
    MYSQL* m = impl_->mysql;
    if (mysql_commit(m) != 0) {
        // Whatever the server did, the link is not trusted with a half-known transaction state.
        impl_->broken = true;
        impl_->fail("COMMIT", mysql_errno(m), mysql_error(m));
    }
}

void Connection::rollback() {
    if (!impl_->inTransaction) return;
    impl_->inTransaction = false;
    // A lost link has rolled back on the server already.
    if (impl_->broken || impl_->mysql == nullptr) return;
    if (mysql_rollback(impl_->mysql) != 0) {
        impl_->broken = true;
        impl_->fail("ROLLBACK", mysql_errno(impl_->mysql), mysql_error(impl_->mysql));
    }
}

bool Connection::inTransaction() const {
    return impl_->inTransaction;
}

bool Connection::ping() {
    try {
        MYSQL* m = impl_->handle();
        if (mysql_ping(m) == 0) return true;
        impl_->broken = true;
        return false;
    } catch (const DbError&) {
        return false;
    }
}

bool Connection::connected() const {
    return impl_->mysql != nullptr && !impl_->broken;
}

void Connection::disconnect() {
    impl_->inTransaction = false;
    impl_->close();
}

std::int64_t asInt(const std::optional<std::string>& column) {
    if (!column) throw DbError("unexpected NULL in a numeric column", 0, false);
    std::int64_t value = 0;
    const char* end = column->data() + column->size();
    auto [ptr, ec] = std::from_chars(column->data(), end, value);
    if (ec != std::errc{} || ptr != end) throw DbError("unexpected value in a numeric column", 0, false);
    return value;
}

std::string asText(const std::optional<std::string>& column) {
    if (!column) throw DbError("unexpected NULL in a text column", 0, false);
    return *column;
}

}  // namespace chat::store
