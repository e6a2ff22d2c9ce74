// The pipeline workload on the DPDK reactor: the EAL runs in-process (no hugepages, no PCI),
// a poll-mode reactor turns rx_burst into items for the first stage channel and sends what the
// last stage hands back with tx_burst. Input is the null PMD (synthetic line-rate load) or the
// pcap PMD reading a real capture.
#pragma once

#include <memory>
#include <string>

#include "runtime/reactor.hpp"
#include "runtime/workloads.hpp"
#include "sim/simulator.hpp"

namespace schedlab::runtime {

// Initialises the process's EAL (no hugepages, no PCI, lcore 0, `file_prefix`) on the first
// call and keeps it until the process exits: DPDK cannot initialise it twice in one process.
// Later calls return at once whatever their prefix. Each pipeline run hot-plugs its own
// device and removes it afterwards, so one process can run the pipeline several times.
void dpdk_eal_init(const std::string& file_prefix);

// The poll-mode reactor with no port: a timer heap on the steady clock checked on every poll,
// and wakeups from any thread. A blocking turn polls until something is ready or wake() is
// called. Socket operations throw std::logic_error (they belong to epoll or io_uring).
std::unique_ptr<reactor> make_dpdk_reactor();

// Initialises the EAL with `options.dpdk_prefix` if no run has yet.
sim::run_result run_dpdk_pipeline(const live_options& options);

}  // namespace schedlab::runtime
