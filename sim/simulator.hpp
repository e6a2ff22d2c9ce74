// The deterministic discrete-event simulator: N simulated workers share one FIFO run queue on
// a virtual nanosecond clock; a simulated reactor delivers I/O completions and arrivals after
// the times the workload gives. The workload's programs run as real coroutines of the core in
// runtime/ (task, when_all, the frame hook), allocating real frames from the real policies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "policies/frame_stash.hpp"
#include "policies/frames.hpp"
#include "policies/pump.hpp"
#include "sim/cost_model.hpp"
#include "traces/trace.hpp"

namespace schedlab::sim {

struct progress {
    std::uint64_t events = 0;
    std::uint64_t jobs_completed = 0;
    std::uint64_t virtual_ns = 0;
};

// What a timeline or a checker sees of a run, in the order it happens. Times are virtual.
enum class sim_event_kind : std::uint8_t {
    slice_begin,    // a worker starts running: value 1 if the item came from the reactor
    slice_end,      // the worker leaves its coroutines (to the queue, idle or an overhead wait)
    compute_begin,  // value: the compute's duration in ns; the worker stays busy
    posted,         // id: the item's flow id; value 1 if from the reactor
    popped,         // id: the flow id; value: how long it waited in the queue
    inline_resume,  // an already-complete operation resumed inline on this worker
    queue_length,   // value: items in the run queue after a change
    frames_outstanding,  // value: frames allocated and not yet freed, at a slice's end
    job_done,            // id: the job's sequence number; value: its latency in ns
};

struct sim_event {
    sim_event_kind kind;
    std::uint64_t time_ns;
    std::uint32_t worker;  // UINT32_MAX for the reactor
    std::uint64_t id;
    std::uint64_t value;
};

class sim_observer {
public:
    virtual ~sim_observer() = default;
    virtual void on_event(const sim_event& e) = 0;
};

// ---- choice points ----
// Every nondeterministic decision of a run is a choice point: which of the events due at the
// same virtual time runs next (kept in insertion order), which idle worker wakes for new work,
// and, with `io_jitter_ns`, how late an I/O completes. A choice with one option is not a
// choice and is never shown to a chooser.
enum class choice_kind : std::uint8_t { tie, wake, io_jitter };

inline constexpr std::uint32_t reactor_entity = UINT32_MAX;

struct choice_point {
    choice_kind kind;
    std::uint64_t number;  // how many choices with more than one option came before
    std::uint64_t time_ns;
    std::uint32_t arity;  // at least 2
    // Per option, who acts if it is chosen: a worker id, or reactor_entity for arrivals and
    // I/O completions (for io_jitter every option is the reactor).
    const std::uint32_t* entities;
    // Per option, the job it advances (job_actor_flag | sequence number mod 2^31), or the
    // entity when no job is known (a worker's overhead ending, an idle worker).
    const std::uint32_t* actors;
};

inline constexpr std::uint32_t job_actor_flag = 0x80000000u;

// The abstract state at a choice point, for explorers that merge equal states.
class state_view {
public:
    virtual std::uint64_t fingerprint() const = 0;

protected:
    ~state_view() = default;
};

class chooser {
public:
    virtual ~chooser() = default;
    // Returns the option to take, in [0, c.arity).
    virtual std::uint32_t choose(const choice_point& c, const state_view& state) = 0;
};

struct recorded_choice {
    std::uint32_t arity = 0;
    std::uint32_t index = 0;
    bool operator==(const recorded_choice&) const = default;
};

// ---- properties checked during a run ----
enum class global_pool_rule : std::uint8_t {
    allowed,   // trips to the global pool are counted, not judged
    children,  // no trip while a when_all's children are being allocated
    none,      // no trip at all
};

struct check_config {
    bool enabled = false;
    // Inline resumes in a row while work waits; 0 leaves only the pump's own bound.
    std::uint64_t max_inline_streak = 0;
    std::uint64_t max_queue_wait_ns = 0;  // 0: not checked
    global_pool_rule global_pool = global_pool_rule::allowed;
    std::uint64_t max_global_trips = UINT64_MAX;  // summed over workers
    std::uint64_t horizon_ns = 0;                 // every job done by then; 0: not checked
};

// Fault injection for the checker's own tests. The command line never sets these.
struct sim_test_hooks {
    // Wraps the run's frame resource (for example in one that loses frames).
    std::function<std::unique_ptr<policies::frame_resource>(policies::frame_resource&)> wrap_frames;
    // Asked when the last child of the n-th fan-out (0-based) finishes; true loses the
    // parent's wake-up.
    std::function<bool(std::uint64_t fanout)> lose_wakeup;
};

struct sim_config {
    policies::pump_spec pump = policies::pump_spec::parse("adaptive");
    policies::frames_spec frames = policies::frames_spec::parse("recycling");
    policies::when_all_frames when_all = policies::when_all_frames::shared;
    std::uint32_t workers = 1;
    std::uint64_t seed = 1;
    cost_model costs;
    // Liveness bound: this many events in a row without a job completing is a failure.
    std::uint64_t stall_events_max = 200'000'000;
    // Called every `progress_every_events` events; the simulator itself never reads a clock.
    std::function<void(const progress&)> on_progress;
    std::uint64_t progress_every_events = 1u << 20;
    // Sees every run event; not owned. Null costs one branch per event.
    sim_observer* observer = nullptr;
    // Makes every choice; null draws each from the seeded stream. Not owned.
    chooser* choices = nullptr;
    // Keep the (arity, index) of every choice in run_result::choices.
    bool record_choices = false;
    // Each I/O completes up to this much later than the workload says, at one of
    // io_jitter_levels evenly spaced points chosen at the I/O's start; 0 turns it off.
    std::uint64_t io_jitter_ns = 0;
    check_config checks;
    sim_test_hooks test_hooks;
};

inline constexpr std::uint32_t io_jitter_levels = 4;

struct latency_summary {
    std::uint64_t count = 0;
    double mean_ns = 0;
    std::uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};

struct class_result {
    std::uint32_t id = 0;
    std::string name;
    latency_summary latency;
};

struct frame_result {
    policies::frame_counters counters;
    std::int64_t peak_outstanding = 0;
    std::int64_t outstanding_at_end = 0;  // after every coroutine is gone: a leak if non-zero
    std::uint64_t lock_waits = 0;
    std::uint64_t lock_wait_ns = 0;
    std::uint64_t stash_arenas = 0;
    std::uint64_t stash_hits = 0;
    std::uint64_t stash_overflows = 0;
    // Trips to the global pool made while allocating a when_all child's frame.
    std::uint64_t child_global_trips = 0;
    // when_all fan-outs whose children's frames took at least one such trip: with one fan-out
    // per job, this says whether *every* job paid, which a total cannot.
    std::uint64_t fanouts_with_child_trips = 0;
};

struct run_result {
    std::uint64_t seed = 0;
    std::string pump, frames, when_all, costs;
    std::uint32_t workers = 0;

    std::uint64_t jobs_arrived = 0;
    std::uint64_t jobs_completed = 0;
    std::uint64_t first_arrival_ns = 0;
    std::uint64_t last_completion_ns = 0;
    double throughput_jobs_per_s = 0;
    latency_summary latency;
    latency_summary queue_wait;
    std::vector<class_result> classes;

    std::uint64_t inline_resumes = 0;
    std::uint64_t posted_resumes = 0;     // already-complete operations the pump sent to the queue
    std::uint64_t queued_items = 0;       // every item that went through the run queue
    std::uint64_t max_inline_streak = 0;  // inline resumes in a row while work was queued
    policies::pump_counters pump_counters;
    frame_result frames_result;

    std::uint64_t events = 0;
    std::uint64_t busy_ns = 0;     // summed over workers
    std::string event_hash;        // FNV-1a over every processed event, hex
    std::uint64_t final_draw = 0;  // one value drawn from the run's random stream at its end

    std::vector<std::pair<std::string, std::uint64_t>> source_stats;

    std::uint64_t choice_points = 0;       // choices with more than one option
    std::vector<recorded_choice> choices;  // filled with sim_config::record_choices
    // The first trip to the global pool and the first heap fallback of the run: where
    // exhaustion began (`seen` false if it never did). Job is UINT64_MAX for a frame no job
    // owns (a stage consumer's); size_class indexes policies::frame_class_bytes.
    struct exhaustion_note {
        bool seen = false;
        std::uint32_t worker = 0;
        std::uint32_t size_class = 0;
        std::uint64_t job = 0;
        std::uint64_t time_ns = 0;
    };
    exhaustion_note first_global_trip, first_heap_fallback;
};

// A property that failed during a run: its name, where (worker, or UINT32_MAX for none or the
// reactor), when (virtual ns) and for which job (sequence number, UINT64_MAX for none).
class property_violation : public std::runtime_error {
public:
    property_violation(std::string property, std::uint32_t worker, std::uint64_t time_ns,
                       std::uint64_t job, const std::string& what);
    const std::string& property() const noexcept { return property_; }
    std::uint32_t worker() const noexcept { return worker_; }
    std::uint64_t time_ns() const noexcept { return time_ns_; }
    std::uint64_t job() const noexcept { return job_; }

private:
    std::string property_;
    std::uint32_t worker_;
    std::uint64_t time_ns_;
    std::uint64_t job_;
};

// A chooser's schedule that does not fit the run (another arity at some choice).
class schedule_divergence : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A workload that cannot finish: jobs left when no event remains, or no progress for the
// configured number of events.
class liveness_error : public property_violation {
public:
    explicit liveness_error(const std::string& what, std::uint64_t time_ns = 0,
                            std::uint64_t job = UINT64_MAX)
        : property_violation("liveness", UINT32_MAX, time_ns, job, what) {}
    const char* kind() const noexcept;
};

// Replays `source` under the configured policies. Throws traces::input_error for bad input
// met while streaming, liveness_error for a liveness failure (the message says how many jobs
// never finished and why), property_violation for a failed check (config.checks) and
// schedule_divergence when the chooser's schedule does not fit.
run_result simulate(traces::job_source& source, const sim_config& config);

}  // namespace schedlab::sim
