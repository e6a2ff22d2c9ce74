// Awaitable operations of the live runtime. Each takes the speculative path first: the
// non-blocking system call runs before anything is registered. If it finishes, the operation
// is already complete and the running thread's pump decides between resuming the waiter
// inline and posting it, through the core's completed_operation<io_context> (the step the
// simulator's ready operations take); only a call that would block goes to the reactor.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "runtime/io_context.hpp"
#include "runtime/reactor.hpp"

namespace schedlab::runtime {

struct io_result {
    std::int64_t value = 0;       // bytes, a descriptor, or -errno
    bool was_ready = false;       // the speculative attempt finished it
    std::uint64_t waited_ns = 0;  // time spent with the reactor (0 when ready)
};

class io_awaitable {
public:
    io_awaitable(io_context& ctx, io_kind kind, int fd, void* data, std::size_t bytes) noexcept
        : ctx_(ctx), step_(ctx) {
        op_.kind = kind;
        op_.fd = fd;
        op_.data = data;
        op_.bytes = bytes;
    }
    bool await_ready() noexcept {
        if (attempt_io(op_)) {
            ready_ = true;
            return step_.await_ready();
        }
        return false;
    }
    void await_suspend(std::coroutine_handle<> h) {
        op_.waiter = h;
        if (ready_) {
            step_.await_suspend(h);
            return;
        }
        started_ns_ = monotonic_ns();
        ctx_.io().start_io(op_);  // op_ may complete and resume h on another thread from here
    }
    io_result await_resume() const noexcept {
        return {op_.result, ready_, ready_ ? 0 : monotonic_ns() - started_ns_};
    }

private:
    io_context& ctx_;
    completed_operation<io_context> step_;
    io_op op_;
    bool ready_ = false;
    std::uint64_t started_ns_ = 0;
};

inline io_awaitable async_recv(io_context& ctx, int fd, void* data, std::size_t bytes) noexcept {
    return {ctx, io_kind::recv, fd, data, bytes};
}
inline io_awaitable async_send(io_context& ctx, int fd, const void* data,
                               std::size_t bytes) noexcept {
    return {ctx, io_kind::send, fd, const_cast<void*>(data), bytes};
}
inline io_awaitable async_accept(io_context& ctx, int fd) noexcept {
    return {ctx, io_kind::accept, fd, nullptr, 0};
}

// Waits until `delay_ns` has passed. A zero delay is an already-complete operation.
class timer_awaitable {
public:
    timer_awaitable(io_context& ctx, std::uint64_t delay_ns) noexcept
        : ctx_(ctx), step_(ctx), delay_ns_(delay_ns) {}
    bool await_ready() noexcept { return delay_ns_ == 0 && step_.await_ready(); }
    void await_suspend(std::coroutine_handle<> h) {
        if (delay_ns_ == 0) {
            step_.await_suspend(h);
            return;
        }
        op_.waiter = h;
        op_.deadline_ns = monotonic_ns() + delay_ns_;
        ctx_.io().start_timer(op_);
    }
    void await_resume() const noexcept {}

private:
    io_context& ctx_;
    completed_operation<io_context> step_;
    std::uint64_t delay_ns_;
    timer_op op_;
};

inline timer_awaitable sleep_for(io_context& ctx, std::uint64_t delay_ns) noexcept {
    return {ctx, delay_ns};
}

}  // namespace schedlab::runtime
