#include "tools/comparison_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>

#include "tools/stats.hpp"

namespace schedlab::tools {

namespace {

constexpr double significance_level = 0.05;

double metric_of(const ojson& result, const std::string& key, const std::string& cls) {
    const auto latency = [&](const char* q) -> double {
        if (cls == "all") return result.at("latency_ns").at(q).get<double>();
        for (const auto& c : result.at("classes")) {
            if (c.at("name") == cls) return c.at("latency_ns").at(q).get<double>();
        }
        return std::numeric_limits<double>::quiet_NaN();
    };
    const double jobs = std::max(1.0, result.at("jobs_completed").get<double>());
    if (key == "throughput_jobs_per_s") return result.at("throughput_jobs_per_s").get<double>();
    if (key == "latency_p50_ns") return latency("p50");
    if (key == "latency_p99_ns") return latency("p99");
    if (key == "latency_p999_ns") return latency("p999");
    if (key == "queue_wait_p99_ns") return result.at("queue_wait_ns").at("p99").get<double>();
    if (key == "inline_ratio") {
        const double in = result.at("inline_resumes").get<double>();
        const double posted = result.at("posted_resumes").get<double>();
        return in + posted == 0 ? 0 : in / (in + posted);
    }
    if (key == "global_trips_per_job") {
        return result.at("frames").at("global_trips").get<double>() / jobs;
    }
    if (key == "heap_fallbacks_per_job") {
        return result.at("frames").at("heap_fallbacks").get<double>() / jobs;
    }
    throw std::logic_error("unknown metric " + key);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string fmt_ns(double ns) {
    if (std::fabs(ns) >= 1e9) return fmt("%.3f s", ns / 1e9);
    if (std::fabs(ns) >= 1e6) return fmt("%.3f ms", ns / 1e6);
    if (std::fabs(ns) >= 1e3) return fmt("%.2f us", ns / 1e3);
    return fmt("%.0f ns", ns);
}

std::string fmt_value(const std::string& key, double v) {
    if (key.size() > 3 && key.compare(key.size() - 3, 3, "_ns") == 0) return fmt_ns(v);
    if (key == "inline_ratio") return fmt("%.1f%%", v * 100);
    if (key == "throughput_jobs_per_s") return fmt("%.1f/s", v);
    return fmt("%.4g", v);
}

std::string fmt_change(double change) {
    if (std::isinf(change)) return change > 0 ? "+inf (from 0)" : "-inf";
    return fmt("%+.1f%%", change * 100);
}

std::string fmt_p(double p) {
    return p < 0.001 ? "p<0.001" : fmt("p=%.3f", p);
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string md_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|' || c == '*' || c == '_' || c == '<' || c == '>') out += '\\';
        out += c;
    }
    return out;
}

const char* const palette[] = {"#1b6ca8", "#d1495b", "#2e933c", "#edae49",
                               "#6a4c93", "#00798c", "#8c5e34", "#444444"};

const char* color_of(std::size_t policy) {
    return palette[policy % std::size(palette)];
}

}  // namespace

const std::vector<metric_def>& metrics() {
    static const std::vector<metric_def> defs = {
        {"throughput_jobs_per_s", "throughput", worse_when::lower, false},
        {"latency_p50_ns", "latency p50", worse_when::higher, true},
        {"latency_p99_ns", "latency p99", worse_when::higher, true},
        {"latency_p999_ns", "latency p99.9", worse_when::higher, true},
        {"queue_wait_p99_ns", "queue wait p99", worse_when::higher, false},
        {"inline_ratio", "inline ratio", worse_when::neither, false},
        {"global_trips_per_job", "global trips / job", worse_when::higher, false},
        {"heap_fallbacks_per_job", "heap fallbacks / job", worse_when::higher, false},
    };
    return defs;
}

analysis analyze(const ojson& results) {
    analysis a;
    a.m = matrix_from_json(results.at("matrix"));
    const matrix& m = a.m;
    const auto& runs = results.at("runs");
    if (runs.size() != m.run_count()) throw std::invalid_argument("results: runs are incomplete");
    std::size_t baseline = 0;
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (m.policies[p].name == m.baseline) baseline = p;
    }
    const auto& defs = metrics();
    const std::size_t probs = cdf_probabilities().size();
    a.classes.resize(m.inputs.size());
    a.stats.resize(m.inputs.size());
    a.cdf.resize(m.inputs.size());
    a.failed.assign(m.inputs.size(), std::vector<std::size_t>(m.policies.size(), 0));
    a.worse.resize(m.policies.size());

    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        // The classes come from the first completed run of the input: every run of one input
        // sees the same header.
        auto& classes = a.classes[i];
        classes.push_back("all");
        for (std::size_t r = m.run_index(i, 0, 0); r < m.run_index(i + 1, 0, 0); ++r) {
            if (runs[r].at("status") != "ok") continue;
            for (const auto& c : runs[r].at("result").at("classes")) {
                classes.push_back(c.at("name").get<std::string>());
            }
            break;
        }
        a.stats[i].assign(classes.size(),
                          std::vector<std::vector<cell_stat>>(
                              defs.size(), std::vector<cell_stat>(m.policies.size())));
        a.cdf[i].assign(classes.size(), std::vector<std::vector<double>>(
                                            m.policies.size(), std::vector<double>(probs, 0)));
        for (std::size_t p = 0; p < m.policies.size(); ++p) {
            std::vector<const ojson*> ok;
            for (std::size_t s = 0; s < m.seeds.size(); ++s) {
                const ojson& run = runs[m.run_index(i, p, s)];
                if (run.at("status") == "ok") {
                    ok.push_back(&run);
                } else {
                    ++a.failed[i][p];
                }
            }
            for (std::size_t c = 0; c < classes.size(); ++c) {
                // A class the input declares but no job of these runs belongs to has no
                // latency at all; its zeros must not read as measurements.
                bool no_jobs = c != 0 && !ok.empty();
                for (const ojson* run : ok) {
                    for (const auto& rc : run->at("result").at("classes")) {
                        if (rc.at("name") == classes[c] && rc.at("jobs").get<std::uint64_t>() > 0) {
                            no_jobs = false;
                        }
                    }
                }
                for (std::size_t k = 0; k < defs.size(); ++k) {
                    if (!defs[k].per_class && c != 0) continue;
                    if (no_jobs) {
                        a.stats[i][c][k][p].no_jobs = true;
                        continue;
                    }
                    std::vector<double> samples;
                    for (const ojson* run : ok) {
                        samples.push_back(metric_of(run->at("result"), defs[k].key, classes[c]));
                    }
                    const interval iv = summarize(samples);
                    cell_stat& st = a.stats[i][c][k][p];
                    st.n = iv.n;
                    st.mean = iv.mean;
                    st.half_width = iv.half_width;
                    st.sd = iv.sd;
                }
                if (ok.empty()) continue;
                for (std::size_t q = 0; q < probs; ++q) {
                    double sum = 0;
                    for (const ojson* run : ok) {
                        sum += run->at("exact").at("cdf_ns").at(classes[c]).at(q).get<double>();
                    }
                    a.cdf[i][c][p][q] = sum / static_cast<double>(ok.size());
                }
            }
        }
        // Changes against the baseline, judged by Welch's test.
        for (std::size_t c = 0; c < classes.size(); ++c) {
            for (std::size_t k = 0; k < defs.size(); ++k) {
                if (!defs[k].per_class && c != 0) continue;
                const cell_stat& base = a.stats[i][c][k][baseline];
                for (std::size_t p = 0; p < m.policies.size(); ++p) {
                    if (p == baseline) continue;
                    cell_stat& st = a.stats[i][c][k][p];
                    if (st.n == 0 || base.n == 0) continue;
                    st.has_change = true;
                    const double diff = st.mean - base.mean;
                    st.change = base.mean != 0 ? diff / std::fabs(base.mean)
                                : diff == 0    ? 0
                                : diff > 0     ? std::numeric_limits<double>::infinity()
                                               : -std::numeric_limits<double>::infinity();
                    interval x{st.n, st.mean, st.sd, st.half_width};
                    interval y{base.n, base.mean, base.sd, base.half_width};
                    st.p_value = welch_p_value(x, y);
                    st.significant = st.p_value < significance_level;
                    if (defs[k].worse == worse_when::neither) continue;
                    ++a.comparisons;
                    const bool up = diff > 0;
                    const bool bad = defs[k].worse == worse_when::higher ? up : !up;
                    st.worse = st.significant && bad;
                    st.better = st.significant && !bad;
                    if (st.worse) {
                        a.worse[p].push_back({m.policies[p].name, m.inputs[i].name, classes[c],
                                              defs[k].label, st.change, st.p_value, st.mean,
                                              base.mean, ""});
                    }
                }
            }
        }
        for (std::size_t p = 0; p < m.policies.size(); ++p) {
            if (a.failed[i][p] == 0) continue;
            a.worse[p].push_back({m.policies[p].name, m.inputs[i].name, "all", "liveness",
                                  std::numeric_limits<double>::infinity(), 0, 0, 0,
                                  std::to_string(a.failed[i][p]) + " of " +
                                      std::to_string(m.seeds.size()) + " seeds did not finish"});
        }
    }
    // A property violation is worse than any change in a metric: it goes with the failed runs
    // at the top of the policy's list.
    if (results.contains("checks")) {
        const auto& checks = results.at("checks");
        if (checks.size() != m.check_count()) {
            throw std::invalid_argument("results: checks are incomplete");
        }
        for (std::size_t k = 0; k < checks.size(); ++k) {
            const ojson& c = checks.at(k);
            if (c.at("status") == "ok") continue;
            const std::size_t p = k % m.policies.size();
            a.worse[p].push_back({m.policies[p].name, c.at("target").get<std::string>(), "all",
                                  "property " + c.at("property").get<std::string>(),
                                  std::numeric_limits<double>::infinity(), 0, 0, 0,
                                  c.at("message").get<std::string>()});
        }
    }
    // Worst first: the largest relative change for the worse direction (a throughput drop is
    // as bad as the same rise in latency), then by name so the order is total.
    for (auto& list : a.worse) {
        std::stable_sort(list.begin(), list.end(), [](const regression& x, const regression& y) {
            const double dx = std::fabs(x.change), dy = std::fabs(y.change);
            if (dx != dy) return dx > dy;
            return std::tie(x.input, x.job_class, x.metric) <
                   std::tie(y.input, y.job_class, y.metric);
        });
    }

    // The timeline each policy links: its run on the input where its p99 is furthest above the
    // best policy's, first seed, the job at that run's p99.
    const std::size_t p99_metric = 2;
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        timeline_pick best;
        bool found = false;
        for (std::size_t i = 0; i < m.inputs.size(); ++i) {
            double lowest = std::numeric_limits<double>::infinity();
            for (std::size_t q = 0; q < m.policies.size(); ++q) {
                const auto& st = a.stats[i][0][p99_metric][q];
                if (st.n > 0) lowest = std::min(lowest, st.mean);
            }
            const auto& st = a.stats[i][0][p99_metric][p];
            if (st.n == 0 || lowest <= 0 || std::isinf(lowest)) continue;
            const ojson& run = runs[m.run_index(i, p, 0)];
            if (run.at("status") != "ok" || !run.at("exact").contains("p99_job")) continue;
            const double ratio = st.mean / lowest;
            if (found && ratio <= best.p99_ratio) continue;
            found = true;
            const ojson& job = run.at("exact").at("p99_job");
            best.policy = m.policies[p].name;
            best.input = m.inputs[i].name;
            best.job_class = job.at("class").get<std::string>();
            best.seed = m.seeds[0];
            best.job = job.at("seq").get<std::uint64_t>();
            best.from_ns = job.at("arrival_ns").get<std::uint64_t>();
            best.to_ns = job.at("done_ns").get<std::uint64_t>();
            best.latency_ns = job.at("latency_ns").get<std::uint64_t>();
            best.p99_ratio = ratio;
            best.input_index = i;
            best.policy_index = p;
        }
        if (!found) continue;
        best.file = "timelines/" + best.policy + ".json";
        best.command =
            replay_command(m, best.input_index, p, best.seed,
                           "-q --timeline " + best.file + " --timeline-window " +
                               std::to_string(best.from_ns) + ":" + std::to_string(best.to_ns));
        a.timelines.push_back(best);
    }
    return a;
}

ojson summary_json(const analysis& a) {
    const auto& defs = metrics();
    ojson j;
    j["significance"] =
        "Welch two-sample t-test, two-sided, at the 5% level; intervals are "
        "95% Student-t over seeds";
    auto inputs = ojson::array();
    for (std::size_t i = 0; i < a.m.inputs.size(); ++i) {
        ojson in;
        in["input"] = a.m.inputs[i].name;
        auto cells = ojson::array();
        for (std::size_t c = 0; c < a.classes[i].size(); ++c) {
            for (std::size_t k = 0; k < defs.size(); ++k) {
                if (!defs[k].per_class && c != 0) continue;
                for (std::size_t p = 0; p < a.m.policies.size(); ++p) {
                    const cell_stat& st = a.stats[i][c][k][p];
                    ojson e;
                    e["class"] = a.classes[i][c];
                    e["metric"] = defs[k].key;
                    e["policy"] = a.m.policies[p].name;
                    e["seeds"] = st.n;
                    if (st.no_jobs) e["no_jobs"] = true;
                    e["mean"] = st.mean;
                    e["ci95_half_width"] = st.half_width;
                    if (st.has_change) {
                        e["change_vs_baseline"] =
                            std::isinf(st.change) ? ojson(nullptr) : ojson(st.change);
                        e["p_value"] = st.p_value;
                        e["significant"] = st.significant;
                        e["verdict"] = st.worse ? "worse" : st.better ? "better" : "same";
                    }
                    cells.push_back(e);
                }
            }
        }
        in["cells"] = cells;
        inputs.push_back(in);
    }
    j["inputs"] = inputs;
    ojson worse = ojson::object();
    for (std::size_t p = 0; p < a.m.policies.size(); ++p) {
        if (a.m.policies[p].name == a.m.baseline) continue;
        auto list = ojson::array();
        for (const auto& r : a.worse[p]) {
            list.push_back({{"input", r.input},
                            {"class", r.job_class},
                            {"metric", r.metric},
                            {"change", std::isinf(r.change) ? ojson(nullptr) : ojson(r.change)},
                            {"p_value", r.p_value},
                            {"note", r.note}});
        }
        worse[a.m.policies[p].name] = list;
    }
    j["who_gets_worse"] = worse;
    j["comparisons_judged"] = a.comparisons;
    auto tl = ojson::array();
    for (const auto& t : a.timelines) {
        tl.push_back({{"policy", t.policy},
                      {"input", t.input},
                      {"seed", t.seed},
                      {"job", t.job},
                      {"class", t.job_class},
                      {"latency_ns", t.latency_ns},
                      {"window_ns", {t.from_ns, t.to_ns}},
                      {"file", t.file},
                      {"command", t.command}});
    }
    j["timelines"] = tl;
    return j;
}

std::string compare_command(const matrix& m) {
    std::string cmd = "schedlab compare --inputs";
    for (const auto& in : m.inputs) cmd += " '" + in.spec + "'";
    cmd += " --policies";
    // Presets are named as such; anything else needs the policy file that defined it.
    bool presets = true;
    for (const auto& p : m.policies) {
        const auto& list = policy_presets();
        presets = presets && std::any_of(list.begin(), list.end(),
                                         [&](const policy_spec& q) { return q.name == p.name; });
    }
    if (presets) {
        for (const auto& p : m.policies) cmd += " " + p.name;
    } else {
        cmd += " POLICY_FILE";
    }
    cmd += " --seeds " + std::to_string(m.seeds.size()) + " --baseline " + m.baseline +
           " --workers " + std::to_string(m.workers) + " --costs " + m.costs + " --check-runs " +
           std::to_string(m.check_runs) + " -o DIR";
    return cmd;
}

namespace {

std::string stat_text(const metric_def& d, const cell_stat& st, bool md) {
    if (st.no_jobs) return "no jobs in this class";
    if (st.n == 0) return "no run finished";
    std::string s = fmt_value(d.key, st.mean);
    if (st.n > 1) s += " ± " + fmt_value(d.key, st.half_width);
    if (st.has_change) {
        std::string ch =
            " (" + fmt_change(st.change) + (st.significant ? ", " + fmt_p(st.p_value) : "") + ")";
        if (st.worse) {
            ch = md ? " **" + ch.substr(1) + " worse**" : ch + " worse";
        } else if (st.better) {
            ch += " better";
        }
        s += ch;
    }
    return s;
}

const char* significance_text =
    "A change against the baseline is marked significant when Welch's two-sample t-test "
    "(two-sided, unequal variances) gives p < 0.05 over the seeds. Intervals are 95% "
    "Student-t intervals of the mean over seeds (mean ± half-width). A metric that does not "
    "vary between seeds at all (the same workload file and no choice the seed changes) has a "
    "zero-width interval, and any difference in it is exact and counted as significant. "
    "With many comparisons at the 5% level, about one in twenty differences that are not real "
    "will still be marked; a regression that matters should show on more than one input or "
    "class, or be confirmed with more seeds.";

const char* inputs_text =
    "A generated input (gen:KIND:KEY=VALUE,...) is drawn afresh from each seed, so its "
    "intervals include workload variation; a capture or trace file is the same workload for "
    "every seed, so its intervals include only the simulator's own choices (which idle worker "
    "wakes, the order of events due at the same instant).";

const char* properties_text =
    "Each policy was checked by `schedlab check` (random strategy, seed 1) on every named "
    "scenario, with the bounds the scenario declares, and on every input (a generated input on "
    "its first seed's workload). In every run the checker judges, while the run goes on: the "
    "starvation bound (inline resumes in a row while work waits, at most what the pump "
    "promises and what the scenario declares), that `disabled` never resumes inline, the "
    "per-thread buckets' capacity, frames outstanding never negative and all returned at the "
    "end, the scenario's global-pool limits, `when_all` joins and stash sizes, liveness "
    "(every job finishes, no lost wake-up) and determinism (a repeated run gives the same "
    "event hash). A cell says ok only when every explored schedule passed; a small budget "
    "explores few schedules, so ok is evidence, not proof. The command beside each cell runs "
    "the same check and, on a violation, shrinks it to a small replayable case.";

// The check results as a table (targets down, policies across), the violations with their
// messages, and the commands that reproduce every cell.
std::string property_section(const ojson& results, const matrix& m) {
    if (m.check_count() == 0) {
        return "Not checked: this comparison ran with `--check-runs 0`, so it makes no claim "
               "about starvation bounds, frame pools or liveness beyond what the replays "
               "below observed.\n";
    }
    const ojson& checks = results.at("checks");
    std::string o = std::string(properties_text) + " Budget: " + std::to_string(m.check_runs) +
                    " runs per cell.\n\n| target |";
    for (const auto& p : m.policies) o += " " + md_escape(p.name) + " |";
    o += "\n|---|";
    for (std::size_t p = 0; p < m.policies.size(); ++p) o += "---|";
    o += "\n";
    std::string violations, commands;
    for (std::size_t t = 0; t < m.check_target_count(); ++t) {
        const ojson& first = checks.at(t * m.policies.size());
        o += "| " + md_escape(first.at("target").get<std::string>()) + " (" +
             first.at("kind").get<std::string>() + ") |";
        for (std::size_t p = 0; p < m.policies.size(); ++p) {
            const ojson& c = checks.at(t * m.policies.size() + p);
            commands += c.at("command").get<std::string>() + "\n";
            if (c.at("status") == "ok") {
                o += " ok: " + std::to_string(c.at("runs").get<std::uint64_t>()) +
                     " runs, inline streak ≤ " +
                     std::to_string(c.at("max_inline_streak").get<std::uint64_t>()) +
                     ", global trips ≤ " +
                     std::to_string(c.at("max_global_trips").get<std::uint64_t>()) + " |";
                continue;
            }
            const std::string prop = c.at("property").get<std::string>();
            o += " **violation: " + md_escape(prop) + "** |";
            violations += "- **" + md_escape(c.at("policy").get<std::string>()) + "** on " +
                          md_escape(c.at("target").get<std::string>()) + ", run " +
                          std::to_string(c.at("failing_run").get<std::uint64_t>()) + ": " +
                          md_escape(c.at("message").get<std::string>()) + "\n\n  `" +
                          c.at("command").get<std::string>() + "`\n";
        }
        o += "\n";
    }
    o += "\n";
    if (violations.empty()) {
        o += "No violation in any explored schedule.\n\n";
    } else {
        o += "Violations (each command reruns the check, prints the violation and writes a "
             "shrunk counterexample with its replay command):\n\n" +
             violations + "\n";
    }
    o += "Reproduce every check:\n\n```sh\n" + commands + "```\n";
    return o;
}

}  // namespace

std::string render_markdown(const ojson& results, const analysis& a, const std::string& version) {
    const matrix& m = a.m;
    const auto& defs = metrics();
    const auto& runs = results.at("runs");
    std::string o;
    o += "# Policy comparison\n\n";
    o += "Baseline **" + md_escape(m.baseline) + "**; " + std::to_string(m.inputs.size()) +
         " inputs, " + std::to_string(m.policies.size()) + " policies, " +
         std::to_string(m.seeds.size()) + " seeds each, " + std::to_string(m.workers) +
         " simulated workers, costs `" + m.costs + "`. Produced by " + version +
         " (report.html has the same content with charts; results.json has every run).\n\n";
    o += "## How to read this\n\n";
    o += std::string(significance_text) + "\n\n" + inputs_text + "\n\n";
    if (m.seeds.size() < 2) {
        o += "**With one seed there are no intervals and no test: nothing below is marked "
             "significant, and the who-gets-worse lists cannot be judged.**\n\n";
    }
    o += "## Policies\n\n| name | pump | frames | when_all |\n|---|---|---|---|\n";
    for (const auto& p : m.policies) {
        o += "| " + md_escape(p.name) + (p.name == m.baseline ? " (baseline)" : "") + " | `" +
             p.pump + "` | `" + p.frames + "` | `" + p.when_all + "` |\n";
    }
    o += "\n## Inputs\n\n| name | input | content hash (FNV-1a 64) |\n|---|---|---|\n";
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        const auto& e = results.at("matrix").at("inputs").at(i);
        std::string hash;
        if (e.contains("fnv1a64")) {
            hash = "`" + e.at("fnv1a64").get<std::string>() + "`";
        } else {
            for (const auto& [seed, h] : e.at("fnv1a64_by_seed").items()) {
                hash += "seed " + seed + ": `" + h.get<std::string>() + "` ";
            }
        }
        o +=
            "| " + md_escape(m.inputs[i].name) + " | `" + m.inputs[i].spec + "` | " + hash + " |\n";
    }

    o += "\n## Who gets worse\n\n";
    o += "For each policy, every input, class and metric where it is significantly worse than "
         "the baseline, worst first (" +
         (m.seeds.size() < 2 ? std::string("nothing judged with one seed")
                             : std::to_string(a.comparisons) + " comparisons judged") +
         "; the inline ratio is shown in the tables but never judged).\n\n";
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (m.policies[p].name == m.baseline) continue;
        o += "### " + md_escape(m.policies[p].name) + "\n\n";
        if (m.seeds.size() < 2) {
            o += "Not judged: fewer than two seeds.\n\n";
            continue;
        }
        if (a.worse[p].empty()) {
            o += "Significantly worse nowhere: no input, class or metric of this matrix gets "
                 "worse under this policy at the 5% level.\n\n";
            continue;
        }
        o += "| input | class | metric | change | baseline → policy | p "
             "|\n|---|---|---|---|---|---|\n";
        for (const auto& r : a.worse[p]) {
            if (!r.note.empty()) {
                o += "| " + md_escape(r.input) + " | all | " + md_escape(r.metric) + " | " +
                     md_escape(r.note) + " | | |\n";
                continue;
            }
            const auto& d = *std::find_if(defs.begin(), defs.end(),
                                          [&](const metric_def& x) { return x.label == r.metric; });
            o += "| " + md_escape(r.input) + " | " + md_escape(r.job_class) + " | " + r.metric +
                 " | " + fmt_change(r.change) + " | " + fmt_value(d.key, r.baseline) + " → " +
                 fmt_value(d.key, r.mean) + " | " + fmt_p(r.p_value) + " |\n";
        }
        o += "\n";
    }

    o += "## Results per input\n\n";
    o += "Each cell: mean ± 95% half-width over seeds (change against the baseline, with p when "
         "significant). Throughput, queue wait, inline ratio and frame-pool counters are per "
         "run (class all); latency is per job class.\n\n";
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        o += "### " + md_escape(m.inputs[i].name) + "\n\n";
        o += "| class | metric |";
        for (const auto& p : m.policies) o += " " + md_escape(p.name) + " |";
        o += "\n|---|---|";
        for (std::size_t p = 0; p < m.policies.size(); ++p) o += "---|";
        o += "\n";
        for (std::size_t c = 0; c < a.classes[i].size(); ++c) {
            for (std::size_t k = 0; k < defs.size(); ++k) {
                if (!defs[k].per_class && c != 0) continue;
                o += "| " + md_escape(a.classes[i][c]) + " | " + defs[k].label + " |";
                for (std::size_t p = 0; p < m.policies.size(); ++p) {
                    o += " " + stat_text(defs[k], a.stats[i][c][k][p], true) + " |";
                }
                o += "\n";
            }
        }
        o += "\nReproduce (each prints the run's JSON; `$seed` over ";
        std::string seeds;
        for (auto s : m.seeds) seeds += (seeds.empty() ? "" : " ") + std::to_string(s);
        o += seeds + "):\n\n```sh\n";
        for (std::size_t p = 0; p < m.policies.size(); ++p) {
            o += "# " + m.policies[p].name + "\nfor seed in " + seeds + "; do " +
                 replay_command_per_seed(m, i, p, "--json -q") + "; done\n";
        }
        o += "```\n\n";
    }

    o += "## Timelines of the worst p99 job\n\n";
    o += "For each policy: its run (first seed) on the input where its p99 is furthest above the "
         "best policy's, windowed to the life of the job at that run's p99. Open the file in "
         "chrome://tracing or ui.perfetto.dev.\n\n";
    if (a.timelines.empty()) o += "No timeline: no run finished.\n\n";
    for (const auto& t : a.timelines) {
        o += "- **" + md_escape(t.policy) + "**: [" + t.file + "](" + t.file + ") — " +
             md_escape(t.input) + ", seed " + std::to_string(t.seed) + ", job " +
             std::to_string(t.job) + " (" + md_escape(t.job_class) + "), latency " +
             fmt_ns(static_cast<double>(t.latency_ns)) + ", p99 " + fmt("%.2f", t.p99_ratio) +
             "x the best policy's\n\n  `" + t.command + "`\n";
    }

    o += "\n## Property results\n\n";
    o += property_section(results, m);
    o += "\nObserved in the replays above (the default seeded schedule of each run):\n\n";
    o += "| policy | runs finished | longest inline streak while work waited | frames "
         "outstanding at end (max) |\n|---|---|---|---|\n";
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        std::size_t ok = 0, total = 0;
        std::uint64_t streak = 0;
        std::int64_t leak = 0;
        for (std::size_t i = 0; i < m.inputs.size(); ++i) {
            for (std::size_t s = 0; s < m.seeds.size(); ++s) {
                const ojson& run = runs[m.run_index(i, p, s)];
                ++total;
                if (run.at("status") != "ok") continue;
                ++ok;
                streak =
                    std::max(streak, run.at("result").at("max_inline_streak").get<std::uint64_t>());
                leak = std::max(
                    leak,
                    run.at("result").at("frames").at("outstanding_at_end").get<std::int64_t>());
            }
        }
        o += "| " + md_escape(m.policies[p].name) + " | " + std::to_string(ok) + " of " +
             std::to_string(total) + " | " + std::to_string(streak) + " | " + std::to_string(leak) +
             " |\n";
    }

    o += "\n## Reproduce everything\n\n```sh\n" + compare_command(m) + "\n```\n\n";
    o += "Version: " + version + ". Seeds:";
    for (auto s : m.seeds) o += " " + std::to_string(s);
    o += ". Commands assume `schedlab` on PATH and paths relative to the directory compare ran "
         "in. Every number in the tables is printed by the per-input replay commands above; the "
         "latency CDFs in report.html come from every job's latency, recorded by compare.\n\n";
    o += "## Sign-off\n\n| reviewer | decision (approve / reject / needs more data) | date | "
         "notes |\n|---|---|---|---|\n|  |  |  |  |\n|  |  |  |  |\n";
    return o;
}

namespace {

struct axis {
    double lo = 0, hi = 1;
    bool log = false;
    double px_lo = 0, px_hi = 1;
    double at(double v) const {
        const double a = log ? std::log10(std::max(v, 1e-9)) : v;
        const double l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
        return px_lo + (a - l) / (h - l) * (px_hi - px_lo);
    }
};

void widen(double& lo, double& hi, bool log) {
    if (log) {
        lo = std::max(lo, 1.0);
        hi = std::max(hi, lo * 1.5);
        lo /= 1.2;
        hi *= 1.2;
        return;
    }
    if (hi - lo <= std::fabs(hi) * 1e-9) {
        const double pad = std::max(std::fabs(hi) * 0.01, 1e-9);
        lo -= pad;
        hi += pad;
    }
    const double pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
}

std::string num(double v) {
    return fmt("%.1f", v);
}

std::string svg_open(const std::string& id, int w, int h, std::size_t marks,
                     const std::string& title) {
    return "<figure><svg class=\"chart\" id=\"" + id + "\" data-marks=\"" + std::to_string(marks) +
           "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(w) + "\" height=\"" +
           std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
           "\" role=\"img\"><title>" + html_escape(title) + "</title>";
}

std::string legend(const matrix& m, int x, int y) {
    std::string s;
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        const int yy = y + static_cast<int>(p) * 16;
        s += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(yy - 9) +
             "\" width=\"10\" height=\"10\" fill=\"" + color_of(p) + "\"/><text x=\"" +
             std::to_string(x + 14) + "\" y=\"" + std::to_string(yy) + "\">" +
             html_escape(m.policies[p].name) + "</text>";
    }
    return s;
}

std::string axes(const axis& x, const axis& y, const std::string& xlabel, const std::string& ylabel,
                 const std::vector<std::pair<double, std::string>>& xt,
                 const std::vector<std::pair<double, std::string>>& yt) {
    std::string s = "<g class=\"axes\" stroke=\"#888\" fill=\"none\"><line x1=\"" + num(x.px_lo) +
                    "\" y1=\"" + num(y.px_lo) + "\" x2=\"" + num(x.px_hi) + "\" y2=\"" +
                    num(y.px_lo) + "\"/><line x1=\"" + num(x.px_lo) + "\" y1=\"" + num(y.px_lo) +
                    "\" x2=\"" + num(x.px_lo) + "\" y2=\"" + num(y.px_hi) + "\"/></g>";
    for (const auto& [v, label] : xt) {
        s += "<text class=\"tick\" text-anchor=\"middle\" x=\"" + num(x.at(v)) + "\" y=\"" +
             num(y.px_lo + 14) + "\">" + html_escape(label) + "</text>";
    }
    for (const auto& [v, label] : yt) {
        s += "<text class=\"tick\" text-anchor=\"end\" x=\"" + num(x.px_lo - 4) + "\" y=\"" +
             num(y.at(v) + 4) + "\">" + html_escape(label) + "</text>";
    }
    s += "<text text-anchor=\"middle\" x=\"" + num((x.px_lo + x.px_hi) / 2) + "\" y=\"" +
         num(y.px_lo + 30) + "\">" + html_escape(xlabel) + "</text>";
    s += "<text text-anchor=\"middle\" transform=\"translate(14," + num((y.px_lo + y.px_hi) / 2) +
         ") rotate(-90)\">" + html_escape(ylabel) + "</text>";
    return s;
}

std::vector<std::pair<double, std::string>> linear_ticks(const axis& a, const std::string& key) {
    std::vector<std::pair<double, std::string>> t;
    for (int i = 0; i <= 4; ++i) {
        const double v = a.lo + (a.hi - a.lo) * i / 4.0;
        t.emplace_back(v, fmt_value(key, v));
    }
    return t;
}

// Throughput against p99 latency, one point per policy with both intervals.
std::string scatter_chart(const analysis& a, std::size_t i) {
    const matrix& m = a.m;
    const auto& tp = a.stats[i][0][0];
    const auto& p99 = a.stats[i][0][2];
    axis x{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), false,
           80, 480};
    axis y{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), false,
           250, 20};
    std::size_t marks = 0;
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (tp[p].n == 0) continue;
        ++marks;
        x.lo = std::min(x.lo, tp[p].mean - tp[p].half_width);
        x.hi = std::max(x.hi, tp[p].mean + tp[p].half_width);
        y.lo = std::min(y.lo, p99[p].mean - p99[p].half_width);
        y.hi = std::max(y.hi, p99[p].mean + p99[p].half_width);
    }
    if (marks == 0) return "<p>No run finished on this input.</p>";
    widen(x.lo, x.hi, false);
    widen(y.lo, y.hi, false);
    std::string s = svg_open("scatter-" + std::to_string(i), 620, 290, marks,
                             m.inputs[i].name + ": throughput against p99 latency");
    s += axes(x, y, "throughput (jobs/s)", "p99 latency", linear_ticks(x, "throughput_jobs_per_s"),
              linear_ticks(y, "latency_p99_ns"));
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (tp[p].n == 0) continue;
        const double cx = x.at(tp[p].mean), cy = y.at(p99[p].mean);
        const std::string c = color_of(p);
        s += "<g class=\"mark\" stroke=\"" + c + "\" fill=\"" + c + "\"><title>" +
             html_escape(m.policies[p].name) + ": " +
             fmt_value("throughput_jobs_per_s", tp[p].mean) + ", p99 " + fmt_ns(p99[p].mean) +
             "</title>";
        s += "<line x1=\"" + num(x.at(tp[p].mean - tp[p].half_width)) + "\" y1=\"" + num(cy) +
             "\" x2=\"" + num(x.at(tp[p].mean + tp[p].half_width)) + "\" y2=\"" + num(cy) + "\"/>";
        s += "<line x1=\"" + num(cx) + "\" y1=\"" + num(y.at(p99[p].mean - p99[p].half_width)) +
             "\" x2=\"" + num(cx) + "\" y2=\"" + num(y.at(p99[p].mean + p99[p].half_width)) +
             "\"/>";
        s += "<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"4\"/></g>";
    }
    s += legend(m, 500, 30);
    return s + "</svg><figcaption>" + html_escape(m.inputs[i].name) +
           ": throughput against p99 latency (all classes), mean and 95% interval over seeds."
           "</figcaption></figure>\n";
}

// The latency distribution of one class on a "nines" axis (-log10(1 - p)), so the tail that
// decides p99 and p99.9 gets the room; points are exact per-job quantiles averaged over seeds.
std::string cdf_chart(const analysis& a, std::size_t i, std::size_t c) {
    const matrix& m = a.m;
    // The latency metrics carry the class's emptiness (index 1: p50).
    const auto& per_policy = a.stats[i][c][1];
    if (std::all_of(per_policy.begin(), per_policy.end(),
                    [](const cell_stat& st) { return st.no_jobs; })) {
        return "<p>" + html_escape(m.inputs[i].name) + ", class " + html_escape(a.classes[i][c]) +
               ": no jobs, no latency to draw.</p>\n";
    }
    const auto& probs = cdf_probabilities();
    axis x{std::numeric_limits<double>::infinity(), 0, true, 80, 480};
    axis y{0, 3.2, false, 250, 20};
    std::size_t marks = 0;
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (a.stats[i][0][0][p].n == 0) continue;
        ++marks;
        for (std::size_t q = 0; q + 1 < probs.size(); ++q) {
            x.lo = std::min(x.lo, a.cdf[i][c][p][q]);
            x.hi = std::max(x.hi, a.cdf[i][c][p][q]);
        }
    }
    if (marks == 0) return "";
    widen(x.lo, x.hi, true);
    std::vector<std::pair<double, std::string>> xt, yt;
    for (double d = std::pow(10.0, std::floor(std::log10(x.lo))); d <= x.hi; d *= 10) {
        if (d >= x.lo) xt.emplace_back(d, fmt_ns(d));
    }
    for (const auto& [v, l] : std::vector<std::pair<double, std::string>>{
             {0, "0"}, {1, "0.9"}, {2, "0.99"}, {3, "0.999"}}) {
        yt.emplace_back(v, l);
    }
    const std::string cls = a.classes[i][c];
    std::string s = svg_open("cdf-" + std::to_string(i) + "-" + std::to_string(c), 620, 290, marks,
                             m.inputs[i].name + " class " + cls + ": latency distribution");
    s += axes(x, y, "latency (log scale)", "fraction of jobs at or below", xt, yt);
    for (std::size_t p = 0; p < m.policies.size(); ++p) {
        if (a.stats[i][0][0][p].n == 0) continue;
        std::string pts;
        // The last probability is 1 (the maximum), which has no place on a nines axis.
        for (std::size_t q = 0; q + 1 < probs.size(); ++q) {
            const double nines = std::min(3.2, -std::log10(1.0 - probs[q]));
            pts += num(x.at(a.cdf[i][c][p][q])) + "," + num(y.at(nines)) + " ";
        }
        s += "<polyline class=\"mark\" fill=\"none\" stroke-width=\"2\" stroke=\"" +
             std::string(color_of(p)) + "\" points=\"" + pts + "\"><title>" +
             html_escape(m.policies[p].name) + "</title></polyline>";
    }
    s += legend(m, 500, 30);
    return s + "</svg><figcaption>" + html_escape(m.inputs[i].name) + ", class " +
           html_escape(cls) +
           ": latency CDF from every job's latency (exact quantiles, averaged over seeds), "
           "vertical axis in nines.</figcaption></figure>\n";
}

// Frame-pool traffic per job: global-pool trips and heap fallbacks, one bar per policy.
std::string pool_chart(const analysis& a, std::size_t i) {
    const matrix& m = a.m;
    const std::size_t np = m.policies.size();
    const std::size_t ks[] = {6, 7};
    std::size_t marks = 0;
    for (std::size_t p = 0; p < np; ++p) marks += a.stats[i][0][6][p].n > 0 ? 2 : 0;
    if (marks == 0) return "";
    std::string s = svg_open("pool-" + std::to_string(i), 620, 290, marks,
                             m.inputs[i].name + ": frame-pool traffic per job");
    for (int panel = 0; panel < 2; ++panel) {
        const std::size_t k = ks[panel];
        double hi = 0;
        for (std::size_t p = 0; p < np; ++p) {
            hi = std::max(hi, a.stats[i][0][k][p].mean + a.stats[i][0][k][p].half_width);
        }
        if (hi <= 0) hi = 1;
        hi *= 1.1;
        const double x0 = 80 + panel * 210, w = 170;
        axis y{0, hi, false, 250, 30};
        axis x{0, 1, false, x0, x0 + w};
        s += axes(x, y, metrics()[k].label, panel == 0 ? "per job" : "", {},
                  linear_ticks(y, metrics()[k].key));
        const double bw = w / static_cast<double>(np);
        for (std::size_t p = 0; p < np; ++p) {
            const cell_stat& st = a.stats[i][0][k][p];
            if (st.n == 0) continue;
            const double top = y.at(st.mean);
            // A zero still gets a one-pixel bar, so the reader sees a value, not a gap.
            const double h = std::max(1.0, y.at(0) - top);
            const double bx = x0 + bw * static_cast<double>(p) + bw * 0.15;
            const std::string c = color_of(p);
            s += "<g class=\"mark\" fill=\"" + c + "\" stroke=\"#222\"><title>" +
                 html_escape(m.policies[p].name) + ": " + fmt_value(metrics()[k].key, st.mean) +
                 "</title><rect x=\"" + num(bx) + "\" y=\"" + num(y.at(0) - h) + "\" width=\"" +
                 num(bw * 0.7) + "\" height=\"" + num(h) + "\" stroke=\"none\"/>";
            if (st.half_width > 0) {
                s += "<line x1=\"" + num(bx + bw * 0.35) + "\" y1=\"" +
                     num(y.at(st.mean - st.half_width)) + "\" x2=\"" + num(bx + bw * 0.35) +
                     "\" y2=\"" + num(y.at(st.mean + st.half_width)) + "\"/>";
            }
            s += "</g>";
        }
    }
    s += legend(m, 500, 30);
    return s + "</svg><figcaption>" + html_escape(m.inputs[i].name) +
           ": global-pool trips and heap fallbacks per job, mean and 95% interval over seeds."
           "</figcaption></figure>\n";
}

// Turns the markdown subset render_markdown writes (headings, tables, fenced code, lists,
// links, bold, code spans) into HTML, so both files say the same thing.
std::string inline_md(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch == '\\' && i + 1 < text.size()) {
            out += html_escape(std::string(1, text[++i]));
        } else if (ch == '`') {
            const auto end = text.find('`', i + 1);
            if (end == std::string::npos) {
                out += "`";
                continue;
            }
            out += "<code>" + html_escape(text.substr(i + 1, end - i - 1)) + "</code>";
            i = end;
        } else if (ch == '*' && i + 1 < text.size() && text[i + 1] == '*') {
            const auto end = text.find("**", i + 2);
            if (end == std::string::npos) {
                out += "**";
                ++i;
                continue;
            }
            out += "<strong>" + inline_md(text.substr(i + 2, end - i - 2)) + "</strong>";
            i = end + 1;
        } else if (ch == '[') {
            const auto close = text.find("](", i);
            const auto end = close == std::string::npos ? close : text.find(')', close);
            if (end == std::string::npos) {
                out += "[";
                continue;
            }
            out += "<a href=\"" + html_escape(text.substr(close + 2, end - close - 2)) + "\">" +
                   html_escape(text.substr(i + 1, close - i - 1)) + "</a>";
            i = end;
        } else {
            out += html_escape(std::string(1, ch));
        }
    }
    return out;
}

std::vector<std::string> table_cells(const std::string& line) {
    std::vector<std::string> cells;
    std::string cur;
    for (std::size_t i = 1; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            cur += line[i];
            cur += line[++i];
        } else if (line[i] == '|') {
            const auto b = cur.find_first_not_of(' ');
            const auto e = cur.find_last_not_of(' ');
            cells.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
            cur.clear();
        } else {
            cur += line[i];
        }
    }
    return cells;
}

std::string markdown_to_html(const std::string& md) {
    std::string out;
    std::size_t pos = 0;
    bool in_code = false, in_table = false, in_list = false, header_row = false;
    while (pos < md.size()) {
        auto nl = md.find('\n', pos);
        if (nl == std::string::npos) nl = md.size();
        const std::string line = md.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("```", 0) == 0) {
            out += in_code ? "</pre>\n" : "<pre>";
            in_code = !in_code;
            continue;
        }
        if (in_code) {
            out += html_escape(line) + "\n";
            continue;
        }
        if (in_table && line.rfind("|", 0) != 0) {
            out += "</table>\n";
            in_table = false;
        }
        if (in_list && line.rfind("- ", 0) != 0 && line.rfind("  ", 0) != 0) {
            out += "</ul>\n";
            in_list = false;
        }
        if (line.rfind("|", 0) == 0) {
            if (line.rfind("|---", 0) == 0) continue;
            if (!in_table) {
                out += "<table>\n";
                in_table = true;
                header_row = true;
            }
            out += "<tr>";
            for (const auto& cell : table_cells(line)) {
                out += header_row ? "<th>" + inline_md(cell) + "</th>"
                                  : "<td>" + inline_md(cell) + "</td>";
            }
            out += "</tr>\n";
            header_row = false;
        } else if (line.rfind("### ", 0) == 0) {
            out += "<h3>" + inline_md(line.substr(4)) + "</h3>\n";
        } else if (line.rfind("## ", 0) == 0) {
            out += "<h2>" + inline_md(line.substr(3)) + "</h2>\n";
        } else if (line.rfind("# ", 0) == 0) {
            out += "<h1>" + inline_md(line.substr(2)) + "</h1>\n";
        } else if (line.rfind("- ", 0) == 0) {
            if (!in_list) out += "<ul>\n";
            in_list = true;
            out += "<li>" + inline_md(line.substr(2));
        } else if (line.rfind("  ", 0) == 0 && in_list) {
            out += "<br>" + inline_md(line.substr(2)) + "\n";
        } else if (!line.empty()) {
            out += "<p>" + inline_md(line) + "</p>\n";
        }
    }
    if (in_table) out += "</table>\n";
    if (in_list) out += "</ul>\n";
    return out;
}

const char* page_script = R"js(
(function () {
  var status = document.getElementById('render-status');
  var failed = false;
  window.addEventListener('error', function (e) {
    failed = true;
    status.textContent = 'script-error: ' + e.message;
    status.setAttribute('data-state', 'error');
  });
  function check() {
    if (failed) return;
    var charts = document.querySelectorAll('svg.chart');
    var bad = [];
    for (var i = 0; i < charts.length; ++i) {
      var c = charts[i];
      var marks = c.querySelectorAll('.mark');
      var want = parseInt(c.getAttribute('data-marks'), 10);
      var drawn = 0;
      for (var j = 0; j < marks.length; ++j) {
        var b = marks[j].getBBox();
        if (b.width > 0 || b.height > 0) ++drawn;
      }
      if (drawn !== want || want === 0) bad.push(c.id + ' drew ' + drawn + ' of ' + want);
    }
    status.textContent = bad.length === 0 ? 'charts-ok ' + charts.length
                                          : 'charts-failed ' + bad.join('; ');
    status.setAttribute('data-state', bad.length === 0 ? 'ok' : 'failed');
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', check);
  } else {
    check();
  }
})();
)js";

const char* page_style = R"css(
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; font-size: 12px; text-align: left; }
th { background: #f0f0f0; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 12px; }
code { font-size: 12px; }
svg.chart { font-size: 11px; background: #fff; border: 1px solid #ddd; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; }
figcaption { font-size: 12px; color: #555; max-width: 620px; }
#render-status { color: #777; font-size: 11px; }
)css";

}  // namespace

std::string render_html(const ojson& results, const analysis& a, const std::string& version) {
    const std::string md = render_markdown(results, a, version);
    std::string charts = "<h2>Charts</h2>\n";
    for (std::size_t i = 0; i < a.m.inputs.size(); ++i) {
        charts += "<h3>" + html_escape(a.m.inputs[i].name) + "</h3>\n";
        charts += scatter_chart(a, i);
        charts += pool_chart(a, i);
        for (std::size_t c = 0; c < a.classes[i].size(); ++c) charts += cdf_chart(a, i, c);
    }
    std::string body = markdown_to_html(md);
    // The charts go before the per-input tables, after the who-gets-worse lists.
    const std::string anchor = "<h2>Results per input</h2>";
    const auto at = body.find(anchor);
    body.insert(at == std::string::npos ? body.size() : at, charts);
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<title>schedlab policy comparison</title><style>" +
           std::string(page_style) + "</style></head><body>\n" + body +
           "<p id=\"render-status\" data-state=\"pending\">charts not checked (scripts "
           "off)</p>\n<script>" +
           page_script + "</script>\n</body></html>\n";
}

}  // namespace schedlab::tools
