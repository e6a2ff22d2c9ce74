// The checker against planted faults it must catch, and the shipped policies it must pass.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>

#include "properties/check.hpp"
#include "properties/check_command.hpp"
#include "properties/faults.hpp"
#include "properties/schedule.hpp"
#include "properties/workload.hpp"
#include "sim/report.hpp"
#include "tools/test_support.hpp"
#include "traces/format.hpp"

using namespace schedlab;
using namespace schedlab::properties;

namespace {

workload scenario(const std::string& name) {
    auto src = traces::open_input(scenario_dir() + "/" + name + ".trace");
    return workload::from_source(*src);
}

check_options options(const std::string& pump, const std::string& frames = "recycling",
                      const std::string& when_all = "shared", std::uint32_t workers = 2) {
    check_options o;
    o.config.pump = policies::pump_spec::parse(pump);
    o.config.frames = policies::frames_spec::parse(frames);
    o.config.when_all = policies::parse_when_all(when_all);
    o.config.workers = workers;
    return o;
}

// Writes the counterexample, reads it back and replays it strictly, as the command line does.
std::optional<failure> replay_files(const check_report& r, const check_options& o,
                                    const std::string& dir) {
    std::filesystem::create_directories(dir);
    r.counterexample->write(dir + "/c.trace");
    r.counterexample_schedule.save(dir + "/c.schedule");
    auto src = traces::open_input(dir + "/c.trace");
    const workload back = workload::from_source(*src);
    sim::sim_config c = o.config;
    c.test_hooks = o.config.test_hooks;
    auto follow = apply_schedule(c, dir + "/c.schedule");
    return run_once(back, c, *follow).failed;
}

// A private directory per use, removed at the end of the test case, so that concurrent test
// runs cannot meet in it.
using scratch = schedlab::test_support::scratch;

}  // namespace

TEST_CASE("a recorded schedule replays the run bit for bit; another arity is a divergence") {
    const workload w = scenario("fanout-64");
    sim::sim_config c = options("adaptive").config;
    c.io_jitter_ns = 3000;
    random_chooser pick(7);
    const run_outcome first = run_once(w, c, pick);
    REQUIRE_FALSE(first.failed);
    REQUIRE(first.choices.size() > 3);
    replay_chooser follow(first.choices, true);
    const run_outcome again = run_once(w, c, follow);
    CHECK(again.result.event_hash == first.result.event_hash);
    CHECK(again.choices == first.choices);

    auto wrong = first.choices;
    wrong[3].arity += 1;
    replay_chooser bad(wrong, true);
    CHECK_THROWS_WITH(run_once(w, c, bad), Catch::Contains("diverges at choice 3"));

    schedule s;
    s.seed = 9;
    s.choices = first.choices;
    s.settings = settings_of(c);
    const schedule back = schedule::parse(s.to_text(), "x.schedule");
    CHECK(back.seed == 9);
    CHECK(back.choices == s.choices);
    CHECK(back.settings == s.settings);
}

TEST_CASE("a bad schedule file names the line and the field") {
    CHECK_THROWS_WITH(schedule::parse("schedlab-schedule 2\n", "s"), Catch::Contains("version"));
    CHECK_THROWS_WITH(schedule::parse("schedlab-schedule 1\nseed 1\n3 3\n", "s"),
                      Catch::Contains("line 3") && Catch::Contains("index"));
    CHECK_THROWS_WITH(schedule::parse("schedlab-schedule 1\n1 0\n", "s"), Catch::Contains("arity"));
    CHECK_THROWS_WITH(schedule::parse("# nothing\n", "s"), Catch::Contains("magic"));
}

TEST_CASE("a scenario that expects one key twice is refused, naming the file and the key") {
    traces::workload_header h;
    h.meta.emplace_back("expect", "max_inline_streak=16 io_jitter_ns=10");
    h.meta.emplace_back("expect", "max_inline_streak=32");
    // The second value used to replace the first silently.
    CHECK_THROWS_WITH(expectations_of(h, "s.trace"),
                      Catch::Contains("s.trace") &&
                          Catch::Contains("field 'meta expect max_inline_streak'") &&
                          Catch::Contains("max_inline_streak=16 is given before"));
    h.meta.pop_back();
    CHECK(expectations_of(h, "s.trace").size() == 2);
}

TEST_CASE("must show 1: fixed:1000000 breaks the starvation bound of 16, shrunk and replayable") {
    const workload w = scenario("hop-storm");
    check_options o = options("fixed:1000000");
    o.config.checks.max_inline_streak = 16;  // what the scenario declares
    o.runs = 300;
    const check_report r = run_check(w, o);
    REQUIRE(r.failed);
    CHECK(r.failed->property == "starvation");
    CHECK(r.failing_run < 300);
    REQUIRE(r.counterexample);
    CHECK(r.counterexample_failure.property == "starvation");
    INFO("shrunk jobs " << r.shrink.jobs_before << " -> " << r.shrink.jobs_after << ", steps "
                        << r.shrink.steps_before << " -> " << r.shrink.steps_after << ", choices "
                        << r.shrink.choices_before << " -> " << r.shrink.choices_after);
    CHECK(r.shrink.jobs_after < r.shrink.jobs_before);
    CHECK(r.shrink.steps_after < r.shrink.steps_before);
    // Measured: 18 one-step hop jobs (`send ping`) and one request. The ping consumer
    // receives the queued hops inline, 17 in a row (one more than the bound) while the
    // request waits in the run queue: no hop can go without the streak falling to 16.
    CHECK(r.shrink.jobs_after == 19);
    CHECK(r.shrink.steps_after == 19);
    const scratch dir("schedlab-properties-starve");
    const auto again = replay_files(r, o, dir.dir.string());
    REQUIRE(again);
    CHECK(again->property == "starvation");
    CHECK(again->message == r.counterexample_failure.message);
}

TEST_CASE("must show 1: a recycler that drops one frame in a thousand is caught as a leak") {
    const workload w = scenario("fanout-64");
    check_options o = options("adaptive");
    o.config.test_hooks.wrap_frames = faults::leak_one_in(1000);
    o.runs = 20;
    const check_report r = run_check(w, o);
    REQUIRE(r.failed);
    CHECK(r.failed->property == "frames-returned");
    CHECK(r.failing_run == 0);
    REQUIRE(r.counterexample);
    CHECK(r.counterexample_failure.property == "frames-returned");
    // One free in a thousand is lost, so the shrunk case must still free 1000 frames. Measured:
    // 16 jobs of one step, `fanout 61 leaf`, 63 frames each (the job's, the fan-out's, 61
    // children): 1008 frames, while 15 such jobs (945) or a width of 60 (992) fall short.
    // Every job shares one program, so its width shrinks for all of them at once.
    std::uint64_t frames = 0;
    for (const auto& j : r.counterexample->jobs) {
        REQUIRE(j.prog->steps.size() == 1);
        const auto& st = j.prog->steps[0];
        REQUIRE(st.kind == traces::step_kind::fanout);
        frames += 2 + st.count;
    }
    std::cout << "leak shrunk in " << r.shrink.runs << " runs: jobs " << r.shrink.jobs_before
              << " -> " << r.shrink.jobs_after << ", steps " << r.shrink.steps_before << " -> "
              << r.shrink.steps_after << ", schedule " << r.shrink.choices_before << " -> "
              << r.shrink.choices_after << " choices, " << frames << " frames\n";
    CHECK(r.shrink.jobs_after == 16);
    CHECK(r.shrink.steps_after == 16);
    CHECK(r.counterexample->jobs[0].prog->steps[0].count == 61);
    CHECK(frames >= 1000);
    CHECK(frames == 1008);
    CHECK(r.shrink.choices_after == 0);
    const scratch dir("schedlab-properties-leak");
    const auto again = replay_files(r, o, dir.dir.string());
    REQUIRE(again);
    CHECK(again->property == "frames-returned");
}

TEST_CASE("must show 1: a when_all that loses a wake-up is caught as a liveness failure") {
    const workload w = scenario("fanout-64");
    check_options o = options("adaptive");
    o.config.test_hooks.lose_wakeup = faults::lose_wakeup_one_in(4);
    o.runs = 20;
    const check_report r = run_check(w, o);
    REQUIRE(r.failed);
    CHECK(r.failed->property == "liveness");
    REQUIRE(r.counterexample);
    INFO("shrunk jobs " << r.shrink.jobs_before << " -> " << r.shrink.jobs_after
                        << ", fan-out width steps " << r.shrink.steps_after);
    // Four fan-outs are needed for the fourth to lose its wake-up.
    CHECK(r.shrink.jobs_after == 4);
    const scratch dir("schedlab-properties-wakeup");
    const auto again = replay_files(r, o, dir.dir.string());
    REQUIRE(again);
    CHECK(again->property == "liveness");
}

namespace {

void print_counts(const std::string& what, const check_report& r) {
    const auto rare = [&r](const char* name, const rare_path& p) {
        std::cout << "    " << name << " in " << p.runs << " of " << r.runs << " runs (" << p.total
                  << " times)\n";
    };
    std::cout << what << ": " << r.runs << " runs, " << r.distinct_schedules
              << " distinct schedules, " << r.choice_points << " choice points, "
              << r.determinism_checks << " determinism re-checks, longest inline run "
              << r.max_inline_streak << ", global trips per run " << r.min_global_trips << ".."
              << r.max_global_trips << " (children " << r.min_child_global_trips << ".."
              << r.max_child_global_trips << ")\n";
    rare("budget exhausted", r.budget_exhausted);
    rare("unassisted cap applied", r.unassisted_capped);
    rare("global trip", r.global_trip);
    rare("heap fallback", r.heap_fallback);
}

}  // namespace

TEST_CASE("must show 2: the shipped policies pass the planted faults' checks on their budgets") {
    // The planted faults' budgets: starvation 300 random runs of hop-storm with its declared
    // bound of 16; the leaking recycler and the lost wake-up 20 random runs of fanout-64. Every
    // shipped pump, with the recycler and either when_all frame source, gets the same.
    struct budget {
        const char* scenario;
        std::uint64_t runs;
        std::uint64_t max_inline_streak;
    };
    for (const budget b : {budget{"hop-storm", 300, 16}, budget{"fanout-64", 20, 0}}) {
        const workload w = scenario(b.scenario);
        for (const char* pump : {"disabled", "fixed:4", "adaptive"}) {
            for (const char* when_all : {"shared", "private"}) {
                check_options o = options(pump, "recycling", when_all);
                o.config.checks.max_inline_streak = b.max_inline_streak;
                o.runs = b.runs;
                const check_report r = run_check(w, o);
                const std::string what = std::string("must show 2: ") + b.scenario + ", " + pump +
                                         ", recycling, when_all " + when_all;
                print_counts(what, r);
                INFO(what);
                CHECK_FALSE(r.failed);
                CHECK(r.runs == b.runs);
                CHECK(r.distinct_schedules > 1);
                const std::uint64_t bound = policies::pump_spec::parse(pump).inline_bound();
                CHECK(r.max_inline_streak <= bound);
                if (std::string(pump) == "disabled") {
                    CHECK(r.max_inline_streak == 0);
                    CHECK(r.budget_exhausted.runs == 0);
                }
                if (std::string(b.scenario) == "hop-storm") {
                    // The hops keep waking each other: every budgeted pump spends its budget
                    // in every run; fixed:4 runs its 4 in a row, adaptive grows past its
                    // initial 2 and also meets the unassisted cap.
                    CHECK(r.max_inline_streak <= 16);
                    if (std::string(pump) != "disabled") {
                        CHECK(r.budget_exhausted.runs == r.runs);
                    }
                    if (std::string(pump) == "fixed:4") CHECK(r.max_inline_streak == 4);
                    if (std::string(pump) == "adaptive") {
                        CHECK(r.max_inline_streak > 2);
                        CHECK(r.unassisted_capped.runs > 0);
                    }
                } else {
                    // 64 children exhaust buckets of 16 in every run unless they come from a
                    // private stash, which takes them all in one piece.
                    CHECK(r.global_trip.runs == r.runs);
                    if (std::string(when_all) == "shared") {
                        CHECK(r.min_child_global_trips >= 3 * w.jobs.size());
                    } else {
                        CHECK(r.max_child_global_trips == 0);
                    }
                }
            }
        }
    }
}

TEST_CASE("the shipped policies pass every check under I/O jitter") {
    for (const char* pump : {"adaptive", "disabled", "fixed:16", "fixed:4"}) {
        for (const char* name : {"hop-storm", "fanout-64", "chain-8"}) {
            check_options o = options(pump);
            o.config.checks.max_inline_streak = 16;
            o.config.io_jitter_ns = 2000;
            o.runs = 40;
            const check_report r = run_check(scenario(name), o);
            INFO(pump << " on " << name << ": " << r.runs << " runs, " << r.distinct_schedules
                      << " distinct schedules, longest inline run " << r.max_inline_streak
                      << ", budget exhausted in " << r.budget_exhausted.runs
                      << " runs, global trips in " << r.global_trip.runs << " runs");
            CHECK_FALSE(r.failed);
            CHECK(r.runs == 40);
            CHECK(r.distinct_schedules > 1);
            CHECK(r.max_inline_streak <= 16);
        }
    }
}

TEST_CASE("must show 3: a chain of 8 fits per_thread=8 in every explored schedule") {
    const workload w = scenario("chain-8");
    for (const char* strat : {"random", "pct:2", "dfs:preemptions=2"}) {
        check_options o = options("adaptive", "recycling:per_thread=8");
        o.config.checks.max_global_trips = 16;  // each worker's first job fills its bucket
        o.strat = strategy::parse(strat);
        o.runs = 200;
        const check_report r = run_check(w, o);
        INFO(strat << ": " << r.runs << " runs, global trips per run " << r.min_global_trips << ".."
                   << r.max_global_trips);
        CHECK_FALSE(r.failed);
        CHECK(r.max_global_trips <= 16);
        CHECK(r.max_global_trips == 16);  // both workers ran a job in some schedule
    }
    // One slot less and every job goes back to the global pool.
    check_options o = options("adaptive", "recycling:per_thread=7");
    o.config.checks.max_global_trips = 16;
    o.runs = 5;
    const check_report r = run_check(w, o);
    REQUIRE(r.failed);
    CHECK(r.failed->property == "global-pool");
}

TEST_CASE("must show 3: fan-out 64 exhausts shared buckets; a private stash never needs the pool") {
    const workload w = scenario("fanout-64");
    check_options shared = options("adaptive");
    shared.runs = 50;
    const check_report s = run_check(w, shared);
    CHECK_FALSE(s.failed);
    CHECK(s.min_child_global_trips >= 3 * w.jobs.size());  // in every schedule
    CHECK(s.global_trip.runs == s.runs);
    CHECK(s.heap_fallback.runs == s.runs);

    // The same bound, declared, fails the shared children with the worker and size class.
    shared.config.checks.global_pool = sim::global_pool_rule::children;
    const check_report f = run_check(w, shared);
    REQUIRE(f.failed);
    CHECK(f.failed->property == "global-pool");
    CHECK_THAT(f.failed->message,
               Catch::Contains("when_all children") && Catch::Contains("worker"));

    for (const char* strat : {"random", "dfs:preemptions=1"}) {
        check_options priv = options("adaptive", "recycling", "private");
        priv.config.checks.global_pool = sim::global_pool_rule::children;
        priv.strat = strategy::parse(strat);
        priv.runs = 50;
        const check_report p = run_check(w, priv);
        INFO(strat << ": " << p.runs << " runs");
        CHECK_FALSE(p.failed);
        CHECK(p.max_child_global_trips == 0);
    }
}

namespace {

// Passes every frame request to the run's real resource and keeps the sizes asked for, so a
// test knows each frame's size class without assuming the compiler's coroutine frame sizes.
class recording_frames final : public policies::frame_resource {
public:
    recording_frames(policies::frame_resource& real, std::vector<std::size_t>& sizes)
        : real_(real), sizes_(sizes) {}
    std::int64_t outstanding() const noexcept override { return real_.outstanding(); }
    std::int64_t peak_outstanding() const noexcept override { return real_.peak_outstanding(); }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        sizes_.push_back(bytes);
        return real_.allocate(bytes, alignment);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        real_.deallocate(p, bytes, alignment);
    }
    bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
        return this == &o;
    }
    policies::frame_resource& real_;
    std::vector<std::size_t>& sizes_;
};

std::size_t class_bytes_of(std::size_t bytes) {
    return policies::frame_class_bytes(policies::frame_class_of(bytes));
}

// One job arriving at `arrival_ns`: `compute COMPUTE_NS` (left out when 0), then a fan-out of
// `width` leaves of `compute 100`.
workload one_fanout_job(std::uint64_t arrival_ns, std::uint64_t compute_ns, std::uint32_t width) {
    workload w;
    w.header.classes.push_back({0, "default"});
    traces::program leaf;
    leaf.name = "leaf";
    leaf.steps = {traces::step{traces::step_kind::compute, 1, 100, nullptr, 0}};
    const traces::program* sub = w.keep(std::move(leaf));
    auto p = std::make_shared<traces::program>();
    if (compute_ns > 0) p->steps.push_back({traces::step_kind::compute, 1, compute_ns, nullptr, 0});
    p->steps.push_back({traces::step_kind::fanout, width, 0, sub, 0});
    w.jobs.push_back({arrival_ns, 0, p});
    return w;
}

}  // namespace

TEST_CASE("exhaustion is reported with the worker, size class, job and time where it began") {
    // One job arriving at 3000 ns: `compute 100`, then a fan-out of 4. Two workers, and the
    // schedule wakes worker 1 for it; zero costs, so nothing moves the clock but the workload.
    const workload w = one_fanout_job(3000, 100, 4);
    sim::sim_config c = options("adaptive").config;
    c.costs = sim::cost_model::zero();
    std::vector<std::size_t> sizes;
    c.test_hooks.wrap_frames = [&sizes](policies::frame_resource& real) {
        return std::make_unique<recording_frames>(real, sizes);
    };
    const std::vector<sim::recorded_choice> wake_worker_1 = {{2, 1}};

    replay_chooser follow(wake_worker_1, true);
    const run_outcome o = run_once(w, c, follow);
    REQUIRE_FALSE(o.failed);
    REQUIRE(sizes.size() == 6);  // the job's frame, the fan-out's, 4 children
    // Buckets start empty, so the job's own frame, the run's first allocation, is the first
    // trip; the global pool starts empty too, so that trip is also the first heap fallback.
    const auto& trip = o.result.first_global_trip;
    REQUIRE(trip.seen);
    CHECK(trip.worker == 1);
    CHECK(policies::frame_class_bytes(trip.size_class) == class_bytes_of(sizes[0]));
    CHECK(trip.job == 0);
    CHECK(trip.time_ns == 3000);
    const auto& heap = o.result.first_heap_fallback;
    REQUIRE(heap.seen);
    CHECK(heap.worker == 1);
    CHECK(heap.size_class == trip.size_class);
    CHECK(heap.job == 0);
    CHECK(heap.time_ns == 3000);
    CHECK(sim::describe(trip) == "worker 1, size class " +
                                     std::to_string(class_bytes_of(sizes[0])) +
                                     " bytes, job 0, at 3000 ns");
    const auto j = sim::to_json(o.result)["frames"]["first_global_trip"];
    CHECK(j["worker"] == 1);
    CHECK(j["size_class_bytes"] == class_bytes_of(sizes[0]));
    CHECK(j["job"] == 0);
    CHECK(j["time_ns"] == 3000);

    // With `children`, the four children (nothing has been freed yet, so each misses its
    // bucket) fail the rule on the worker that allocated them, naming their size class.
    sizes.clear();
    c.checks.global_pool = sim::global_pool_rule::children;
    replay_chooser again(wake_worker_1, true);
    const run_outcome f = run_once(w, c, again);
    REQUIRE(f.failed);
    REQUIRE(sizes.size() >= 6);
    CHECK(f.failed->property == "global-pool");
    CHECK(f.failed->worker == 1);
    CHECK(f.failed->job == 0);
    CHECK(f.failed->time_ns == 3100);
    CHECK(f.failed->message ==
          "global-pool: 4 trip(s) to the global pool while allocating 4 "
          "when_all children, size class " +
              std::to_string(class_bytes_of(sizes[2])) +
              " bytes (worker 1) at virtual time 3100 ns, job 0");

    // No recycler, no pool: nothing to report.
    c.frames = policies::frames_spec::parse("heap");
    c.checks.global_pool = sim::global_pool_rule::none;
    replay_chooser heap_run(wake_worker_1, true);
    const run_outcome h = run_once(w, c, heap_run);
    REQUIRE_FALSE(h.failed);
    CHECK_FALSE(h.result.first_global_trip.seen);
    CHECK(sim::to_json(h.result)["frames"]["first_heap_fallback"].is_null());
}

TEST_CASE("a private stash's small arena is itself a pooled allocation that can trip") {
    // Found by the generated workloads: the stash takes its arena (arity slots) from the current
    // resource in one piece. Up to 2048 bytes that is a pooled block, and on a cold worker the
    // bucket of its class is empty, so allocating the children trips to the global pool. At
    // arity 64 the arena is larger than any class and goes around the pools.
    for (const std::uint32_t width : {1u, 64u}) {
        const workload w = one_fanout_job(0, 0, width);
        sim::sim_config c = options("adaptive", "recycling", "private", 1).config;
        c.checks.global_pool = sim::global_pool_rule::children;
        std::vector<std::size_t> sizes;
        c.test_hooks.wrap_frames = [&sizes](policies::frame_resource& real) {
            return std::make_unique<recording_frames>(real, sizes);
        };
        replay_chooser canonical({}, false);
        const run_outcome o = run_once(w, c, canonical);
        // The job's frame, the fan-out's, then the stash's arena; the children come from it.
        REQUIRE(sizes.size() >= 3);
        INFO("width " << width << ": arena of " << sizes[2] << " bytes");
        if (width == 1) {
            CHECK(sizes[2] <= policies::frame_class_max_bytes);
            REQUIRE(o.failed);
            CHECK(o.failed->message ==
                  "global-pool: 1 trip(s) to the global pool while allocating 1 when_all "
                  "children, size class " +
                      std::to_string(class_bytes_of(sizes[2])) +
                      " bytes (worker 0) at virtual time " + std::to_string(o.failed->time_ns) +
                      " ns, job 0");
        } else {
            CHECK(sizes[2] > policies::frame_class_max_bytes);
            CHECK_FALSE(o.failed);
            CHECK(o.result.frames_result.child_global_trips == 0);
        }
    }
}

TEST_CASE("dfs explores every schedule within the bound, fewer runs with state hashing") {
    // Two jobs on two workers: small enough to exhaust.
    workload w = scenario("fanout-64");
    w.jobs.resize(1);
    traces::program small;
    small.name = "small";
    small.steps = {traces::step{traces::step_kind::compute, 1, 100, nullptr, 0},
                   traces::step{traces::step_kind::fanout, 3, 0, w.jobs[0].prog->steps[1].sub, 0}};
    auto p = std::make_shared<traces::program>(small);
    w.jobs[0].prog = p;
    check_options plain = options("adaptive");
    plain.config.io_jitter_ns = 1000;
    plain.strat = strategy::parse("dfs:preemptions=2,hashing=0");
    plain.runs = 100'000;
    const check_report a = run_check(w, plain);
    check_options hashed = plain;
    hashed.strat = strategy::parse("dfs:preemptions=2");
    const check_report b = run_check(w, hashed);
    INFO("without hashing " << a.runs << " runs, with " << b.runs << " runs and "
                            << b.distinct_states << " states, " << b.merged_states << " merged");
    CHECK_FALSE(a.failed);
    CHECK_FALSE(b.failed);
    CHECK(a.exhausted);
    CHECK(b.exhausted);
    CHECK(a.distinct_schedules == a.runs);
    CHECK(b.runs <= a.runs);
    CHECK(b.distinct_states > 0);
}

namespace {

// A planted ordering bug of depth 2, the shape PCT is built for: two jobs run in lockstep on
// two workers (zero costs, equal computes, so their compute ends tie every step); the bug
// fires when job 0 goes first at each of the first `ahead` ties and job 1 goes first at the
// next. Random order hits it with probability 2^-(ahead+1); PCT with one change point at
// about 1/(2 k) for k choices in a run.
class lockstep_probe final : public sim::sim_observer {
public:
    explicit lockstep_probe(std::size_t ahead) : ahead_(ahead) {}
    void on_event(const sim::sim_event& e) override {
        if (e.kind == sim::sim_event_kind::slice_begin && e.value == 1) job_of_[e.worker] = e.id;
        if (e.kind != sim::sim_event_kind::compute_begin || e.time_ns == 0) return;
        if (e.time_ns == last_ns_) return;  // only the first compute of each tie counts
        last_ns_ = e.time_ns;
        firsts_.push_back(job_of_[e.worker]);
    }
    bool fired() const {
        if (firsts_.size() <= ahead_) return false;
        for (std::size_t i = 0; i < ahead_; ++i) {
            if (firsts_[i] != 0) return false;
        }
        return firsts_[ahead_] == 1;
    }

private:
    std::size_t ahead_;
    std::uint64_t job_of_[2] = {0, 0};
    std::uint64_t last_ns_ = 0;
    std::vector<std::uint64_t> firsts_;
};

workload lockstep(std::uint32_t steps) {
    workload w;
    w.header.classes.push_back({0, "default"});
    auto p = std::make_shared<traces::program>();
    for (std::uint32_t i = 0; i < steps; ++i) {
        p->steps.push_back(traces::step{traces::step_kind::compute, 1, 100, nullptr, 0});
    }
    w.jobs.push_back({0, 0, p});
    w.jobs.push_back({0, 0, p});
    return w;
}

}  // namespace

TEST_CASE("must show 4: pct:2 finds a depth-2 ordering bug that random misses at the same budget") {
    const workload w = lockstep(24);
    sim::sim_config c = options("adaptive").config;
    c.costs = sim::cost_model::zero();
    const std::uint64_t budget = 300;
    // The canonical run tells PCT how many choices a run makes.
    static const std::vector<sim::recorded_choice> none;
    replay_chooser canonical(none, false);
    const std::uint64_t k = run_once(w, c, canonical).choices.size();
    REQUIRE(k >= 24);
    std::uint64_t random_hits = 0, pct_hits = 0;
    for (std::uint64_t run = 0; run < budget; ++run) {
        lockstep_probe a(10), b(10);
        c.observer = &a;
        random_chooser r(run + 1);
        REQUIRE_FALSE(run_once(w, c, r).failed);
        random_hits += a.fired() ? 1 : 0;
        c.observer = &b;
        pct_chooser p(run + 1, 2, k, true);
        REQUIRE_FALSE(run_once(w, c, p).failed);
        pct_hits += b.fired() ? 1 : 0;
    }
    INFO("in " << budget << " runs: random " << random_hits << ", pct:2 " << pct_hits
               << " (choices per run " << k << ")");
    CHECK(random_hits == 0);
    CHECK(pct_hits >= 3);
}
