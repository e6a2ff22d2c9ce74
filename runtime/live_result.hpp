// A live run's measurements in the simulator's run_result, so `schedlab run --json` prints the
// keys `schedlab replay --json` prints. Live-only figures go under "source".
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/io_context.hpp"
#include "runtime/workloads.hpp"
#include "sim/simulator.hpp"

namespace schedlab::runtime {

struct live_tallies {
    std::vector<std::uint64_t> latency_ns;  // one per completed job; reordered by the summary
    std::uint64_t completed = 0;
    std::uint64_t elapsed_ns = 0;
    std::uint64_t child_global_trips = 0;
    std::uint64_t stash_arenas = 0, stash_hits = 0, stash_overflows = 0;
};

// Exact percentiles of the samples (nearest rank).
sim::latency_summary summarize(std::vector<std::uint64_t>& samples_ns);

sim::run_result make_live_result(const live_options& o, const io_context& ctx,
                                 live_tallies& tallies);

}  // namespace schedlab::runtime
