// Real sockets on loopback: nodes bound to the wildcard address on one free port, broadcasting
// to 127.255.255.255 (which never leaves the host), each bus on its own thread as in a node.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "BusTestSupport.hpp"
#include "bus/UdpBus.hpp"
#include "config/Config.hpp"
#include "metrics/Metrics.hpp"
#include "proto/Datagram.hpp"

using chat::bus::UdpBus;
using chat::bus::testing::kKey;
using chat::bus::testing::kOtherKey;
using chat::metrics::DropReason;
using chat::proto::DatagramHeader;
using chat::proto::DatagramKind;
using chat::proto::TargetKind;
namespace net = boost::asio;

namespace {

std::uint16_t freeUdpPort() {
    net::io_context io;
    net::ip::udp::socket probe(io, net::ip::udp::endpoint(net::ip::udp::v4(), 0));
    return probe.local_endpoint().port();
}

DatagramHeader chatTo(std::int64_t target, std::int64_t sender) {
    DatagramHeader h;
    h.kind = DatagramKind::Chat;
    h.targetKind = TargetKind::User;
    h.target = target;
    h.sender = sender;
    return h;
}

struct Received {
    DatagramHeader header;
    std::string payload;
};

chat::config::Config configFor(std::uint32_t id, std::uint16_t port, const std::string& key) {
    chat::config::Config c;
    c.nodeId = id;
    c.busPort = port;
    c.busBind = "0.0.0.0";
    c.busBroadcast = "127.255.255.255";
    c.busKey = key;
    return c;
}

// Any number serves as the run of a node that has no earlier run.
constexpr std::uint64_t kFirstRun = 1'000'000;

// One node's bus with what it handed on (from the bus's thread).
struct Node {
    Node(std::uint32_t id, std::uint16_t port, const std::string& key)
        : cfg(configFor(id, port, key)), bus(cfg, metrics, kFirstRun + id) {}

    void start() {
        bus.open();
        bus.start(
            [this](const DatagramHeader& h, std::string_view p) {
                std::lock_guard lock(mutex_);
                received_.push_back({h, std::string(p)});
            },
            [this](std::uint64_t n) { lost += n; });
    }
    std::vector<Received> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    std::uint64_t dropped(DropReason r) const { return metrics.busDropped[static_cast<std::size_t>(r)].load(); }

    chat::config::Config cfg;  // the bus keeps a reference
    chat::metrics::Metrics metrics;
    UdpBus bus;
    std::atomic<std::uint64_t> lost{0};

private:
    mutable std::mutex mutex_;
    std::vector<Received> received_;
};

class UdpBusTest : public ::testing::Test {
protected:
    void TearDown() override {
        for (auto* n : started_) n->bus.stop();
    }

    Node& node(std::uint32_t id, const std::string& key = kKey) {
        nodes_.push_back(std::make_unique<Node>(id, port_, key));
        return *nodes_.back();
    }
    void start(std::initializer_list<Node*> nodes) {
        for (auto* n : nodes) n->start();
        started_.insert(started_.end(), nodes.begin(), nodes.end());
    }
    // Real I/O takes real time: runs the io_context until `done` or a generous deadline.
    template <class Done>
    bool runUntil(Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return done();
    }

private:
    std::uint16_t port_ = freeUdpPort();
    std::vector<std::unique_ptr<Node>> nodes_;
    std::vector<Node*> started_;
};

}  // namespace

TEST_F(UdpBusTest, NeverReadsItsOwnDatagramsThatTheBroadcastBringsBack) {
    auto& a = node(1);
    auto& b = node(2);
    start({&a, &b});
    ASSERT_TRUE(runUntil([&] { return a.metrics.busPeers.load() == 1 && b.metrics.busPeers.load() == 1; }));
    ASSERT_TRUE(a.bus.broadcast(chatTo(2, 3), "to everyone"));
    DatagramHeader revoke;
    revoke.kind = DatagramKind::Revoke;
    revoke.target = 11;
    revoke.sender = 3;
    ASSERT_TRUE(a.bus.broadcast(revoke, ""));
    // b has both, so they were on the wire: a's own copies reached its socket at the same time.
    ASSERT_TRUE(runUntil([&] { return b.received().size() == 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // Published messages were delivered locally already; a second delivery (or a second
    // revocation) would be a duplicate. The socket filter keeps them from being read at all.
    EXPECT_TRUE(a.received().empty());
    EXPECT_EQ(a.dropped(DropReason::SelfOrigin), 0u);
    EXPECT_GT(a.metrics.busReceived.load(), 0u) << "a reads b's heartbeats";
}

TEST_F(UdpBusTest, DeliversAnotherNodesMessagesWholeAndInOrder) {
    auto& a = node(1);
    auto& b = node(2);
    start({&a, &b});
    ASSERT_TRUE(runUntil([&] { return a.metrics.busPeers.load() == 1 && b.metrics.busPeers.load() == 1; }));
    const std::string big(5000, 'B');  // four fragments
    ASSERT_TRUE(a.bus.broadcast(chatTo(10, 20), "first"));
    ASSERT_TRUE(a.bus.broadcast(chatTo(11, 21), big));
    ASSERT_TRUE(a.bus.broadcast(chatTo(12, 22), "third"));
    ASSERT_TRUE(b.bus.broadcast(chatTo(30, 40), "from b"));
    ASSERT_TRUE(runUntil([&] { return b.received().size() >= 3 && a.received().size() >= 1; }));

    const auto atB = b.received();
    ASSERT_EQ(atB.size(), 3u);
    EXPECT_EQ(atB[0].payload, "first");
    EXPECT_EQ(atB[1].payload, big);
    EXPECT_EQ(atB[2].payload, "third");
    EXPECT_EQ(atB[1].header.origin, 1u);
    EXPECT_EQ(atB[1].header.target, 11);
    EXPECT_EQ(atB[1].header.sender, 21);
    const auto atA = a.received();
    ASSERT_EQ(atA.size(), 1u);
    EXPECT_EQ(atA[0].payload, "from b");
    EXPECT_EQ(atA[0].header.origin, 2u);
    EXPECT_EQ(a.lost + b.lost, 0u);
    EXPECT_EQ(b.dropped(DropReason::BadMac), 0u);
}

TEST_F(UdpBusTest, IgnoresANodeSigningWithAnotherKey) {
    auto& a = node(1);
    auto& stranger = node(2, kOtherKey);
    start({&a, &stranger});
    ASSERT_TRUE(stranger.bus.broadcast(chatTo(10, 20), "forged"));
    // The chat and the stranger's first heartbeat, at least.
    ASSERT_TRUE(runUntil([&] { return a.dropped(DropReason::BadMac) >= 2; }));
    EXPECT_TRUE(a.received().empty());
    EXPECT_EQ(a.metrics.busPeers.load(), 0);  // not even counted as a member
}

// Junk on the bus port — oversized (cut at the receiver's slot) or random bytes, many at once
// so they arrive in one batch — is counted and dropped, and what follows still arrives. Both
// nodes share the port (SO_REUSEPORT), so the kernel hands the unicast junk to one of them.
TEST_F(UdpBusTest, DropsJunkDatagramsAndKeepsDelivering) {
    auto& a = node(1);
    auto& b = node(2);
    start({&a, &b});
    ASSERT_TRUE(runUntil([&] { return a.metrics.busPeers.load() == 1 && b.metrics.busPeers.load() == 1; }));
    auto malformed = [&] { return a.dropped(DropReason::Malformed) + b.dropped(DropReason::Malformed); };
    const auto before = malformed();
    net::io_context io;
    net::ip::udp::socket junk(io, net::ip::udp::endpoint(net::ip::udp::v4(), 0));
    const net::ip::udp::endpoint to(net::ip::make_address_v4("127.0.0.1"), b.cfg.busPort);
    for (int i = 0; i < 40; ++i) junk.send_to(net::buffer(std::string(3000 + i, 'J')), to);
    junk.send_to(net::buffer(std::string("not a datagram")), to);
    ASSERT_TRUE(runUntil([&] { return malformed() >= before + 41; }));
    ASSERT_TRUE(a.bus.broadcast(chatTo(10, 20), "after the junk"));
    ASSERT_TRUE(runUntil([&] { return !b.received().empty(); }));
    EXPECT_EQ(b.received()[0].payload, "after the junk");
    EXPECT_EQ(malformed(), before + 41);
    EXPECT_EQ(a.lost + b.lost, 0u);
}

// GET /bus asks from an HTTP thread; the answer is built on the bus's thread, which owns the
// peers' state, and comes back through the callback.
TEST_F(UdpBusTest, AnswersAViewOfTheClusterFromItsOwnThread) {
    auto& a = node(1);
    auto& b = node(2);
    start({&a, &b});
    ASSERT_TRUE(runUntil([&] { return a.metrics.busPeers.load() == 1; }));
    std::mutex mutex;
    std::string answer;
    std::thread::id answeredOn;
    ASSERT_TRUE(a.bus.view([&](std::string json) {
        std::lock_guard lock(mutex);
        answer = std::move(json);
        answeredOn = std::this_thread::get_id();
    }));
    ASSERT_TRUE(runUntil([&] {
        std::lock_guard lock(mutex);
        return !answer.empty();
    }));
    auto view = nlohmann::json::parse(answer);
    EXPECT_EQ(view["node"], 1);
    ASSERT_EQ(view["peers"].size(), 1u);
    EXPECT_EQ(view["peers"][0]["node"], 2);
    EXPECT_NE(answeredOn, std::this_thread::get_id());
}

// A node shutting down waits for the bus's thread, which is usually waiting for datagrams;
// GET /bus then answers 503 instead of waiting for a view that would never come.
TEST_F(UdpBusTest, StopsPromptlyAndRefusesBroadcastsAfter) {
    auto& a = node(1);
    start({&a});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto begin = std::chrono::steady_clock::now();
    a.bus.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
    EXPECT_FALSE(a.bus.isOpen());
    EXPECT_FALSE(a.bus.broadcast(chatTo(10, 20), "too late"));
    EXPECT_FALSE(a.bus.view([](std::string) { ADD_FAILURE() << "a view from a stopped bus"; }));
    a.bus.stop();  // a second stop is harmless
}
