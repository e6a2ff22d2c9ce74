#include "runtime/reactor.hpp"

#include <sys/socket.h>
#include <time.h>

#include <cerrno>

namespace schedlab::runtime {

std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

bool attempt_io(io_op& op) noexcept {
    long r = 0;
    // MSG_DONTWAIT and SOCK_NONBLOCK make every attempt non-blocking whatever the descriptor's
    // own flags, so the same descriptor serves the speculative path and the io_uring path.
    switch (op.kind) {
        case io_kind::recv:
            r = ::recv(op.fd, op.data, op.bytes, MSG_DONTWAIT);
            break;
        case io_kind::send:
            r = ::send(op.fd, op.data, op.bytes, MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        case io_kind::accept:
            r = ::accept4(op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            break;
    }
    if (r >= 0) {
        op.result = r;
        return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    if (errno == EINTR) return false;
    op.result = -errno;
    return true;
}

}  // namespace schedlab::runtime
