#include "metrics/Metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace chat::metrics {

namespace {

constexpr const char* kInCmdNames[] = {"0", "10", "11", "other"};
constexpr const char* kDropNames[] = {"malformed", "version",     "bad_mac",      "replay",  "stale",
                                      "overflow",  "self_origin", "no_recipient", "oversize"};
constexpr const char* kErrorNames[] = {"bad_frame", "http", "db", "bus", "internal"};

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, std::uint64_t value) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += std::to_string(value);
    out += '\n';
}

template <std::size_t N, class Array>
void labelled(std::string& out, const char* name, const char* label, const char* const (&names)[N],
              const Array& values) {
    static_assert(N == std::tuple_size_v<Array>, "one label per value");
    for (std::size_t i = 0; i < N; ++i)
        sample(out, name, std::string(label) + "=\"" + names[i] + "\"", values[i].load(std::memory_order_relaxed));
}

}  // namespace

void Histogram::observe(std::chrono::nanoseconds d) {
    double seconds = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sumMicros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name) const {
    std::uint64_t cumulative = 0;
    char le[32];
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        std::snprintf(le, sizeof le, "%g", kBounds[i]);
        sample(out, name + "_bucket", std::string("le=\"") + le + "\"", cumulative);
    }
    cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
    sample(out, name + "_bucket", "le=\"+Inf\"", cumulative);
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(sumMicros_.load(std::memory_order_relaxed)) / 1e6);
    out += name + "_sum " + sum + "\n";
    sample(out, name + "_count", "", count_.load(std::memory_order_relaxed));
}

namespace {

// One unlabelled counter or gauge: its HELP and TYPE lines and its sample.
void scalar(std::string& out, const char* name, const char* type, const char* help, std::int64_t value) {
    header(out, name, type, help);
    sample(out, name, "", static_cast<std::uint64_t>(std::max<std::int64_t>(0, value)));
}

std::int64_t read(const Counter& c) {
    return static_cast<std::int64_t>(c.load(std::memory_order_relaxed));
}
std::int64_t read(const Gauge& g) {
    return g.load(std::memory_order_relaxed);
}

}  // namespace

std::string Metrics::render() const {
    std::string out;
    out.reserve(4096);
    scalar(out, "chat_connections", "gauge", "Open WebSocket connections on this node.", read(connections));
    scalar(out, "chat_online_users", "gauge", "Users connected to any node of the cluster, as this node knows.",
           read(onlineUsers));
    header(out, "chat_messages_in_total", "counter", "Frames received from clients, by cmd.");
    labelled(out, "chat_messages_in_total", "cmd", kInCmdNames, messagesIn);
    scalar(out, "chat_deliveries_total", "counter", "Frames queued to client connections.", read(deliveries));
    scalar(out, "chat_bus_datagrams_sent_total", "counter", "Datagrams this node broadcast.", read(busSent));
    scalar(out, "chat_bus_datagrams_received_total", "counter", "Datagrams this node received.", read(busReceived));
    header(out, "chat_bus_datagrams_dropped_total", "counter", "Datagrams received and not delivered, by reason.");
    labelled(out, "chat_bus_datagrams_dropped_total", "reason", kDropNames, busDropped);
    scalar(out, "chat_bus_retransmits_total", "counter", "Datagrams sent again in answer to NAKs.",
           read(busRetransmits));
    scalar(out, "chat_bus_naks_sent_total", "counter", "NAKs this node sent for gaps in other nodes' streams.",
           read(busNaksSent));
    scalar(out, "chat_bus_lost_total", "counter", "Datagrams given up because a gap could not be filled.",
           read(busLost));
    scalar(out, "chat_bus_peers", "gauge", "Other nodes heard from recently.", read(busPeers));
    scalar(out, "chat_slow_consumer_disconnects_total", "counter",
           "Connections closed because their send queue overflowed.", read(slowConsumerDisconnects));
    scalar(out, "chat_ws_writes_total", "counter", "Writes to client sockets; queued frames leave together.",
           read(socketWrites));
    scalar(out, "chat_ws_frames_written_total", "counter", "Frames those writes carried (control frames aside).",
           read(framesWritten));
    header(out, "chat_errors_total", "counter", "Errors, by kind.");
    labelled(out, "chat_errors_total", "kind", kErrorNames, errors);
    scalar(out, "chat_http_requests_total", "counter", "HTTP requests answered on the public address.",
           read(httpRequests));
    scalar(out, "chat_logins_rate_limited_total", "counter", "Logins refused by the failed-login limiter.",
           read(loginsRateLimited));
    scalar(out, "chat_registrations_rate_limited_total", "counter",
           "Registrations refused by the per-address registration throttle.", read(registrationsRateLimited));
    scalar(out, "chat_http_body_bytes_held", "gauge",
           "Request body bytes taken from max-body-memory by requests being read or answered.", read(bodyBytesHeld));
    scalar(out, "chat_http_bodies_refused_total", "counter",
           "Requests answered 503 while the node held its budget of request bodies (max-body-memory).",
           read(bodiesRefused));
    scalar(out, "chat_uploads_total", "counter", "Files stored by /attach/upload.", read(uploads));
    header(out, "chat_db_latency_seconds", "histogram", "Database job latency, queueing included.");
    dbLatency.render(out, "chat_db_latency_seconds");
    scalar(out, "chat_history_stored_total", "counter", "Chat messages committed to the history.", read(historyStored));
    scalar(out, "chat_history_failed_total", "counter", "Chat messages refused because their commit failed.",
           read(historyFailed));
    scalar(out, "chat_history_batches_total", "counter",
           "History commits tried, each a batch of messages (messages per commit: stored + failed over this).",
           read(historyBatches));
    header(out, "chat_history_commit_seconds", "histogram", "From a message's append to its batch's commit.");
    historyCommitLatency.render(out, "chat_history_commit_seconds");
    scalar(out, "chat_stream_fetched_total", "counter", "Stream positions fetched from the history to fill holes.",
           read(streamFetched));
    scalar(out, "chat_stream_given_up_total", "counter", "Stream positions given up; devices were told to re-sync.",
           read(streamGivenUp));
    scalar(out, "chat_sync_frames_total", "counter", "Frames sent from the history to catching-up devices.",
           read(syncFrames));
    return out;
}

}  // namespace chat::metrics
