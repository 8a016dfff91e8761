// chat-floor: this machine's CPU cost of writing one small WebSocket frame to one of N loopback
// sockets, one frame per write() and `batch` frames per write(). Prints one JSON object.
//   chat-floor [--sockets 1000] [--frames 1000000] [--frame-bytes 100] [--batch 10]
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "floor/FloorBench.hpp"

namespace {

nlohmann::json toJson(const bench::FloorResult& r) {
    auto frames = static_cast<double>(r.frames);
    return {{"sockets", r.sockets},
            {"frameBytes", r.frameBytes},
            {"framesPerWrite", r.batch},
            {"frames", r.frames},
            {"writes", r.writes},
            {"writerCpuUs", r.writerUs},
            {"readerCpuUs", r.readerUs},
            {"wallUs", r.wallUs},
            {"writerUsPerFrame", r.writerUs / frames},
            {"readerUsPerFrame", r.readerUs / frames},
            {"framesPerSecond", frames / (r.wallUs / 1e6)}};
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t sockets = 1000;
    std::uint64_t frames = 1'000'000;
    std::size_t frameBytes = 100;
    std::size_t batch = 10;
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
            else
                throw std::runtime_error("unknown option " + flag);
        }
        bench::FloorBench bench(sockets, frameBytes);
        // A short warm-up, so page faults and socket-buffer growth are not charged to the first run.
        bench.run(std::min<std::uint64_t>(frames / 10, 50'000), 1);
        auto single = bench.run(frames, 1);
        auto coalesced = bench.run(frames, batch);
        std::cout << nlohmann::json{{"single", toJson(single)}, {"coalesced", toJson(coalesced)}}.dump() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "chat-floor: " << e.what() << "\n";
        return 2;
    }
}
