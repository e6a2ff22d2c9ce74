// `schedlab run`: a workload on the live runtime, reported in the shape of `schedlab replay`.
#pragma once

#include <CLI/CLI.hpp>

namespace schedlab::tools {

// Adds the subcommand. It runs from its CLI11 callback and ends the process with its exit
// status (0 success, 2 bad usage or input, 3 the system refused), so main needs no dispatch.
void add_run_command(CLI::App& app);

}  // namespace schedlab::tools
