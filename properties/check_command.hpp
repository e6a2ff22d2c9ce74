// The `schedlab check` subcommand and the `replay --schedule` support the command line uses.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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
// The schedule also records the policies, workers and costs it was found under: each one not in
// `given` (option names without dashes: pump, frames, when_all, workers, costs) is taken from
// the file; one given with another value is an input_error, since the run would be another run.
std::unique_ptr<sim::chooser> apply_schedule(sim::sim_config& config, const std::string& path,
                                             const std::vector<std::string>& given = {});

// The directory of the named scenarios (properties/scenarios in the source tree).
std::string scenario_dir();

// The named scenarios (file stems in scenario_dir()), sorted.
std::vector<std::string> scenario_names();

// A scenario name's file, or `input` itself when it is not a scenario name.
std::string resolve_input(const std::string& input);

// The worker count a scenario's bounds were worked out for (`meta workers N`), if it declares
// one: `check` uses it unless --workers is given, and `compare` always does. Throws
// traces::input_error naming `path` for a malformed count.
std::optional<std::uint32_t> declared_workers(const traces::workload_header& h,
                                              const std::string& path);

// What a scenario's header declares with `meta expect KEY=VALUE ...`, as check settings.
// Throws traces::input_error naming `path` for a malformed pair or a key given twice.
std::vector<std::pair<std::string, std::string>> expectations_of(const traces::workload_header& h,
                                                                 const std::string& path);

}  // namespace schedlab::properties
