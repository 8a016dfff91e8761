// Builds a Config from a config file and command-line flags. Every option is one row of
// a table (name, help, parser with bounds), so `--help`, the file and the flags agree.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "config/Config.hpp"

namespace chat::config {

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct LoadResult {
    Config config;
    bool helpRequested = false;
};

class ConfigLoader {
public:
    // Flags win over the file. Throws ConfigError with one human-readable line.
    static LoadResult load(const std::vector<std::string>& args);
    static Config fromText(const std::string& text, const std::filesystem::path& baseDir);
    static std::string help();
    // Reads key files and checks that the bus has a key; throws ConfigError. Separate from
    // load() so `--help` and config checks work without secrets at hand.
    static void resolveSecrets(Config& config);
};

}  // namespace chat::config
