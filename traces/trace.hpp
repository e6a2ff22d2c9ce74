// The workload model that every trace, generator and importer produces and the simulator
// consumes. A trace records demand, not schedule: what each job needs (compute, I/O waits,
// already-complete operations, fan-out, hand-offs between pipeline stages), never when one
// policy happened to run it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace schedlab::traces {

inline constexpr int format_version = 1;
inline constexpr const char* format_magic = "schedlab-trace";

enum class step_kind : std::uint8_t {
    compute,  // hold the worker for duration_ns
    io,       // suspend; the reactor completes the operation after duration_ns
    ready,    // count already-complete operations, each followed by duration_ns of compute
    call,     // await a nested call of program `sub` (one child frame)
    fanout,   // when_all over count copies of program `sub`
    yield,    // post self to the back of the run queue
    send,     // hand the job to channel `channel`; that stage's consumer runs the rest
};

const char* to_string(step_kind kind);

struct program;

struct step {
    step_kind kind = step_kind::compute;
    std::uint32_t count = 1;        // ready: operations; fanout: width
    std::uint64_t duration_ns = 0;  // compute, io: the duration; ready: compute after each
    const program* sub = nullptr;   // call, fanout: the child program
    std::uint32_t channel = 0;      // send: index into workload_header::channels
};

// A named program lives as long as the source that defined it; an inline program (empty
// name) is owned by the one job that carries it.
struct program {
    std::string name;
    std::vector<step> steps;
};

struct class_decl {
    std::uint32_t id = 0;
    std::string name;
};

struct channel_decl {
    std::string name;
    std::uint32_t capacity = 64;  // items buffered before a sender must wait
    std::uint32_t consumers = 1;  // stage coroutines receiving from it
};

struct workload_header {
    std::vector<class_decl> classes;
    std::vector<channel_decl> channels;
    // Free-form provenance (source file, generator and its options), kept in order.
    std::vector<std::pair<std::string, std::string>> meta;

    const class_decl* find_class(std::uint32_t id) const;
};

struct job {
    std::uint64_t arrival_ns = 0;
    std::uint32_t class_id = 0;
    std::shared_ptr<const program> prog;
};

// Produces jobs in non-decreasing arrival order, one at a time, so that memory follows the
// live jobs and not the length of the workload.
class job_source {
public:
    virtual ~job_source() = default;
    virtual const workload_header& header() const = 0;
    // The next job, or nullopt when the workload is exhausted. Throws input_error on bad input.
    virtual std::optional<job> next() = 0;
    // Counters the source wants reported (for example backwards timestamps in a capture).
    virtual std::vector<std::pair<std::string, std::uint64_t>> stats() const { return {}; }
};

// Bad input: names the file, where in it (line or byte offset), the field and what was
// expected. The command line turns it into exit status 2.
class input_error : public std::runtime_error {
public:
    input_error(std::string file, std::string where, std::string field, std::string expected,
                std::string got = {});
    const std::string& file() const { return file_; }
    const std::string& where() const { return where_; }
    const std::string& field() const { return field_; }

private:
    std::string file_, where_, field_;
};

// Outputs are written to a temporary and renamed over their path, which replaces whatever is
// there: fine for a regular file, wrong for a device, FIFO, socket, symlink or directory,
// which would be replaced rather than written to. Throws input_error for those.
void check_replaceable(const std::string& path);

}  // namespace schedlab::traces
