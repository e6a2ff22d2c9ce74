// The comparison matrix: inputs (captures, traces or generator specs) times policies times
// seeds, how each cell is run, and what one run records. Shared by `compare` and `merge`.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "traces/trace.hpp"

namespace schedlab::tools {

using ojson = nlohmann::ordered_json;

// An input is a file (a capture or a text trace) or a generator spec:
//   gen:KIND[:KEY=VALUE,KEY=VALUE...]
// where KEY is one of the generator's parameters (see `schedlab gen --help`) or `jobs` (how
// many jobs, default 10000). A generated input is drawn afresh for every seed from that seed,
// so its intervals cover workload variation as well as the simulator's choices; a file is the
// same workload for every seed, so its intervals cover only the simulator's choices (which
// idle worker wakes, the order of events due together).
struct input_spec {
    std::string spec;  // as given
    std::string name;  // short and unique within the matrix
    bool generated = false;
    std::string kind;  // generator kind
    std::map<std::string, std::string> params;
    std::uint64_t jobs = 10000;
};

// Throws std::invalid_argument naming the spec and the part that is wrong.
input_spec parse_input(const std::string& spec);

// A policy: one choice of pump, frame allocator and when_all frame source.
struct policy_spec {
    std::string name;
    std::string pump = "adaptive";
    std::string frames = "recycling";
    std::string when_all = "shared";
};

// The presets that carry the brief's tradeoff, in this order.
const std::vector<policy_spec>& policy_presets();

// A policy file: one policy a line, `NAME [pump=SPEC] [frames=SPEC] [when_all=shared|private]`;
// omitted keys take the defaults above; `#` starts a comment; blank lines are ignored.
// Throws traces::input_error naming the file, line and field.
std::vector<policy_spec> load_policy_file(const std::string& path);

// `args` is either one existing file (a policy file) or preset names.
std::vector<policy_spec> resolve_policies(const std::vector<std::string>& args);

struct matrix {
    std::vector<input_spec> inputs;
    std::vector<policy_spec> policies;
    std::string baseline;
    std::vector<std::uint64_t> seeds;
    std::uint32_t workers = 2;
    std::string costs = "default";
    // Property checks: every policy is checked with `check_runs` random schedules (0: none)
    // on each named scenario of `schedlab check --list`, then on each input.
    std::uint64_t check_runs = 10;
    std::vector<std::string> scenarios;

    std::size_t run_count() const { return inputs.size() * policies.size() * seeds.size(); }
    std::size_t check_target_count() const {
        return check_runs == 0 ? 0 : scenarios.size() + inputs.size();
    }
    // Checks are numbered target-major (scenarios, then inputs), then policy.
    std::size_t check_count() const { return check_target_count() * policies.size(); }
    // Runs are numbered input-major, then policy, then seed.
    std::size_t run_index(std::size_t input, std::size_t policy, std::size_t seed) const {
        return (input * policies.size() + policy) * seeds.size() + seed;
    }
};

// Checks everything a run will need before any run starts, so that bad input fails at once
// with exit status 2 rather than after minutes of work: files open and their headers parse,
// generator parameters are valid, policy specs parse, the baseline exists.
void validate(const matrix& m);

// The matrix with every input's content hash (FNV-1a 64 over the file's bytes, or over the
// trace text `schedlab gen` writes for each seed), in the order results.json keeps it.
ojson matrix_json(const matrix& m);
matrix matrix_from_json(const ojson& j);  // throws std::invalid_argument

// The exact command lines that reproduce one run's numbers (`--json` prints them).
std::string replay_command(const matrix& m, std::size_t input, std::size_t policy,
                           std::uint64_t seed, const std::string& extra = {});
// The same for a shell loop over the seeds: the seed is "$seed".
std::string replay_command_per_seed(const matrix& m, std::size_t input, std::size_t policy,
                                    const std::string& extra = {});

// Runs one cell for one seed. The record holds the replay's own JSON (the numbers the printed
// command reproduces) and, from an observer, exact per-class latency quantiles and the job at
// the overall p99. A liveness failure is recorded, not thrown; bad input throws.
ojson run_one(const matrix& m, std::size_t input, std::size_t policy, std::size_t seed_index);

// Runs check `index` (see matrix::check_count): `schedlab check` with the random strategy,
// `check_runs` runs and seed 1, with a scenario's declared expectations; a generated input is
// checked on its first seed's workload. The record says which property failed, where, and the
// command that reproduces the check and shrinks the failure. Bad input throws.
ojson check_one(const matrix& m, std::size_t index);

// The command line that reproduces check `index`.
std::string check_command(const matrix& m, std::size_t index);

// Replays one run again with a timeline observer limited to [from_ns, to_ns] and returns the
// Chrome trace JSON, byte for byte what `replay --timeline` writes for the same run.
std::string timeline_of(const matrix& m, std::size_t input, std::size_t policy, std::uint64_t seed,
                        std::uint64_t from_ns, std::uint64_t to_ns);

// The probabilities at which the exact latency distribution is recorded.
const std::vector<double>& cdf_probabilities();

std::string fnv1a64_hex(const std::string& bytes);

}  // namespace schedlab::tools
