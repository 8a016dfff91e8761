#include "store/RunRegistry.hpp"

#include <string>

#include "store/DbError.hpp"

namespace chat::store {

std::uint64_t RunRegistry::next(std::uint32_t node, std::uint64_t clock) {
    Transaction tx(db_);
    db_.execute(
        "INSERT INTO node_runs (node, incarnation) VALUES (?, ?) "
        "ON DUPLICATE KEY UPDATE incarnation = GREATEST(incarnation + 1, VALUES(incarnation))",
        {static_cast<std::int64_t>(node), static_cast<std::int64_t>(clock)});
    auto rows = db_.query("SELECT incarnation FROM node_runs WHERE node = ?", {static_cast<std::int64_t>(node)});
    if (rows.empty() || !rows[0][0]) throw DbError("node_runs lost the row just written", 0, false);
    tx.commit();
    return std::stoull(*rows[0][0]);
}

}  // namespace chat::store
