#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/ConfigLoader.hpp"

using chat::config::Config;
using chat::config::ConfigError;
using chat::config::ConfigLoader;
using chat::config::LoadResult;
namespace fs = std::filesystem;
using std::chrono::seconds;

namespace {

// A private folder for config files, removed after each test.
class ConfigLoaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ =
            fs::temp_directory_path() / (std::string("chat-config-") + info->name() + "-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write(const std::string& relative, const std::string& text) {
        auto path = dir_ / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path.string();
    }

    fs::path dir_;
};

LoadResult load(const std::vector<std::string>& args) {
    return ConfigLoader::load(args);
}

// The ConfigError's message, or "" when the arguments were accepted.
std::string errorOf(const std::vector<std::string>& args) {
    try {
        ConfigLoader::load(args);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_F(ConfigLoaderTest, UsesTheDocumentedDefaultsWithoutArguments) {
    auto r = load({});
    const Config& c = r.config;
    EXPECT_FALSE(r.helpRequested);
    EXPECT_EQ(c.listen.str(), "127.0.0.1:8080");
    EXPECT_EQ(c.adminListen.str(), "127.0.0.1:9080");
    EXPECT_EQ(c.nodeId, 1u);
    EXPECT_EQ(c.busBroadcast, "127.255.255.255");
    EXPECT_EQ(c.busPort, 3000);
    EXPECT_EQ(c.mysql.user, "chat");
    EXPECT_EQ(c.mysql.port, 3307);
    EXPECT_EQ(c.pbkdf2Iterations, 100000u);
    EXPECT_EQ(c.maxFrameBytes, 64u * 1024);
    EXPECT_EQ(c.maxQueueBytes, 1024u * 1024);
    EXPECT_EQ(c.badFramesMax, 20u);
    EXPECT_EQ(c.badFramesWindow, seconds(10));
    EXPECT_EQ(c.idleTimeout, seconds(60));
    EXPECT_EQ(c.maxUploadBytes, 20u * 1024 * 1024);
    EXPECT_EQ(c.maxBodyBytes, 64u * 1024);
    EXPECT_EQ(c.loginFailuresPerMobile, 10u);
    EXPECT_EQ(c.loginMobileWindow, seconds(300));
    EXPECT_EQ(c.loginFailuresPerAddress, 30u);
    EXPECT_EQ(c.loginAddressWindow, seconds(60));
    EXPECT_EQ(c.registrationsPerAddress, 20u);
    EXPECT_EQ(c.registrationWindow, seconds(600));
    EXPECT_EQ(c.trustedProxies, (std::vector<std::string>{"127.0.0.1", "::1"}));
    EXPECT_TRUE(c.allowedOrigins.empty());
    EXPECT_EQ(c.tokenCacheTtl, seconds(30));
    EXPECT_EQ(c.shutdownTimeout, seconds(5));
    EXPECT_EQ(c.logLevel, "info");
}

TEST_F(ConfigLoaderTest, ResolvesDefaultFoldersAgainstTheWorkingFolderWithoutAConfigFile) {
    auto c = load({}).config;
    EXPECT_EQ(c.assetDir, fs::current_path() / "asset");
    EXPECT_EQ(c.uploadDir, fs::current_path() / "upload");
}

TEST_F(ConfigLoaderTest, AcceptsNameEqualsValueAndNameSpaceValue) {
    auto c = load({"--node-id=7", "--bus-port", "4000", "--listen=0.0.0.0:8081", "--log-level", "debug"}).config;
    EXPECT_EQ(c.nodeId, 7u);
    EXPECT_EQ(c.busPort, 4000);
    EXPECT_EQ(c.listen.host, "0.0.0.0");
    EXPECT_EQ(c.listen.port, 8081);
    EXPECT_EQ(c.logLevel, "debug");
}

TEST_F(ConfigLoaderTest, ReadsTheConfigFile) {
    auto file = write("chat.conf",
                      "# a comment\n"
                      "\n"
                      "  node-id = 5  \n"
                      "bus-port=4001\r\n"
                      "mysql = \"mysql://u:p@10.0.0.9:3306/db\"\n"
                      "idle-timeout = 90\n");
    auto c = load({"--config", file}).config;
    EXPECT_EQ(c.nodeId, 5u);
    EXPECT_EQ(c.busPort, 4001);
    EXPECT_EQ(c.mysql.host, "10.0.0.9");
    EXPECT_EQ(c.mysql.database, "db");
    EXPECT_EQ(c.idleTimeout, seconds(90));
}

TEST_F(ConfigLoaderTest, AcceptsUnderscoresInFileKeys) {
    auto file = write("chat.conf", "node_id = 9\nmax_frame = 128K\nbad_frames_max = 3\n");
    auto c = load({"--config=" + file}).config;
    EXPECT_EQ(c.nodeId, 9u);
    EXPECT_EQ(c.maxFrameBytes, 128u * 1024);
    EXPECT_EQ(c.badFramesMax, 3u);
}

TEST_F(ConfigLoaderTest, FlagsWinOverTheFileWhateverTheirOrder) {
    auto file = write("chat.conf", "node-id = 5\nbus-port = 4001\nmax-queue = 2M\n");
    auto before = load({"--node-id", "7", "--config", file}).config;
    auto after = load({"--config", file, "--node-id=7"}).config;
    for (const Config& c : {before, after}) {
        EXPECT_EQ(c.nodeId, 7u);
        EXPECT_EQ(c.busPort, 4001);  // only in the file
        EXPECT_EQ(c.maxQueueBytes, 2u << 20);
    }
}

TEST_F(ConfigLoaderTest, ReadsKAndMSuffixesAsPowersOf1024) {
    auto c = load({"--max-frame", "128K", "--max-queue=2M", "--max-body", "8k", "--max-upload", "3m"}).config;
    EXPECT_EQ(c.maxFrameBytes, 128u * 1024);
    EXPECT_EQ(c.maxQueueBytes, 2u * 1024 * 1024);
    EXPECT_EQ(c.maxBodyBytes, 8u * 1024);
    EXPECT_EQ(c.maxUploadBytes, 3u * 1024 * 1024);
    EXPECT_EQ(load({"--max-frame", "5000"}).config.maxFrameBytes, 5000u);
}

TEST_F(ConfigLoaderTest, RefusesMalformedSizes) {
    for (const char* bad : {"K", "12X", "1.5M", "-1K", "", "12 K"}) EXPECT_NE(errorOf({"--max-frame", bad}), "") << bad;
}

TEST_F(ConfigLoaderTest, ResolvesRelativeFoldersAgainstTheConfigFilesFolder) {
    auto file = write("etc/chat.conf",
                      "asset_dir = static\n"
                      "upload-dir = ../shared/upload\n"
                      "web-dir = /srv/web\n");
    auto c = load({"--config", file}).config;
    EXPECT_EQ(c.assetDir, dir_ / "etc" / "static");
    EXPECT_EQ(c.uploadDir, dir_ / "shared" / "upload");
    EXPECT_EQ(c.webDir, fs::path("/srv/web"));
    // Folders the file leaves out follow the same rule.
    EXPECT_EQ(c.viewDir, dir_ / "etc" / "view");
}

TEST_F(ConfigLoaderTest, FromTextResolvesFoldersAgainstTheGivenFolder) {
    auto c = ConfigLoader::fromText("asset-dir = a\nnode-id = 2\n", "/opt/chat");
    EXPECT_EQ(c.assetDir, fs::path("/opt/chat/a"));
    EXPECT_EQ(c.viewDir, fs::path("/opt/chat/view"));
    EXPECT_EQ(c.nodeId, 2u);
}

TEST_F(ConfigLoaderTest, AcceptsTheWholeNodeIdRange) {
    EXPECT_EQ(load({"--node-id", "0"}).config.nodeId, 0u);
    EXPECT_EQ(load({"--node-id", "63"}).config.nodeId, 63u);
}

TEST_F(ConfigLoaderTest, RefusesNodeId64AndSaysWhy) {
    auto msg = errorOf({"--node-id", "64"});
    EXPECT_EQ(msg, "--node-id: '64' is out of range 0..63");
    EXPECT_TRUE(has(msg, "node-id")) << msg;
    EXPECT_TRUE(has(msg, "0..63")) << msg;
}

TEST_F(ConfigLoaderTest, RefusesNonNumericAndNegativeNumbers) {
    EXPECT_TRUE(has(errorOf({"--node-id", "abc"}), "whole number"));
    EXPECT_NE(errorOf({"--node-id", "-1"}), "");
    EXPECT_NE(errorOf({"--node-id", "1.5"}), "");
    EXPECT_NE(errorOf({"--bad-frames-max", "99999999999999999999999"}), "");
}

TEST_F(ConfigLoaderTest, RefusesBusPortsOutsideOneTo65535) {
    EXPECT_TRUE(has(errorOf({"--bus-port", "0"}), "bus-port"));
    EXPECT_TRUE(has(errorOf({"--bus-port", "70000"}), "bus-port"));
    EXPECT_EQ(load({"--bus-port", "65535"}).config.busPort, 65535);
}

TEST_F(ConfigLoaderTest, RefusesListenPortsAbove65535) {
    EXPECT_TRUE(has(errorOf({"--listen", "127.0.0.1:70000"}), "listen"));
    EXPECT_TRUE(has(errorOf({"--admin-listen", "nohost"}), "admin-listen"));
}

TEST_F(ConfigLoaderTest, RefusesAMaxQueueTooSmallToHoldAFrame) {
    auto msg = errorOf({"--max-queue", "1K"});
    EXPECT_TRUE(has(msg, "max-queue")) << msg;
    EXPECT_EQ(load({"--max-queue", "4K"}).config.maxQueueBytes, 4096u);
}

TEST_F(ConfigLoaderTest, RefusesTooFewPbkdf2Iterations) {
    EXPECT_NE(errorOf({"--pbkdf2-iterations", "999"}), "");
    EXPECT_EQ(load({"--pbkdf2-iterations", "1000"}).config.pbkdf2Iterations, 1000u);
}

TEST_F(ConfigLoaderTest, RefusesTheLimitedBroadcastAddressFromFlagsAndFile) {
    auto msg = errorOf({"--bus-broadcast", "255.255.255.255"});
    EXPECT_TRUE(has(msg, "255.255.255.255")) << msg;
    auto file = write("chat.conf", "bus_broadcast = 255.255.255.255\n");
    EXPECT_NE(errorOf({"--config", file}), "");
    EXPECT_EQ(load({"--bus-broadcast", "10.231.0.255"}).config.busBroadcast, "10.231.0.255");
}

TEST_F(ConfigLoaderTest, RefusesAnUnknownOptionWithOneClearLine) {
    EXPECT_EQ(errorOf({"--bogus", "1"}), "unknown option '--bogus' (see --help)");
    EXPECT_EQ(errorOf({"--bogus=1"}), "unknown option '--bogus' (see --help)");
}

TEST_F(ConfigLoaderTest, RefusesAnUnknownKeyInTheFileNamingFileAndLine) {
    auto file = write("chat.conf", "node-id = 2\n\nbogus = 1\n");
    auto msg = errorOf({"--config", file});
    EXPECT_TRUE(has(msg, "unknown option")) << msg;
    EXPECT_TRUE(has(msg, file + ":3")) << msg;
    EXPECT_FALSE(has(msg, "\n")) << msg;
}

TEST_F(ConfigLoaderTest, RefusesAFileLineWithoutEqualsSign) {
    auto file = write("chat.conf", "node-id 2\n");
    auto msg = errorOf({"--config", file});
    EXPECT_TRUE(has(msg, file + ":1")) << msg;
    EXPECT_TRUE(has(msg, "name = value")) << msg;
}

TEST_F(ConfigLoaderTest, RefusesAMissingValueWithOneClearLine) {
    auto msg = errorOf({"--listen", "127.0.0.1:1", "--node-id"});
    EXPECT_EQ(msg, "--node-id needs a value");
}

TEST_F(ConfigLoaderTest, RefusesAPositionalArgument) {
    auto msg = errorOf({"chat.conf"});
    EXPECT_TRUE(has(msg, "unexpected argument 'chat.conf'")) << msg;
}

TEST_F(ConfigLoaderTest, RefusesAnUnreadableConfigFile) {
    auto msg = errorOf({"--config", (dir_ / "missing.conf").string()});
    EXPECT_TRUE(has(msg, "cannot read config file")) << msg;
}

TEST_F(ConfigLoaderTest, RefusesAnUnknownLogLevel) {
    EXPECT_TRUE(has(errorOf({"--log-level", "loud"}), "loud"));
}

TEST_F(ConfigLoaderTest, ParsesAGoodMysqlUrlAndRefusesABadOne) {
    auto c = load({"--mysql", "mysql://app:pw@db:3310/prod"}).config;
    EXPECT_EQ(c.mysql.user, "app");
    EXPECT_EQ(c.mysql.password, "pw");
    EXPECT_EQ(c.mysql.host, "db");
    EXPECT_EQ(c.mysql.port, 3310);
    EXPECT_EQ(c.mysql.database, "prod");
    auto msg = errorOf({"--mysql", "postgres://app:pw@db/prod"});
    EXPECT_TRUE(has(msg, "mysql://user:pass@host:port/db")) << msg;
}

TEST_F(ConfigLoaderTest, SplitsAndTrimsLists) {
    auto c = load({"--trusted-proxies", "10.0.0.1, 10.0.0.2 ,,", "--allowed-origins=https://chat.example"}).config;
    EXPECT_EQ(c.trustedProxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(c.allowedOrigins, (std::vector<std::string>{"https://chat.example"}));
}

TEST_F(ConfigLoaderTest, HelpIsRequestedByHelpOrH) {
    EXPECT_TRUE(load({"--help"}).helpRequested);
    EXPECT_TRUE(load({"--node-id", "3", "-h"}).helpRequested);
    // Help wins even over arguments that would be refused.
    EXPECT_TRUE(load({"--help", "--bogus"}).helpRequested);
}

TEST_F(ConfigLoaderTest, HelpListsEveryDocumentedOption) {
    auto help = ConfigLoader::help();
    for (const char* flag : {"--config",
                             "--listen",
                             "--admin-listen",
                             "--node-id",
                             "--bus-port",
                             "--bus-broadcast",
                             "--mysql",
                             "--asset-dir",
                             "--view-dir",
                             "--web-dir",
                             "--upload-dir",
                             "--log-level",
                             "--pbkdf2-iterations",
                             "--max-frame",
                             "--max-queue",
                             "--bad-frames-max",
                             "--bad-frames-window",
                             "--idle-timeout",
                             "--max-upload",
                             "--max-body",
                             "--login-failures-per-mobile",
                             "--login-mobile-window",
                             "--login-failures-per-address",
                             "--login-address-window",
                             "--registrations-per-address",
                             "--registration-window",
                             "--trusted-proxies",
                             "--allowed-origins",
                             "--token-cache-ttl",
                             "--shutdown-timeout"}) {
        EXPECT_TRUE(has(help, std::string(flag) + " ")) << flag;
    }
}

TEST_F(ConfigLoaderTest, ReadsTheRegistrationThrottle) {
    auto file = write("chat.conf", "registrations_per_address = 5\n");
    auto c = load({"--config", file, "--registration-window=3600"}).config;
    EXPECT_EQ(c.registrationsPerAddress, 5u);
    EXPECT_EQ(c.registrationWindow, seconds(3600));
}

TEST_F(ConfigLoaderTest, RefusesARegistrationThrottleOutsideItsBounds) {
    EXPECT_EQ(errorOf({"--registrations-per-address", "0"}),
              "--registrations-per-address: '0' is out of range 1..100000");
    EXPECT_TRUE(has(errorOf({"--registrations-per-address", "100001"}), "1..100000"));
    EXPECT_EQ(errorOf({"--registration-window", "0"}), "--registration-window: '0' is out of range 1..86400");
    EXPECT_TRUE(has(errorOf({"--registration-window", "86401"}), "1..86400"));
}

// --- the reliable bus

TEST_F(ConfigLoaderTest, UsesTheDocumentedBusDefaults) {
    const Config c = load({}).config;
    EXPECT_EQ(c.busHeartbeat, std::chrono::milliseconds(200));
    EXPECT_EQ(c.busPeerTimeout, seconds(5));
    EXPECT_EQ(c.busNakDelay, std::chrono::milliseconds(5));
    EXPECT_EQ(c.busNakInterval, std::chrono::milliseconds(50));
    EXPECT_EQ(c.busGapTimeout, std::chrono::milliseconds(5000));
    EXPECT_EQ(c.busRetransmitCount, 65536u);
    EXPECT_EQ(c.busRetransmitBytes, 64u << 20);
    EXPECT_EQ(c.busRetransmitAge, seconds(30));
    EXPECT_EQ(c.busMaxMessage, 64u << 10);
    EXPECT_EQ(c.busMaxPending, 16384u);
    EXPECT_TRUE(c.busKey.empty());  // never a default secret
}

TEST_F(ConfigLoaderTest, ReadsTheBusTimingsAndLimits) {
    auto c =
        load({"--bus-heartbeat-ms", "100", "--bus-peer-timeout=7", "--bus-nak-delay-ms", "0", "--bus-nak-interval-ms",
              "20", "--bus-gap-timeout-ms", "900", "--bus-retransmit-count", "1000", "--bus-retransmit-bytes", "8M",
              "--bus-retransmit-age", "60", "--bus-max-message", "128K", "--bus-max-pending", "64"})
            .config;
    EXPECT_EQ(c.busHeartbeat, std::chrono::milliseconds(100));
    EXPECT_EQ(c.busPeerTimeout, seconds(7));
    EXPECT_EQ(c.busNakDelay, std::chrono::milliseconds(0));
    EXPECT_EQ(c.busNakInterval, std::chrono::milliseconds(20));
    EXPECT_EQ(c.busGapTimeout, std::chrono::milliseconds(900));
    EXPECT_EQ(c.busRetransmitCount, 1000u);
    EXPECT_EQ(c.busRetransmitBytes, 8u << 20);
    EXPECT_EQ(c.busRetransmitAge, seconds(60));
    EXPECT_EQ(c.busMaxMessage, 128u << 10);
    EXPECT_EQ(c.busMaxPending, 64u);
}

TEST_F(ConfigLoaderTest, RefusesBusLimitsOutsideTheirBounds) {
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{{"--bus-heartbeat-ms", "9"},
                                                                                      {"--bus-peer-timeout", "0"},
                                                                                      {"--bus-nak-interval-ms", "0"},
                                                                                      {"--bus-gap-timeout-ms", "9"},
                                                                                      {"--bus-retransmit-count", "15"},
                                                                                      {"--bus-max-message", "1023"},
                                                                                      {"--bus-max-pending", "63"}}) {
        auto msg = errorOf({flag, value});
        EXPECT_TRUE(has(msg, flag.substr(2))) << flag << ": " << msg;
    }
}

TEST_F(ConfigLoaderTest, ResolveSecretsReadsTheKeyFilesWithoutTheirLineEnd) {
    auto key = write("keys/bus.key", "0123456789abcdef-current\n");
    auto previous = write("keys/old.key", "0123456789abcdef-previous\r\n");
    auto c = load({"--bus-key-file", key, "--bus-key-previous-file", previous}).config;
    ConfigLoader::resolveSecrets(c);
    EXPECT_EQ(c.busKey, "0123456789abcdef-current");
    EXPECT_EQ(c.busKeyPrevious, "0123456789abcdef-previous");
}

TEST_F(ConfigLoaderTest, ResolveSecretsFindsAKeyFileNextToTheConfigFile) {
    write("etc/bus.key", "0123456789abcdef-relative");
    auto file = write("etc/chat.conf", "bus-key-file = bus.key\n");
    auto c = load({"--config", file}).config;
    ConfigLoader::resolveSecrets(c);
    EXPECT_EQ(c.busKey, "0123456789abcdef-relative");
}

TEST_F(ConfigLoaderTest, ResolveSecretsPrefersAKeyGivenInline) {
    auto key = write("bus.key", "0123456789abcdef-from-file");
    auto c = load({"--bus-key", "0123456789abcdef-inline", "--bus-key-file", key}).config;
    ConfigLoader::resolveSecrets(c);
    EXPECT_EQ(c.busKey, "0123456789abcdef-inline");
}

TEST_F(ConfigLoaderTest, ResolveSecretsInsistsOnAKeyOfAtLeast16Bytes) {
    auto secretError = [](std::vector<std::string> args) -> std::string {
        auto c = ConfigLoader::load(args).config;
        try {
            ConfigLoader::resolveSecrets(c);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return {};
    };
    EXPECT_TRUE(has(secretError({}), "bus-key-file"));
    EXPECT_TRUE(has(secretError({"--bus-key", std::string(15, 'k')}), "at least 16 bytes"));
    EXPECT_EQ(secretError({"--bus-key", std::string(16, 'k')}), "");
    EXPECT_TRUE(
        has(secretError({"--bus-key", std::string(16, 'k'), "--bus-key-previous", "short"}), "bus-key-previous"));
    auto missing = secretError({"--bus-key-file", (dir_ / "missing.key").string()});
    EXPECT_TRUE(has(missing, "cannot read")) << missing;
    auto shortFile = write("short.key", "tooshort\n");
    EXPECT_TRUE(has(secretError({"--bus-key-file", shortFile}), "at least 16 bytes"));
}
