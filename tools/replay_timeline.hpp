// `replay --timeline FILE [--timeline-window FROM_NS:TO_NS]`: the run written as a Chrome
// trace (see sim/timeline.hpp). The options are registered on the replay subcommand; the
// replay attaches the observer before it runs and writes the file after.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"
#include "sim/timeline.hpp"

namespace schedlab::tools {

void add_timeline_options(CLI::App& replay);

// What the timeline's otherData records: the policies, workers, seed and window, and nothing
// that depends on where the input lives, so compare's copy and replay's are the same bytes.
std::vector<std::pair<std::string, std::string>> timeline_meta(const sim::sim_config& cfg,
                                                               sim::chrome_timeline::window w);

// "FROM_NS:TO_NS"; throws std::invalid_argument.
sim::chrome_timeline::window parse_window(const std::string& text);

// Inert unless --timeline was given.
class replay_timeline {
public:
    // Sets cfg.observer when a timeline was asked for.
    explicit replay_timeline(sim::sim_config& cfg);
    // Writes the file atomically; call after a successful simulate().
    void write() const;

private:
    const sim::sim_config& cfg_;
    sim::chrome_timeline::window window_;
    std::unique_ptr<sim::chrome_timeline> timeline_;
};

}  // namespace schedlab::tools
