// Schedules and the choosers that make, follow and explore them.
//
// A schedule is the seed of a run plus the (arity, index) of every choice with more than one
// option, in the order the run met them. Its tail is canonical: once the list is used up,
// every further choice takes option 0, so a shortened schedule is still a schedule.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sim/simulator.hpp"
#include "traces/random.hpp"

namespace schedlab::properties {

inline constexpr const char* schedule_magic = "schedlab-schedule";
inline constexpr int schedule_version = 1;

struct schedule {
    std::uint64_t seed = 1;
    std::vector<sim::recorded_choice> choices;
    // The checks the schedule was found under (key=value, as `schedlab check` takes them),
    // so that a replay judges the run the same way.
    std::vector<std::pair<std::string, std::string>> settings;

    // Drops trailing zero choices, which the canonical tail makes again.
    void trim();
    std::string to_text() const;
    // Throws traces::input_error naming `path`, the line and the field.
    static schedule parse(const std::string& text, const std::string& path);
    static schedule load(const std::string& path);
    void save(const std::string& path) const;  // atomically
};

// Records every choice the inner chooser makes.
class recording_chooser final : public sim::chooser {
public:
    explicit recording_chooser(sim::chooser& inner) : inner_(inner) {}
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view& s) override;
    std::vector<sim::recorded_choice> choices;

private:
    sim::chooser& inner_;
};

class random_chooser final : public sim::chooser {
public:
    explicit random_chooser(std::uint64_t seed) : rng_(seed) {}
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view&) override {
        return static_cast<std::uint32_t>(rng_.below(c.arity));
    }

private:
    traces::seeded_rng rng_;
};

// Follows a schedule. Strict: a choice whose arity differs from the recorded one throws
// sim::schedule_divergence naming the choice. Lenient (for shrinking, where the workload
// changes under the schedule): the recorded index is clamped to the arity.
class replay_chooser final : public sim::chooser {
public:
    replay_chooser(const std::vector<sim::recorded_choice>& list, bool strict)
        : list_(list), strict_(strict) {}
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view&) override;

private:
    const std::vector<sim::recorded_choice>& list_;
    bool strict_;
};

// PCT (probabilistic concurrency testing). Every actor gets a random priority the first time
// it is met; at each choice the option of the highest-priority actor wins. At depth-1 change
// points, drawn uniformly among the first `expected_choices` choices, the winning actor drops
// below every other. Actors are jobs (by_jobs: the job an option advances, the unit whose steps
// PCT orders against each other) or entities (workers and the reactor).
class pct_chooser final : public sim::chooser {
public:
    pct_chooser(std::uint64_t seed, std::uint32_t depth, std::uint64_t expected_choices,
                bool by_jobs);
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view&) override;

private:
    std::uint64_t priority_of(std::uint32_t actor);
    std::uint32_t best_of(const sim::choice_point& c);
    traces::seeded_rng rng_;
    bool by_jobs_;
    std::unordered_map<std::uint32_t, std::uint64_t> priority_;
    std::vector<std::uint64_t> change_at_;
    std::uint64_t lowest_;
};

// Bounded depth-first search over schedules by re-execution. Each run follows the prefix
// chosen by the backtracking and takes option 0 after it. Choices away from option 0 count
// as preemptions, at most `preemptions` per run. With state hashing, a choice point whose
// abstract state (sim::state_view::fingerprint, with the preemptions left) was met before is
// not branched again: its subtree counts as explored.
class dfs_explorer final : public sim::chooser {
public:
    dfs_explorer(std::uint32_t preemptions, bool state_hashing)
        : budget_(preemptions), hashing_(state_hashing) {}
    std::uint32_t choose(const sim::choice_point& c, const sim::state_view& s) override;
    // Call between runs: moves to the next unexplored prefix; false once the tree is done.
    bool advance();
    std::uint64_t distinct_states() const { return seen_.size(); }
    std::uint64_t pruned() const { return pruned_; }

private:
    struct node {
        std::uint32_t arity;
        std::uint32_t index;
        bool branch;  // alternatives here are still to be explored
    };
    std::uint32_t budget_;
    bool hashing_;
    std::vector<node> stack_;
    std::size_t depth_ = 0;   // choices made in the current run
    std::uint32_t used_ = 0;  // preemptions in the current run
    bool pruning_ = false;    // below a merged state: no more branching in this run
    std::unordered_set<std::uint64_t> seen_;
    std::uint64_t pruned_ = 0;
};

}  // namespace schedlab::properties
