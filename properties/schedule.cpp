#include "properties/schedule.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tools/output_file.hpp"
#include "traces/trace.hpp"

namespace schedlab::properties {

namespace {

const char* kind_name(sim::choice_kind k) {
    switch (k) {
        case sim::choice_kind::tie:
            return "tie";
        case sim::choice_kind::wake:
            return "wake";
        case sim::choice_kind::io_jitter:
            return "io_jitter";
    }
    return "?";
}

std::uint64_t parse_u64(const std::string& text, const std::string& path, std::size_t line,
                        const char* field) {
    std::uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 20;
    for (char ch : text) {
        const auto d = static_cast<std::uint64_t>(ch - '0');
        if (ch < '0' || ch > '9' || v > (UINT64_MAX - d) / 10) {
            ok = false;
            break;
        }
        v = v * 10 + d;
    }
    if (!ok) {
        throw traces::input_error(path, "line " + std::to_string(line), field,
                                  "an unsigned 64-bit integer", text);
    }
    return v;
}

}  // namespace

void schedule::trim() {
    while (!choices.empty() && choices.back().index == 0) choices.pop_back();
}

std::string schedule::to_text() const {
    std::string out = std::string(schedule_magic) + " " + std::to_string(schedule_version) + "\n";
    out += "# One line per choice with more than one option: ARITY INDEX. After the last line\n";
    out += "# every choice takes option 0.\n";
    out += "seed " + std::to_string(seed) + "\n";
    for (const auto& [k, v] : settings) out += "set " + k + " " + v + "\n";
    for (const auto& c : choices) {
        out += std::to_string(c.arity) + " " + std::to_string(c.index) + "\n";
    }
    return out;
}

schedule schedule::parse(const std::string& text, const std::string& path) {
    schedule s;
    std::istringstream in(text);
    std::string line;
    std::size_t no = 0;
    bool header = false;
    while (std::getline(in, line)) {
        ++no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        if (!header) {
            if (w.size() != 2 || w[0] != schedule_magic) {
                throw traces::input_error(path, "line " + std::to_string(no), "magic",
                                          "'schedlab-schedule 1'", line);
            }
            if (w[1] != std::to_string(schedule_version)) {
                throw traces::input_error(path, "line " + std::to_string(no), "version",
                                          "version 1", w[1]);
            }
            header = true;
            continue;
        }
        if (w[0] == "seed" && w.size() == 2) {
            s.seed = parse_u64(w[1], path, no, "seed");
        } else if (w[0] == "set" && w.size() == 3) {
            s.settings.emplace_back(w[1], w[2]);
        } else if (w.size() == 2) {
            const auto arity = parse_u64(w[0], path, no, "arity");
            const auto index = parse_u64(w[1], path, no, "index");
            if (arity < 2 || arity > UINT32_MAX) {
                throw traces::input_error(path, "line " + std::to_string(no), "arity", "2 or more",
                                          w[0]);
            }
            if (index >= arity) {
                throw traces::input_error(path, "line " + std::to_string(no), "index",
                                          "below the arity " + w[0], w[1]);
            }
            s.choices.push_back(
                {static_cast<std::uint32_t>(arity), static_cast<std::uint32_t>(index)});
        } else {
            throw traces::input_error(path, "line " + std::to_string(no), "line",
                                      "'seed N', 'set KEY VALUE' or 'ARITY INDEX'", line);
        }
    }
    if (!header) {
        throw traces::input_error(path, "line 1", "magic", "'schedlab-schedule 1'", "");
    }
    return s;
}

schedule schedule::load(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw traces::input_error(path, "file", "path", "a readable schedule file");
    std::ostringstream text;
    text << f.rdbuf();
    return parse(text.str(), path);
}

void schedule::save(const std::string& path) const {
    tools::write_file_atomically(path, to_text());
}

std::uint32_t recording_chooser::choose(const sim::choice_point& c, const sim::state_view& s) {
    const std::uint32_t pick = inner_.choose(c, s);
    choices.push_back({c.arity, pick});
    return pick;
}

std::uint32_t replay_chooser::choose(const sim::choice_point& c, const sim::state_view&) {
    if (c.number >= list_.size()) return 0;
    const auto& r = list_[c.number];
    if (r.arity == c.arity) return r.index;
    if (strict_) {
        throw sim::schedule_divergence(
            "schedule diverges at choice " + std::to_string(c.number) + " (" + kind_name(c.kind) +
            " at virtual time " + std::to_string(c.time_ns) + " ns): recorded arity " +
            std::to_string(r.arity) + ", the run has " + std::to_string(c.arity) + " options");
    }
    return std::min(r.index, c.arity - 1);
}

pct_chooser::pct_chooser(std::uint64_t seed, std::uint32_t depth, std::uint64_t expected_choices,
                         bool by_jobs)
    : rng_(seed), by_jobs_(by_jobs), lowest_(depth) {
    const std::uint64_t span = std::max<std::uint64_t>(expected_choices, 1);
    for (std::uint32_t i = 1; i < depth; ++i) change_at_.push_back(rng_.below(span));
    std::sort(change_at_.begin(), change_at_.end());
}

std::uint64_t pct_chooser::priority_of(std::uint32_t actor) {
    auto [it, fresh] = priority_.try_emplace(actor, 0);
    // Fresh actors land above every priority a change point gives (those are below depth).
    if (fresh) it->second = (rng_.next_u64() >> 1) | (std::uint64_t{1} << 62);
    return it->second;
}

std::uint32_t pct_chooser::best_of(const sim::choice_point& c) {
    const std::uint32_t* actors = by_jobs_ ? c.actors : c.entities;
    std::uint32_t best = 0;
    std::uint64_t top = priority_of(actors[0]);
    for (std::uint32_t i = 1; i < c.arity; ++i) {
        const std::uint64_t p = priority_of(actors[i]);
        if (p > top) {
            top = p;
            best = i;
        }
    }
    return best;
}

std::uint32_t pct_chooser::choose(const sim::choice_point& c, const sim::state_view&) {
    if (c.kind == sim::choice_kind::io_jitter) {
        return static_cast<std::uint32_t>(rng_.below(c.arity));
    }
    std::uint32_t best = best_of(c);
    // A change point: the actor that would run drops below every other from now on.
    while (!change_at_.empty() && change_at_.front() <= c.number) {
        change_at_.erase(change_at_.begin());
        const std::uint32_t* actors = by_jobs_ ? c.actors : c.entities;
        priority_[actors[best]] = --lowest_;
        best = best_of(c);
    }
    return best;
}

std::uint32_t dfs_explorer::choose(const sim::choice_point& c, const sim::state_view& s) {
    if (depth_ < stack_.size()) {
        const node& n = stack_[depth_++];
        if (n.arity != c.arity) {
            throw sim::schedule_divergence("dfs: choice " + std::to_string(c.number) + " had " +
                                           std::to_string(n.arity) +
                                           " options in an earlier run and " +
                                           std::to_string(c.arity) + " now (nondeterminism)");
        }
        if (n.index != 0) ++used_;
        return n.index;
    }
    bool branch = !pruning_ && used_ < budget_;
    if (branch && hashing_) {
        std::uint64_t key = s.fingerprint() ^ (std::uint64_t{budget_ - used_} << 56);
        key = traces::splitmix64(key);
        if (!seen_.insert(key).second) {
            branch = false;
            pruning_ = true;
            ++pruned_;
        }
    }
    stack_.push_back({c.arity, 0, branch});
    ++depth_;
    return 0;
}

bool dfs_explorer::advance() {
    // Preemptions in the whole prefix, kept up to date while popping: recounting the prefix at
    // every node made backtracking quadratic in a run's choices.
    std::uint32_t taken = 0;
    for (const node& n : stack_) taken += n.index != 0 ? 1 : 0;
    while (!stack_.empty()) {
        node& n = stack_.back();
        if (n.index != 0) --taken;
        const std::uint32_t before = taken;  // preemptions above this node
        const bool can =
            n.branch && n.index + 1 < n.arity && (n.index != 0 || before + 1 <= budget_);
        if (can) {
            ++n.index;
            depth_ = 0;
            used_ = 0;
            pruning_ = false;
            return true;
        }
        stack_.pop_back();
    }
    return false;
}

}  // namespace schedlab::properties
