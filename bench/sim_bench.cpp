// Simulated events per second on generated workloads, and the peak memory of a long replay.
// The peer run side by side is a bare event loop: the same number of events pushed through
// the same binary heap with nothing else done, so the ratio says what the coroutines, the
// policies and the metrics cost on top of event dispatch, whatever the machine's speed.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "sim/simulator.hpp"
#include "traces/format.hpp"
#include "traces/generators.hpp"
#include "traces/random.hpp"

using namespace schedlab;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The peer: a heap of 32-byte events, each popped event scheduling one successor.
double bare_event_loop_per_s(std::uint64_t events) {
    struct ev {
        std::uint64_t t, tie, a, b;
    };
    const auto later = [](const ev& x, const ev& y) {
        return x.t != y.t ? x.t > y.t : x.tie > y.tie;
    };
    traces::seeded_rng rng(1);
    std::vector<ev> heap;
    for (int i = 0; i < 64; ++i) heap.push_back({rng.below(1000), rng.next_u64(), 0, 0});
    std::make_heap(heap.begin(), heap.end(), later);
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < events; ++i) {
        std::pop_heap(heap.begin(), heap.end(), later);
        ev e = heap.back();
        heap.pop_back();
        sum += e.a;
        heap.push_back({e.t + 1 + rng.below(1000), rng.next_u64(), e.a + 1, e.b});
        std::push_heap(heap.begin(), heap.end(), later);
    }
    const double s = seconds_since(t0);
    if (sum == 42) std::puts("");  // keeps the loop from being optimised away
    return static_cast<double>(events) / s;
}

struct measured {
    std::uint64_t events;
    double per_s;
};

measured run_generated(const std::string& kind, const std::map<std::string, std::string>& p,
                       std::uint64_t jobs, std::uint32_t workers) {
    sim::sim_config c;
    c.workers = workers;
    auto src = traces::make_generator(kind, p, jobs, 1);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = sim::simulate(*src, c);
    return {r.events, static_cast<double>(r.events) / seconds_since(t0)};
}

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    const bool memory = argc > 1 && std::string(argv[1]) == "--memory";
    if (memory) {
        // Replays a 10-million-job trace file streamed from disk; the file is written first.
        const std::string path = argc > 2 ? argv[2] : "/tmp/schedlab-bench-10m.trace";
        auto gen = traces::make_generator("poisson", {{"utilization", "0.7"}}, 10'000'000, 1);
        traces::write_trace(*gen, path);
        const long before = peak_rss_kib();
        auto src = traces::open_input(path);
        sim::sim_config c;
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = sim::simulate(*src, c);
        const double s = seconds_since(t0);
        std::printf(
            "replay of 10M-job trace: %llu jobs, %llu events in %.2f s (%.2f M events/s),"
            " peak RSS %ld KiB (before replay %ld KiB)\n",
            static_cast<unsigned long long>(r.jobs_completed),
            static_cast<unsigned long long>(r.events), s, static_cast<double>(r.events) / s / 1e6,
            peak_rss_kib(), before);
        std::remove(path.c_str());
        return 0;
    }
    const double peer = bare_event_loop_per_s(20'000'000);
    std::printf("%-34s %12s %14s %10s\n", "workload", "events", "events/s", "vs peer");
    std::printf("%-34s %12s %14.0f %10s\n", "peer: bare event loop", "20000000", peer, "1.00");
    const struct {
        const char* label;
        const char* kind;
        std::map<std::string, std::string> params;
        std::uint64_t jobs;
        std::uint32_t workers;
    } cases[] = {
        {"chain depth=8, 1 worker", "chain", {}, 200'000, 1},
        {"fanout width=64, 1 worker", "fanout", {}, 20'000, 1},
        {"fanout width=64, 4 workers", "fanout", {}, 20'000, 4},
        {"mixed, 1 worker", "mixed", {}, 20'000, 1},
        {"poisson rho=0.8, 1 worker", "poisson", {{"utilization", "0.8"}}, 1'000'000, 1},
    };
    for (const auto& c : cases) {
        const auto m = run_generated(c.kind, c.params, c.jobs, c.workers);
        std::printf("%-34s %12llu %14.0f %10.2f\n", c.label,
                    static_cast<unsigned long long>(m.events), m.per_s, m.per_s / peer);
    }
    return 0;
}
