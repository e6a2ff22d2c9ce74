// The live runtime on each real reactor: operations, timers, wakeups, shutdown, the pump's
// inline path, and the multi-threaded scheduler with the recycler. This file is also built
// with ThreadSanitizer (live_tsan_test), so every test here is a race check too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "policies/frame_stash.hpp"
#include "runtime/channel.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_ops.hpp"
#include "runtime/when_all.hpp"

namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;
using rt::task;

namespace {

std::unique_ptr<rt::reactor> make(const std::string& name) {
    return name == "epoll" ? rt::make_epoll_reactor() : rt::make_uring_reactor();
}

rt::context_options opts(std::uint32_t threads, const char* pump,
                         const char* frames = "recycling") {
    rt::context_options o;
    o.threads = threads;
    o.pump = pol::pump_spec::parse(pump);
    o.frames = pol::frames_spec::parse(frames);
    return o;
}

struct pair_fds {
    explicit pair_fds(rt::reactor& r) : r_(r) {
        // Built on context threads too, where Catch's assertions are not safe: throw instead.
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0) {
            throw std::runtime_error("socketpair failed");
        }
        r_.attach(fd[0]);
        r_.attach(fd[1]);
    }
    ~pair_fds() {
        for (int f : fd) {
            r_.detach(f);
            ::close(f);
        }
    }
    rt::reactor& r_;
    int fd[2];
};

task<void> receive_into(rt::io_context& ctx, int fd, std::string& out, rt::io_result& res) {
    char buf[16];
    res = co_await rt::async_recv(ctx, fd, buf, sizeof buf);
    if (res.value > 0) out.assign(buf, static_cast<std::size_t>(res.value));
}

task<void> send_later(rt::io_context& ctx, int fd, std::uint64_t delay_ns, const char* text) {
    co_await rt::sleep_for(ctx, delay_ns);
    const auto r = co_await rt::async_send(ctx, fd, text, std::strlen(text));
    if (r.value != static_cast<std::int64_t>(std::strlen(text))) throw std::runtime_error("send");
}

task<void> sleep_then_log(rt::io_context& ctx, std::uint64_t delay_ns, int id,
                          std::vector<int>& order, std::vector<std::uint64_t>& waited_ns) {
    const std::uint64_t t0 = rt::monotonic_ns();
    co_await rt::sleep_for(ctx, delay_ns);
    waited_ns.push_back(rt::monotonic_ns() - t0);
    order.push_back(id);
}

// `n` one-byte receives whose bytes are already in the socket: n already-complete operations
// in one queued handler.
task<void> ready_receives(rt::io_context& ctx, int fd, int n, int& got) {
    for (int i = 0; i < n; ++i) {
        char c;
        const auto r = co_await rt::async_recv(ctx, fd, &c, 1);
        if (r.value == 1 && r.was_ready) ++got;
    }
}

}  // namespace

TEST_CASE("a receive that must wait completes through the reactor") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    rt::io_context ctx(make(reactor), opts(1, "adaptive"));
    pair_fds p(ctx.io());
    std::string got;
    rt::io_result res;
    ctx.spawn(receive_into(ctx, p.fd[1], got, res));
    ctx.spawn(send_later(ctx, p.fd[0], 2'000'000, "hello"));
    ctx.run();
    CHECK(got == "hello");
    CHECK(res.value == 5);
    CHECK_FALSE(res.was_ready);
    CHECK(ctx.stats().reactor_turns > 0);
}

TEST_CASE("accept and a loopback TCP exchange") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    rt::io_context ctx(make(reactor), opts(2, "adaptive"));
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(lfd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(lfd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ctx.io().attach(lfd);
    const int cfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(cfd >= 0);
    ctx.io().attach(cfd);

    std::string got;
    std::int64_t accepted = -1;
    auto server = [&]() -> task<void> {
        const auto a = co_await rt::async_accept(ctx, lfd);
        accepted = a.value;
        if (a.value < 0) co_return;
        const int fd = static_cast<int>(a.value);
        ctx.io().attach(fd);
        co_await rt::async_send(ctx, fd, "pong", 4);
        ctx.io().detach(fd);
        ::close(fd);
    };
    auto client = [&]() -> task<void> {
        co_await rt::sleep_for(ctx, 1'000'000);  // the accept is waiting in the reactor by now
        // A non-blocking connect on loopback is in progress or done; the receive waits for it.
        ::connect(cfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        rt::io_result r;
        co_await receive_into(ctx, cfd, got, r);
    };
    ctx.spawn(server());
    ctx.spawn(client());
    ctx.run();
    CHECK(accepted >= 0);
    CHECK(got == "pong");
    ctx.io().detach(cfd);
    ctx.io().detach(lfd);
    ::close(cfd);
    ::close(lfd);
}

TEST_CASE("timers fire in deadline order, never early") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    rt::io_context ctx(make(reactor), opts(1, "adaptive"));
    std::vector<int> order;
    std::vector<std::uint64_t> waited;
    ctx.spawn(sleep_then_log(ctx, 6'000'000, 3, order, waited));
    ctx.spawn(sleep_then_log(ctx, 2'000'000, 1, order, waited));
    ctx.spawn(sleep_then_log(ctx, 4'000'000, 2, order, waited));
    ctx.run();
    CHECK(order == std::vector<int>{1, 2, 3});
    REQUIRE(waited.size() == 3);
    CHECK(waited[0] >= 2'000'000);
    CHECK(waited[1] >= 4'000'000);
    CHECK(waited[2] >= 6'000'000);
}

TEST_CASE("the pump's inline path is taken and bounded on each reactor") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    SECTION("fixed:3 resumes three inline, then posts") {
        rt::io_context ctx(make(reactor), opts(1, "fixed:3"));
        // Two readers, so that the other one waits in the queue while one runs inline: the
        // bound is about what queued work can be made to wait for.
        pair_fds p(ctx.io()), q(ctx.io());
        REQUIRE(::send(p.fd[0], "0123456789", 10, 0) == 10);
        REQUIRE(::send(q.fd[0], "0123456789", 10, 0) == 10);
        int got = 0, got_q = 0;
        ctx.spawn(ready_receives(ctx, p.fd[1], 10, got));
        ctx.spawn(ready_receives(ctx, q.fd[1], 10, got_q));
        ctx.run();
        CHECK(got == 10);
        CHECK(got_q == 10);
        // Per reader, cycles of 3 inline resumes, each ended by a post: 3 + 3 + 2 inline, 2
        // posted.
        CHECK(ctx.stats().pump.inline_granted == 16);
        CHECK(ctx.stats().pump.inline_refused == 4);
        CHECK(ctx.stats().max_inline_streak == 3);
        // The other reader is always queued behind a post, so no post is taken directly.
        CHECK(ctx.stats().direct_items == 0);
    }
    SECTION("a reader alone makes no streak: nothing waits while it runs inline") {
        rt::io_context ctx(make(reactor), opts(1, "fixed:3"));
        pair_fds p(ctx.io());
        REQUIRE(::send(p.fd[0], "0123456789", 10, 0) == 10);
        int got = 0;
        ctx.spawn(ready_receives(ctx, p.fd[1], 10, got));
        ctx.run();
        CHECK(got == 10);
        CHECK(ctx.stats().pump.inline_granted == 8);
        CHECK(ctx.stats().max_inline_streak == 0);
        // Each refused operation's post is the only item, with nothing else queued and nothing
        // waiting in the reactor: the thread takes it directly, past the queue's lock.
        CHECK(ctx.stats().direct_items == 2);
    }
    SECTION("disabled always posts") {
        rt::io_context ctx(make(reactor), opts(1, "disabled"));
        pair_fds p(ctx.io());
        REQUIRE(::send(p.fd[0], "0123456789", 10, 0) == 10);
        int got = 0;
        ctx.spawn(ready_receives(ctx, p.fd[1], 10, got));
        ctx.run();
        CHECK(got == 10);
        CHECK(ctx.stats().pump.inline_granted == 0);
        CHECK(ctx.stats().pump.inline_refused == 10);
    }
    SECTION("adaptive never runs more than its maximum in a row") {
        // unassisted=8: one thread with a second reader queued is always unassisted, and the
        // maximum, not the unassisted cap, is what this section bounds.
        rt::io_context ctx(make(reactor), opts(1, "adaptive:initial=2,max=8,unassisted=8"));
        pair_fds p(ctx.io()), q(ctx.io());
        std::vector<char> bytes(100, 'x');
        REQUIRE(::send(p.fd[0], bytes.data(), bytes.size(), 0) == 100);
        REQUIRE(::send(q.fd[0], bytes.data(), bytes.size(), 0) == 100);
        int got = 0, got_q = 0;
        ctx.spawn(ready_receives(ctx, p.fd[1], 100, got));
        ctx.spawn(ready_receives(ctx, q.fd[1], 100, got_q));
        ctx.run();
        CHECK(got == 100);
        CHECK(got_q == 100);
        const auto& s = ctx.stats();
        CHECK(s.pump.inline_granted + s.pump.inline_refused == 200);
        CHECK(s.pump.inline_granted > 0);
        CHECK(s.max_inline_streak == 8);
        CHECK(s.pump.cap_doubled > 0);
    }
}

TEST_CASE("a zero timer is an already-complete operation") {
    rt::io_context ctx(rt::make_epoll_reactor(), opts(1, "fixed:2"));
    auto zeros = [&]() -> task<void> {
        for (int i = 0; i < 5; ++i) co_await rt::sleep_for(ctx, 0);
    };
    ctx.spawn(zeros());
    ctx.run();
    CHECK(ctx.stats().pump.inline_granted == 4);
    CHECK(ctx.stats().pump.inline_refused == 1);
}

TEST_CASE("a post from another thread wakes a reactor blocked in its wait") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    rt::io_context ctx(make(reactor), opts(1, "adaptive"));
    std::atomic<void*> parked{nullptr};
    struct park {
        std::atomic<void*>& slot;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            slot.store(h.address(), std::memory_order_release);
        }
        void await_resume() const noexcept {}
    };
    bool resumed_on_context = false;
    auto waiter = [&]() -> task<void> {
        co_await park{parked};
        resumed_on_context = rt::io_context::current() == &ctx;
    };
    ctx.spawn(waiter());
    std::thread poster([&] {
        while (parked.load(std::memory_order_acquire) == nullptr) std::this_thread::yield();
        // Give the context time to enter its blocking wait; correctness does not depend on it.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ctx.post(std::coroutine_handle<>::from_address(parked.load()));
    });
    ctx.run();
    poster.join();
    // Had the wakeup been lost, run() would never return and the test would time out.
    CHECK(resumed_on_context);
}

TEST_CASE("run rethrows the first exception of a detached task and still finishes the rest") {
    rt::io_context ctx(rt::make_epoll_reactor(), opts(2, "adaptive"));
    std::atomic<int> finished{0};
    auto ok = [&]() -> task<void> {
        co_await rt::sleep_for(ctx, 1'000'000);
        ++finished;
    };
    auto bad = [&]() -> task<void> {
        co_await rt::sleep_for(ctx, 0);
        throw std::runtime_error("boom");
    };
    ctx.spawn(ok());
    ctx.spawn(bad());
    ctx.spawn(ok());
    CHECK_THROWS_WITH(ctx.run(), "boom");
    CHECK(finished == 2);
}

TEST_CASE("run with nothing spawned returns at once") {
    rt::io_context ctx(rt::make_uring_reactor(), opts(2, "adaptive"));
    ctx.run();
    CHECK(ctx.stats().queued_items == 0);
}

namespace {

task<void> child(rt::io_context& ctx, int fd_out, int fd_in, std::atomic<int>& done) {
    char c = 'c';
    co_await rt::async_send(ctx, fd_out, &c, 1);
    const auto r = co_await rt::async_recv(ctx, fd_in, &c, 1);
    if (r.value == 1) done.fetch_add(1, std::memory_order_relaxed);
}

task<void> fan_out(rt::io_context& ctx, std::vector<std::unique_ptr<pair_fds>>& pairs,
                   bool private_stash, std::atomic<int>& done, std::atomic<std::uint64_t>& trips) {
    std::vector<task<void>> kids;
    auto& cache = rt::thread_cache_seam{}.current();
    const std::uint64_t before = cache.counters.global_trips;
    if (private_stash) {
        pol::frame_stash stash(pairs.size(), rt::current_frame_resource());
        auto launch = rt::when_all(stash);
        for (auto& p : pairs) kids.push_back(child(ctx, p->fd[0], p->fd[1], done));
        trips += cache.counters.global_trips - before;
        co_await launch(std::move(kids));
    } else {
        for (auto& p : pairs) kids.push_back(child(ctx, p->fd[0], p->fd[1], done));
        trips += cache.counters.global_trips - before;
        co_await rt::when_all(std::move(kids));
    }
}

task<void> fan_out_jobs(rt::io_context& ctx, int jobs, bool private_stash, std::atomic<int>& done,
                        std::atomic<std::uint64_t>& trips) {
    std::vector<std::unique_ptr<pair_fds>> pairs;
    for (int i = 0; i < 64; ++i) pairs.push_back(std::make_unique<pair_fds>(ctx.io()));
    for (int j = 0; j < jobs; ++j) co_await fan_out(ctx, pairs, private_stash, done, trips);
}

}  // namespace

TEST_CASE("two threads run when_all fan-outs of 64 with the real recycler") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    const bool private_stash = GENERATE(false, true);
    rt::io_context ctx(make(reactor), opts(2, "adaptive"));
    std::atomic<int> done{0};
    std::atomic<std::uint64_t> trips{0};
    ctx.spawn(fan_out_jobs(ctx, 20, private_stash, done, trips));
    ctx.spawn(fan_out_jobs(ctx, 20, private_stash, done, trips));
    ctx.run();
    const auto& s = ctx.stats();
    CHECK(done == 2 * 20 * 64);
    CHECK(s.frames_outstanding_at_end == 0);
    CHECK(s.frames.allocations == s.frames.deallocations);
    if (private_stash) {
        CHECK(trips == 0);  // the stash serves every child: no global-pool trip
    } else {
        CHECK(trips > 0);  // 64 children overflow a 16-frame bucket
    }
}

TEST_CASE("a channel hands values between threads in order per producer") {
    rt::io_context ctx(rt::make_epoll_reactor(), opts(2, "adaptive"));
    rt::channel<int> ch(ctx, 4);
    std::vector<int> got;
    auto producer = [&]() -> task<void> {
        for (int i = 0; i < 1000; ++i) co_await ch.send(i);
        ch.close();
    };
    auto consumer = [&]() -> task<void> {
        for (;;) {
            auto v = co_await ch.receive();
            if (!v) break;
            got.push_back(*v);
        }
    };
    ctx.spawn(consumer());
    ctx.spawn(producer());
    ctx.run();
    REQUIRE(got.size() == 1000);
    for (int i = 0; i < 1000; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a task spawned with a maker before run() is created on a context thread") {
    rt::io_context ctx(rt::make_epoll_reactor(), opts(2, "adaptive"));
    std::atomic<int> on_context{0};
    auto body = [&]() -> task<void> {
        if (rt::io_context::current() == &ctx) on_context.fetch_add(1);
        co_await rt::sleep_for(ctx, 0);
    };
    for (int i = 0; i < 8; ++i) ctx.spawn([&] { return body(); });
    ctx.run();
    CHECK(on_context == 8);
    // Every frame came from the run's recycler and is counted in its stats.
    CHECK(ctx.stats().frames.allocations == 8);
    CHECK(ctx.stats().frames.deallocations == 8);
    CHECK(ctx.stats().frames_outstanding_at_end == 0);
}
