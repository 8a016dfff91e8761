// chat-floor: this machine's CPU cost of writing one small WebSocket frame to one of N loopback
// sockets, one frame per write() and `batch` frames per write(), and one frame per socket with
// `spread` sockets' sends in one io_uring submission ("spread", null where io_uring is
// refused). Prints one JSON object.
//   chat-floor [--sockets 1000] [--frames 1000000] [--frame-bytes 100] [--batch 10] [--spread 100]
// With --udp-port, the cost of receiving the cluster's datagrams instead (UdpFloor): it reads
// every datagram broadcast to that port until its standard input ends, and answers each line
// it reads there with {"datagrams":N}, the count so far; the caller reads its CPU from /proc.
//   chat-floor --udp-port PORT [--udp-buffer 4194304]
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "floor/FloorBench.hpp"
#include "floor/UdpFloor.hpp"

namespace {

nlohmann::json toJson(const bench::FloorResult& r) {
    auto frames = static_cast<double>(r.frames);
    return {{"sockets", r.sockets},
            {"frameBytes", r.frameBytes},
            {"framesPerWrite", r.batch},
            {"sendsPerSubmit", r.perSubmit},
            {"frames", r.frames},
            {"writes", r.writes},
            {"writerCpuUs", r.writerUs},
            {"readerCpuUs", r.readerUs},
            {"wallUs", r.wallUs},
            {"writerUsPerFrame", r.writerUs / frames},
            {"readerUsPerFrame", r.readerUs / frames},
            {"framesPerSecond", frames / (r.wallUs / 1e6)}};
}

// The io_uring measurement, or null (with the reason on stderr) where io_uring is refused.
nlohmann::json spreadJson(bench::FloorBench& bench, std::uint64_t frames, std::size_t perSubmit) {
    try {
        return toJson(bench.runSpread(frames, perSubmit));
    } catch (const std::exception& e) {
        std::cerr << "chat-floor: no io_uring measurement: " << e.what() << "\n";
        return nullptr;
    }
}

// Answers every line on stdin with the count so far; returns at its end.
int receiveDatagrams(std::uint16_t port, std::size_t receiveBuffer) {
    bench::UdpFloor floor(port, receiveBuffer);
    for (std::string line; std::getline(std::cin, line);) {
        if (floor.error()) {
            std::cerr << "chat-floor: recvmmsg: " << std::strerror(floor.error()) << "\n";
            return 2;
        }
        std::cout << nlohmann::json{{"datagrams", floor.datagrams()}}.dump() << std::endl;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t sockets = 1000;
    std::uint64_t frames = 1'000'000;
    std::size_t frameBytes = 100;
    std::size_t batch = 10;
    std::size_t spread = 100;
    std::uint16_t udpPort = 0;
    std::size_t udpBuffer = 4u << 20;  // the bus's default (bus-socket-buffer)
    try {
        for (int i = 1; i + 1 < argc; i += 2) {
            std::string flag = argv[i];
            auto value = std::stoull(argv[i + 1]);
            if (flag == "--sockets")
                sockets = value;
            else if (flag == "--frames")
                frames = value;
            else if (flag == "--frame-bytes")
                frameBytes = value;
            else if (flag == "--batch")
                batch = value;
            else if (flag == "--spread")
                spread = value;
            else if (flag == "--udp-port")
                udpPort = static_cast<std::uint16_t>(value);
            else if (flag == "--udp-buffer")
                udpBuffer = value;
            else
                throw std::runtime_error("unknown option " + flag);
        }
        if (udpPort) return receiveDatagrams(udpPort, udpBuffer);
        bench::FloorBench bench(sockets, frameBytes);
        // A short warm-up, so page faults and socket-buffer growth are not charged to the first run.
        bench.run(std::min<std::uint64_t>(frames / 10, 50'000), 1);
        auto single = bench.run(frames, 1);
        auto coalesced = bench.run(frames, batch);
        std::cout << nlohmann::json{{"single", toJson(single)},
                                    {"coalesced", toJson(coalesced)},
                                    {"spread", spreadJson(bench, frames, spread)}}
                         .dump()
                  << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "chat-floor: " << e.what() << "\n";
        return 2;
    }
}
