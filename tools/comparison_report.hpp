// From results.json to the judgement a reviewer signs: means with 95% intervals over seeds,
// changes against the baseline marked where Welch's test finds them at the 5% level, the
// places each policy makes worse, and the charts. Everything here is a function of results.json
// alone, so a merged sweep renders the same report as a single run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/matrix.hpp"

namespace schedlab::tools {

// Which way is worse for a metric: higher (latency), lower (throughput) or neither (the
// inline ratio describes what the pump did; it is shown, never judged).
enum class worse_when : std::uint8_t { higher, lower, neither };

struct metric_def {
    std::string key;
    std::string label;
    worse_when worse;
    bool per_class;  // reported for each job class, or once per run (class "all")
};

const std::vector<metric_def>& metrics();

struct cell_stat {
    std::size_t n = 0;     // seeds that completed
    bool no_jobs = false;  // the class had no job in any completed run: nothing to show
    double mean = 0, half_width = 0, sd = 0;
    bool has_change = false;  // against the baseline (not for the baseline itself)
    double change = 0;        // relative: (mean - baseline) / baseline; inf when baseline is 0
    double p_value = 1;
    bool significant = false;
    bool worse = false, better = false;
};

struct regression {
    std::string policy, input, job_class, metric;
    double change = 0, p_value = 1, mean = 0, baseline = 0;
    std::string note;  // a failed run instead of a metric
};

struct timeline_pick {
    std::string policy, input, job_class;
    std::uint64_t seed = 0, job = 0, from_ns = 0, to_ns = 0, latency_ns = 0;
    double p99_ratio = 0;  // the policy's p99 over the best policy's p99 on that input
    std::string file, command;
    std::size_t input_index = 0, policy_index = 0;
};

struct analysis {
    matrix m;
    // [input][class][metric][policy]; classes[input] lists "all" first, then the job classes.
    std::vector<std::vector<std::string>> classes;
    std::vector<std::vector<std::vector<std::vector<cell_stat>>>> stats;
    // [input][class][policy]: latency at cdf_probabilities(), averaged over seeds.
    std::vector<std::vector<std::vector<std::vector<double>>>> cdf;
    std::vector<std::vector<std::size_t>> failed;  // [input][policy]: seeds that failed
    std::vector<std::vector<regression>> worse;    // [policy], worst first
    std::size_t comparisons = 0;                   // judged metric comparisons
    std::vector<timeline_pick> timelines;
};

// `results` is the whole results.json document (matrix and runs).
analysis analyze(const ojson& results);

// What results.json keeps of the analysis: the intervals, the changes and the lists.
ojson summary_json(const analysis& a);

std::string render_markdown(const ojson& results, const analysis& a, const std::string& version);
std::string render_html(const ojson& results, const analysis& a, const std::string& version);

// The compare command that reproduces the whole matrix.
std::string compare_command(const matrix& m);

}  // namespace schedlab::tools
