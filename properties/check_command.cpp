#include "properties/check_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

#include "policies/spec_parse.hpp"
#include "properties/check.hpp"
#include "properties/schedule.hpp"
#include "properties/workload.hpp"
#include "sim/report.hpp"
#include "tools/cli_numbers.hpp"
#include "traces/format.hpp"

#ifndef SCHEDLAB_SCENARIO_DIR
#error "SCHEDLAB_SCENARIO_DIR must name properties/scenarios"
#endif

namespace schedlab::properties {

namespace {

namespace fs = std::filesystem;

constexpr int exit_ok = 0;
constexpr int exit_violation = 1;
constexpr int exit_bad_input = 2;

class owning_replay final : public sim::chooser {
public:
    explicit owning_replay(schedule s) : s_(std::move(s)), follow_(s_.choices, true) {}
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view& v) override {
        return follow_.choose(c, v);
    }

private:
    schedule s_;
    replay_chooser follow_;
};

struct check_args {
    std::string input;
    std::string pump = "adaptive";
    std::string frames = "recycling";
    std::string when_all = "shared";
    std::uint32_t workers = 2;
    std::string costs = "default";
    std::string strategy = "random";
    std::uint64_t runs = 200;
    std::uint64_t seed = 1;
    std::uint64_t max_queue_wait_ns = 0;
    std::uint64_t max_inline_streak = 0;
    std::uint64_t io_jitter_ns = 0;
    std::uint64_t horizon_ns = 0;
    std::string global_pool;
    std::uint64_t max_global_trips = UINT64_MAX;
    std::string out = "counterexample";
    bool list = false;
};

std::string description_of(const traces::workload_header& h) {
    for (const auto& [k, v] : h.meta) {
        if (k == "description") return v;
    }
    return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> expectations_of(const traces::workload_header& h,
                                                                 const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : h.meta) {
        if (k != "expect") continue;
        std::istringstream words(v);
        for (std::string kv; words >> kv;) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) {
                throw traces::input_error(path, "header", "meta expect", "KEY=VALUE pairs", kv);
            }
            const std::string key = kv.substr(0, eq);
            for (const auto& [seen, value] : out) {
                if (seen == key) {
                    // A second value would otherwise silently replace the first.
                    throw traces::input_error(
                        path, "header", "meta expect " + key,
                        "each key at most once (" + key + "=" + value + " is given before)", kv);
                }
            }
            out.emplace_back(key, kv.substr(eq + 1));
        }
    }
    return out;
}

std::optional<std::uint32_t> declared_workers(const traces::workload_header& h,
                                              const std::string& path) {
    std::optional<std::uint32_t> out;
    for (const auto& [k, v] : h.meta) {
        if (k != "workers") continue;
        try {
            out = static_cast<std::uint32_t>(
                policies::detail::parse_uint(v, "meta workers", 1, 1024));
        } catch (const std::invalid_argument&) {
            throw traces::input_error(path, "header", "meta workers", "a count in 1..1024", v);
        }
    }
    return out;
}

std::string resolve_input(const std::string& input) {
    if (fs::exists(input)) return input;
    const fs::path named = fs::path(scenario_dir()) / (input + ".trace");
    if (fs::exists(named)) return named.string();
    return input;  // open_input names the missing file
}

std::vector<std::string> scenario_names() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(scenario_dir())) {
        if (e.path().extension() == ".trace") names.push_back(e.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

namespace {

int list_scenarios() {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(scenario_dir())) {
        if (e.path().extension() == ".trace") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        auto src = traces::open_input(f.string());
        std::printf("%-24s %s\n", f.stem().string().c_str(), description_of(src->header()).c_str());
        for (const auto& [k, v] : expectations_of(src->header(), f.string())) {
            std::printf("%-24s   expect %s=%s\n", "", k.c_str(), v.c_str());
        }
    }
    return exit_ok;
}

std::string shell_word(const std::string& s) {
    if (s.find_first_of(" '\"\\$`") == std::string::npos) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void print_rare(const char* name, const rare_path& p, std::uint64_t runs,
                const check_report::first_exhaustion* first = nullptr) {
    std::printf("  %-22s %llu of %llu runs (%llu times)", name,
                static_cast<unsigned long long>(p.runs), static_cast<unsigned long long>(runs),
                static_cast<unsigned long long>(p.total));
    if (first != nullptr && first->note.seen) {
        std::printf("; first in run %llu: %s", static_cast<unsigned long long>(first->run),
                    sim::describe(first->note).c_str());
    }
    std::printf("\n");
}

int run_check_command(const check_args& a, const CLI::App& cmd) {
    if (a.list) return list_scenarios();
    if (a.input.empty()) throw std::invalid_argument("check: INPUT is required (or --list)");
    const std::string path = resolve_input(a.input);
    auto src = traces::open_input(path);
    const workload w = workload::from_source(*src);

    check_options o;
    auto& c = o.config;
    c.pump = policies::pump_spec::parse(a.pump);
    c.frames = policies::frames_spec::parse(a.frames);
    c.when_all = policies::parse_when_all(a.when_all);
    c.workers = a.workers;
    c.costs = sim::cost_model::load(a.costs);
    // The scenario's own expectations first; options given on the command line win.
    apply_settings(expectations_of(w.header, path), c);
    const auto given = [&cmd](const char* opt) { return cmd.count(opt) > 0; };
    if (!given("--workers")) {
        if (const auto declared = declared_workers(w.header, path)) c.workers = *declared;
    }
    if (given("--max-queue-wait-ns")) c.checks.max_queue_wait_ns = a.max_queue_wait_ns;
    if (given("--max-inline-streak")) c.checks.max_inline_streak = a.max_inline_streak;
    if (given("--io-jitter-ns")) c.io_jitter_ns = a.io_jitter_ns;
    if (given("--horizon-ns")) c.checks.horizon_ns = a.horizon_ns;
    if (given("--max-global-trips")) c.checks.max_global_trips = a.max_global_trips;
    if (given("--global-pool")) apply_settings({{"global_pool", a.global_pool}}, c);
    o.strat = strategy::parse(a.strategy);
    o.runs = a.runs;
    o.seed = a.seed;

    std::printf(
        "check %s: %zu jobs, pump %s, frames %s, when_all %s, %u workers, strategy %s, "
        "seed %llu\n",
        a.input.c_str(), w.jobs.size(), c.pump.to_string().c_str(), c.frames.to_string().c_str(),
        policies::to_string(c.when_all), c.workers, o.strat.to_string().c_str(),
        static_cast<unsigned long long>(a.seed));
    std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    const check_report r = run_check(w, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("runs %llu, distinct schedules %llu", static_cast<unsigned long long>(r.runs),
                static_cast<unsigned long long>(r.distinct_schedules));
    if (o.strat.k == strategy::kind::dfs) {
        std::printf(", distinct states %llu, merged %llu, %s",
                    static_cast<unsigned long long>(r.distinct_states),
                    static_cast<unsigned long long>(r.merged_states),
                    r.exhausted ? "bound exhausted" : "bound not exhausted");
    }
    std::printf(", %.0f runs/s\n", s > 0 ? static_cast<double>(r.runs) / s : 0.0);
    std::printf("choice points %llu, determinism re-checks %llu\n",
                static_cast<unsigned long long>(r.choice_points),
                static_cast<unsigned long long>(r.determinism_checks));
    std::printf("rare paths reached (passing runs):\n");
    print_rare("budget exhausted", r.budget_exhausted, r.runs);
    print_rare("unassisted cap applied", r.unassisted_capped, r.runs);
    print_rare("global trip", r.global_trip, r.runs, &r.first_global_trip);
    print_rare("heap fallback", r.heap_fallback, r.runs, &r.first_heap_fallback);
    if (!r.failed) {
        std::printf(
            "longest inline run while work waited %llu; global trips per run %llu..%llu"
            " (while allocating when_all children %llu..%llu)\n",
            static_cast<unsigned long long>(r.max_inline_streak),
            static_cast<unsigned long long>(r.runs ? r.min_global_trips : 0),
            static_cast<unsigned long long>(r.max_global_trips),
            static_cast<unsigned long long>(r.runs ? r.min_child_global_trips : 0),
            static_cast<unsigned long long>(r.max_child_global_trips));
        std::printf("ok: every property held in every run\n");
        return exit_ok;
    }
    std::printf("VIOLATION in run %llu: %s\n", static_cast<unsigned long long>(r.failing_run),
                r.failed->message.c_str());
    if (!r.counterexample) return exit_violation;
    std::error_code ec;
    fs::create_directories(a.out, ec);
    if (ec || !fs::is_directory(a.out)) {
        throw std::invalid_argument(
            "check --out: cannot create the counterexample directory '" + a.out +
            "': " + (ec ? ec.message() : std::string("a file of that name is in the way")));
    }
    const std::string trace = (fs::path(a.out) / "counterexample.trace").string();
    const std::string sched = (fs::path(a.out) / "counterexample.schedule").string();
    r.counterexample->write(trace);
    r.counterexample_schedule.save(sched);
    const auto& st = r.shrink;
    std::printf(
        "shrunk in %llu runs: jobs %llu -> %llu, top-level steps %llu -> %llu, "
        "schedule %llu -> %llu choices\n",
        static_cast<unsigned long long>(st.runs), static_cast<unsigned long long>(st.jobs_before),
        static_cast<unsigned long long>(st.jobs_after),
        static_cast<unsigned long long>(st.steps_before),
        static_cast<unsigned long long>(st.steps_after),
        static_cast<unsigned long long>(st.choices_before),
        static_cast<unsigned long long>(st.choices_after));
    std::printf("shrunk case fails with: %s\n", r.counterexample_failure.message.c_str());
    std::printf("wrote %s and %s\n", trace.c_str(), sched.c_str());
    std::printf(
        "reproduce: schedlab replay %s --pump %s --frames %s --when-all %s --workers %u "
        "--costs %s --schedule %s\n",
        shell_word(trace).c_str(), shell_word(c.pump.to_string()).c_str(),
        shell_word(c.frames.to_string()).c_str(), policies::to_string(c.when_all), c.workers,
        shell_word(a.costs).c_str(), shell_word(sched).c_str());
    return exit_violation;
}

}  // namespace

std::string scenario_dir() {
    return SCHEDLAB_SCENARIO_DIR;
}

std::unique_ptr<sim::chooser> apply_schedule(sim::sim_config& config, const std::string& path,
                                             const std::vector<std::string>& given) {
    schedule s = schedule::load(path);
    apply_settings(s.settings, config);
    const auto is_given = [&](const std::string& key) {
        return std::find(given.begin(), given.end(), key) != given.end();
    };
    // The file's values, taken whole at the end: a given option has been checked to hold the
    // same value, so taking it changes nothing.
    sim::sim_config recorded = config;
    for (const auto& [key, value] : s.settings) {
        std::string now;
        try {
            if (key == "pump") {
                recorded.pump = policies::pump_spec::parse(value);
                now = config.pump.to_string();
            } else if (key == "frames") {
                recorded.frames = policies::frames_spec::parse(value);
                now = config.frames.to_string();
            } else if (key == "when_all") {
                recorded.when_all = policies::parse_when_all(value);
                now = policies::to_string(config.when_all);
            } else if (key == "workers") {
                recorded.workers = static_cast<std::uint32_t>(
                    policies::detail::parse_uint(value, "workers", 1, 1024));
                now = std::to_string(config.workers);
            } else if (key == "costs") {
                recorded.costs = sim::cost_model::load(value);
                now = config.costs.name;
            } else {
                continue;
            }
        } catch (const traces::input_error&) {
            throw;
        } catch (const std::exception& e) {
            // The parser's message already names the value it got.
            throw traces::input_error(path, "set " + key, key,
                                      "a valid setting (" + std::string(e.what()) + ")");
        }
        if (is_given(key) && now != value) {
            const std::string option = "--" + (key == "when_all" ? "when-all" : key);
            throw traces::input_error(path, "set " + key, key,
                                      option + " as the schedule records it, or no " + option +
                                          " (the schedule was found under " + value +
                                          "; another value is another run)",
                                      now);
        }
    }
    config = recorded;
    config.seed = s.seed;
    auto follow = std::make_unique<owning_replay>(std::move(s));
    config.choices = follow.get();
    return follow;
}

void add_check_command(CLI::App& app) {
    auto a = std::make_shared<check_args>();
    auto* cmd = app.add_subcommand(
        "check",
        "Run a workload many times under one exploration strategy, judging every run against "
        "the properties (starvation bounds, frame pools, when_all, liveness, determinism); "
        "shrink the first failure to a small replayable case");
    cmd->add_option("input", a->input, "Trace, capture, or a scenario name (see --list)");
    cmd->add_flag("--list", a->list, "List the named scenarios and their expectations");
    cmd->add_option("--pump", a->pump, "Pump policy, as for replay")->capture_default_str();
    cmd->add_option("--frames", a->frames, "Frame allocator, as for replay")->capture_default_str();
    cmd->add_option("--when-all", a->when_all, "shared | private")->capture_default_str();
    cmd->add_option("--workers", a->workers,
                    "Simulated workers (default: what the scenario declares, else 2)")
        ->capture_default_str()
        ->transform(tools::unsigned_in(1, 1024));
    cmd->add_option("--costs", a->costs, "default | zero | FILE")->capture_default_str();
    cmd->add_option("--strategy", a->strategy,
                    "random | pct:DEPTH[,by=jobs|workers] (PCT's actors: the jobs the options "
                    "advance, the default, or the workers and the reactor) | "
                    "dfs[:preemptions=K][,hashing=0|1]")
        ->capture_default_str();
    const auto any_u64 = tools::unsigned_of<std::uint64_t>();
    cmd->add_option("--runs", a->runs, "Runs at most (at least 1: no run checks nothing)")
        ->capture_default_str()
        ->transform(tools::unsigned_in(1, std::uint64_t{1} << 40));
    cmd->add_option("--seed", a->seed, "Seed of the exploration")
        ->capture_default_str()
        ->transform(any_u64);
    cmd->add_option("--max-inline-streak", a->max_inline_streak,
                    "Starvation bound: inline resumes in a row while work waits (the pump's "
                    "own bound is always checked; 0 declares no bound of its own)")
        ->transform(any_u64);
    cmd->add_option("--max-queue-wait-ns", a->max_queue_wait_ns,
                    "Starvation bound: longest wait of a queued item (0: none)")
        ->transform(any_u64);
    // At most a trace's longest duration, so that a jittered completion time cannot wrap.
    cmd->add_option("--io-jitter-ns", a->io_jitter_ns,
                    "Let each I/O complete up to this much later (a choice of 4 levels)")
        ->transform(tools::unsigned_in(0, traces::max_duration_ns));
    cmd->add_option("--horizon-ns", a->horizon_ns, "Every job must be done by this time")
        ->transform(any_u64);
    cmd->add_option("--global-pool", a->global_pool,
                    "allowed | children (no trip while allocating when_all children) | none");
    cmd->add_option("--max-global-trips", a->max_global_trips,
                    "At most this many global-pool trips in a run")
        ->transform(any_u64);
    cmd->add_option("--out", a->out, "Directory for the shrunk counterexample")
        ->capture_default_str();
    cmd->footer(
        "Scenarios may declare expectations in their header (meta expect KEY=VALUE ...); "
        "options given here override them.\n"
        "Examples:\n"
        "  schedlab check --list\n"
        "  schedlab check hop-storm --pump fixed:1000000 --runs 300\n"
        "  schedlab check fanout-64 --strategy dfs:preemptions=2 --runs 2000\n"
        "  schedlab check chain-8 --frames recycling:per_thread=8 --strategy pct:2\n"
        "  schedlab check hop-storm --strategy pct:3,by=workers --io-jitter-ns 2000");
    cmd->final_callback([a, cmd] {
        int code = exit_bad_input;
        try {
            code = run_check_command(*a, *cmd);
        } catch (const traces::input_error& e) {
            std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        }
        std::fflush(stdout);
        std::exit(code);
    });
}

}  // namespace schedlab::properties
