#include "config/ConfigLoader.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sstream>

namespace chat::config {

namespace fs = std::filesystem;

namespace {

using Apply = std::function<void(Config&, const std::string&, const fs::path& baseDir)>;

struct Option {
    const char* name;  // flag "--name"; in the file "name = value" (dashes or underscores)
    const char* help;
    Apply apply;
};

unsigned long long parseUnsigned(const std::string& v, unsigned long long lo, unsigned long long hi) {
    unsigned long long n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size())
        throw ConfigError("expected a whole number, got '" + v + "'");
    if (n < lo || n > hi)
        throw ConfigError("'" + v + "' is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    return n;
}

// Sizes accept K/M/G suffixes (powers of 1024) so limits read naturally in the file.
std::size_t parseBytes(const std::string& v, std::size_t lo, std::size_t hi) {
    std::string digits = v;
    std::size_t mult = 1;
    if (!v.empty()) {
        switch (v.back()) {
            case 'K':
            case 'k':
                mult = 1u << 10;
                break;
            case 'M':
            case 'm':
                mult = 1u << 20;
                break;
            case 'G':
            case 'g':
                mult = 1u << 30;
                break;
            default:
                break;
        }
        if (mult != 1) digits.pop_back();
    }
    auto n = parseUnsigned(digits, 0, std::numeric_limits<std::size_t>::max() / mult) * mult;
    if (n < lo || n > hi)
        throw ConfigError("'" + v + "' is out of range " + std::to_string(lo) + ".." + std::to_string(hi) + " bytes");
    return n;
}

std::vector<std::string> parseList(const std::string& v) {
    std::vector<std::string> out;
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

Endpoint parseEndpoint(const std::string& v) {
    auto e = Endpoint::parse(v);
    if (!e) throw ConfigError("expected HOST:PORT, got '" + v + "'");
    return *e;
}

fs::path parseDir(const std::string& v, const fs::path& base) {
    if (v.empty()) throw ConfigError("expected a folder path");
    fs::path p(v);
    return p.is_absolute() ? p : (base / p).lexically_normal();
}

template <class Duration>
Apply seconds(Duration Config::*field, unsigned long long lo, unsigned long long hi) {
    return [=](Config& c, const std::string& v, const fs::path&) { c.*field = Duration(parseUnsigned(v, lo, hi)); };
}
Apply millis(Millis Config::*field, unsigned long long lo, unsigned long long hi) {
    return [=](Config& c, const std::string& v, const fs::path&) { c.*field = Millis(parseUnsigned(v, lo, hi)); };
}
Apply bytes(std::size_t Config::*field, std::size_t lo, std::size_t hi) {
    return [=](Config& c, const std::string& v, const fs::path&) { c.*field = parseBytes(v, lo, hi); };
}
template <class T>
Apply number(T Config::*field, unsigned long long lo, unsigned long long hi) {
    return
        [=](Config& c, const std::string& v, const fs::path&) { c.*field = static_cast<T>(parseUnsigned(v, lo, hi)); };
}
Apply endpoint(Endpoint Config::*field) {
    return [=](Config& c, const std::string& v, const fs::path&) { c.*field = parseEndpoint(v); };
}
Apply dir(fs::path Config::*field) {
    return [=](Config& c, const std::string& v, const fs::path& base) { c.*field = parseDir(v, base); };
}
Apply list(std::vector<std::string> Config::*field) {
    return [=](Config& c, const std::string& v, const fs::path&) { c.*field = parseList(v); };
}

const std::vector<Option>& options() {
    static const std::vector<Option> table = {
        {"listen", "public HTTP/WebSocket address, HOST:PORT (default 127.0.0.1:8080)", endpoint(&Config::listen)},
        {"admin-listen", "admin address for /metrics and /healthz; keep it private (default 127.0.0.1:9080)",
         endpoint(&Config::adminListen)},
        {"threads", "network threads; 0 = one per core (default 0)", number(&Config::threads, 0, 256)},
        {"node-id", "this node's id, unique in the cluster, 0..63 (default 1); it is part of every message id",
         number(&Config::nodeId, 0, 63)},
        {"bus-broadcast", "UDP broadcast address of the cluster bus (default 127.255.255.255; a LAN sets its subnet's)",
         [](Config& c, const std::string& v, const fs::path&) {
             if (v == "255.255.255.255")
                 throw ConfigError(
                     "255.255.255.255 leaves the machine through the default route; use the subnet's broadcast "
                     "address");
             if (v.empty()) throw ConfigError("expected an IPv4 broadcast address");
             c.busBroadcast = v;
         }},
        {"bus-port", "UDP port of the cluster bus (default 3000)", number(&Config::busPort, 1, 65535)},
        {"bus-bind", "address the bus socket binds; broadcasts arrive only on the wildcard (default 0.0.0.0)",
         [](Config& c, const std::string& v, const fs::path&) { c.busBind = v; }},
        {"bus-socket-buffer", "bus socket receive/send buffer (default 4M): bursts queue here",
         bytes(&Config::busSocketBuffer, 64u << 10, 256u << 20)},
        {"bus-key", "the cluster secret (16+ bytes) signing every datagram; prefer bus-key-file",
         [](Config& c, const std::string& v, const fs::path&) { c.busKey = v; }},
        {"bus-key-file", "file holding the cluster secret (every node shares it)", dir(&Config::busKeyFile)},
        {"bus-key-previous", "the previous cluster secret, still accepted during a key rotation",
         [](Config& c, const std::string& v, const fs::path&) { c.busKeyPrevious = v; }},
        {"bus-key-previous-file", "file holding the previous cluster secret", dir(&Config::busKeyPreviousFile)},
        {"bus-heartbeat-ms",
         "milliseconds between heartbeats, which reveal lost datagrams at a stream's end (default 200)",
         millis(&Config::busHeartbeat, 10, 10000)},
        {"bus-peer-timeout", "seconds without a heartbeat before a peer is forgotten (default 5)",
         seconds(&Config::busPeerTimeout, 1, 3600)},
        {"bus-nak-delay-ms", "milliseconds a gap may last before it is NAKed; absorbs reordering (default 5)",
         millis(&Config::busNakDelay, 0, 10000)},
        {"bus-nak-interval-ms", "milliseconds between repeated NAKs for one gap (default 50)",
         millis(&Config::busNakInterval, 1, 60000)},
        {"bus-gap-timeout-ms", "milliseconds before an unfillable gap is given up and reported (default 5000)",
         millis(&Config::busGapTimeout, 10, 600000)},
        {"bus-retransmit-count", "datagrams kept for retransmission (default 65536)",
         number(&Config::busRetransmitCount, 16, 10000000)},
        {"bus-retransmit-bytes", "bytes kept for retransmission (default 64M)",
         bytes(&Config::busRetransmitBytes, 64u << 10, 4ull << 30)},
        {"bus-retransmit-age", "seconds a datagram is kept for retransmission (default 30)",
         seconds(&Config::busRetransmitAge, 1, 3600)},
        {"bus-max-message", "largest message on the bus, cut into 1376-byte fragments (default 64K)",
         bytes(&Config::busMaxMessage, 1024, 16u << 20)},
        {"bus-max-pending", "out-of-order datagrams held per peer (default 16384)",
         number(&Config::busMaxPending, 64, 10000000)},
        {"mysql", "database, mysql://user:pass@host:port/db (default mysql://chat:chat@127.0.0.1:3307/chat)",
         [](Config& c, const std::string& v, const fs::path&) {
             auto url = MysqlUrl::parse(v);
             if (!url) throw ConfigError("expected mysql://user:pass@host:port/db");
             c.mysql = *url;
         }},
        {"db-pool", "database connections, each on its own thread (default 8)", number(&Config::dbPoolSize, 1, 64)},
        {"db-queue-max", "database jobs waiting before new ones are refused with 503 (default 10000)",
         number(&Config::dbQueueMax, 1, 1000000)},
        {"db-timeout", "database connect/read/write timeout in seconds (default 5)",
         seconds(&Config::dbTimeout, 1, 300)},
        {"history-batch", "messages per history commit; one log flush acknowledges them all (default 512)",
         number(&Config::historyBatch, 1, 100000)},
        {"history-queue-max", "messages waiting for a commit before senders are told to retry (default 50000)",
         number(&Config::historyQueueMax, 1, 10000000)},
        {"max-unacked", "a connection's messages waiting for their commit before its reading pauses (default 64)",
         number(&Config::maxUnacked, 1, 100000)},
        {"sync-recent", "messages a device that gives no position gets of its stream on connecting (default 100)",
         number(&Config::syncRecent, 0, 100000)},
        {"sync-page", "messages per history read while a device catches up (default 100)",
         number(&Config::syncPage, 1, 10000)},
        {"stream-hole-wait-ms",
         "milliseconds before a missing stream position is fetched from the history (default 200)",
         millis(&Config::streamHoleWait, 1, 60000)},
        {"stream-hole-timeout-ms",
         "milliseconds before a missing position is given up and devices re-sync (default 10000)",
         millis(&Config::streamHoleTimeout, 10, 3600000)},
        {"stream-max-held", "positions held back waiting for a missing one (default 65536)",
         number(&Config::streamMaxHeld, 16, 10000000)},
        {"stream-poll-ms",
         "milliseconds between reads of the history's latest position, which reveal messages the bus never "
         "brought (default 1000)",
         millis(&Config::streamPoll, 10, 600000)},
        {"retention-days", "days a message is kept in the history; 0 keeps it forever (default 0)",
         number(&Config::retentionDays, 0, 36500)},
        {"retention-count", "messages kept in the history, the newest; 0 for no limit (default 0)",
         number(&Config::retentionCount, 0, 1000000000000ull)},
        {"retention-interval", "seconds between runs of the retention job (default 60)",
         seconds(&Config::retentionInterval, 1, 86400)},
        {"clock-offset-ms", "test only: milliseconds added to this node's clock for ids and times (default 0)",
         [](Config& c, const std::string& v, const fs::path&) {
             bool negative = !v.empty() && v[0] == '-';
             auto magnitude = static_cast<std::int64_t>(parseUnsigned(negative ? v.substr(1) : v, 0, 30ll * 86400000));
             c.clockOffsetMs = negative ? -magnitude : magnitude;
         }},
        {"presence-interval-ms", "milliseconds presence changes are batched before they are announced (default 100)",
         millis(&Config::presenceInterval, 10, 10000)},
        {"presence-refresh", "seconds between announcements of a node's whole list of online users (default 30)",
         seconds(&Config::presenceRefresh, 1, 3600)},
        {"asset-dir", "static files served under /asset/ (default asset)", dir(&Config::assetDir)},
        {"view-dir", "HTML pages (default view)", dir(&Config::viewDir)},
        {"web-dir", "the page's JavaScript modules served under /web/ (default web)", dir(&Config::webDir)},
        {"upload-dir", "uploaded files, served under /mnt/; share it between nodes (default upload)",
         dir(&Config::uploadDir)},
        {"pbkdf2-iterations", "PBKDF2-HMAC-SHA256 iterations for new password hashes (default 100000)",
         number(&Config::pbkdf2Iterations, 1000, 10000000)},
        {"token-cache-ttl", "seconds a checked token is trusted without asking the database (default 30)",
         seconds(&Config::tokenCacheTtl, 0, 3600)},
        {"login-failures-per-mobile", "failed logins allowed per mobile number per window (default 10)",
         number(&Config::loginFailuresPerMobile, 1, 100000)},
        {"login-mobile-window", "seconds of that window (default 300)", seconds(&Config::loginMobileWindow, 1, 86400)},
        {"login-failures-per-address", "failed logins allowed per client address per window (default 30)",
         number(&Config::loginFailuresPerAddress, 1, 100000)},
        {"login-address-window", "seconds of that window (default 60)", seconds(&Config::loginAddressWindow, 1, 86400)},
        {"registrations-per-address", "accounts one client address may register per window (default 20)",
         number(&Config::registrationsPerAddress, 1, 100000)},
        {"registration-window", "seconds of that window (default 600)", seconds(&Config::registrationWindow, 1, 86400)},
        {"trusted-proxies",
         "comma-separated proxy addresses whose X-Real-IP/X-Forwarded-For is believed (default 127.0.0.1,::1)",
         list(&Config::trustedProxies)},
        {"allowed-origins", "comma-separated WebSocket Origins allowed (default: the request's own host)",
         list(&Config::allowedOrigins)},
        {"max-body", "largest API request body (default 64K)", bytes(&Config::maxBodyBytes, 1024, 64u << 20)},
        {"max-upload", "largest upload (default 20M); nginx's client_max_body_size must match",
         bytes(&Config::maxUploadBytes, 1024, 1u << 30)},
        {"max-body-memory",
         "request bodies a node holds at once, all connections together; beyond it requests get 503 (default 256M)",
         bytes(&Config::maxBodyMemory, 64u << 10, std::size_t{64} << 30)},
        {"http-timeout",
         "seconds for a request's header, and for each read of its body or write of its answer (default 30)",
         seconds(&Config::httpTimeout, 1, 3600)},
        {"keepalive-timeout", "seconds an idle HTTP keep-alive connection is kept (default 60)",
         seconds(&Config::keepAliveTimeout, 1, 3600)},
        {"max-frame", "largest WebSocket frame from a client (default 64K)",
         bytes(&Config::maxFrameBytes, 1024, 16u << 20)},
        {"max-queue", "bytes queued for one connection before it is closed as a slow consumer (default 1M)",
         bytes(&Config::maxQueueBytes, 4096, 1u << 30)},
        {"idle-timeout",
         "seconds without a sign of life before a WebSocket is closed; pings go out at half (default 60)",
         seconds(&Config::idleTimeout, 2, 86400)},
        {"handshake-timeout", "seconds for the WebSocket opening or closing handshake (default 10)",
         seconds(&Config::handshakeTimeout, 1, 300)},
        {"close-timeout", "seconds a closing connection may take before its socket is cut (default 5)",
         seconds(&Config::closeTimeout, 1, 300)},
        {"bad-frames-max", "invalid frames tolerated per window before closing with 1008 (default 20)",
         number(&Config::badFramesMax, 1, 100000)},
        {"bad-frames-window", "seconds of that window (default 10)", seconds(&Config::badFramesWindow, 1, 3600)},
        {"shutdown-timeout", "seconds to let connections close on SIGTERM (default 5)",
         seconds(&Config::shutdownTimeout, 1, 300)},
        {"log-level", "trace, debug, info, warn, error or off (default info)",
         [](Config& c, const std::string& v, const fs::path&) {
             static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
             if (std::find(std::begin(levels), std::end(levels), v) == std::end(levels))
                 throw ConfigError("unknown log level '" + v + "'");
             c.logLevel = v;
         }},
    };
    return table;
}

std::string normalise(std::string key) {
    std::replace(key.begin(), key.end(), '_', '-');
    return key;
}

void applyOption(Config& c, const std::string& rawKey, const std::string& value, const fs::path& base,
                 const std::string& where) {
    auto key = normalise(rawKey);
    for (const auto& opt : options()) {
        if (key == opt.name) {
            try {
                opt.apply(c, value, base);
            } catch (const ConfigError& e) {
                throw ConfigError(where + key + ": " + e.what());
            }
            return;
        }
    }
    if (where == "--") throw ConfigError("unknown option '--" + rawKey + "' (see --help)");
    throw ConfigError(where + "unknown option '" + rawKey + "' (see --help)");
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

void applyText(Config& c, const std::string& text, const fs::path& base, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        std::string where = name + ":" + std::to_string(lineNo) + ": ";
        if (eq == std::string::npos) throw ConfigError(where + "expected 'name = value'");
        auto value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        applyOption(c, trim(line.substr(0, eq)), value, base, where);
    }
}

// Relative default folders follow the same rule as configured ones.
void resolveDefaultDirs(Config& c, const fs::path& base) {
    for (auto field : {&Config::assetDir, &Config::viewDir, &Config::webDir, &Config::uploadDir})
        if ((c.*field).is_relative()) c.*field = (base / (c.*field)).lexically_normal();
}

}  // namespace

Config ConfigLoader::fromText(const std::string& text, const fs::path& baseDir) {
    Config c;
    applyText(c, text, baseDir, "config");
    resolveDefaultDirs(c, baseDir);
    return c;
}

LoadResult ConfigLoader::load(const std::vector<std::string>& args) {
    LoadResult result;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string configFile;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            result.helpRequested = true;
            return result;
        }
        if (arg.rfind("--", 0) != 0) throw ConfigError("unexpected argument '" + arg + "' (see --help)");
        std::string name = arg.substr(2), value;
        auto eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        } else {
            if (i + 1 >= args.size()) throw ConfigError("--" + name + " needs a value");
            value = args[++i];
        }
        if (name == "config")
            configFile = value;
        else
            flags.emplace_back(name, value);
    }
    fs::path base = fs::current_path();
    if (!configFile.empty()) {
        std::ifstream in(configFile);
        if (!in) throw ConfigError("cannot read config file '" + configFile + "'");
        std::stringstream ss;
        ss << in.rdbuf();
        base = fs::absolute(configFile).parent_path();
        applyText(result.config, ss.str(), base, configFile);
    }
    for (const auto& [name, value] : flags) applyOption(result.config, name, value, fs::current_path(), "--");
    resolveDefaultDirs(result.config, base);
    return result;
}

namespace {

std::string readSecret(const fs::path& file, const char* option) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(std::string(option) + ": cannot read '" + file.string() + "'");
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
    return key;
}

}  // namespace

void ConfigLoader::resolveSecrets(Config& c) {
    if (c.busKey.empty() && !c.busKeyFile.empty()) c.busKey = readSecret(c.busKeyFile, "bus-key-file");
    if (c.busKeyPrevious.empty() && !c.busKeyPreviousFile.empty())
        c.busKeyPrevious = readSecret(c.busKeyPreviousFile, "bus-key-previous-file");
    if (c.busKey.empty())
        throw ConfigError(
            "bus-key-file (or bus-key) is required: every node of a cluster signs datagrams with one shared secret");
    if (c.busKey.size() < 16) throw ConfigError("bus-key: the cluster secret must be at least 16 bytes");
    if (!c.busKeyPrevious.empty() && c.busKeyPrevious.size() < 16)
        throw ConfigError("bus-key-previous: the cluster secret must be at least 16 bytes");
}

std::string ConfigLoader::help() {
    std::ostringstream out;
    out << "Usage: chat [--config FILE] [--OPTION VALUE]...\n"
           "A node of a LAN chat cluster. Every option may also be set in the config file as 'option = value'.\n\n"
           "  --config FILE              read options from FILE first; flags override it\n";
    for (const auto& opt : options()) {
        std::string flag = std::string("--") + opt.name + " V";
        out << "  " << flag << std::string(flag.size() < 27 ? 27 - flag.size() : 1, ' ') << opt.help << "\n";
    }
    return out.str();
}

}  // namespace chat::config
