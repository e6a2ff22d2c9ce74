// The simulator and the live runtime in one binary: the same policy objects decide in both,
// and what the live runtime records, the simulator replays with the same jobs and structure.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "policies/frames.hpp"
#include "policies/pump.hpp"
#include "runtime/channel.hpp"
#include "runtime/executor.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_ops.hpp"
#include "runtime/workloads.hpp"
#include "sim/simulator.hpp"
#include "traces/format.hpp"

namespace fs = std::filesystem;
namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;
namespace tr = schedlab::traces;

namespace {

struct temp_file {
    fs::path path;
    explicit temp_file(const std::string& name)
        : path(fs::temp_directory_path() /
               ("schedlab-" + std::to_string(::getpid()) + "-" + name)) {}
    ~temp_file() { fs::remove(path); }
};

// The frames a job's program builds, counted the way the simulator allocates them: the job
// itself, one per call, `width` per fan-out.
std::uint64_t frames_of(const tr::program& p) {
    std::uint64_t n = 1;
    for (const auto& s : p.steps) {
        if (s.kind == tr::step_kind::call) n += frames_of(*s.sub);
        if (s.kind == tr::step_kind::fanout) n += s.count * frames_of(*s.sub);
    }
    return n;
}

std::uint64_t ready_ops_of(const tr::program& p) {
    std::uint64_t n = 0;
    for (const auto& s : p.steps) {
        if (s.kind == tr::step_kind::ready) n += s.count;
        if (s.kind == tr::step_kind::call) n += ready_ops_of(*s.sub);
        if (s.kind == tr::step_kind::fanout) n += s.count * ready_ops_of(*s.sub);
    }
    return n;
}

std::uint64_t source_stat(const schedlab::sim::run_result& r, const std::string& key) {
    for (const auto& [k, v] : r.source_stats) {
        if (k == key) return v;
    }
    FAIL("no source stat " << key);
    return 0;
}

template <class S>
concept asks_pump_without_key = requires(S& s) {
    s.try_inline();
};

std::uint64_t live_ready_ops(const rt::io_context& ctx) {
    return ctx.stats().pump.inline_granted + ctx.stats().pump.inline_refused;
}

int call_depth(const tr::program& p) {
    int d = 0;
    for (const auto& s : p.steps) {
        if (s.kind == tr::step_kind::call) d = std::max(d, 1 + call_depth(*s.sub));
    }
    return d;
}

rt::task<void> ready_receives(rt::io_context& ctx, int fd, int n) {
    for (int i = 0; i < n; ++i) {
        char c;
        co_await rt::async_recv(ctx, fd, &c, 1);
    }
}

rt::task<void> zero_timers(rt::io_context& ctx, int n) {
    for (int i = 0; i < n; ++i) co_await rt::sleep_for(ctx, 0);
}

rt::task<void> full_channel_receives(rt::channel<int>& ch, int n) {
    for (int i = 0; i < n; ++i) co_await ch.receive();
}

}  // namespace

TEST_CASE("the live runtime is built from the simulator's policy types") {
    STATIC_REQUIRE(std::is_same_v<rt::live_recycler,
                                  pol::recycling_resource<rt::thread_cache_seam, std::mutex>>);
    STATIC_REQUIRE(std::is_base_of_v<pol::frame_resource, rt::live_recycler>);
}

TEST_CASE("the simulator and every live operation reach the pump through one step") {
    // The scheduler side of the step: the io_context is a pump_scheduler, as the simulator's
    // worker view is, and its try_inline needs a key that only completed_operation can make.
    // So a live awaitable cannot ask the pump except by awaiting that step.
    STATIC_REQUIRE(rt::pump_scheduler<rt::io_context>);
    STATIC_REQUIRE_FALSE(std::is_default_constructible_v<rt::step_key>);
    STATIC_REQUIRE_FALSE(asks_pump_without_key<rt::io_context>);
}

TEST_CASE("one pump definition makes the same decisions in the simulator and on epoll") {
    const char* spec = GENERATE("fixed:3", "disabled", "adaptive:initial=2,max=8,unassisted=4");
    // The same ten decisions whichever live operation is already complete: a socket receive,
    // a zero timer or a receive from a channel that holds a value.
    const std::string op = GENERATE("socket", "timer", "channel");
    // Ten already-complete operations in one queued handler, on one worker.
    temp_file trace("ready10.trace");
    {
        std::ofstream out(trace.path);
        out << "schedlab-trace 1\nclass 0 c\njob 0 0 : ready 10\n";
    }
    auto source = tr::open_trace(trace.path.string());
    schedlab::sim::sim_config cfg;
    cfg.pump = pol::pump_spec::parse(spec);
    cfg.workers = 1;
    cfg.costs = schedlab::sim::cost_model::zero();
    const auto simulated = schedlab::sim::simulate(*source, cfg);

    rt::context_options o;
    o.threads = 1;
    o.pump = pol::pump_spec::parse(spec);
    rt::io_context ctx(rt::make_epoll_reactor(), o);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    ctx.io().attach(fds[1]);
    REQUIRE(::send(fds[0], "0123456789", 10, 0) == 10);
    rt::channel<int> ch(ctx, 10);
    std::vector<std::coroutine_handle<>> none;
    for (int i = 0; i < 10; ++i) REQUIRE(ch.try_send(i, none));
    if (op == "socket") ctx.spawn(ready_receives(ctx, fds[1], 10));
    if (op == "timer") ctx.spawn(zero_timers(ctx, 10));
    if (op == "channel") ctx.spawn(full_channel_receives(ch, 10));
    ctx.run();
    CHECK(live_ready_ops(ctx) == 10);
    ctx.io().detach(fds[1]);
    ::close(fds[0]);
    ::close(fds[1]);

    const auto& live = ctx.stats().pump;
    CHECK(live.inline_granted == simulated.inline_resumes);
    CHECK(live.inline_refused == simulated.posted_resumes);
    CHECK(live.cap_doubled == simulated.pump_counters.cap_doubled);
    CHECK(live.budget_exhausted == simulated.pump_counters.budget_exhausted);
    CHECK(ctx.options().pump.to_string() == simulated.pump);
}

TEST_CASE("a recorded live run replays with the same job count and structure") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    SECTION("chain") {
        temp_file trace("chain-" + reactor + ".trace");
        rt::live_options o;
        o.workload = "chain";
        o.reactor = reactor;
        o.threads = 2;
        o.jobs = 60;
        o.depth = 5;
        o.ops = 2;
        o.duration_s = 60;
        o.record = trace.path.string();
        const auto live = rt::run_live(o);
        REQUIRE(live.jobs_completed == 60);

        auto src = tr::open_trace(o.record);
        std::uint64_t jobs = 0;
        while (auto j = src->next()) {
            ++jobs;
            CHECK(call_depth(*j->prog) == 5);
            CHECK(frames_of(*j->prog) == 6);     // the job and its five nested calls
            CHECK(ready_ops_of(*j->prog) == 4);  // two send-and-receive pairs, all complete
        }
        CHECK(jobs == 60);

        auto again = tr::open_trace(o.record);
        schedlab::sim::sim_config cfg;
        cfg.workers = 2;
        const auto replayed = schedlab::sim::simulate(*again, cfg);
        CHECK(replayed.jobs_completed == 60);
        CHECK(replayed.inline_resumes + replayed.posted_resumes == 60 * 4);
        CHECK(replayed.frames_result.counters.allocations == 60 * 6);
    }
    SECTION("fanout") {
        temp_file trace("fanout-" + reactor + ".trace");
        rt::live_options o;
        o.workload = "fanout";
        o.reactor = reactor;
        o.threads = 2;
        o.jobs = 12;
        o.width = 16;
        o.when_all = "private";
        o.duration_s = 60;
        o.record = trace.path.string();
        REQUIRE(rt::run_live(o).jobs_completed == 12);
        auto src = tr::open_trace(o.record);
        std::uint64_t jobs = 0;
        while (auto j = src->next()) {
            ++jobs;
            REQUIRE(j->prog->steps.size() == 1);
            CHECK(j->prog->steps[0].kind == tr::step_kind::fanout);
            CHECK(j->prog->steps[0].count == 16);
        }
        CHECK(jobs == 12);
        auto again = tr::open_trace(o.record);
        const auto replayed = schedlab::sim::simulate(*again, {});
        CHECK(replayed.jobs_completed == 12);
        // The job, the simulator's fan-out frame (it keeps other frames small) and 16 children.
        CHECK(replayed.frames_result.counters.allocations == 12 * 18);
    }
    SECTION("pingpong and http keep their call structure") {
        // Live, each job is a request coroutine calling the client's send and receive helpers,
        // and the server's receive and send helpers serve it: five frames (six for an http
        // response whose body arrived after its head). The recording calls the same helpers
        // from the job, so the replay allocates the same frames and takes the same pump
        // decisions per job.
        const std::string workload = GENERATE("pingpong", "http");
        temp_file trace(workload + "-" + reactor + ".trace");
        rt::live_options o;
        o.workload = workload;
        o.reactor = reactor;
        o.threads = 2;
        o.concurrency = 4;
        o.jobs = 40;
        o.duration_s = 60;
        o.record = trace.path.string();
        const auto live = rt::run_live(o);
        REQUIRE(live.jobs_completed == 40);

        auto src = tr::open_trace(o.record);
        std::uint64_t jobs = 0, job_frames = 0, job_ready = 0;
        while (auto j = src->next()) {
            ++jobs;
            const std::uint64_t f = frames_of(*j->prog);
            job_frames += f;
            job_ready += ready_ops_of(*j->prog);
            if (workload == "pingpong") {
                CHECK(f == 5);
            } else {
                CHECK((f == 5 || f == 6));
            }
            CHECK(call_depth(*j->prog) == 1);
        }
        CHECK(jobs == 40);
        if (workload == "pingpong") CHECK(job_frames == 40 * 5);

        // Frames outside any job: 4 clients, 4 server connections (accepted before the run),
        // and the closing receive of each client and each server connection.
        const std::uint64_t outside_frames = 4 + 4 + 4 + 4;
        CHECK(live.frames_result.counters.allocations == job_frames + outside_frames);
        const std::uint64_t live_decisions = live.inline_resumes + live.posted_resumes;
        const std::uint64_t outside_ready = source_stat(live, "ready_ops_outside_jobs");
        CHECK(live_decisions - outside_ready == job_ready);

        auto again = tr::open_trace(o.record);
        schedlab::sim::sim_config cfg;
        cfg.workers = 2;
        const auto replayed = schedlab::sim::simulate(*again, cfg);
        CHECK(replayed.jobs_completed == 40);
        CHECK(replayed.frames_result.counters.allocations == job_frames);
        CHECK(replayed.inline_resumes + replayed.posted_resumes == live_decisions - outside_ready);
    }
}
