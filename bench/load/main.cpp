// chat-load: one load-generator process of the benchmark suite (bench/suite runs several).
//   chat-load --plan FILE [--threads N] [--max-seconds S]
// Reads the plan (see Plan.hpp), then follows the driver's commands on stdin (see Worker.hpp).
// Bounded: after --max-seconds (default 600) it prints {"ev":"timeout"} and exits with 3.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "load/Plan.hpp"
#include "load/Worker.hpp"

namespace {

struct Args {
    std::string plan;
    unsigned threads = 2;
    unsigned maxSeconds = 600;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
        std::string value = argv[++i];
        if (flag == "--plan")
            a.plan = value;
        else if (flag == "--threads")
            a.threads = static_cast<unsigned>(std::stoul(value));
        else if (flag == "--max-seconds")
            a.maxSeconds = static_cast<unsigned>(std::stoul(value));
        else
            throw std::runtime_error("unknown option " + flag);
    }
    if (a.plan.empty()) throw std::runtime_error("--plan is required");
    return a;
}

// Every socket is a file: take the whole hard limit (20,000 here).
void raiseFileLimit() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        auto args = parse(argc, argv);
        raiseFileLimit();
        std::thread([seconds = args.maxSeconds] {
            std::this_thread::sleep_for(std::chrono::seconds(seconds));
            std::cout << "{\"ev\":\"timeout\"}" << std::endl;
            std::_Exit(3);
        }).detach();
        bench::Worker worker(bench::Plan::load(args.plan), args.threads);
        auto rc = worker.run(std::cin, std::cout);
        std::cout.flush();
        // Thousands of sockets close with the process; no need to wait for each goodbye.
        std::_Exit(rc);
    } catch (const std::exception& e) {
        std::cerr << "chat-load: " << e.what() << "\n";
        return 2;
    }
}
