// Real UDP sockets on loopback: what waits in a socket comes out in one call, each datagram
// whole and in arrival order; a datagram longer than a slot is marked, never passed off as whole;
// an empty socket is waited on, for a first datagram or the socket's receive timeout.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "bus/DatagramReceiver.hpp"

using chat::bus::DatagramReceiver;
namespace net = boost::asio;
using net::ip::udp;

namespace {

struct Loopback {
    net::io_context io;
    udp::socket in{io, udp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0)};
    udp::socket out{io, udp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0)};
    Loopback() { receiveTimeout(std::chrono::seconds(10)); }  // no test hangs on a lost datagram
    void send(const std::string& bytes) { out.send_to(net::buffer(bytes), in.local_endpoint()); }
    void receiveTimeout(std::chrono::microseconds t) {
        timeval tv{static_cast<time_t>(t.count() / 1000000), static_cast<suseconds_t>(t.count() % 1000000)};
        ASSERT_EQ(::setsockopt(in.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    }
};

}  // namespace

TEST(DatagramReceiver, TakesEveryWaitingDatagramInOrderInOneCall) {
    Loopback net;
    for (int i = 0; i < 5; ++i) net.send("datagram " + std::to_string(i) + std::string(100 * i, 'x'));
    DatagramReceiver receiver;
    std::error_code ec;
    ASSERT_EQ(receiver.receive(net.in.native_handle(), ec), 5u);
    EXPECT_FALSE(ec);
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(receiver.datagram(i), "datagram " + std::to_string(i) + std::string(100 * i, 'x'));
        EXPECT_FALSE(receiver.truncated(i));
    }
}

TEST(DatagramReceiver, WaitsNoLongerThanTheSocketsReceiveTimeout) {
    Loopback net;
    net.receiveTimeout(std::chrono::milliseconds(50));
    DatagramReceiver receiver;
    std::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(receiver.receive(net.in.native_handle(), ec), 0u);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(ec) << "a timeout is no error";
    EXPECT_GE(waited, std::chrono::milliseconds(40));
    EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST(DatagramReceiver, ReturnsWithTheFirstDatagramThatComesWhileItWaits) {
    Loopback net;
    net.receiveTimeout(std::chrono::seconds(30));
    std::thread late([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        net.send("late");
    });
    DatagramReceiver receiver;
    std::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    const auto n = receiver.receive(net.in.native_handle(), ec);
    const auto waited = std::chrono::steady_clock::now() - start;
    late.join();
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(receiver.datagram(0), "late");
    EXPECT_LT(waited, std::chrono::seconds(10)) << "it did not wait for the timeout";
}

TEST(DatagramReceiver, TakesAtMostABatchAndLeavesTheRestWaiting) {
    Loopback net;
    const std::size_t total = DatagramReceiver::kBatch + 3;
    for (std::size_t i = 0; i < total; ++i) net.send(std::to_string(i));
    DatagramReceiver receiver;
    std::error_code ec;
    ASSERT_EQ(receiver.receive(net.in.native_handle(), ec), DatagramReceiver::kBatch);
    EXPECT_EQ(receiver.datagram(DatagramReceiver::kBatch - 1), std::to_string(DatagramReceiver::kBatch - 1));
    ASSERT_EQ(receiver.receive(net.in.native_handle(), ec), 3u);
    EXPECT_EQ(receiver.datagram(0), std::to_string(DatagramReceiver::kBatch));
}

TEST(DatagramReceiver, MarksADatagramLongerThanItsSlot) {
    Loopback net;
    net.send(std::string(DatagramReceiver::kSlotSize + 1, 'y'));
    net.send("short");
    DatagramReceiver receiver;
    std::error_code ec;
    ASSERT_EQ(receiver.receive(net.in.native_handle(), ec), 2u);
    EXPECT_TRUE(receiver.truncated(0));
    EXPECT_EQ(receiver.datagram(0).size(), DatagramReceiver::kSlotSize);
    EXPECT_FALSE(receiver.truncated(1));
    EXPECT_EQ(receiver.datagram(1), "short");
}
