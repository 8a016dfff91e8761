// One load-generator process: its lanes (threads) and the line protocol through which the
// suite driver steps it from phase to phase, so that every worker process of a run — one
// process holds at most ~19,990 sockets here — starts sending at the same moment and the
// driver can read the server's CPU and memory between phases.
//
// Commands on stdin, one per line:        Events on stdout, one JSON object per line:
//   connect                                {"ev":"loaded",…} at start
//                                          {"ev":"ready",…}  connections open (or failed), synced
//   go                                     {"ev":"sent","sent":{"<user>":n,…}} pacing finished
//   expect {"<user>":n,…} (every worker's) {"ev":"done",…}   all expected messages arrived, or the drain timed out
//   quit                                   (exits; end of input does too)
#pragma once
#include <iosfwd>
#include <memory>
#include <vector>

#include "load/Lane.hpp"
#include "load/Plan.hpp"

namespace bench {

class Worker {
public:
    Worker(Plan plan, unsigned threads);
    int run(std::istream& in, std::ostream& out);

private:
    template <typename Start>
    void onEveryLane(Start start);
    void connect(std::ostream& out);
    void go(std::ostream& out);
    void expect(const std::string& sentJson, std::ostream& out);

    Plan plan_;
    std::vector<std::unique_ptr<Lane>> lanes_;
    long long cpuAtStartUs_ = 0;
    long long cpuAtReadyUs_ = 0;
    long long cpuAtGoUs_ = 0;
};

}  // namespace bench
