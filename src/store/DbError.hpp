// The one exception type of the store: thrown by Connection and the repositories, caught by
// Database::run and turned into a DbFailure. Its text is for logs only, never for clients.
#pragma once
#include <stdexcept>
#include <string>

namespace chat::store {

class DbError : public std::runtime_error {
public:
    // Server error numbers callers test for, copied here so mysqld_error.h stays in Connection.cpp.
    static constexpr unsigned kDuplicateEntry = 1062;  // ER_DUP_ENTRY
    static constexpr unsigned kDeadlock = 1213;        // ER_LOCK_DEADLOCK

    DbError(const std::string& what, unsigned code, bool connectionLost)
        : std::runtime_error(what), code_(code), connectionLost_(connectionLost) {}

    // The server's or the client library's error number; 0 for misuse detected by the store itself.
    unsigned errorCode() const { return code_; }
    // True when the server could not be reached or the link broke: the connection was dropped,
    // and the next statement reconnects.
    bool connectionLost() const { return connectionLost_; }

private:
    unsigned code_;
    bool connectionLost_;
};

}  // namespace chat::store
