// The simulator against what must hold: queueing theory where theory has an answer, the
// frame-pool facts of the brief, and the tradeoff the pump makes.
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <sstream>

#include "traces/generators.hpp"

using namespace schedlab;

namespace {

sim::run_result replay_generated(const std::string& kind,
                                 const std::map<std::string, std::string>& params,
                                 std::uint64_t jobs, std::uint64_t seed,
                                 const sim::sim_config& config) {
    auto source = traces::make_generator(kind, params, jobs, seed);
    return sim::simulate(*source, config);
}

sim::sim_config config_of(const std::string& pump, const std::string& frames = "recycling",
                          const std::string& when_all = "shared", std::uint32_t workers = 1) {
    sim::sim_config c;
    c.pump = policies::pump_spec::parse(pump);
    c.frames = policies::frames_spec::parse(frames);
    c.when_all = policies::parse_when_all(when_all);
    c.workers = workers;
    return c;
}

double relative_error(double got, double want) {
    return std::abs(got - want) / want;
}

}  // namespace

TEST_CASE("one worker with zero costs is an M/M/1 queue") {
    const double mean_service_ns = 10'000;
    for (const double rho : {0.5, 0.8}) {
        auto config = config_of("disabled");
        config.costs = sim::cost_model::zero();
        // 10^6 jobs: the standard error of the mean sojourn at rho=0.8 is about 0.9%.
        const auto r = replay_generated("poisson",
                                        {{"utilization", std::to_string(rho)},
                                         {"mean_service_ns", "10000"},
                                         {"service", "exp"},
                                         {"ready_before", "3"}},
                                        1'000'000, 11, config);
        const double mu = 1.0 / mean_service_ns, lambda = rho * mu;
        const double mean_want = 1.0 / (mu - lambda);
        const double p99_want = std::log(100.0) / (mu - lambda);
        INFO("rho=" << rho << " mean=" << r.latency.mean_ns << " want " << mean_want
                    << " p99=" << r.latency.p99_ns << " want " << p99_want);
        CHECK(r.jobs_completed == 1'000'000);
        CHECK(relative_error(r.latency.mean_ns, mean_want) < 0.03);
        CHECK(relative_error(static_cast<double>(r.latency.p99_ns), p99_want) < 0.05);
    }
}

TEST_CASE("deterministic service matches the M/D/1 mean wait") {
    const double service_ns = 10'000, rho = 0.8;
    auto config = config_of("disabled");
    config.costs = sim::cost_model::zero();
    const auto r = replay_generated(
        "poisson", {{"utilization", "0.8"}, {"mean_service_ns", "10000"}, {"service", "det"}},
        1'000'000, 12, config);
    // Pollaczek-Khinchine with zero service variance: Wq = rho * S / (2 (1 - rho)).
    const double wait_want = rho * service_ns / (2 * (1 - rho));
    const double wait_got = r.latency.mean_ns - service_ns;
    INFO("mean wait " << wait_got << " want " << wait_want);
    CHECK(relative_error(wait_got, wait_want) < 0.03);
}

TEST_CASE("an adaptive pump reorders an M/M/1 queue: same mean, another p99") {
    std::map<std::string, std::string> params{{"utilization", "0.8"},
                                              {"mean_service_ns", "10000"},
                                              {"service", "exp"},
                                              {"ready_before", "3"}};
    auto disabled = config_of("disabled");
    disabled.costs = sim::cost_model::zero();
    auto adaptive = config_of("adaptive");
    adaptive.costs = sim::cost_model::zero();
    const auto a = replay_generated("poisson", params, 1'000'000, 13, disabled);
    const auto b = replay_generated("poisson", params, 1'000'000, 13, adaptive);
    INFO("disabled mean=" << a.latency.mean_ns << " p99=" << a.latency.p99_ns << "; adaptive mean="
                          << b.latency.mean_ns << " p99=" << b.latency.p99_ns);
    CHECK(b.inline_resumes > 0);
    CHECK(relative_error(b.latency.mean_ns, a.latency.mean_ns) < 0.02);
    CHECK(relative_error(static_cast<double>(b.latency.p99_ns),
                         static_cast<double>(a.latency.p99_ns)) > 0.03);
}

TEST_CASE("on mixed, adaptive buys throughput with the request class's p99") {
    const std::map<std::string, std::string> params;
    const auto off = replay_generated("mixed", params, 20'000, 3, config_of("disabled"));
    const auto on = replay_generated("mixed", params, 20'000, 3, config_of("adaptive"));
    REQUIRE(off.classes.at(0).name == "request");
    const auto off_p99 = off.classes[0].latency.p99_ns;
    const auto on_p99 = on.classes[0].latency.p99_ns;
    INFO("throughput disabled=" << off.throughput_jobs_per_s
                                << " adaptive=" << on.throughput_jobs_per_s
                                << " jobs/s; request p99 disabled=" << off_p99
                                << " adaptive=" << on_p99 << " ns");
    CHECK(on.throughput_jobs_per_s > off.throughput_jobs_per_s);
    CHECK(on_p99 > off_p99);
}

TEST_CASE("a chain of 8 fits a per-thread capacity of 8: no global trip after warm-up") {
    const auto r = replay_generated("chain", {{"depth", "8"}}, 2'000, 1,
                                    config_of("adaptive", "recycling:per_thread=8"));
    CHECK(r.jobs_completed == 2'000);
    CHECK(r.frames_result.counters.allocations == 16'000);
    // The first job fills the bucket from the heap; no job after it leaves the thread.
    CHECK(r.frames_result.counters.global_trips == 8);
    CHECK(r.frames_result.counters.heap_fallbacks == 8);
    CHECK(r.frames_result.outstanding_at_end == 0);
}

TEST_CASE("a fan-out of 64 trips to the global pool on every job when children share") {
    const std::uint64_t jobs = 500;
    const auto r = replay_generated("fanout", {{"width", "64"}}, jobs, 1,
                                    config_of("adaptive", "recycling", "shared"));
    CHECK(r.jobs_completed == jobs);
    // 64 children cannot come out of a bucket of 16: at least three trips a job, and every
    // job's fan-out pays at least one.
    CHECK(r.frames_result.child_global_trips >= 3 * jobs);
    CHECK(r.frames_result.fanouts_with_child_trips == jobs);
    CHECK(r.frames_result.outstanding_at_end == 0);
}

TEST_CASE("a private stash sized to the arity keeps child frames off the global pool") {
    const std::uint64_t jobs = 500;
    const auto r = replay_generated("fanout", {{"width", "64"}}, jobs, 1,
                                    config_of("adaptive", "recycling", "private"));
    CHECK(r.jobs_completed == jobs);
    CHECK(r.frames_result.child_global_trips == 0);
    CHECK(r.frames_result.fanouts_with_child_trips == 0);
    CHECK(r.frames_result.stash_hits == 64 * jobs);
    CHECK(r.frames_result.stash_arenas == jobs);
    CHECK(r.frames_result.stash_overflows == 0);
}

TEST_CASE("the same seed reproduces the event hash and a different one changes it") {
    const auto a =
        replay_generated("fanout", {}, 200, 1, config_of("adaptive", "recycling", "shared", 4));
    auto other_seed = config_of("adaptive", "recycling", "shared", 4);
    other_seed.seed = 2;
    const auto b =
        replay_generated("fanout", {}, 200, 1, config_of("adaptive", "recycling", "shared", 4));
    const auto c = replay_generated("fanout", {}, 200, 1, other_seed);
    CHECK(a.event_hash == b.event_hash);
    CHECK(a.final_draw == b.final_draw);
    CHECK(a.event_hash != c.event_hash);
}

TEST_CASE("the disabled pump never resumes inline") {
    const auto r = replay_generated("mixed", {}, 2'000, 1, config_of("disabled"));
    CHECK(r.inline_resumes == 0);
    CHECK(r.posted_resumes > 0);
    CHECK(r.max_inline_streak == 0);
}

TEST_CASE("no pump runs more inline resumes in a row than it allows while work waits") {
    for (const char* pump : {"fixed:3", "adaptive"}) {
        const auto spec = policies::pump_spec::parse(pump);
        const auto r =
            replay_generated("mixed", {}, 2'000, 1, config_of(pump, "recycling", "shared", 2));
        INFO(pump << " longest inline run " << r.max_inline_streak);
        CHECK(r.max_inline_streak > 0);
        CHECK(r.max_inline_streak <= spec.inline_bound());
    }
}

TEST_CASE("a pipeline hands every job through its stages and frees every frame") {
    const auto r = replay_generated("pipeline", {{"stages", "4"}}, 5'000, 2,
                                    config_of("adaptive", "recycling", "shared", 2));
    CHECK(r.jobs_completed == 5'000);
    CHECK(r.frames_result.outstanding_at_end == 0);
    CHECK(r.inline_resumes + r.posted_resumes > 0);
}

TEST_CASE("a cycle of full channels is reported as a liveness failure") {
    // Two stages that feed each other with capacity 1 and many jobs in flight deadlock.
    const std::map<std::string, std::string> params{
        {"rounds", "50"}, {"interval_ns", "1"}, {"capacity", "1"}};
    CHECK_THROWS_AS(replay_generated("pingpong", params, 100, 1, config_of("adaptive")),
                    sim::liveness_error);
}

TEST_CASE("a run whose virtual clock would pass 2^63 ns stops with an error, not a wrapped clock") {
    auto config = config_of("disabled");
    // Every overhead at the largest value a costs file accepts: millions of posts add up to
    // more than 2^63 ns although each value is within its limit.
    const std::uint64_t big_ns = 1'000'000'000'000;
    auto& c = config.costs;
    c.inline_resume_ns = c.post_ns = c.pop_ns = c.reactor_ns = c.wake_ns = big_ns;
    c.local_alloc_ns = c.global_trip_ns = c.lock_hold_ns = c.heap_alloc_ns = big_ns;
    const auto run = [&] { replay_generated("mixed", {{"runs", "36"}}, 100, 1, config); };
    REQUIRE_THROWS_AS(run(), std::invalid_argument);
    REQUIRE_THROWS_WITH(run(), Catch::Matchers::Contains("virtual time would pass 2^63 ns"));
}
