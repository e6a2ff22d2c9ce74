// The runtime's own overheads, charged in virtual time to the simulated worker that pays them.
// The defaults are order-of-magnitude figures for a current x86-64 server core running an
// io_context like the one in runtime/ (a mutex-guarded run queue, futex wakeups, a pmr
// recycler); they are a model, not a measurement of this machine. The `zero` profile sets
// every overhead to 0, which leaves pure queueing behaviour for checks against theory.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace schedlab::sim {

struct cost_model {
    std::uint64_t inline_resume_ns = 10;  // symmetric transfer into an already-complete waiter
    std::uint64_t post_ns = 40;           // push onto the shared run queue under its mutex
    std::uint64_t pop_ns = 80;            // pop, switch to a cache-cold frame, resume
    std::uint64_t reactor_ns = 150;       // deliver one completion out of the reactor
    std::uint64_t wake_ns = 3000;         // an idle worker sleeping on a futex starts running
    std::uint64_t local_alloc_ns = 5;     // a frame from the per-thread bucket
    std::uint64_t global_trip_ns = 60;    // a trip to the global pool, outside the lock
    std::uint64_t lock_hold_ns = 40;      // how long a trip holds the global pool's lock
    std::uint64_t heap_alloc_ns = 120;    // a frame from the heap

    std::string name = "default";

    static cost_model zero();
    // `zero`, `default`, or a file of `key = value` lines (# comments). Unknown keys, bad
    // numbers and missing files are errors naming the file and line (traces::input_error).
    static cost_model load(const std::string& spec);

    std::vector<std::pair<std::string, std::uint64_t>> fields() const;
};

}  // namespace schedlab::sim
