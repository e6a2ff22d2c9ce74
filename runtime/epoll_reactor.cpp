// The epoll reactor: edge-triggered interest registered once per descriptor, an eventfd to
// interrupt a blocking wait, and one timerfd armed for the earliest pending timer.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <vector>

#include "runtime/reactor.hpp"

namespace schedlab::runtime {

namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

struct fd_waiters {
    io_op* reader = nullptr;  // recv, accept
    io_op* writer = nullptr;  // send
};

struct timer_later {
    bool operator()(const timer_op* a, const timer_op* b) const noexcept {
        return a->deadline_ns > b->deadline_ns;
    }
};

class epoll_reactor final : public reactor {
public:
    epoll_reactor() {
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) fail("epoll_create1");
        wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakefd_ < 0) fail("eventfd");
        timerfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (timerfd_ < 0) fail("timerfd_create");
        add(wakefd_, EPOLLIN);
        add(timerfd_, EPOLLIN);
    }
    ~epoll_reactor() override {
        ::close(timerfd_);
        ::close(wakefd_);
        ::close(epfd_);
    }

    std::string_view name() const noexcept override { return "epoll"; }

    void attach(int fd) override {
        {
            std::lock_guard lk(mu_);
            if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1);
            fds_[fd] = {};
        }
        add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    }

    void detach(int fd) override {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        std::lock_guard lk(mu_);
        if (static_cast<std::size_t>(fd) < fds_.size()) fds_[fd] = {};
    }

    void start_io(io_op& op) override {
        std::unique_lock lk(mu_);
        // Retry under the lock: with several threads, a turn on another one may have taken an
        // edge that fired between the speculative attempt and this point, found no waiter and
        // dropped it, so only this retry can see its data. With one thread no turn runs in
        // between, the edge waits in epoll's ready list for the next turn, and the retry would
        // only be a second failing system call.
        if (!turns_alone && attempt_io(op)) {
            lk.unlock();
            post_now(op.waiter);
            return;
        }
        auto& w = fds_.at(op.fd);
        (op.kind == io_kind::send ? w.writer : w.reader) = &op;
        waiting_.fetch_add(1, std::memory_order_relaxed);
    }

    void start_timer(timer_op& op) override {
        std::lock_guard lk(mu_);
        timers_.push_back(&op);
        waiting_.fetch_add(1, std::memory_order_relaxed);
        std::push_heap(timers_.begin(), timers_.end(), timer_later{});
        if (timers_.front() == &op) arm_timerfd(op.deadline_ns);
    }

    bool has_work() const noexcept override {
        // Relaxed: a stale answer costs one empty poll or one skipped turn; an operation
        // started on another thread is seen by the next turn.
        return waiting_.load(std::memory_order_relaxed) > 0;
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        // A full counter already means a pending wakeup, so a failed write loses nothing.
        [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
    }

    void run_once(bool block, std::vector<std::coroutine_handle<>>& ready) override {
        epoll_event events[64];
        const int n = ::epoll_wait(epfd_, events, 64, block ? -1 : 0);
        if (n < 0) {
            if (errno == EINTR) return;
            fail("epoll_wait");
        }
        std::lock_guard lk(mu_);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            const auto ev = events[i].events;
            if (fd == wakefd_) {
                std::uint64_t v;
                [[maybe_unused]] auto r = ::read(wakefd_, &v, sizeof v);
                continue;
            }
            if (fd == timerfd_) {
                std::uint64_t v;
                [[maybe_unused]] auto r = ::read(timerfd_, &v, sizeof v);
                expire_timers(ready);
                continue;
            }
            if (static_cast<std::size_t>(fd) >= fds_.size()) continue;
            auto& w = fds_[fd];
            const bool err = (ev & (EPOLLERR | EPOLLHUP)) != 0;
            if ((ev & (EPOLLIN | EPOLLRDHUP)) != 0 || err) complete(w.reader, ready);
            if ((ev & EPOLLOUT) != 0 || err) complete(w.writer, ready);
        }
    }

private:
    void add(int fd, std::uint32_t mask) {
        epoll_event ev{};
        ev.events = mask;
        ev.data.fd = fd;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl");
    }

    void complete(io_op*& slot, std::vector<std::coroutine_handle<>>& ready) {
        if (slot == nullptr || !attempt_io(*slot)) return;
        ready.push_back(slot->waiter);
        slot = nullptr;
        waiting_.fetch_sub(1, std::memory_order_relaxed);
    }

    void expire_timers(std::vector<std::coroutine_handle<>>& ready) {
        const std::uint64_t now = monotonic_ns();
        while (!timers_.empty() && timers_.front()->deadline_ns <= now) {
            ready.push_back(timers_.front()->waiter);
            waiting_.fetch_sub(1, std::memory_order_relaxed);
            std::pop_heap(timers_.begin(), timers_.end(), timer_later{});
            timers_.pop_back();
        }
        if (!timers_.empty()) arm_timerfd(timers_.front()->deadline_ns);
    }

    void arm_timerfd(std::uint64_t deadline_ns) {
        itimerspec spec{};
        // A zero it_value disarms the timer, so a deadline already past is armed 1 ns in.
        const std::uint64_t at = std::max<std::uint64_t>(deadline_ns, 1);
        spec.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000ULL);
        spec.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000ULL);
        ::timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    int epfd_ = -1;
    int wakefd_ = -1;
    int timerfd_ = -1;
    std::mutex mu_;  // guards fds_ and timers_: operations start on any thread
    std::vector<fd_waiters> fds_;
    std::vector<timer_op*> timers_;
    std::atomic<std::int64_t> waiting_{0};  // operations and timers stored above
};

}  // namespace

std::unique_ptr<reactor> make_epoll_reactor() {
    return std::make_unique<epoll_reactor>();
}

}  // namespace schedlab::runtime
