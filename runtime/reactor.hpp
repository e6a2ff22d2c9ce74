// The reactor interface of the live runtime, and the operations it completes. A reactor owns
// the kernel (or user-space) event source: epoll, io_uring or a DPDK port. The io_context
// gives it one turn at a time as an entry in its run queue, so exactly one thread runs a
// reactor turn at any moment; operations may be started from any context thread.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace schedlab::runtime {

enum class io_kind : std::uint8_t { recv, send, accept };

// One socket operation. `result` is bytes moved (recv, send), the new descriptor (accept), or
// -errno. The awaitable that owns it lives in the waiting coroutine's frame.
struct io_op {
    io_kind kind = io_kind::recv;
    int fd = -1;
    void* data = nullptr;
    std::size_t bytes = 0;
    std::int64_t result = 0;
    std::coroutine_handle<> waiter;
    bool polling = false;  // io_uring: waiting for readiness after the kernel said EAGAIN
};

// The operation's non-blocking system call. True when it finished (result is set), false when
// it would block. This is both the speculative first try and the retry after readiness.
bool attempt_io(io_op& op) noexcept;

struct timer_op {
    std::uint64_t deadline_ns = 0;  // steady clock (CLOCK_MONOTONIC)
    std::coroutine_handle<> waiter;
    std::int64_t spec_sec = 0;  // io_uring keeps the timespec alive here until completion
    std::int64_t spec_nsec = 0;
};

class reactor {
public:
    virtual ~reactor() = default;
    virtual std::string_view name() const noexcept = 0;

    // One turn: collect the waiters of every operation that completed. With `block`, waits
    // until at least one completes or wake() is called.
    virtual void run_once(bool block, std::vector<std::coroutine_handle<>>& ready) = 0;
    // Interrupts a blocking run_once from any thread.
    virtual void wake() noexcept = 0;
    // Called after every handler: a reactor that batches submissions sends them now.
    virtual void flush() {}

    // False when no operation waits in the reactor: a non-blocking turn could only find
    // nothing, so the io_context skips that system call while other work is queued.
    virtual bool has_work() const noexcept { return true; }

    // An operation whose speculative attempt would block. The reactor completes it later, or
    // (if it became ready meanwhile) posts its waiter at once through post_now().
    virtual void start_io(io_op& op) = 0;
    virtual void start_timer(timer_op& op) = 0;

    // A descriptor the reactor may be asked about; detach before closing it.
    virtual void attach(int /*fd*/) {}
    virtual void detach(int /*fd*/) {}

    // Waiters the reactor resolved outside a turn (an operation that became ready while it
    // was being started). The io_context posts them.
    void (*post_fn)(void* ctx, std::coroutine_handle<> h) noexcept = nullptr;
    void* post_ctx = nullptr;
    // Set by an io_context with one thread: then no turn can run while an operation is being
    // started (the turn and the handler that starts it take turns on that thread), so an edge
    // that fires in between stays queued for the next turn, which sees the waiter.
    bool turns_alone = false;

protected:
    void post_now(std::coroutine_handle<> h) noexcept { post_fn(post_ctx, h); }
};

std::uint64_t monotonic_ns() noexcept;

std::unique_ptr<reactor> make_epoll_reactor();
std::unique_ptr<reactor> make_uring_reactor(unsigned entries = 256);

}  // namespace schedlab::runtime
