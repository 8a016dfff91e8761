// Numbers each start of a node (its incarnation on the cluster bus) in the `node_runs` table.
// Other nodes take a larger incarnation for a restart and refuse a smaller one as a replay, so
// each start must outnumber every earlier start of the same node id: the clock alone does not
// when it has been set back between two starts. Synchronous: the node asks once, before its
// bus opens.
#pragma once
#include <cstdint>

#include "store/Connection.hpp"

namespace chat::store {

class RunRegistry {
public:
    explicit RunRegistry(Connection& connection) : db_(connection) {}

    // `clock` if it is larger than every earlier start's number, else one more than the largest.
    std::uint64_t next(std::uint32_t node, std::uint64_t clock);

private:
    Connection& db_;
};

}  // namespace chat::store
