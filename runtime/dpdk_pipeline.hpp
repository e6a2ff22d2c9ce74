// The pipeline workload on the DPDK reactor: the EAL runs in-process (no hugepages, no PCI),
// a poll-mode reactor turns rx_burst into items for the first stage channel and sends what the
// last stage hands back with tx_burst. Input is the null PMD (synthetic line-rate load) or the
// pcap PMD reading a real capture.
#pragma once

#include "runtime/workloads.hpp"
#include "sim/simulator.hpp"

namespace schedlab::runtime {

// The EAL can be initialised once per process: a second call throws std::runtime_error.
sim::run_result run_dpdk_pipeline(const live_options& options);

}  // namespace schedlab::runtime
