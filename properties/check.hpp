// The checker: runs a workload many times under one strategy (random, PCT or bounded DFS),
// with every property of sim::check_config judged during each run, and shrinks the first
// failure to a small trace and schedule that still fail the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/schedule.hpp"
#include "properties/workload.hpp"
#include "sim/simulator.hpp"

namespace schedlab::properties {

struct strategy {
    enum class kind : std::uint8_t { random, pct, dfs };
    kind k = kind::random;
    std::uint32_t depth = 2;        // pct
    bool by_jobs = true;            // pct: actors are jobs, else workers and the reactor
    std::uint32_t preemptions = 2;  // dfs
    bool state_hashing = true;      // dfs
    // `random`, `pct:DEPTH[,by=jobs|workers]`, `dfs[:preemptions=K][,hashing=0|1]`; throws
    // std::invalid_argument.
    static strategy parse(const std::string& text);
    std::string to_string() const;
};

struct failure {
    std::string property;
    std::string message;
    std::uint32_t worker = UINT32_MAX;
    std::uint64_t time_ns = 0;
    std::uint64_t job = UINT64_MAX;
};

struct run_outcome {
    std::optional<failure> failed;
    sim::run_result result;  // complete only when the run did not fail
    std::vector<sim::recorded_choice> choices;
};

// One run with every choice made by `choices` and recorded.
run_outcome run_once(const workload& w, const sim::sim_config& config, sim::chooser& choices);

struct check_options {
    sim::sim_config config;  // policies, workers, costs, jitter, checks (always enabled)
    strategy strat;
    std::uint64_t runs = 200;
    std::uint64_t seed = 1;
    std::uint64_t determinism_every = 16;  // re-run every n-th run and compare its hash
    std::uint64_t shrink_runs_max = 3000;  // 0: report the failure without a counterexample
};

struct rare_path {
    std::uint64_t runs = 0;   // runs that reached it
    std::uint64_t total = 0;  // times, summed over runs
};

struct shrink_stats {
    std::uint64_t jobs_before = 0, jobs_after = 0;
    std::uint64_t steps_before = 0, steps_after = 0;
    std::uint64_t choices_before = 0, choices_after = 0;
    std::uint64_t runs = 0;
};

struct check_report {
    std::uint64_t runs = 0;
    std::uint64_t distinct_schedules = 0;
    std::uint64_t distinct_states = 0;  // dfs with state hashing
    std::uint64_t merged_states = 0;    // dfs: choice points not branched again
    bool exhausted = false;             // dfs: every schedule within the bound was run
    std::uint64_t choice_points = 0;
    std::uint64_t determinism_checks = 0;
    rare_path budget_exhausted, unassisted_capped, global_trip, heap_fallback;
    // Where exhaustion began in the first passing run that reached it (`seen` false if none).
    struct first_exhaustion {
        std::uint64_t run = 0;
        sim::run_result::exhaustion_note note;
    };
    first_exhaustion first_global_trip, first_heap_fallback;
    std::uint64_t max_inline_streak = 0;
    std::uint64_t max_global_trips = 0;  // in any one run
    std::uint64_t min_global_trips = UINT64_MAX;
    std::uint64_t max_child_global_trips = 0;
    std::uint64_t min_child_global_trips = UINT64_MAX;
    std::uint64_t max_peak_frames = 0;

    std::optional<failure> failed;
    std::uint64_t failing_run = 0;
    std::optional<workload> counterexample;
    schedule counterexample_schedule;
    failure counterexample_failure;  // what the shrunk case fails with
    shrink_stats shrink;
};

check_report run_check(const workload& w, const check_options& o);

// Shrinks a failing (workload, schedule) while it still fails `property`.
struct shrunk {
    workload w;
    std::vector<sim::recorded_choice> choices;
    failure f;
    shrink_stats stats;
};
shrunk shrink(const workload& w, const std::vector<sim::recorded_choice>& choices,
              const sim::sim_config& config, const std::string& property, std::uint64_t runs_max);

// The key=value settings a schedule file records, and applying them back to a config.
std::vector<std::pair<std::string, std::string>> settings_of(const sim::sim_config& c);
void apply_settings(const std::vector<std::pair<std::string, std::string>>& s, sim::sim_config& c);

}  // namespace schedlab::properties
