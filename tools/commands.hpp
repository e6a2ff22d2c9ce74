// Subcommands defined outside schedlab.cpp, each registered by one call. A subcommand runs from
// its CLI11 callback and ends the process with the command line's exit status (0 success, 1 a
// run could not finish, 2 bad usage or bad input).
#pragma once

#include <CLI/CLI.hpp>

namespace schedlab::tools {

// `compare`: every input against every policy for every seed, with a report.
void register_compare(CLI::App& app);
// `merge`: the shards of one compare sweep into the result a single run writes.
void register_merge(CLI::App& app);
// `import chrome`: a Chrome Trace Event Format recording as a workload trace.
void register_import_chrome(CLI::App& import_command);

}  // namespace schedlab::tools
