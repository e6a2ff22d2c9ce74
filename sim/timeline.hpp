// A run's timeline in the Chrome Trace Event Format (the JSON that chrome://tracing and
// Perfetto open): every simulated worker is a thread and every run of coroutines on it a
// slice, with its computes nested inside; each item that went through the run queue is a flow
// from the slice (or reactor completion) that posted it to the slice that ran it; inline
// resumes are instants; the run-queue length and the frames outstanding are counter tracks.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"

namespace schedlab::sim {

// Only what happens inside [from_ns, to_ns] of virtual time is kept: a slice that overlaps the
// window is kept whole, a flow only when both of its ends fall inside, so that a window around
// one job stays small however long the run is.
struct timeline_window {
    std::uint64_t from_ns = 0;
    std::uint64_t to_ns = UINT64_MAX;
};

class chrome_timeline final : public sim_observer {
public:
    using window = timeline_window;

    explicit chrome_timeline(std::uint32_t workers, window w = {});

    void on_event(const sim_event& e) override;

    // The whole document, events sorted by time; equal runs give equal bytes. `meta` goes to
    // the format's otherData object, in order.
    std::string to_json(const std::vector<std::pair<std::string, std::string>>& meta) const;

    std::uint64_t slices() const noexcept { return slices_kept_; }
    std::uint64_t flows() const noexcept { return flows_kept_; }

private:
    struct record {
        std::uint64_t ts_ns = 0;
        std::uint64_t dur_ns = 0;  // X only
        std::uint64_t id = 0;      // flows: the flow id; slices, instants: a job or item id
        std::uint64_t value = 0;   // counters, instants: the value shown in args
        std::uint32_t tid = 0;
        char ph = 'X';
        std::uint8_t name = 0;  // index into the fixed name table in timeline.cpp
    };

    struct open_slice {
        bool open = false;
        std::uint64_t begin_ns = 0;
        std::uint64_t job = 0;
        bool from_reactor = false;
        std::uint64_t flow = 0;  // the item that opened it
        std::uint64_t wait_ns = 0;
        std::vector<record> inner;
    };

    bool in_window(std::uint64_t t) const noexcept { return t >= win_.from_ns && t <= win_.to_ns; }
    std::uint32_t tid_of(std::uint32_t worker) const noexcept;
    void close_slice(std::uint32_t worker, std::uint64_t end_ns);

    std::uint32_t workers_;
    window win_;
    std::vector<open_slice> open_;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> popped_;  // per worker: flow, wait
    std::vector<record> out_;
    struct flow_state {
        bool finished = false;  // the finish was kept too, so both ends are written
        std::uint8_t name = 0;  // posted by a worker or by the reactor
    };
    std::unordered_map<std::uint64_t, flow_state> flow_started_;
    std::uint64_t slices_kept_ = 0;
    std::uint64_t flows_kept_ = 0;
};

}  // namespace schedlab::sim
