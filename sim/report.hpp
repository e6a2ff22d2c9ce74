// A run's result as JSON (one object, keys in a fixed order so equal runs give equal bytes)
// and as a table for a terminal.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/simulator.hpp"

namespace schedlab::sim {

nlohmann::ordered_json to_json(const run_result& r);
// `live`: a result of `schedlab run`, whose spans are wall-clock time and which has no event
// log, hash, queue waits, lock waits or exhaustion notes to show.
std::string to_table(const run_result& r, bool live = false);

// Where exhaustion began: {"worker", "size_class_bytes", "job", "time_ns"}, or null when the
// run never got there. "job" is null when no job's coroutine was running.
nlohmann::ordered_json to_json(const run_result::exhaustion_note& n);
// "worker W, size class B bytes, job J, at T ns", or "none".
std::string describe(const run_result::exhaustion_note& n);

}  // namespace schedlab::sim
