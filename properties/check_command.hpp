// The `schedlab check` subcommand and the `replay --schedule` support the command line uses.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"
#include "traces/trace.hpp"

namespace CLI {
class App;
}

namespace schedlab::properties {

// Registers `check` on `app`. The subcommand runs from its own callback and ends the process
// with exit status 0 (every property held), 1 (a violation; a shrunk counterexample is
// written) or 2 (bad usage or input).
void add_check_command(CLI::App& app);

// Makes `config` follow the schedule in `path` strictly and judge the run with the checks the
// schedule was found under. The returned chooser must outlive the run. Throws
// traces::input_error for a bad schedule file.
std::unique_ptr<sim::chooser> apply_schedule(sim::sim_config& config, const std::string& path);

// The directory of the named scenarios (properties/scenarios in the source tree).
std::string scenario_dir();

// The named scenarios (file stems in scenario_dir()), sorted.
std::vector<std::string> scenario_names();

// A scenario name's file, or `input` itself when it is not a scenario name.
std::string resolve_input(const std::string& input);

// What a scenario's header declares with `meta expect KEY=VALUE ...`, as check settings.
// Throws traces::input_error naming `path` for a malformed pair or a key given twice.
std::vector<std::pair<std::string, std::string>> expectations_of(const traces::workload_header& h,
                                                                 const std::string& path);

}  // namespace schedlab::properties
