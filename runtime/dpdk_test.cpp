// The DPDK reactor and the pipeline on it. The EAL can be initialised once per process, so
// every DPDK test lives in this binary and shares one EAL (its --file-prefix carries the
// process id so parallel test runs do not share EAL files); each pipeline run hot-plugs its
// own device.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "policies/frames.hpp"
#include "runtime/channel.hpp"
#include "runtime/dpdk_pipeline.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_ops.hpp"

namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;

namespace {

std::string eal_prefix() {
    return "schedlab_dpdk_test_" + std::to_string(::getpid());
}

// Where the EAL puts the runtime directory of `prefix`: under /var/run/dpdk for root, else
// under $XDG_RUNTIME_DIR (or /tmp).
std::filesystem::path eal_runtime_dir(const std::string& prefix) {
    if (::geteuid() == 0) return std::filesystem::path("/var/run/dpdk") / prefix;
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    return std::filesystem::path(xdg != nullptr ? xdg : "/tmp") / "dpdk" / prefix;
}

std::uint64_t stat(const schedlab::sim::run_result& r, const std::string& key) {
    for (const auto& [k, v] : r.source_stats) {
        if (k == key) return v;
    }
    FAIL("no source stat " << key);
    return 0;
}

rt::context_options opts(std::uint32_t threads, const char* pump) {
    rt::context_options o;
    o.threads = threads;
    o.pump = pol::pump_spec::parse(pump);
    return o;
}

rt::task<void> sleep_then_log(rt::io_context& ctx, std::uint64_t delay_ns, int id,
                              std::vector<int>& order, std::vector<std::uint64_t>& waited_ns) {
    const std::uint64_t t0 = rt::monotonic_ns();
    co_await rt::sleep_for(ctx, delay_ns);
    waited_ns.push_back(rt::monotonic_ns() - t0);
    order.push_back(id);
}

struct park {
    std::atomic<void*>& slot;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        slot.store(h.address(), std::memory_order_release);
    }
    void await_resume() const noexcept {}
};

rt::task<void> parked(std::atomic<void*>& slot, rt::io_context& ctx, bool& on_context) {
    co_await park{slot};
    on_context = rt::io_context::current() == &ctx;
}

rt::task<void> receive_all(rt::channel<int>& ch, int n, int& got) {
    for (int i = 0; i < n; ++i) {
        if (co_await ch.receive()) ++got;
    }
}

}  // namespace

TEST_CASE("the pcap PMD feeds every packet of a real capture through all stages") {
    rt::live_options o;
    o.workload = "pipeline";
    o.reactor = "dpdk";
    o.threads = 2;
    o.pump = "fixed:4";
    o.duration_s = 120;  // the capture ends long before: the run stops at its last packet
    o.pcap = std::string(SCHEDLAB_DATA_DIR) + "/http_dns_browsing.pcap";
    o.dpdk_prefix = eal_prefix();
    const auto r = rt::run_dpdk_pipeline(o);

    CHECK(r.jobs_arrived == 4631);
    CHECK(r.jobs_completed == 4631);
    CHECK(stat(r, "rx_packets") == 4631);
    CHECK(stat(r, "stage0_parse_packets") == 4631);
    CHECK(stat(r, "stage1_classify_packets") == 4631);
    CHECK(stat(r, "stage2_emit_packets") == 4631);
    CHECK(stat(r, "tx_packets") + stat(r, "tx_dropped") == 4631);
    std::uint64_t classified = 0;
    for (const char* c : {"dns", "http", "tls", "other_tcp", "other_udp", "other"}) {
        classified += stat(r, std::string("traffic_") + c);
    }
    CHECK(classified == 4631);
    CHECK(stat(r, "traffic_dns") > 0);
    CHECK(stat(r, "traffic_http") > 0);
    CHECK(r.latency.count == 4631);
    CHECK(r.latency.p50_ns <= r.latency.p99_ns);
    CHECK(stat(r, "stage0_parse_p50_ns") <= stat(r, "stage0_parse_p99_ns"));
    // One frame per stage consumer (3 stages, one consumer per thread), all from the run's
    // recycler and all returned.
    CHECK(r.frames_result.counters.allocations == 6);
    CHECK(r.frames_result.counters.deallocations == 6);
    CHECK(r.frames_result.outstanding_at_end == 0);
    // Receives that find a packet waiting are already complete: the pump runs some inline
    // and never more than its budget in a row.
    CHECK(r.inline_resumes > 0);
    CHECK(r.max_inline_streak <= 4);

    // The EAL stays up: a second run in the same process hot-plugs its own (null) device.
    rt::live_options n = o;
    n.pcap.clear();
    n.jobs = 2000;
    const auto again = rt::run_dpdk_pipeline(n);
    CHECK(again.jobs_completed == 2000);
    CHECK(stat(again, "rx_packets") == 2000);
    CHECK(again.frames_result.counters.allocations == 6);
}

TEST_CASE("dpdk reactor: timers fire in deadline order, never early") {
    rt::dpdk_eal_init(eal_prefix());
    rt::io_context ctx(rt::make_dpdk_reactor(), opts(1, "adaptive"));
    std::vector<int> order;
    std::vector<std::uint64_t> waited;
    ctx.spawn([&] { return sleep_then_log(ctx, 6'000'000, 3, order, waited); });
    ctx.spawn([&] { return sleep_then_log(ctx, 2'000'000, 1, order, waited); });
    ctx.spawn([&] { return sleep_then_log(ctx, 4'000'000, 2, order, waited); });
    ctx.run();
    CHECK(order == std::vector<int>{1, 2, 3});
    REQUIRE(waited.size() == 3);
    CHECK(waited[0] >= 2'000'000);
    CHECK(waited[1] >= 4'000'000);
    CHECK(waited[2] >= 6'000'000);
    CHECK(ctx.stats().reactor_blocking_turns > 0);
    CHECK(ctx.stats().frames_outstanding_at_end == 0);
}

TEST_CASE("dpdk reactor: a post from another thread wakes a blocking poll") {
    rt::dpdk_eal_init(eal_prefix());
    rt::io_context ctx(rt::make_dpdk_reactor(), opts(1, "adaptive"));
    std::atomic<void*> slot{nullptr};
    bool on_context = false;
    ctx.spawn([&] { return parked(slot, ctx, on_context); });
    std::thread poster([&] {
        while (slot.load(std::memory_order_acquire) == nullptr) std::this_thread::yield();
        // Give the context time to enter its blocking poll; correctness does not depend on it.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ctx.post(std::coroutine_handle<>::from_address(slot.load()));
    });
    ctx.run();
    poster.join();
    // Had the wakeup been lost, run() would poll forever and the test would time out.
    CHECK(on_context);
    CHECK(ctx.stats().reactor_blocking_turns > 0);
}

TEST_CASE("dpdk reactor: stop() from another thread ends a blocking poll, frames come back") {
    rt::dpdk_eal_init(eal_prefix());
    rt::io_context ctx(rt::make_dpdk_reactor(), opts(2, "adaptive"));
    std::atomic<void*> slot{nullptr};
    bool on_context = false;
    ctx.spawn([&] { return parked(slot, ctx, on_context); });
    std::thread stopper([&] {
        while (slot.load(std::memory_order_acquire) == nullptr) std::this_thread::yield();
        ctx.stop();
    });
    ctx.run();
    stopper.join();
    CHECK_FALSE(on_context);
    // The task never finished: destroying it hands its frame back to the run's resource.
    std::coroutine_handle<>::from_address(slot.load()).destroy();
    CHECK(static_cast<pol::frame_resource*>(ctx.frames())->outstanding() == 0);
    CHECK(ctx.stats().frames.allocations == 1);
}

TEST_CASE("dpdk reactor: fixed:4 runs at most 4 inline resumes while work waits") {
    rt::dpdk_eal_init(eal_prefix());
    rt::io_context ctx(rt::make_dpdk_reactor(), opts(1, "fixed:4"));
    // Two consumers of channels that already hold 20 values each: every receive is already
    // complete, and while one consumer runs, the other waits in the run queue.
    rt::channel<int> a(ctx, 20), b(ctx, 20);
    std::vector<std::coroutine_handle<>> none;
    for (int i = 0; i < 20; ++i) {
        int x = i, y = i;
        REQUIRE(a.try_send(x, none));
        REQUIRE(b.try_send(y, none));
    }
    int got_a = 0, got_b = 0;
    ctx.spawn([&] { return receive_all(a, 20, got_a); });
    ctx.spawn([&] { return receive_all(b, 20, got_b); });
    ctx.run();
    CHECK(got_a == 20);
    CHECK(got_b == 20);
    const auto& s = ctx.stats();
    // Per consumer, every fifth receive is posted: 16 inline and 4 posted.
    CHECK(s.pump.inline_granted == 32);
    CHECK(s.pump.inline_refused == 8);
    CHECK(s.max_inline_streak == 4);
    CHECK(s.frames.allocations == 2);
}

TEST_CASE("a pipeline run leaves no EAL runtime directory behind") {
    rt::live_options o;
    o.workload = "pipeline";
    o.reactor = "dpdk";
    o.jobs = 100;
    o.duration_s = 60;
    o.dpdk_prefix = eal_prefix();
    const auto r = rt::run_dpdk_pipeline(o);
    CHECK(r.jobs_completed == 100);
    // The EAL is still up here, and it must not need the directory for the rest of the process.
    CHECK_FALSE(std::filesystem::exists(eal_runtime_dir(eal_prefix())));
}
