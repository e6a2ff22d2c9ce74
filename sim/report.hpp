// A run's result as JSON (one object, keys in a fixed order so equal runs give equal bytes)
// and as a table for a terminal.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/simulator.hpp"

namespace schedlab::sim {

nlohmann::ordered_json to_json(const run_result& r);
std::string to_table(const run_result& r);

}  // namespace schedlab::sim
