// The io_uring reactor (liburing): the same operations as epoll, submitted through the ring.
// Submissions are batched: operations started during a handler are prepared under the
// submission lock and sent with one io_uring_enter when the handler returns (flush) or when
// the reactor takes its turn. Only the thread holding the turn reaps the completion queue,
// which liburing allows concurrently with submission from other threads.
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>

#include "runtime/reactor.hpp"

namespace schedlab::runtime {

namespace {

// user_data tags: operations are aligned pointers, so the low bits are free for the kind.
constexpr std::uintptr_t tag_io = 0, tag_timer = 1, tag_wake = 2;
constexpr std::uintptr_t tag_mask = 3;

class uring_reactor final : public reactor {
public:
    explicit uring_reactor(unsigned entries) {
        const int rc = io_uring_queue_init(entries, &ring_, 0);
        if (rc < 0) throw std::system_error(-rc, std::generic_category(), "io_uring_queue_init");
        wakefd_ = ::eventfd(0, EFD_CLOEXEC);
        if (wakefd_ < 0) {
            io_uring_queue_exit(&ring_);
            throw std::system_error(errno, std::generic_category(), "eventfd");
        }
        std::lock_guard lk(sq_mu_);
        arm_wake_locked();
        submit_locked();
    }
    ~uring_reactor() override {
        io_uring_queue_exit(&ring_);
        ::close(wakefd_);
    }

    std::string_view name() const noexcept override { return "io_uring"; }

    void start_io(io_op& op) override {
        in_flight_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lk(sq_mu_);
        prep_io_locked(op);
    }

    void start_timer(timer_op& op) override {
        op.spec_sec = static_cast<std::int64_t>(op.deadline_ns / 1'000'000'000ULL);
        op.spec_nsec = static_cast<std::int64_t>(op.deadline_ns % 1'000'000'000ULL);
        in_flight_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lk(sq_mu_);
        io_uring_sqe* sqe = get_sqe_locked();
        // The timespec lives in the operation, which outlives the request.
        static_assert(sizeof(__kernel_timespec) == 2 * sizeof(std::int64_t));
        io_uring_prep_timeout(sqe, reinterpret_cast<__kernel_timespec*>(&op.spec_sec), 0,
                              IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data(sqe, tagged(&op, tag_timer));
        ++pending_;
    }

    bool has_work() const noexcept override {
        // The wake read is always in flight and does not count: only operations do.
        return in_flight_.load(std::memory_order_relaxed) > 0;
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
    }

    void flush() override {
        // Most handlers start no operation; skip the lock for them.
        if (pending_.load(std::memory_order_relaxed) == 0) return;
        std::lock_guard lk(sq_mu_);
        if (pending_.load(std::memory_order_relaxed) > 0) submit_locked();
    }

    void run_once(bool block, std::vector<std::coroutine_handle<>>& ready) override {
        flush();
        io_uring_cqe* cqe = nullptr;
        if (block) {
            const int rc = io_uring_wait_cqe(&ring_, &cqe);
            if (rc < 0 && rc != -EINTR) {
                throw std::system_error(-rc, std::generic_category(), "io_uring_wait_cqe");
            }
        }
        unsigned head = 0;
        unsigned seen = 0;
        {
            // The operations were written by the threads that started them, and the kernel's
            // hand-off through the rings is invisible to ThreadSanitizer: taking the lock
            // those threads released after preparing them makes the ordering explicit. It is
            // also the lock re-arming needs.
            std::lock_guard lk(sq_mu_);
            io_uring_for_each_cqe(&ring_, head, cqe) {
                ++seen;
                handle_locked(cqe, ready);
            }
            io_uring_cq_advance(&ring_, seen);
        }
        flush();  // re-armed polls and the wake read
    }

private:
    static void* tagged(void* p, std::uintptr_t tag) {
        return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) | tag);
    }

    void handle_locked(io_uring_cqe* cqe, std::vector<std::coroutine_handle<>>& ready) {
        const auto raw = reinterpret_cast<std::uintptr_t>(io_uring_cqe_get_data(cqe));
        const auto tag = raw & tag_mask;
        void* p = reinterpret_cast<void*>(raw & ~tag_mask);
        if (tag == tag_wake) {
            arm_wake_locked();
            return;
        }
        if (tag == tag_timer) {
            ready.push_back(static_cast<timer_op*>(p)->waiter);
            in_flight_.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        auto& op = *static_cast<io_op*>(p);
        if (op.polling) {
            // Readiness arrived: the call itself runs now, without blocking.
            op.polling = false;
            if (attempt_io(op)) {
                ready.push_back(op.waiter);
                in_flight_.fetch_sub(1, std::memory_order_relaxed);
            } else {
                prep_poll_locked(op);
            }
            return;
        }
        if (cqe->res == -EAGAIN) {
            // The descriptor is non-blocking, so the kernel did not wait: wait for readiness.
            prep_poll_locked(op);
            return;
        }
        op.result = cqe->res;
        ready.push_back(op.waiter);
        in_flight_.fetch_sub(1, std::memory_order_relaxed);
    }

    io_uring_sqe* get_sqe_locked() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            submit_locked();  // the ring is full of prepared entries: send them first
            sqe = io_uring_get_sqe(&ring_);
            if (sqe == nullptr) throw std::runtime_error("io_uring: submission queue full");
        }
        return sqe;
    }

    void prep_io_locked(io_op& op) {
        io_uring_sqe* sqe = get_sqe_locked();
        switch (op.kind) {
            case io_kind::recv:
                io_uring_prep_recv(sqe, op.fd, op.data, op.bytes, 0);
                break;
            case io_kind::send:
                io_uring_prep_send(sqe, op.fd, op.data, op.bytes, MSG_NOSIGNAL);
                break;
            case io_kind::accept:
                io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                break;
        }
        io_uring_sqe_set_data(sqe, tagged(&op, tag_io));
        ++pending_;
    }

    void prep_poll_locked(io_op& op) {
        io_uring_sqe* sqe = get_sqe_locked();
        io_uring_prep_poll_add(sqe, op.fd, op.kind == io_kind::send ? POLLOUT : POLLIN);
        op.polling = true;
        io_uring_sqe_set_data(sqe, tagged(&op, tag_io));
        ++pending_;
    }

    void arm_wake_locked() {
        io_uring_sqe* sqe = get_sqe_locked();
        io_uring_prep_read(sqe, wakefd_, &wake_buf_, sizeof wake_buf_, 0);
        io_uring_sqe_set_data(sqe, tagged(this, tag_wake));
        ++pending_;
    }

    void submit_locked() {
        const int rc = io_uring_submit(&ring_);
        if (rc < 0 && rc != -EBUSY && rc != -EAGAIN) {
            throw std::system_error(-rc, std::generic_category(), "io_uring_submit");
        }
        pending_.store(0, std::memory_order_relaxed);
    }

    io_uring ring_{};
    int wakefd_ = -1;
    std::uint64_t wake_buf_ = 0;
    std::mutex sq_mu_;
    std::atomic<std::int64_t> in_flight_{0};  // operations started and not yet reaped
    std::atomic<unsigned> pending_{0};        // prepared, not yet submitted; written under sq_mu_
};

}  // namespace

std::unique_ptr<reactor> make_uring_reactor(unsigned entries) {
    return std::make_unique<uring_reactor>(entries);
}

}  // namespace schedlab::runtime
