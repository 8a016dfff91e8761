// chat-floor: this machine's CPU cost of writing one small WebSocket frame to one of N loopback
// sockets, one frame per write() and `batch` frames per write(), and one frame per socket with
// `spread` sockets' sends in one io_uring submission ("spread", null where io_uring is
// refused). Prints one JSON object.
//   chat-floor [--sockets 1000] [--frames 1000000] [--frame-bytes 100] [--batch 10] [--spread 100]
// With --udp-port, the cost of receiving the cluster's datagrams instead (UdpFloor): it reads
// every datagram broadcast to that port until its standard input ends, and answers each line
// it reads there with {"datagrams":N}, the count so far; the caller reads its CPU from /proc.
//   chat-floor --udp-port PORT [--udp-buffer 4194304]
// With --disk-probe, how long a small durable write takes meanwhile (DiskProbe): it writes to
// that file until its standard input ends, and answers each line with the writes since the
// line before: {"writes","p50Ms","p99Ms","maxMs","stallMs","stalled","stalls":[{"atMs","ms"}]}.
//   chat-floor --disk-probe FILE [--probe-interval-us 5000] [--stall-us 10000]
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "floor/DiskProbe.hpp"
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

double percentileMs(std::vector<std::uint32_t>& micros, double q) {
    if (micros.empty()) return 0;
    auto at = micros.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(micros.size() - 1));
    std::nth_element(micros.begin(), at, micros.end());
    return *at / 1000.0;
}

nlohmann::json toJson(bench::DiskWindow w, std::chrono::microseconds stallAt) {
    auto stalls = nlohmann::json::array();
    for (const auto& s : w.stalls) stalls.push_back({{"atMs", s.startedAtMs}, {"ms", s.ms}});
    return {{"writes", w.writes},
            {"p50Ms", percentileMs(w.micros, 0.50)},
            {"p99Ms", percentileMs(w.micros, 0.99)},
            {"maxMs", w.maxMs},
            {"stallMs", static_cast<double>(stallAt.count()) / 1000.0},
            {"stalled", w.stalled},
            {"stalls", stalls}};
}

// Answers every line on stdin with the window since the line before; returns at its end.
int probeDisk(const std::string& file, std::chrono::microseconds interval, std::chrono::microseconds stallAt) {
    bench::DiskProbe probe(file, interval, stallAt);
    for (std::string line; std::getline(std::cin, line);) {
        if (probe.error()) {
            std::cerr << "chat-floor: write: " << std::strerror(probe.error()) << "\n";
            return 2;
        }
        std::cout << toJson(probe.window(), stallAt).dump() << std::endl;
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
    std::string diskProbe;
    std::chrono::microseconds probeInterval{5000};
    std::chrono::microseconds stallAt{10000};
    try {
        for (int i = 1; i + 1 < argc; i += 2) {
            std::string flag = argv[i];
            if (flag == "--disk-probe") {
                diskProbe = argv[i + 1];
                continue;
            }
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
            else if (flag == "--probe-interval-us")
                probeInterval = std::chrono::microseconds(value);
            else if (flag == "--stall-us")
                stallAt = std::chrono::microseconds(value);
            else
                throw std::runtime_error("unknown option " + flag);
        }
        if (udpPort) return receiveDatagrams(udpPort, udpBuffer);
        if (!diskProbe.empty()) return probeDisk(diskProbe, probeInterval, stallAt);
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
