// Records the demand a live run observed as a trace the simulator replays: when each job
// arrived, the compute between its suspension points, the I/O it waited for, the operations
// that were already complete, and its call and fan-out structure. Never the schedule.
//
// Durations are quantized to 5 significant bits (under 3.2% error) so that jobs with the same
// structure share named sub-programs instead of writing one program per job. Jobs are kept in
// memory until write(), which sorts them by arrival.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/live_ops.hpp"
#include "traces/trace.hpp"

namespace schedlab::runtime {

std::uint64_t quantize_ns(std::uint64_t v) noexcept;

// The steps of one coroutine, built while it runs. Not thread-safe: one per coroutine frame.
class step_builder {
public:
    explicit step_builder(bool enabled) noexcept : enabled_(enabled) {
        if (enabled_) last_ns_ = monotonic_ns();
    }
    bool enabled() const noexcept { return enabled_; }
    std::size_t size() const noexcept { return steps_.size(); }

    // Call right before co_await: closes the compute segment that led here.
    void before_await() noexcept;
    // Call right after: the operation's outcome (already complete, or an I/O wait).
    void after_io(const io_result& r);
    void add_call(const traces::program* sub);
    void add_fanout(std::uint32_t width, const traces::program* sub);
    // Closes the final compute segment and returns the steps, merged where the text format
    // allows (`ready 1` followed by compute becomes `ready 1 NS`).
    std::vector<traces::step> finish();

private:
    void push(traces::step s);
    bool enabled_;
    std::uint64_t last_ns_ = 0;
    std::vector<traces::step> steps_;
};

class demand_recorder {
public:
    explicit demand_recorder(std::string workload) : workload_(std::move(workload)) {}

    // A named program with these steps, shared by every caller that records equal steps.
    const traces::program* intern(std::vector<traces::step> steps);
    void add_job(std::uint64_t arrival_ns, std::vector<traces::step> steps);
    std::uint64_t jobs() const;

    // Writes the trace atomically; `meta` goes into the header.
    void write(const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& meta);

private:
    struct recorded_job {
        std::uint64_t arrival_ns;
        std::shared_ptr<const traces::program> prog;
    };
    std::string workload_;
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<traces::program>> programs_;  // by content key
    std::vector<recorded_job> jobs_;
};

}  // namespace schedlab::runtime
