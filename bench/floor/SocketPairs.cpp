// See SocketPairs.hpp.
#include "floor/SocketPairs.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench {

namespace {

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

int check(int rc, const char* what) {
    if (rc < 0) fail(what);
    return rc;
}

}  // namespace

SocketPairs::SocketPairs(std::size_t n) {
    int listener = check(::socket(AF_INET, SOCK_STREAM, 0), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    try {
        check(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind");
        check(::listen(listener, 4096), "listen");
        check(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), "getsockname");
        int one = 1;
        for (std::size_t i = 0; i < n; ++i) {
            int w = check(::socket(AF_INET, SOCK_STREAM, 0), "socket");
            writers_.push_back(w);
            check(::connect(w, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "connect");
            check(::setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), "TCP_NODELAY");
            int r = check(::accept(listener, nullptr, nullptr), "accept");
            readers_.push_back(r);
            check(::fcntl(r, F_SETFL, ::fcntl(r, F_GETFL) | O_NONBLOCK), "fcntl");
        }
    } catch (...) {
        ::close(listener);
        for (int fd : writers_) ::close(fd);
        for (int fd : readers_) ::close(fd);
        throw;
    }
    ::close(listener);
}

SocketPairs::~SocketPairs() {
    for (int fd : writers_) ::close(fd);
    for (int fd : readers_) ::close(fd);
}

}  // namespace bench
