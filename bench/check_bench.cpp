// Model-checker throughput: runs per second of each exploration strategy on two scenarios of
// different size, distinct states per second for dfs with state hashing, and the memory the
// hashing costs. The peer run side by side is the same number of plain replays of the same
// in-memory workload (the engine's own seeded choices, no chooser, no checks), so the ratio says
// what exploring and checking cost over a replay, whatever the machine's speed.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "properties/check.hpp"
#include "properties/check_command.hpp"
#include "properties/workload.hpp"
#include "sim/simulator.hpp"
#include "traces/format.hpp"

using namespace schedlab;

namespace {

// CPU time of this (single-threaded) process: on a shared machine it leaves out the time the
// process waits for a core, which wall time would charge to whichever side was unlucky.
double cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct scenario {
    std::string name;
    properties::workload w;
    sim::sim_config config;
    std::uint64_t runs;  // per row: about a second of plain replays on a current core
};

scenario load(const std::string& name, std::uint64_t runs) {
    const std::string path = properties::scenario_dir() + "/" + name + ".trace";
    auto src = traces::open_input(path);
    scenario s{name, properties::workload::from_source(*src), {}, runs};
    // The policies and workers `schedlab check` uses by default.
    s.config.workers = properties::declared_workers(s.w.header, path).value_or(2);
    // Zero costs make events fall due together, which is where the explorers have choices to
    // make: with the default costs the dfs bound is exhausted within about a hundred runs.
    s.config.costs = sim::cost_model::load("zero");
    properties::apply_settings(properties::expectations_of(s.w.header, path), s.config);
    return s;
}

// The peer: plain replays, each with its own seed.
double plain_replays_s(const scenario& s, std::uint64_t runs, std::uint64_t& events) {
    sim::sim_config c = s.config;
    c.checks.enabled = false;
    events = 0;
    const double t0 = cpu_s();
    for (std::uint64_t i = 0; i < runs; ++i) {
        c.seed = i + 1;
        auto src = s.w.source();
        events += sim::simulate(*src, c).events;
    }
    return cpu_s() - t0;
}

struct explored {
    std::uint64_t runs = 0;
    std::uint64_t searches = 0;
    std::uint64_t states = 0;  // distinct states, summed over searches
    bool failed = false;
    double s = 0;
};

explored explore(const scenario& sc, const properties::strategy& strat, std::uint64_t runs) {
    properties::check_options o;
    o.config = sc.config;
    o.strat = strat;
    explored e;
    const double t0 = cpu_s();
    // A dfs that exhausts its bound before the run count is searched again from scratch, so
    // that every row of a scenario times the same number of runs as its peer.
    while (e.runs < runs && !e.failed) {
        o.runs = runs - e.runs;
        const properties::check_report r = properties::run_check(sc.w, o);
        e.runs += r.runs;
        e.states += r.distinct_states;
        e.failed = r.failed.has_value();
        ++e.searches;
    }
    e.s = cpu_s() - t0;
    return e;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Peak resident set of this process, in KiB, from /proc/self/status; -1 if unavailable.
long vm_hwm_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

// Sets the peak back to the current resident set (Linux 4.0 and later), so that the growth
// measured is the search's own and not what fork() or the warm-up left behind.
bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5\n";
    out.flush();
    return static_cast<bool>(out);
}

// The bytes a libstdc++ std::unordered_set<std::uint64_t> of `entries` keys holds on glibc:
// a 16-byte node (next pointer, key) in a 32-byte malloc chunk per entry, plus the bucket
// array of one pointer per bucket. Built for real, so the bucket count is the library's own.
std::uint64_t hash_set_bytes(std::uint64_t entries) {
    std::unordered_set<std::uint64_t> set;
    for (std::uint64_t i = 0; i < entries; ++i) set.insert(i);
    return entries * 32 + set.bucket_count() * sizeof(void*);
}

// One dfs search in a child process, so each measurement starts from a fresh peak; prints
// the peak RSS growth over a warmed-up plain replay.
void measure_memory(const scenario& sc, const std::string& strat, std::uint64_t runs) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("fork");
        std::exit(2);
    }
    if (pid > 0) {
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "check_bench: the memory measurement of %s failed\n",
                         strat.c_str());
            std::exit(2);
        }
        return;
    }
    std::uint64_t events = 0;
    plain_replays_s(sc, 1, events);  // the simulator's own working set, before the search
    const bool reset = reset_peak_rss();
    const long before = vm_hwm_kib();
    const explored e = explore(sc, properties::strategy::parse(strat), runs);
    const long after = vm_hwm_kib();
    std::printf("%-10s %-30s %8llu %10llu %12ld %12ld %10ld%s\n", sc.name.c_str(), strat.c_str(),
                static_cast<unsigned long long>(e.runs), static_cast<unsigned long long>(e.states),
                before, after, after - before, reset ? "" : " (peak not reset)");
    std::fflush(stdout);
    std::_Exit(e.failed ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 3;
    if (argc == 3 && std::string(argv[1]) == "--rounds") {
        rounds = static_cast<int>(std::strtol(argv[2], nullptr, 10));
    } else if (argc != 1) {
        rounds = 0;
    }
    if (rounds < 1 || rounds > 99) {
        std::fprintf(stderr, "usage: check_bench [--rounds N]\n");
        return 2;
    }
    // Two scenarios of different size: about 60 jobs that hop between stages, and 20 jobs of
    // 64 children each; the run counts give each row about a second.
    const std::vector<scenario> scenarios = {load("hop-storm", 40'000), load("fanout-64", 6'000)};
    const char* strategies[] = {"random", "pct:2", "pct:3", "dfs:preemptions=2,hashing=1",
                                "dfs:preemptions=2,hashing=0"};

    std::printf(
        "schedlab check_bench: pump adaptive, frames recycling, when_all shared, "
        "2 workers, costs zero, scenario expectations applied\n");
    // Memory first, from a process that has not yet grown a heap for the timings.
    const scenario& big = scenarios[1];
    const std::uint64_t memory_runs = 22'221;  // the whole preemptions=3 tree of fanout-64
    std::printf(
        "\nmemory of dfs state hashing: peak RSS (VmHWM) growth over a warmed-up replay, "
        "one child process each\n");
    std::printf("%-10s %-30s %8s %10s %12s %12s %10s\n", "scenario", "strategy", "runs", "states",
                "before KiB", "peak KiB", "growth KiB");
    measure_memory(big, "dfs:preemptions=3,hashing=1", memory_runs);
    measure_memory(big, "dfs:preemptions=3,hashing=0", memory_runs);
    {
        properties::check_options o;
        o.config = big.config;
        o.strat = properties::strategy::parse("dfs:preemptions=3,hashing=1");
        o.runs = memory_runs;
        const std::uint64_t states = properties::run_check(big.w, o).distinct_states;
        const std::uint64_t bytes = hash_set_bytes(states);
        std::printf("counted: %llu states in the hash set, %llu KiB (%.1f bytes a state)\n",
                    static_cast<unsigned long long>(states),
                    static_cast<unsigned long long>(bytes / 1024),
                    static_cast<double>(bytes) / static_cast<double>(states));
    }

    std::printf(
        "\nthroughput per CPU second: median of %d rounds, each the strategy beside the same "
        "number of plain replays\n",
        rounds);
    std::printf("%-10s %-28s %7s %8s %9s %10s %10s %10s %6s\n", "scenario", "strategy", "runs",
                "searches", "states", "runs/s", "states/s", "replays/s", "ratio");
    for (const auto& sc : scenarios) {
        std::uint64_t events = 0;
        plain_replays_s(sc, 1, events);
        for (const char* name : strategies) {
            const auto strat = properties::strategy::parse(name);
            std::vector<double> runs_per_s, states_per_s, peer_per_s, ratio;
            explored e;
            for (int r = 0; r < rounds; ++r) {
                const double peer_s = plain_replays_s(sc, sc.runs, events);
                e = explore(sc, strat, sc.runs);
                if (e.failed) {
                    std::printf("%s %s: a property failed; the table would time shrinking\n",
                                sc.name.c_str(), name);
                    return 1;
                }
                peer_per_s.push_back(static_cast<double>(sc.runs) / peer_s);
                runs_per_s.push_back(static_cast<double>(e.runs) / e.s);
                states_per_s.push_back(static_cast<double>(e.states) / e.s);
                ratio.push_back(runs_per_s.back() / peer_per_s.back());
            }
            char states[32] = "-", states_rate[32] = "-";
            if (e.states > 0) {
                std::snprintf(states, sizeof states, "%llu",
                              static_cast<unsigned long long>(e.states));
                std::snprintf(states_rate, sizeof states_rate, "%.0f", median(states_per_s));
            }
            std::printf("%-10s %-28s %7llu %8llu %9s %10.0f %10s %10.0f %6.2f\n", sc.name.c_str(),
                        name, static_cast<unsigned long long>(e.runs),
                        static_cast<unsigned long long>(e.searches), states, median(runs_per_s),
                        states_rate, median(peer_per_s), median(ratio));
            std::fflush(stdout);
        }
        std::printf("%-10s %llu events in the %llu plain replays\n", sc.name.c_str(),
                    static_cast<unsigned long long>(events),
                    static_cast<unsigned long long>(sc.runs));
    }
    return 0;
}
