// Test doubles for the hub's seams: a connection that records what it was handed, and a bus
// that records what it was asked to send. Used by HubTest and DispatcherTest.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/Broadcaster.hpp"
#include "hub/Recipient.hpp"

namespace chat::hub::testing {

class FakeRecipient : public Recipient {
public:
    using Recipient::Recipient;

    void deliver(const SharedFrame& frame, std::uint64_t pos, Fanout fanout) override {
        std::lock_guard lock(mutex_);
        frames_.push_back(frame);
        positions_.push_back(pos);
        fanouts_.push_back(fanout);
    }
    void acknowledge(const SharedFrame& ack, std::uint64_t pos) override {
        std::lock_guard lock(mutex_);
        acks_.emplace_back(ack, pos);
    }
    void resync() override { resyncs.fetch_add(1); }
    void close(CloseCode code, std::string_view reason) override {
        std::lock_guard lock(mutex_);
        closes_.emplace_back(code, std::string(reason));
    }

    std::vector<SharedFrame> frames() const {
        std::lock_guard lock(mutex_);
        return frames_;
    }
    std::vector<std::pair<CloseCode, std::string>> closes() const {
        std::lock_guard lock(mutex_);
        return closes_;
    }
    std::vector<std::uint64_t> positions() const {
        std::lock_guard lock(mutex_);
        return positions_;
    }
    std::vector<Fanout> fanouts() const {
        std::lock_guard lock(mutex_);
        return fanouts_;
    }
    std::vector<std::pair<SharedFrame, std::uint64_t>> acks() const {
        std::lock_guard lock(mutex_);
        return acks_;
    }
    std::size_t frameCount() const { return frames().size(); }

    std::atomic<int> resyncs{0};

private:
    mutable std::mutex mutex_;
    std::vector<SharedFrame> frames_;
    std::vector<std::uint64_t> positions_;
    std::vector<Fanout> fanouts_;
    std::vector<std::pair<SharedFrame, std::uint64_t>> acks_;
    std::vector<std::pair<CloseCode, std::string>> closes_;
};

inline std::shared_ptr<FakeRecipient> connection(std::int64_t user, std::int64_t token = 1) {
    return std::make_shared<FakeRecipient>(user, token);
}

inline SharedFrame frame(std::string text) {
    return std::make_shared<const std::string>(std::move(text));
}

class FakeBroadcaster : public Broadcaster {
public:
    struct Sent {
        proto::DatagramHeader header;
        std::string payload;
    };

    bool broadcast(const proto::DatagramHeader& header, std::string_view payload) override {
        sent.push_back({header, std::string(payload)});
        return !failing;
    }

    bool failing = false;  // answer as a full socket buffer or a network error would
    std::vector<Sent> sent;
};

}  // namespace chat::hub::testing
