#include "properties/check.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_set>

#include "policies/spec_parse.hpp"

namespace schedlab::properties {

namespace {

std::uint64_t hash_choices(const std::vector<sim::recorded_choice>& cs) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const auto& c : cs) {
        h = (h ^ ((std::uint64_t{c.arity} << 32) | c.index)) * 0x100000001b3ULL;
    }
    return h ^ cs.size();
}

std::uint64_t run_seed(std::uint64_t seed, std::uint64_t run) {
    std::uint64_t s = seed ^ (run * 0x9e3779b97f4a7c15ULL);
    return traces::splitmix64(s);
}

void tally(rare_path& p, std::uint64_t n) {
    if (n > 0) ++p.runs;
    p.total += n;
}

const char* rule_name(sim::global_pool_rule r) {
    switch (r) {
        case sim::global_pool_rule::allowed:
            return "allowed";
        case sim::global_pool_rule::children:
            return "children";
        case sim::global_pool_rule::none:
            return "none";
    }
    return "?";
}

}  // namespace

strategy strategy::parse(const std::string& text) {
    strategy s;
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    const std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (name == "random" && colon == std::string::npos) {
        s.k = kind::random;
    } else if (name == "pct") {
        s.k = kind::pct;
        const auto comma = rest.find(',');
        s.depth = static_cast<std::uint32_t>(
            policies::detail::parse_uint(rest.substr(0, comma), "strategy pct:DEPTH", 1, 64));
        if (comma != std::string::npos) {
            const std::string by = rest.substr(comma + 1);
            if (by == "by=jobs") {
                s.by_jobs = true;
            } else if (by == "by=workers") {
                s.by_jobs = false;
            } else {
                throw std::invalid_argument("strategy pct: unknown option '" + by +
                                            "' (expected by=jobs or by=workers)");
            }
        }
    } else if (name == "dfs") {
        s.k = kind::dfs;
        for (const auto& [key, value] : policies::detail::split_options(rest, "strategy dfs")) {
            if (key == "preemptions") {
                s.preemptions = static_cast<std::uint32_t>(
                    policies::detail::parse_uint(value, "strategy dfs preemptions", 0, 64));
            } else if (key == "hashing") {
                s.state_hashing =
                    policies::detail::parse_uint(value, "strategy dfs hashing", 0, 1) == 1;
            } else {
                throw std::invalid_argument("strategy dfs: unknown option '" +
                                            std::string(key.empty() ? value : key) +
                                            "' (expected preemptions=K, hashing=0|1)");
            }
        }
    } else {
        throw std::invalid_argument("strategy: unknown '" + text +
                                    "' (expected random, pct:DEPTH[,by=jobs|workers] or "
                                    "dfs[:preemptions=K][,hashing=0|1])");
    }
    return s;
}

std::string strategy::to_string() const {
    switch (k) {
        case kind::random:
            return "random";
        case kind::pct:
            return "pct:" + std::to_string(depth) + (by_jobs ? ",by=jobs" : ",by=workers");
        case kind::dfs:
            return "dfs:preemptions=" + std::to_string(preemptions) +
                   ",hashing=" + (state_hashing ? "1" : "0");
    }
    return "?";
}

run_outcome run_once(const workload& w, const sim::sim_config& config, sim::chooser& choices) {
    run_outcome out;
    recording_chooser rec(choices);
    sim::sim_config c = config;
    c.checks.enabled = true;
    c.choices = &rec;
    c.record_choices = false;
    auto src = w.source();
    try {
        out.result = sim::simulate(*src, c);
    } catch (const sim::property_violation& v) {
        out.failed = failure{v.property(), v.what(), v.worker(), v.time_ns(), v.job()};
    }
    out.choices = std::move(rec.choices);
    return out;
}

std::vector<std::pair<std::string, std::string>> settings_of(const sim::sim_config& c) {
    std::vector<std::pair<std::string, std::string>> s;
    s.emplace_back("pump", c.pump.to_string());
    s.emplace_back("frames", c.frames.to_string());
    s.emplace_back("when_all", policies::to_string(c.when_all));
    s.emplace_back("workers", std::to_string(c.workers));
    s.emplace_back("costs", c.costs.name);
    s.emplace_back("io_jitter_ns", std::to_string(c.io_jitter_ns));
    s.emplace_back("max_inline_streak", std::to_string(c.checks.max_inline_streak));
    s.emplace_back("max_queue_wait_ns", std::to_string(c.checks.max_queue_wait_ns));
    s.emplace_back("global_pool", rule_name(c.checks.global_pool));
    s.emplace_back("max_global_trips", std::to_string(c.checks.max_global_trips));
    s.emplace_back("horizon_ns", std::to_string(c.checks.horizon_ns));
    return s;
}

void apply_settings(const std::vector<std::pair<std::string, std::string>>& s, sim::sim_config& c) {
    const auto num = [](const std::string& v, const char* what) {
        return policies::detail::parse_uint(v, what, 0, UINT64_MAX);
    };
    for (const auto& [k, v] : s) {
        // Policies, workers and costs come from the command line; only what judges the run
        // and the jitter (which adds choices) come from the schedule.
        if (k == "io_jitter_ns") {
            c.io_jitter_ns = num(v, "schedule io_jitter_ns");
        } else if (k == "max_inline_streak") {
            c.checks.max_inline_streak = num(v, "schedule max_inline_streak");
        } else if (k == "max_queue_wait_ns") {
            c.checks.max_queue_wait_ns = num(v, "schedule max_queue_wait_ns");
        } else if (k == "max_global_trips") {
            c.checks.max_global_trips = num(v, "schedule max_global_trips");
        } else if (k == "horizon_ns") {
            c.checks.horizon_ns = num(v, "schedule horizon_ns");
        } else if (k == "global_pool") {
            if (v == "allowed") {
                c.checks.global_pool = sim::global_pool_rule::allowed;
            } else if (v == "children") {
                c.checks.global_pool = sim::global_pool_rule::children;
            } else if (v == "none") {
                c.checks.global_pool = sim::global_pool_rule::none;
            } else {
                throw std::invalid_argument(
                    "schedule global_pool: expected allowed, children "
                    "or none, got '" +
                    v + "'");
            }
        }
    }
    c.checks.enabled = true;
}

// ---- shrinking ----

namespace {

class shrinker {
public:
    shrinker(const sim::sim_config& c, std::string property, std::uint64_t runs_max)
        : config_(c), property_(std::move(property)), runs_max_(runs_max) {}

    // Runs `w` following `choices` leniently; on the same failure, adopts both.
    bool attempt(const workload& w, const std::vector<sim::recorded_choice>& choices) {
        if (runs_ >= runs_max_) return false;
        ++runs_;
        replay_chooser follow(choices, false);
        run_outcome o = run_once(w, config_, follow);
        if (!o.failed || o.failed->property != property_) return false;
        best_ = w;
        schedule s;
        s.choices = std::move(o.choices);
        s.trim();
        choices_ = std::move(s.choices);
        f_ = *o.failed;
        return true;
    }

    bool out_of_budget() const { return runs_ >= runs_max_; }

    workload best_;
    std::vector<sim::recorded_choice> choices_;
    failure f_;
    std::uint64_t runs_ = 0;

private:
    sim::sim_config config_;
    std::string property_;
    std::uint64_t runs_max_;
};

bool drop_jobs(shrinker& s) {
    bool changed = false;
    for (std::size_t chunk = std::max<std::size_t>(s.best_.jobs.size() / 2, 1);;) {
        std::size_t start = 0;
        while (start < s.best_.jobs.size() && s.best_.jobs.size() > 1 && !s.out_of_budget()) {
            workload w = s.best_;
            const std::size_t end = std::min(start + chunk, w.jobs.size());
            if (end - start == w.jobs.size()) break;
            w.jobs.erase(w.jobs.begin() + static_cast<std::ptrdiff_t>(start),
                         w.jobs.begin() + static_cast<std::ptrdiff_t>(end));
            if (s.attempt(w, s.choices_)) {
                changed = true;
            } else {
                start += chunk;
            }
        }
        if (chunk == 1) break;
        chunk /= 2;
    }
    return changed;
}

// Candidate edits of one program's steps: drop a step, lower a count (ready or fanout width).
std::vector<std::vector<traces::step>> step_edits(const std::vector<traces::step>& steps) {
    std::vector<std::vector<traces::step>> out;
    for (std::size_t k = steps.size(); k-- > 0;) {
        if (steps.size() > 1) {
            auto v = steps;
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(k));
            out.push_back(std::move(v));
        }
        const auto kind = steps[k].kind;
        if ((kind == traces::step_kind::ready || kind == traces::step_kind::fanout) &&
            steps[k].count > 1) {
            for (std::uint32_t c : {1u, steps[k].count / 2, steps[k].count - 1}) {
                if (c < 1 || c >= steps[k].count) continue;
                auto v = steps;
                v[k].count = c;
                out.push_back(std::move(v));
            }
        }
    }
    return out;
}

// Replaces every job's top-level program `from` by `to`.
workload with_program(const workload& w, const traces::program* from,
                      std::shared_ptr<const traces::program> to) {
    workload out = w;
    for (auto& j : out.jobs) {
        if (j.prog.get() == from) j.prog = to;
    }
    return out;
}

bool shorten_programs(shrinker& s, std::uint64_t& names) {
    bool changed = false;
    bool again = true;
    while (again && !s.out_of_budget()) {
        again = false;
        std::vector<const traces::program*> tops;
        for (const auto& j : s.best_.jobs) {
            if (std::find(tops.begin(), tops.end(), j.prog.get()) == tops.end()) {
                tops.push_back(j.prog.get());
            }
        }
        for (const traces::program* top : tops) {
            // The top-level program itself, then the programs its steps call or fan out to.
            for (auto& steps : step_edits(top->steps)) {
                auto p = std::make_shared<traces::program>();
                p->steps = std::move(steps);
                if (s.attempt(with_program(s.best_, top, p), s.choices_)) {
                    changed = again = true;
                    break;
                }
            }
            if (again || s.out_of_budget()) break;
            for (std::size_t k = 0; k < top->steps.size() && !again; ++k) {
                const traces::step& st = top->steps[k];
                if (st.sub == nullptr) continue;
                for (auto& sub_steps : step_edits(st.sub->steps)) {
                    workload w = s.best_;
                    traces::program sub;
                    sub.name = "shrunk-" + std::to_string(++names);
                    sub.steps = std::move(sub_steps);
                    const traces::program* kept = w.keep(std::move(sub));
                    auto p = std::make_shared<traces::program>();
                    p->steps = top->steps;
                    p->steps[k].sub = kept;
                    if (s.attempt(with_program(w, top, p), s.choices_)) {
                        changed = again = true;
                        break;
                    }
                    if (s.out_of_budget()) break;
                }
            }
            if (again || s.out_of_budget()) break;
        }
    }
    return changed;
}

bool shorten_schedule(shrinker& s) {
    bool changed = false;
    // Cut the tail (the canonical tail takes over), then set single choices back to 0.
    for (std::size_t keep = 0; keep < s.choices_.size() && !s.out_of_budget();) {
        std::vector<sim::recorded_choice> v(s.choices_.begin(),
                                            s.choices_.begin() + static_cast<std::ptrdiff_t>(keep));
        if (s.attempt(s.best_, v)) {
            changed = true;
            break;
        }
        keep = keep == 0 ? 1 : keep * 2;
    }
    std::uint64_t tries = 0;
    for (std::size_t i = s.choices_.size(); i-- > 0 && !s.out_of_budget() && tries < 256;) {
        if (i >= s.choices_.size() || s.choices_[i].index == 0) continue;
        ++tries;
        auto v = s.choices_;
        v[i].index = 0;
        if (s.attempt(s.best_, v)) changed = true;
    }
    return changed;
}

}  // namespace

shrunk shrink(const workload& w, const std::vector<sim::recorded_choice>& choices,
              const sim::sim_config& config, const std::string& property, std::uint64_t runs_max) {
    shrinker s(config, property, runs_max);
    shrunk out;
    out.stats.jobs_before = w.jobs.size();
    out.stats.steps_before = w.total_steps();
    out.stats.choices_before = choices.size();
    if (!s.attempt(w, choices)) {
        throw std::logic_error("shrink: the failure does not reproduce");
    }
    std::uint64_t names = 0;
    for (bool progress = true; progress && !s.out_of_budget();) {
        progress = drop_jobs(s);
        progress = shorten_programs(s, names) || progress;
        progress = shorten_schedule(s) || progress;
    }
    out.w = s.best_;
    out.choices = s.choices_;
    out.f = s.f_;
    out.stats.jobs_after = out.w.jobs.size();
    out.stats.steps_after = out.w.total_steps();
    out.stats.choices_after = out.choices.size();
    out.stats.runs = s.runs_;
    return out;
}

// ---- the exploration ----

check_report run_check(const workload& w, const check_options& o) {
    check_report rep;
    std::unordered_set<std::uint64_t> schedules;
    std::unique_ptr<dfs_explorer> dfs;
    if (o.strat.k == strategy::kind::dfs) {
        dfs = std::make_unique<dfs_explorer>(o.strat.preemptions, o.strat.state_hashing);
    }
    std::uint64_t expected_choices = 0;
    for (std::uint64_t run = 0; run < o.runs; ++run) {
        sim::sim_config c = o.config;
        c.seed = run_seed(o.seed, run);
        std::unique_ptr<sim::chooser> ch;
        sim::chooser* use = nullptr;
        switch (o.strat.k) {
            case strategy::kind::random:
                ch = std::make_unique<random_chooser>(c.seed);
                use = ch.get();
                break;
            case strategy::kind::pct:
                // The first run (canonical order) tells how many choices a run makes.
                if (run == 0) {
                    static const std::vector<sim::recorded_choice> canonical;
                    ch = std::make_unique<replay_chooser>(canonical, false);
                } else {
                    ch = std::make_unique<pct_chooser>(c.seed, o.strat.depth, expected_choices,
                                                       o.strat.by_jobs);
                }
                use = ch.get();
                break;
            case strategy::kind::dfs:
                use = dfs.get();
                break;
        }
        run_outcome out = run_once(w, c, *use);
        ++rep.runs;
        expected_choices = std::max<std::uint64_t>(expected_choices, out.choices.size());
        rep.choice_points += out.choices.size();
        schedules.insert(hash_choices(out.choices));
        const bool recheck =
            out.failed || (o.determinism_every > 0 && run % o.determinism_every == 0);
        if (recheck) {
            // The same schedule again must give the same run, bit for bit.
            ++rep.determinism_checks;
            replay_chooser again(out.choices, true);
            run_outcome twice = run_once(w, c, again);
            const bool same =
                out.failed ? (twice.failed && twice.failed->message == out.failed->message)
                           : (!twice.failed && twice.result.event_hash == out.result.event_hash);
            if (!same) {
                out.failed = failure{"determinism", out.failed ? out.failed->message : "",
                                     UINT32_MAX, 0, UINT64_MAX};
                out.failed->message = "determinism: the same schedule gave a different run";
            }
        }
        if (out.failed) {
            rep.failed = out.failed;
            rep.failing_run = run;
            if (out.failed->property == "determinism") break;  // nothing stable to shrink
            if (o.shrink_runs_max == 0) break;                 // the caller only asks whether
            sim::sim_config sc = c;
            shrunk s = shrink(w, out.choices, sc, out.failed->property, o.shrink_runs_max);
            rep.counterexample = std::move(s.w);
            rep.counterexample_schedule.seed = c.seed;
            rep.counterexample_schedule.choices = std::move(s.choices);
            rep.counterexample_schedule.settings = settings_of(c);
            rep.counterexample_failure = s.f;
            rep.shrink = s.stats;
            break;
        }
        const auto& r = out.result;
        tally(rep.budget_exhausted, r.pump_counters.budget_exhausted);
        tally(rep.unassisted_capped, r.pump_counters.unassisted_capped);
        tally(rep.global_trip, r.frames_result.counters.global_trips);
        tally(rep.heap_fallback, r.frames_result.counters.heap_fallbacks);
        if (!rep.first_global_trip.note.seen && r.first_global_trip.seen) {
            rep.first_global_trip = {run, r.first_global_trip};
        }
        if (!rep.first_heap_fallback.note.seen && r.first_heap_fallback.seen) {
            rep.first_heap_fallback = {run, r.first_heap_fallback};
        }
        rep.max_inline_streak = std::max(rep.max_inline_streak, r.max_inline_streak);
        const auto trips = r.frames_result.counters.global_trips;
        rep.max_global_trips = std::max(rep.max_global_trips, trips);
        rep.min_global_trips = std::min(rep.min_global_trips, trips);
        rep.max_child_global_trips =
            std::max(rep.max_child_global_trips, r.frames_result.child_global_trips);
        rep.min_child_global_trips =
            std::min(rep.min_child_global_trips, r.frames_result.child_global_trips);
        rep.max_peak_frames = std::max<std::uint64_t>(
            rep.max_peak_frames, static_cast<std::uint64_t>(r.frames_result.peak_outstanding));
        if (dfs && !dfs->advance()) {
            rep.exhausted = true;
            break;
        }
    }
    rep.distinct_schedules = schedules.size();
    if (dfs) {
        rep.distinct_states = dfs->distinct_states();
        rep.merged_states = dfs->pruned();
    }
    return rep;
}

}  // namespace schedlab::properties
