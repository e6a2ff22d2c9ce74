// `schedlab compare` and `schedlab merge`.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "properties/check_command.hpp"
#include "sim/simulator.hpp"
#include "tools/cli_numbers.hpp"
#include "tools/commands.hpp"
#include "tools/comparison_report.hpp"
#include "tools/matrix.hpp"
#include "tools/output_file.hpp"
#include "traces/trace.hpp"

namespace schedlab::tools {

namespace fs = std::filesystem;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_violation = 1;
constexpr int exit_bad_input = 2;
constexpr const char* version_text = "schedlab 0.1.0";
constexpr int results_format = 1;

[[noreturn]] void finish(int status) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::exit(status);
}

// Runs a subcommand body, turning its errors into the exit statuses main() uses.
template <class F>
[[noreturn]] void run_command(F&& body) {
    int status = exit_bad_input;
    try {
        status = body();
    } catch (const traces::input_error& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
    }
    finish(status);
}

class progress_bar {
public:
    progress_bar(std::size_t total, bool quiet)
        : total_(total), quiet_(quiet), tty_(::isatty(2) == 1) {}

    void step() {
        std::lock_guard guard(mutex_);
        ++done_;
        if (quiet_) return;
        const std::size_t tenth = total_ / 10 == 0 ? 1 : total_ / 10;
        if (!tty_ && done_ % tenth != 0 && done_ != total_) return;
        constexpr std::size_t width = 30;
        const std::size_t filled = total_ == 0 ? width : done_ * width / total_;
        std::string bar(filled, '#');
        bar.resize(width, ' ');
        std::fprintf(stderr, "%scompare: [%s] %zu/%zu replays and checks%s", tty_ ? "\r" : "",
                     bar.c_str(), done_, total_, tty_ && done_ != total_ ? "" : "\n");
        std::fflush(stderr);
    }

private:
    std::mutex mutex_;
    std::size_t total_, done_ = 0;
    bool quiet_, tty_;
};

// One unit of a sweep: a replay (run index) or a property check (check index).
struct task {
    bool check = false;
    std::size_t index = 0;
};

// Runs `tasks` on up to `threads` threads. Each task writes only its own slot, so the records
// do not depend on how many threads ran them or in what order. The first failure in task
// order is rethrown.
std::vector<ojson> run_all(const matrix& m, const std::vector<task>& tasks, unsigned threads,
                           bool quiet) {
    std::vector<ojson> records(tasks.size());
    std::vector<std::exception_ptr> errors(tasks.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    progress_bar bar(tasks.size(), quiet);
    const std::size_t per_input = m.policies.size() * m.seeds.size();
    const auto work = [&] {
        for (;;) {
            const std::size_t k = next.fetch_add(1);
            if (k >= tasks.size() || stop.load()) return;
            const std::size_t r = tasks[k].index;
            try {
                records[k] = tasks[k].check
                                 ? check_one(m, r)
                                 : run_one(m, r / per_input, (r % per_input) / m.seeds.size(),
                                           r % m.seeds.size());
            } catch (...) {
                errors[k] = std::current_exception();
                stop.store(true);
            }
            bar.step();
        }
    };
    std::vector<std::thread> pool;
    const unsigned n =
        std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(tasks.size())));
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    return records;
}

// The replays and checks of shard `shard` of `shards`: each list is dealt round-robin, so
// every shard gets a similar mix of inputs. Checks go first: they are the longest tasks, and
// starting them early keeps every thread busy to the end.
std::vector<task> tasks_of(const matrix& m, std::size_t shard, std::size_t shards) {
    std::vector<task> tasks;
    for (std::size_t k = shard; k < m.check_count(); k += shards) tasks.push_back({true, k});
    for (std::size_t r = shard; r < m.run_count(); r += shards) tasks.push_back({false, r});
    return tasks;
}

// Splits records into (runs, checks), each in task order.
std::pair<ojson, ojson> split_records(const std::vector<task>& tasks, std::vector<ojson> records) {
    ojson runs = ojson::array(), checks = ojson::array();
    for (std::size_t k = 0; k < tasks.size(); ++k) {
        if (!tasks[k].check) runs.push_back(std::move(records[k]));
    }
    for (std::size_t k = 0; k < tasks.size(); ++k) {
        if (tasks[k].check) checks.push_back(std::move(records[k]));
    }
    return {std::move(runs), std::move(checks)};
}

// What the report reads of one record, checked before anything is merged, so that an edited or
// foreign results.json is refused naming its file, the record and the field, rather than
// failing deep in the analysis or rendering a nonsense number.
void check_record(const fs::path& file, const char* list, std::size_t k, const ojson& r) {
    const std::string where = std::string(list) + "[" + std::to_string(k) + "]";
    const auto fail = [&](const std::string& field, const std::string& expected) {
        throw traces::input_error(file.string(), where, field, expected);
    };
    const auto count = [&](const ojson& obj, const std::string& path, const char* key) {
        if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_number_unsigned()) {
            fail(path + key, "a count (an unsigned integer)");
        }
    };
    const auto measure = [&](const ojson& obj, const std::string& path, const char* key) {
        if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_number() ||
            !std::isfinite(obj.at(key).get<double>()) || obj.at(key).get<double>() < 0) {
            fail(path + key, "a finite number >= 0");
        }
    };
    const auto text = [&](const ojson& obj, const std::string& path, const char* key) {
        if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_string()) {
            fail(path + key, "a string");
        }
    };
    count(r, "", "index");
    text(r, "", "status");
    const std::string status = r.at("status").get<std::string>();
    if (std::string(list) == "checks") {
        if (status != "ok" && status != "violation") fail("status", "ok or violation");
        for (const char* key : {"target", "kind", "policy", "command"}) text(r, "", key);
        count(r, "", "runs");
        if (status == "ok") {
            for (const char* key : {"max_inline_streak", "max_global_trips"}) count(r, "", key);
        } else {
            for (const char* key : {"property", "message"}) text(r, "", key);
            count(r, "", "failing_run");
        }
        return;
    }
    if (status != "ok" && status != "liveness") fail("status", "ok or liveness");
    count(r, "", "seed");
    for (const char* key : {"input", "policy", "command"}) text(r, "", key);
    if (status != "ok") return;
    const ojson& res = r.contains("result") ? r.at("result") : ojson();
    for (const char* key :
         {"jobs_completed", "inline_resumes", "posted_resumes", "max_inline_streak"}) {
        count(res, "result.", key);
    }
    measure(res, "result.", "throughput_jobs_per_s");
    const auto latency = [&](const ojson& obj, const std::string& path) {
        const ojson& l =
            obj.is_object() && obj.contains("latency_ns") ? obj.at("latency_ns") : ojson();
        for (const char* q : {"p50", "p99", "p999"}) measure(l, path + "latency_ns.", q);
    };
    latency(res, "result.");
    const ojson& wait = res.contains("queue_wait_ns") ? res.at("queue_wait_ns") : ojson();
    measure(wait, "result.queue_wait_ns.", "p99");
    const ojson& frames = res.contains("frames") ? res.at("frames") : ojson();
    for (const char* key : {"global_trips", "heap_fallbacks"}) count(frames, "result.frames.", key);
    if (!frames.contains("outstanding_at_end") ||
        !frames.at("outstanding_at_end").is_number_integer()) {
        fail("result.frames.outstanding_at_end", "an integer");
    }
    if (!res.contains("classes") || !res.at("classes").is_array())
        fail("result.classes", "an array");
    for (const auto& c : res.at("classes")) {
        text(c, "result.classes[].", "name");
        count(c, "result.classes[].", "jobs");
        latency(c, "result.classes[].");
    }
    const ojson& exact = r.contains("exact") ? r.at("exact") : ojson();
    if (!exact.is_object() || !exact.contains("cdf_ns") || !exact.at("cdf_ns").is_object()) {
        fail("exact.cdf_ns", "an object of quantile arrays");
    }
    for (const auto& [cls, points] : exact.at("cdf_ns").items()) {
        if (!points.is_array() || points.size() != cdf_probabilities().size()) {
            fail("exact.cdf_ns." + cls, std::to_string(cdf_probabilities().size()) + " quantiles");
        }
        for (const auto& v : points) {
            if (!v.is_number_unsigned()) fail("exact.cdf_ns." + cls, "latencies in whole ns");
        }
    }
}

ojson read_results(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw traces::input_error(file.string(), "", "file", "a readable results.json");
    try {
        return ojson::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
        throw traces::input_error(file.string(), "byte " + std::to_string(e.byte), "json",
                                  "valid JSON");
    }
}

// Every run finished and every check held.
bool all_passed(const ojson& doc) {
    for (const auto& r : doc.at("runs")) {
        if (r.at("status") != "ok") return false;
    }
    for (const auto& c : doc.at("checks")) {
        if (c.at("status") != "ok") return false;
    }
    return true;
}

std::string dump(const ojson& j) {
    return j.dump(1) + "\n";
}

// Writes results.json, report.md, report.html and the timelines into `dir`; returns whether
// every run finished and every check held.
bool write_outputs(ojson doc, const fs::path& dir, bool timelines, bool quiet) {
    const analysis a = analyze(doc);
    doc["summary"] = summary_json(a);
    fs::create_directories(dir);
    write_file_atomically((dir / "results.json").string(), dump(doc));
    write_file_atomically((dir / "report.md").string(), render_markdown(doc, a, version_text));
    write_file_atomically((dir / "report.html").string(), render_html(doc, a, version_text));
    if (timelines) {
        fs::create_directories(dir / "timelines");
        for (const auto& t : a.timelines) {
            const std::string json =
                timeline_of(a.m, t.input_index, t.policy_index, t.seed, t.from_ns, t.to_ns);
            write_file_atomically((dir / t.file).string(), json);
        }
    }
    if (!quiet) {
        std::fprintf(stderr, "compare: wrote %s\n", (dir / "report.html").string().c_str());
    }
    return all_passed(doc);
}

struct compare_args {
    std::vector<std::string> inputs;
    std::vector<std::string> policies;
    std::uint64_t seeds = 5;
    std::uint32_t workers = 2;
    unsigned threads = 0;
    std::string baseline;
    std::string costs = "default";
    std::string shard;
    std::string output;
    std::uint64_t check_runs = 10;
    bool quiet = false;
    bool no_timelines = false;
};

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
    const auto slash = text.find('/');
    std::size_t i = 0, n = 0;
    const auto parse = [&](const std::string& s, std::size_t& out) {
        std::size_t used = 0;
        try {
            out = std::stoul(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        return used == s.size() && !s.empty() && s[0] != '-';
    };
    if (slash == std::string::npos || !parse(text.substr(0, slash), i) ||
        !parse(text.substr(slash + 1), n) || n == 0 || i >= n) {
        throw std::invalid_argument("--shard: expected I/N with 0 <= I < N, got '" + text + "'");
    }
    return {i, n};
}

int run_compare(const compare_args& a) {
    matrix m;
    for (const auto& spec : a.inputs) m.inputs.push_back(parse_input(spec));
    m.policies = resolve_policies(a.policies);
    m.baseline = a.baseline.empty() ? m.policies.front().name : a.baseline;
    for (std::uint64_t s = 1; s <= a.seeds; ++s) m.seeds.push_back(s);
    m.workers = a.workers;
    m.costs = a.costs;
    m.check_runs = a.check_runs;
    if (m.check_runs > 0) m.scenarios = properties::scenario_names();
    validate(m);

    std::size_t shard = 0, shards = 1;
    if (!a.shard.empty()) std::tie(shard, shards) = parse_shard(a.shard);
    const std::vector<task> tasks = tasks_of(m, shard, shards);

    const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads = a.threads == 0 ? hardware : std::min(a.threads, hardware);
    ojson doc;
    doc["schedlab_compare"] = results_format;
    doc["version"] = version_text;
    if (!a.shard.empty()) doc["shard"] = {{"index", shard}, {"count", shards}};
    doc["matrix"] = matrix_json(m);
    auto [runs, checks] = split_records(tasks, run_all(m, tasks, threads, a.quiet));
    // One at a time: ordered_json keeps members in a vector, so a reference to one member
    // does not survive inserting another.
    doc["runs"] = std::move(runs);
    doc["checks"] = std::move(checks);

    const fs::path dir = a.output;
    if (!a.shard.empty()) {
        fs::create_directories(dir);
        write_file_atomically((dir / "results.json").string(), dump(doc));
        if (!a.quiet) {
            std::fprintf(stderr, "compare: shard %zu/%zu: %zu runs and %zu checks in %s\n", shard,
                         shards, doc.at("runs").size(), doc.at("checks").size(),
                         (dir / "results.json").string().c_str());
        }
        return all_passed(doc) ? exit_ok : exit_violation;
    }
    return write_outputs(doc, dir, !a.no_timelines, a.quiet) ? exit_ok : exit_violation;
}

struct merge_args {
    std::vector<std::string> dirs;
    std::string output;
    bool quiet = false;
    bool no_timelines = false;
};

int run_merge(const merge_args& a) {
    ojson first;
    std::size_t count = 0;
    std::vector<bool> seen_shard;
    std::vector<ojson> runs, checks;
    for (const auto& d : a.dirs) {
        const fs::path file = fs::path(d) / "results.json";
        ojson doc = read_results(file);
        const auto field = [&](const char* name) -> const ojson& {
            if (!doc.contains(name)) {
                throw traces::input_error(file.string(), "top level", name, "present");
            }
            return doc.at(name);
        };
        if (field("schedlab_compare") != results_format) {
            throw traces::input_error(file.string(), "top level", "schedlab_compare",
                                      "format " + std::to_string(results_format));
        }
        const ojson& sh = field("shard");
        if (!sh.contains("index") || !sh.contains("count") ||
            !sh.at("index").is_number_unsigned() || !sh.at("count").is_number_unsigned()) {
            throw traces::input_error(file.string(), "shard", "index/count", "unsigned integers");
        }
        const auto index = sh.at("index").get<std::size_t>();
        if (first.is_null()) {
            first = doc;
            count = sh.at("count").get<std::size_t>();
            seen_shard.assign(count, false);
        } else if (field("matrix") != first.at("matrix") ||
                   field("version") != first.at("version")) {
            throw traces::input_error(file.string(), "top level", "matrix",
                                      "the same matrix and version as " +
                                          (fs::path(a.dirs[0]) / "results.json").string());
        } else if (sh.at("count").get<std::size_t>() != count) {
            throw traces::input_error(file.string(), "shard", "count", std::to_string(count));
        }
        if (index >= count || seen_shard[index]) {
            throw traces::input_error(
                file.string(), "shard", "index",
                "a shard index below " + std::to_string(count) + " not given before",
                std::to_string(index));
        }
        seen_shard[index] = true;
        for (const char* list : {"runs", "checks"}) {
            if (!field(list).is_array()) {
                throw traces::input_error(file.string(), "top level", list, "an array");
            }
            for (std::size_t k = 0; k < doc.at(list).size(); ++k) {
                check_record(file, list, k, doc.at(list).at(k));
            }
        }
        for (auto& r : field("runs")) runs.push_back(std::move(r));
        for (auto& c : field("checks")) checks.push_back(std::move(c));
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (!seen_shard[i]) {
            throw std::invalid_argument("merge: shard " + std::to_string(i) + "/" +
                                        std::to_string(count) + " is missing");
        }
    }
    const matrix m = matrix_from_json(first.at("matrix"));
    const auto in_order = [](std::vector<ojson>& list, std::size_t expected, const char* what) {
        const auto index = [what](const ojson& r) {
            if (!r.contains("index") || !r.at("index").is_number_unsigned()) {
                throw std::invalid_argument(std::string("merge: a ") + what +
                                            " record without an index");
            }
            return r.at("index").get<std::size_t>();
        };
        std::sort(list.begin(), list.end(),
                  [&](const ojson& x, const ojson& y) { return index(x) < index(y); });
        if (list.size() != expected) {
            throw std::invalid_argument("merge: " + std::to_string(list.size()) + " " + what +
                                        "s, the matrix has " + std::to_string(expected));
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (index(list[i]) != i) {
                throw std::invalid_argument("merge: " + std::string(what) + " " +
                                            std::to_string(i) + " is missing or doubled");
            }
        }
        ojson out = ojson::array();
        for (auto& r : list) out.push_back(std::move(r));
        return out;
    };
    ojson doc;
    doc["schedlab_compare"] = results_format;
    doc["version"] = first.at("version");
    doc["matrix"] = first.at("matrix");
    doc["runs"] = in_order(runs, m.run_count(), "run");
    doc["checks"] = in_order(checks, m.check_count(), "check");
    return write_outputs(doc, a.output, !a.no_timelines, a.quiet) ? exit_ok : exit_violation;
}

std::string preset_help() {
    std::string out = "Policy presets:\n";
    for (const auto& p : policy_presets()) {
        out += "  " + p.name + ": pump=" + p.pump + " frames=" + p.frames +
               " when_all=" + p.when_all + "\n";
    }
    return out;
}

}  // namespace

void register_compare(CLI::App& app) {
    static compare_args a;
    auto* cmd = app.add_subcommand(
        "compare",
        "Replay every input under every policy for every seed (in parallel, deterministic for "
        "any thread count) and write DIR/results.json, DIR/report.md, DIR/report.html and "
        "DIR/timelines/");
    cmd->add_option("--inputs", a.inputs,
                    "Captures, traces or generator specs gen:KIND[:KEY=VALUE,...] (KEY: the "
                    "generator's parameters or jobs=N, default 10000; drawn afresh per seed)")
        ->required();
    cmd->add_option("--policies", a.policies,
                    "Preset names, or one policy file: lines `NAME [pump=SPEC] [frames=SPEC] "
                    "[when_all=shared|private]`, # comments")
        ->required();
    cmd->add_option("--seeds", a.seeds, "Seeds 1..N for every cell")
        ->capture_default_str()
        ->transform(unsigned_in(1, 1000));
    cmd->add_option("--workers", a.workers, "Simulated worker threads of every replay")
        ->capture_default_str()
        ->transform(unsigned_in(1, 1024));
    cmd->add_option("-j,--threads", a.threads,
                    "Host threads running replays (default and at most: the hardware's)")
        ->transform(unsigned_of<unsigned>());
    cmd->add_option("--baseline", a.baseline,
                    "Policy the others are judged against (default: "
                    "the first)");
    cmd->add_option("--costs", a.costs, "Overhead model: default | zero | FILE")
        ->capture_default_str();
    cmd->add_option("--shard", a.shard,
                    "I/N: run only runs I, I+N, I+2N, ... (0 <= I < N) and write only "
                    "results.json; `schedlab merge` joins the shards");
    cmd->add_option("--check-runs", a.check_runs,
                    "Property checks: random schedules per policy on every named scenario "
                    "(schedlab check --list) and every input; 0 skips them")
        ->capture_default_str()
        ->transform(unsigned_in(0, 100000));
    cmd->add_option("-o,--output", a.output, "Output directory")->required();
    cmd->add_flag("-q,--quiet", a.quiet, "No progress bar on stderr");
    cmd->add_flag("--no-timelines", a.no_timelines,
                  "Do not replay the worst p99 jobs again for "
                  "their timelines");
    cmd->footer(preset_help() +
                "Examples:\n"
                "  schedlab compare --inputs ../shared/data/http_dns_browsing.pcap "
                "gen:mixed:jobs=20000 \\\n"
                "      --policies disabled fixed4 adaptive recycler128 stash --baseline adaptive "
                "--seeds 5 -o cmp\n"
                "  schedlab compare --inputs gen:fanout:width=64,jobs=2000 --policies pol.txt "
                "--seeds 10 -o cmp\n"
                "Significance: Welch's t-test at 5% over seeds; intervals are 95% Student-t.\n"
                "Exit status: 0 every run finished and every check held; 1 a run did not "
                "finish or a check found a violation (the report is written and says which); "
                "2 bad usage or input (nothing is written).");
    cmd->callback([] { run_command([] { return run_compare(a); }); });
}

void register_merge(CLI::App& app) {
    static merge_args a;
    auto* cmd = app.add_subcommand(
        "merge",
        "Join the results.json of every shard of one `compare --shard I/N` sweep and write what "
        "an unsharded compare writes (results.json byte for byte)");
    cmd->add_option("dirs", a.dirs, "Shard output directories")->required();
    cmd->add_option("-o,--output", a.output, "Output directory")->required();
    cmd->add_flag("-q,--quiet", a.quiet, "No messages on stderr");
    cmd->add_flag("--no-timelines", a.no_timelines,
                  "Do not replay the worst p99 jobs again for "
                  "their timelines");
    cmd->footer(
        "Example:\n  for i in 0 1 2 3; do schedlab compare ... --shard $i/4 -o s$i; done\n"
        "  schedlab merge s0 s1 s2 s3 -o cmp");
    cmd->callback([] {
        run_command([] {
            try {
                return run_merge(a);
            } catch (const nlohmann::json::exception& e) {
                // A record of the right shape but a wrong field type: the files were edited or
                // come from another version.
                std::string dirs;
                for (const auto& d : a.dirs) dirs += (dirs.empty() ? "" : " ") + d;
                throw std::invalid_argument("merge: a results.json in " + dirs +
                                            " holds a malformed record (" + e.what() +
                                            "); expected the files compare --shard wrote");
            }
        });
    });
}

}  // namespace schedlab::tools
