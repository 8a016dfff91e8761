// Every setting of a node, with its default. Built once by ConfigLoader in main and
// passed down by const reference; nothing reads settings from anywhere else.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/Endpoint.hpp"

namespace chat::config {

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

struct Config {
    // --- network
    Endpoint listen{"127.0.0.1", 8080};
    Endpoint adminListen{"127.0.0.1", 9080};
    unsigned threads = 0;  // 0: one per core

    // --- cluster bus
    std::uint32_t nodeId = 1;
    std::string busBroadcast = "127.255.255.255";  // loopback-safe; a LAN sets its subnet's
    std::uint16_t busPort = 3000;
    std::string busBind = "0.0.0.0";  // broadcasts reach only sockets bound to the wildcard
    std::size_t busSocketBuffer = 4u << 20;
    // The cluster secret that signs every datagram (HMAC-SHA256), and the previous one while
    // a rotation is under way. No default: ConfigLoader::resolveSecrets insists on one.
    std::string busKey;
    std::filesystem::path busKeyFile;
    std::string busKeyPrevious;
    std::filesystem::path busKeyPreviousFile;
    Millis busHeartbeat{200};
    Seconds busPeerTimeout{5};
    Millis busNakDelay{5};
    Millis busNakInterval{50};
    Millis busGapTimeout{5000};
    std::size_t busRetransmitCount = 65536;
    std::size_t busRetransmitBytes = 64u << 20;
    Seconds busRetransmitAge{30};
    std::size_t busMaxMessage = 64u << 10;
    std::size_t busMaxPending = 16384;

    // --- storage
    MysqlUrl mysql{"chat", "chat", "127.0.0.1", 3307, "chat"};
    unsigned dbPoolSize = 8;
    std::size_t dbQueueMax = 10000;
    Seconds dbTimeout{5};

    // --- history
    std::size_t historyBatch = 512;       // messages per commit: one log flush acknowledges many
    std::size_t historyQueueMax = 50000;  // messages waiting for a commit before senders get 503
    std::size_t maxUnacked = 64;          // a connection's messages waiting for their commit before reading pauses
    std::size_t syncRecent = 100;         // what a device without a position gets of its stream
    std::size_t syncPage = 100;           // messages per history read while a device catches up
    Millis streamHoleWait{200};           // a missing position is fetched from the history after this
    Millis streamHoleTimeout{10000};      // then given up, and devices told to re-sync
    std::size_t streamMaxHeld = 65536;    // positions held back waiting for a missing one
    Millis streamPoll{1000};              // how often the history's latest position is read
    unsigned retentionDays = 0;           // 0: keep messages forever
    std::size_t retentionCount = 0;       // 0: no limit on the number kept
    Seconds retentionInterval{60};
    // Test-only: shifts this node's clock (message ids and times), to prove that nothing
    // depends on node clocks agreeing.
    std::int64_t clockOffsetMs = 0;

    // --- folders (relative ones are resolved against the config file's folder)
    std::filesystem::path assetDir = "asset";
    std::filesystem::path viewDir = "view";
    std::filesystem::path webDir = "web";
    std::filesystem::path uploadDir = "upload";

    // --- accounts
    unsigned pbkdf2Iterations = 100000;
    Seconds tokenCacheTtl{30};
    unsigned loginFailuresPerMobile = 10;
    Seconds loginMobileWindow{300};
    unsigned loginFailuresPerAddress = 30;
    Seconds loginAddressWindow{60};
    // Each registration costs a PBKDF2 hash and a row: enough for a family behind one NAT,
    // too few to fill the table or the hashing threads.
    unsigned registrationsPerAddress = 20;
    Seconds registrationWindow{600};
    std::vector<std::string> trustedProxies{"127.0.0.1", "::1"};
    std::vector<std::string> allowedOrigins;  // empty: the request's own Host only

    // --- HTTP
    std::size_t maxBodyBytes = 64u << 10;
    std::size_t maxUploadBytes = 20u << 20;
    std::size_t maxBodyMemory = 256u << 20;  // request bodies held at once, all connections together
    Seconds httpTimeout{30};
    Seconds keepAliveTimeout{60};

    // --- WebSocket
    std::size_t maxFrameBytes = 64u << 10;
    std::size_t maxQueueBytes = 1u << 20;
    Seconds idleTimeout{60};  // a ping goes out after half of it
    Seconds handshakeTimeout{10};
    Seconds closeTimeout{5};
    unsigned badFramesMax = 20;
    Seconds badFramesWindow{10};
    Seconds shutdownTimeout{5};

    // --- presence
    Millis presenceInterval{100};  // presence changes are batched this long
    Seconds presenceRefresh{30};   // every node's whole list, in case an announcement was missed

    // --- logs
    std::string logLevel = "info";
};

}  // namespace chat::config
