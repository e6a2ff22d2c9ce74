// Text trace format version 1: a streaming reader, an atomic writer, and the entry point that
// opens either a text trace or a packet capture.
//
//   schedlab-trace 1
//   meta KEY VALUE...                  header only; VALUE is the rest of the line
//   class ID NAME                      header only; ID unique in 0..65535
//   channel NAME [capacity=N] [consumers=K]    header only; defaults 64 and 1
//   program NAME                       anywhere before its first use; NAME unique
//     STEP                             one a line: compute NS | io NS | ready COUNT [NS] |
//   end                                call PROG | fanout WIDTH PROG | yield | send CHANNEL
//   job ARRIVAL_NS CLASS_ID PROGRAM_NAME
//   job ARRIVAL_NS CLASS_ID : STEP ; STEP ; ...    an inline program owned by the job
//
// Names are made of letters, digits, '_', '-' and '.'. Lines starting with '#' and blank
// lines are ignored; CRLF line endings are accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "traces/pcap.hpp"
#include "traces/temp_cleanup.hpp"
#include "traces/trace.hpp"

namespace schedlab::traces {

// Limits that both the reader and the writer enforce, so that whatever is written reads back.
inline constexpr std::uint64_t max_duration_ns = 1'000'000'000'000'000ULL;  // 10^15 ns
inline constexpr std::uint64_t max_arrival_ns = 1ULL << 62;
inline constexpr std::uint32_t max_ready_count = 1U << 20;
inline constexpr std::uint32_t max_fanout_width = 1U << 16;
inline constexpr std::uint32_t max_class_id = 65535;
// The deepest stack a job may build, counted in frames: its own program is frame 1, and each
// call or fanout along a chain adds one.
inline constexpr int max_nesting_depth = 64;
// What one job may ask of the simulator: frames alive at once (fan-out widths multiply) and
// demand summed over every step it runs, so no job can exhaust memory or wrap the clock.
inline constexpr std::uint64_t max_job_frames = std::uint64_t{1} << 20;
inline constexpr std::uint64_t max_job_demand_ns = 1'000'000'000'000'000ULL;
// Operations one job may make the simulator run: every step once, every ready operation once,
// calls and fan-outs multiplied through like frames. Each costs the simulator a few events, so
// one job stays well below the stall bound (sim_config::stall_events_max, 2*10^8 events
// without a completion) and a valid job is never mistaken for a stalled one.
inline constexpr std::uint64_t max_job_operations = std::uint64_t{1} << 24;
inline constexpr std::uint32_t max_channel_consumers = 1024;
inline constexpr std::size_t max_channels = 4096;
// Longer lines are rejected so that garbage without newlines cannot exhaust memory.
inline constexpr std::size_t max_line_bytes = std::size_t{1} << 22;

// What running a program once asks of the simulator, sub-programs included.
struct job_totals {
    std::uint64_t frames = 1;
    std::uint64_t demand_ns = 0;
    std::uint64_t operations = 0;
};

// The per-job bound a job_totals exceeds, if any.
enum class job_bound { none, frames, demand_ns, operations };

// Adds step `s` to the totals of the program it belongs to; `sub` holds the totals of the
// step's sub-program (read only for call and fanout). Returns the first bound the sum exceeds
// and then leaves `totals` unchanged. The reader, the writer and the generators all count
// through this one function, so that they agree on what a job may ask.
job_bound add_step_totals(job_totals& totals, const step& s, const job_totals& sub);

// The totals of `prog` and everything it calls, into `totals`; stops at the first bound
// exceeded and returns it.
job_bound measure_program(const program& prog, job_totals& totals);

// The field a bound is reported under ("frames", "demand_ns", "operations") and its rule as
// the reader states it.
const char* job_bound_field(job_bound bound);
std::string job_bound_rule(job_bound bound);

// True for a name the text format can carry (program, class, channel or meta key).
bool is_valid_name(const std::string& name);

// Opens a text trace. The header (meta, classes, channels and the programs defined before the
// first job) is complete when this returns; jobs are parsed one line at a time by next().
std::unique_ptr<job_source> open_trace(const std::string& path);

// Writes a trace incrementally to a temporary file beside `path` and renames it into place on
// commit(), so `path` never holds a half-written trace; SIGINT or SIGTERM removes the
// temporary too (temp_cleanup). Named programs are written the first
// time a job reaches them, sub-programs before the programs that reference them. Data that
// the reader would reject (decreasing arrivals, undeclared classes, a send inside a called
// program, names with spaces, ...) throws std::invalid_argument; I/O failures throw
// std::system_error. After any exception the writer can only be aborted.
class trace_writer {
public:
    explicit trace_writer(const std::string& path);
    // Removes the temporary file unless commit() succeeded.
    ~trace_writer();
    trace_writer(const trace_writer&) = delete;
    trace_writer& operator=(const trace_writer&) = delete;

    // Must be called once, before the first add_job().
    void write_header(const workload_header& header);
    void add_job(const job& j);
    // Flushes, syncs and renames the temporary file to the final path.
    void commit();
    // Discards everything written so far; safe to call more than once.
    void abort() noexcept;

    std::uint64_t jobs_written() const { return jobs_; }

private:
    struct program_info {
        int depth = 1;
        bool has_send = false;
        job_totals cost;
    };

    program_info check_steps(const program& prog, int depth_so_far);
    const program_info& emit_named(const program& prog, int depth_so_far);
    void append_step(const step& s);
    void append_u64(std::uint64_t value);
    void flush_buffer();
    void fail_if_broken() const;

    std::string path_;
    std::string temp_path_;
    temp_cleanup cleanup_;
    int fd_ = -1;
    std::string buffer_;
    bool header_written_ = false;
    bool broken_ = false;
    bool committed_ = false;
    std::uint64_t jobs_ = 0;
    std::uint64_t last_arrival_ns_ = 0;
    std::vector<std::uint32_t> class_ids_;
    std::vector<std::string> channel_names_;
    std::unordered_map<const program*, program_info> emitted_;
    std::unordered_map<std::string, const program*> names_;
};

// Writes every job of `src` to `path` through a trace_writer. If `src` throws, the temporary
// file is removed and the exception propagates; `path` is left as it was.
void write_trace(job_source& src, const std::string& path);

// Opens a capture (recognised by its magic number, see is_capture()) or otherwise a text trace. A
// missing or unreadable file is an input_error.
std::unique_ptr<job_source> open_input(const std::string& path, const pcap_options& options = {});

}  // namespace schedlab::traces
