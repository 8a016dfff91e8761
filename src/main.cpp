// Entry point: reads the configuration, sets up logging, runs a Node.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "config/ConfigLoader.hpp"
#include "node/Node.hpp"

int main(int argc, char** argv) {
    using chat::config::ConfigLoader;
    chat::config::LoadResult loaded;
    try {
        loaded = ConfigLoader::load(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const chat::config::ConfigError& e) {
        std::fprintf(stderr, "chat: %s\n", e.what());
        return 2;
    }
    if (loaded.helpRequested) {
        std::fputs(ConfigLoader::help().c_str(), stdout);
        return 0;
    }
    try {
        ConfigLoader::resolveSecrets(loaded.config);
    } catch (const chat::config::ConfigError& e) {
        std::fprintf(stderr, "chat: %s\n", e.what());
        return 2;
    }
    const auto& cfg = loaded.config;
    spdlog::set_level(spdlog::level::from_str(cfg.logLevel));
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [node " + std::to_string(cfg.nodeId) + "] %v");
    spdlog::flush_on(spdlog::level::info);
    try {
        chat::node::Node node(cfg);
        return node.run();
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
}
