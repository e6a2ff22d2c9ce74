// The live workloads behind `schedlab run`: real coroutines on a real reactor, measured and
// reported in the shape of the simulator's run_result so the two can be compared key by key.
#pragma once

#include <cstdint>
#include <string>

#include "sim/simulator.hpp"

namespace schedlab::runtime {

struct live_options {
    std::string workload;           // chain | fanout | pingpong | http | pipeline
    std::string reactor = "epoll";  // epoll | io_uring | dpdk
    std::uint32_t threads = 1;
    std::string pump = "adaptive";
    std::string frames = "recycling";
    std::string when_all = "shared";
    double duration_s = 1.0;
    std::uint64_t jobs = 0;                // stop after this many jobs as well (0: duration only)
    std::uint32_t concurrency = 0;         // jobs in flight; 0 picks 2 per thread
    std::uint32_t depth = 8;               // chain: nested calls
    std::uint32_t width = 64;              // fanout: children
    std::uint32_t ops = 1;                 // chain and fanout: already-complete operations per leaf
    std::uint32_t message_bytes = 64;      // pingpong
    std::uint16_t port = 0;                // pingpong, http: 127.0.0.1 port (0: any free one)
    bool serve = false;                    // http: serve outside clients, no load generator
    std::string record;                    // write the observed demand here
    std::string pcap;                      // pipeline: capture to feed (empty: the null PMD)
    std::string dpdk_prefix = "schedlab";  // pipeline: EAL --file-prefix
};

// Called once the http server listens in --serve mode, with the port it listens on.
using serving_fn = void (*)(std::uint16_t port, double duration_s);

// Runs one workload. Throws std::invalid_argument for bad options, std::system_error when the
// system refuses (sockets, epoll, io_uring, the EAL).
sim::run_result run_live(const live_options& options, serving_fn on_serving = nullptr);

}  // namespace schedlab::runtime
