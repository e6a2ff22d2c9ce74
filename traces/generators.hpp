// Synthetic workloads, each a job_source that produces its jobs lazily from one seed, so that
// ten million jobs cost no more memory than ten.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace.hpp"

namespace schedlab::traces {

struct generator_param {
    std::string name;
    std::string default_value;
    std::string description;  // one line, for --help
};

struct generator_kind {
    std::string name;
    std::string description;  // one line, for --help
    std::vector<generator_param> params;
};

// Every kind make_generator() accepts, in a fixed order, with its parameters and defaults.
const std::vector<generator_kind>& generator_kinds();

// Builds the generator `kind` with `params` overriding its defaults, producing `jobs` jobs.
// All randomness comes from seeded_rng(seed), so equal arguments give equal workloads on
// every platform. Throws std::invalid_argument for an unknown kind, an unknown parameter or
// a value outside its range. The header's meta records the kind, every parameter, the job
// count and the seed; stats() reports jobs produced and named programs.
std::unique_ptr<job_source> make_generator(const std::string& kind,
                                           const std::map<std::string, std::string>& params,
                                           std::uint64_t jobs, std::uint64_t seed);

}  // namespace schedlab::traces
