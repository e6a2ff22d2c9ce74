#include "tools/matrix.hpp"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>

#include "policies/frame_stash.hpp"
#include "policies/frames.hpp"
#include "policies/pump.hpp"
#include "policies/spec_parse.hpp"
#include "properties/check.hpp"
#include "properties/check_command.hpp"
#include "properties/workload.hpp"
#include "sim/report.hpp"
#include "sim/simulator.hpp"
#include "sim/timeline.hpp"
#include "tools/replay_timeline.hpp"
#include "traces/format.hpp"
#include "traces/generators.hpp"
#include "traces/temp_cleanup.hpp"

namespace schedlab::tools {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t default_generated_jobs = 10000;

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t b = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > b) words.push_back(line.substr(b, i - b));
    }
    return words;
}

std::string shell_quote(const std::string& s) {
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string("-_./:=,+").find(c) != std::string::npos;
    });
    if (plain && !s.empty()) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string hash_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw traces::input_error(path, "", "file", "a readable file");
    std::uint64_t h = 0xcbf29ce484222325ULL;
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            h = (h ^ static_cast<unsigned char>(buf[i])) * 0x100000001b3ULL;
        }
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

// A generated input written to a private temporary file for one seed: what `schedlab gen`
// writes for the printed command, so the run replays exactly that text.
class generated_file {
public:
    generated_file(const input_spec& in, std::uint64_t seed) {
        char tmpl[] = "/tmp/schedlab-gen-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("cannot create a temporary dir");
        dir_ = tmpl;
        // An interrupted compare removes the directory and the trace in it too.
        dir_cleanup_ = traces::temp_cleanup(dir_, traces::temp_cleanup::kind::directory);
        path_ = (fs::path(dir_) / "input.trace").string();
        file_cleanup_ = traces::temp_cleanup(path_);
        auto source = traces::make_generator(in.kind, in.params, in.jobs, seed);
        traces::write_trace(*source, path_);
    }
    ~generated_file() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    generated_file(const generated_file&) = delete;
    generated_file& operator=(const generated_file&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string dir_, path_;
    traces::temp_cleanup dir_cleanup_, file_cleanup_;
};

sim::sim_config config_of(const matrix& m, const policy_spec& p, std::uint64_t seed) {
    sim::sim_config cfg;
    cfg.pump = policies::pump_spec::parse(p.pump);
    cfg.frames = policies::frames_spec::parse(p.frames);
    cfg.when_all = policies::parse_when_all(p.when_all);
    cfg.workers = m.workers;
    cfg.seed = seed;
    cfg.costs = sim::cost_model::load(m.costs);
    return cfg;
}

// Remembers each job's class in arrival order: the simulator numbers jobs the same way, so a
// completion's sequence number finds its class here.
class class_recorder final : public traces::job_source {
public:
    explicit class_recorder(traces::job_source& inner) : inner_(inner) {}
    const traces::workload_header& header() const override { return inner_.header(); }
    std::optional<traces::job> next() override {
        auto j = inner_.next();
        if (j) classes_.push_back(j->class_id);
        return j;
    }
    std::vector<std::pair<std::string, std::uint64_t>> stats() const override {
        return inner_.stats();
    }
    const std::vector<std::uint32_t>& classes() const { return classes_; }

private:
    traces::job_source& inner_;
    std::vector<std::uint32_t> classes_;
};

struct completion {
    std::uint64_t seq, done_ns, latency_ns;
};

class completion_log final : public sim::sim_observer {
public:
    void on_event(const sim::sim_event& e) override {
        if (e.kind == sim::sim_event_kind::job_done) done_.push_back({e.id, e.time_ns, e.value});
    }
    const std::vector<completion>& done() const { return done_; }

private:
    std::vector<completion> done_;
};

// Nearest rank: the smallest value with at least q of the samples at or below it.
std::uint64_t exact_quantile(const std::vector<std::uint64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

ojson cdf_json(std::vector<std::uint64_t> latencies) {
    std::sort(latencies.begin(), latencies.end());
    ojson points = ojson::array();
    for (double q : cdf_probabilities()) points.push_back(exact_quantile(latencies, q));
    return points;
}

}  // namespace

const std::vector<double>& cdf_probabilities() {
    static const std::vector<double> probs = [] {
        std::vector<double> p = {0.001, 0.01};
        for (int i = 1; i <= 19; ++i) p.push_back(i * 0.05);
        for (double q : {0.97, 0.98, 0.99, 0.995, 0.999, 1.0}) p.push_back(q);
        return p;
    }();
    return probs;
}

std::string fnv1a64_hex(const std::string& bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

input_spec parse_input(const std::string& spec) {
    input_spec in;
    in.spec = spec;
    if (spec.rfind("gen:", 0) != 0) {
        in.name = fs::path(spec).filename().string();
        if (in.name.empty()) throw std::invalid_argument("input '" + spec + "': not a file name");
        return in;
    }
    in.generated = true;
    const std::string rest = spec.substr(4);
    const auto colon = rest.find(':');
    in.kind = rest.substr(0, colon);
    if (in.kind.empty()) {
        throw std::invalid_argument("input '" + spec + "': expected gen:KIND[:KEY=VALUE,...]");
    }
    if (colon != std::string::npos) {
        const std::string options = rest.substr(colon + 1);  // the views below point into it
        for (const auto& [key, value] :
             policies::detail::split_options(options, "input '" + spec + "'")) {
            if (key.empty() || value.empty()) {
                throw std::invalid_argument("input '" + spec + "': parameter '" +
                                            std::string(key.empty() ? value : key) +
                                            "' is not KEY=VALUE");
            }
            if (key == "jobs") {
                in.jobs = policies::detail::parse_uint(value, "input '" + spec + "': jobs", 1,
                                                       100'000'000);
            } else {
                // split_options has refused a key given twice.
                in.params.emplace(std::string(key), std::string(value));
            }
        }
    }
    in.name = spec.substr(4);
    return in;
}

const std::vector<policy_spec>& policy_presets() {
    static const std::vector<policy_spec> presets = {
        {"disabled", "disabled", "recycling", "shared"},
        {"fixed4", "fixed:4", "recycling", "shared"},
        {"adaptive", "adaptive", "recycling", "shared"},
        {"recycler128", "adaptive", "recycling:per_thread=128", "shared"},
        {"stash", "adaptive", "recycling", "private"},
    };
    return presets;
}

std::vector<policy_spec> load_policy_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw traces::input_error(path, "", "file", "a readable policy file");
    std::vector<policy_spec> out;
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        const std::string where = "line " + std::to_string(line_no);
        const auto hash = raw.find('#');
        const std::string line = trim(hash == std::string::npos ? raw : raw.substr(0, hash));
        if (line.empty()) continue;
        const auto words = split_words(line);
        policy_spec p;
        p.name = words[0];
        if (!traces::is_valid_name(p.name) || p.name.find('=') != std::string::npos) {
            throw traces::input_error(path, where, "NAME",
                                      "a name of letters, digits, '_', '-' and '.'", p.name);
        }
        for (const auto& q : out) {
            if (q.name == p.name)
                throw traces::input_error(path, where, "NAME", "a new name",
                                          p.name + " (defined before)");
        }
        std::set<std::string> seen;
        for (std::size_t i = 1; i < words.size(); ++i) {
            const auto eq = words[i].find('=');
            const std::string key = words[i].substr(0, eq);
            const std::string value = eq == std::string::npos ? "" : words[i].substr(eq + 1);
            if (eq == std::string::npos || value.empty()) {
                throw traces::input_error(path, where, key, "KEY=VALUE", words[i]);
            }
            if (!seen.insert(key).second) {
                throw traces::input_error(path, where, key, "each key at most once", words[i]);
            }
            try {
                if (key == "pump") {
                    p.pump = policies::pump_spec::parse(value).to_string();
                } else if (key == "frames") {
                    p.frames = policies::frames_spec::parse(value).to_string();
                } else if (key == "when_all") {
                    p.when_all = policies::to_string(policies::parse_when_all(value));
                } else {
                    throw traces::input_error(path, where, key,
                                              "one of pump=, frames=, when_all=", words[i]);
                }
            } catch (const std::invalid_argument& e) {
                throw traces::input_error(path, where, key, e.what(), value);
            }
        }
        out.push_back(p);
    }
    if (out.empty()) throw traces::input_error(path, "end of file", "NAME", "at least one policy");
    return out;
}

std::vector<policy_spec> resolve_policies(const std::vector<std::string>& args) {
    if (args.size() == 1 && fs::is_regular_file(args[0])) return load_policy_file(args[0]);
    std::vector<policy_spec> out;
    for (const auto& a : args) {
        const auto& presets = policy_presets();
        const auto it = std::find_if(presets.begin(), presets.end(),
                                     [&](const policy_spec& p) { return p.name == a; });
        if (it == presets.end()) {
            std::string names;
            for (const auto& p : presets) names += " " + p.name;
            throw std::invalid_argument(
                "--policies: '" + a + "' is neither a policy file nor a preset (presets:" + names +
                ")");
        }
        if (std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.name == a; })) {
            throw std::invalid_argument("--policies: '" + a + "' given twice");
        }
        out.push_back(*it);
    }
    return out;
}

void validate(const matrix& m) {
    if (m.inputs.empty()) throw std::invalid_argument("--inputs: at least one input");
    if (m.policies.empty()) throw std::invalid_argument("--policies: at least one policy");
    if (m.seeds.empty()) throw std::invalid_argument("--seeds: at least one seed");
    std::set<std::string> names;
    for (const auto& in : m.inputs) {
        if (!names.insert(in.name).second) {
            throw std::invalid_argument("--inputs: '" + in.spec + "' appears twice (by name '" +
                                        in.name + "')");
        }
        if (in.generated) {
            try {
                // Generators are lazy: building one checks every parameter and costs nothing.
                traces::make_generator(in.kind, in.params, in.jobs, 1);
            } catch (const std::invalid_argument& e) {
                throw std::invalid_argument("input '" + in.spec + "': " + e.what());
            }
        } else {
            traces::open_input(in.spec);
        }
    }
    if (std::none_of(m.policies.begin(), m.policies.end(),
                     [&](const policy_spec& p) { return p.name == m.baseline; })) {
        throw std::invalid_argument("--baseline: '" + m.baseline + "' is not one of the policies");
    }
    for (const auto& p : m.policies) config_of(m, p, 1);
}

ojson matrix_json(const matrix& m) {
    ojson j;
    auto inputs = ojson::array();
    for (const auto& in : m.inputs) {
        ojson e;
        e["name"] = in.name;
        e["spec"] = in.spec;
        e["kind"] = in.generated ? "generator" : "file";
        if (in.generated) {
            ojson hashes = ojson::object();
            for (auto seed : m.seeds) {
                generated_file g(in, seed);
                hashes[std::to_string(seed)] = hash_file(g.path());
            }
            e["fnv1a64_by_seed"] = hashes;
        } else {
            e["fnv1a64"] = hash_file(in.spec);
        }
        inputs.push_back(e);
    }
    j["inputs"] = inputs;
    auto pols = ojson::array();
    for (const auto& p : m.policies) {
        // Specs are stored in their canonical spelling, so one policy has one text.
        const auto cfg = config_of(m, p, 1);
        pols.push_back({{"name", p.name},
                        {"pump", cfg.pump.to_string()},
                        {"frames", cfg.frames.to_string()},
                        {"when_all", policies::to_string(cfg.when_all)}});
    }
    j["policies"] = pols;
    j["baseline"] = m.baseline;
    j["seeds"] = m.seeds;
    j["workers"] = m.workers;
    j["costs"] = m.costs;
    ojson checks;
    checks["runs"] = m.check_runs;
    checks["strategy"] = "random";
    checks["seed"] = 1;
    auto scenarios = ojson::array();
    for (const auto& name : m.scenarios) {
        scenarios.push_back(
            {{"name", name}, {"fnv1a64", hash_file(properties::resolve_input(name))}});
    }
    checks["scenarios"] = scenarios;
    j["checks"] = checks;
    return j;
}

matrix matrix_from_json(const ojson& j) {
    matrix m;
    try {
        for (const auto& e : j.at("inputs")) {
            input_spec in = parse_input(e.at("spec").get<std::string>());
            in.name = e.at("name").get<std::string>();
            m.inputs.push_back(in);
        }
        for (const auto& e : j.at("policies")) {
            m.policies.push_back({e.at("name").get<std::string>(), e.at("pump").get<std::string>(),
                                  e.at("frames").get<std::string>(),
                                  e.at("when_all").get<std::string>()});
        }
        m.baseline = j.at("baseline").get<std::string>();
        m.seeds = j.at("seeds").get<std::vector<std::uint64_t>>();
        m.workers = j.at("workers").get<std::uint32_t>();
        m.costs = j.at("costs").get<std::string>();
        const ojson& checks = j.at("checks");
        m.check_runs = checks.at("runs").get<std::uint64_t>();
        for (const auto& e : checks.at("scenarios")) {
            m.scenarios.push_back(e.at("name").get<std::string>());
        }
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("matrix: ") + e.what());
    }
    return m;
}

namespace {

// What a command needs to read an input: for a generated input, the `schedlab gen` line that
// writes it first (ending in " && ") and the file it writes; for a file, no line and the file.
// `seed` is a number, or a shell variable for a loop.
std::pair<std::string, std::string> input_for_command(const input_spec& in,
                                                      const std::string& seed) {
    if (!in.generated) return {"", shell_quote(in.spec)};
    // A generated file's name is plain, apart from the seed's variable, which must stay
    // unquoted to expand.
    const std::string file = in.kind + "-s" + seed + ".trace";
    std::string gen = "schedlab gen " + in.kind;
    for (const auto& [k, v] : in.params) gen += " " + shell_quote(k + "=" + v);
    gen += " --jobs " + std::to_string(in.jobs) + " --seed " + seed + " -o " + file + " && ";
    return {gen, file};
}

// The policy options, in canonical spelling, and the workers and costs of a command.
std::string policy_options(const matrix& m, const policy_spec& p, std::uint32_t workers) {
    const auto cfg = config_of(m, p, 1);
    return " --pump " + shell_quote(cfg.pump.to_string()) + " --frames " +
           shell_quote(cfg.frames.to_string()) + " --when-all " +
           policies::to_string(cfg.when_all) + " --workers " + std::to_string(workers) +
           " --costs " + shell_quote(m.costs);
}

std::string replay_command_text(const matrix& m, std::size_t input, std::size_t policy,
                                const std::string& seed, const std::string& extra) {
    const auto [gen, file] = input_for_command(m.inputs[input], seed);
    std::string cmd = gen + "schedlab replay " + file +
                      policy_options(m, m.policies[policy], m.workers) + " --seed " + seed;
    if (!extra.empty()) cmd += " " + extra;
    return cmd;
}

}  // namespace

std::string replay_command(const matrix& m, std::size_t input, std::size_t policy,
                           std::uint64_t seed, const std::string& extra) {
    return replay_command_text(m, input, policy, std::to_string(seed), extra);
}

std::string replay_command_per_seed(const matrix& m, std::size_t input, std::size_t policy,
                                    const std::string& extra) {
    return replay_command_text(m, input, policy, "\"$seed\"", extra);
}

namespace {

template <class F>
auto with_source(const input_spec& in, std::uint64_t seed, F&& f) {
    if (in.generated) {
        generated_file g(in, seed);
        auto source = traces::open_input(g.path());
        return f(*source);
    }
    auto source = traces::open_input(in.spec);
    return f(*source);
}

}  // namespace

ojson run_one(const matrix& m, std::size_t input, std::size_t policy, std::size_t seed_index) {
    const std::uint64_t seed = m.seeds[seed_index];
    sim::sim_config cfg = config_of(m, m.policies[policy], seed);
    ojson rec;
    rec["index"] = m.run_index(input, policy, seed_index);
    rec["input"] = m.inputs[input].name;
    rec["policy"] = m.policies[policy].name;
    rec["seed"] = seed;
    rec["command"] = replay_command(m, input, policy, seed, "--json");
    with_source(m.inputs[input], seed, [&](traces::job_source& raw) {
        class_recorder source(raw);
        completion_log log;
        cfg.observer = &log;
        sim::run_result result;
        try {
            result = sim::simulate(source, cfg);
        } catch (const sim::liveness_error& e) {
            rec["status"] = "liveness";
            rec["error"] = e.what();
            return 0;
        }
        rec["status"] = "ok";
        rec["result"] = sim::to_json(result);

        // Exact distributions per class, from every completion.
        const auto& classes = source.header().classes;
        std::vector<std::vector<std::uint64_t>> by_class(classes.size());
        std::vector<std::uint64_t> all;
        all.reserve(log.done().size());
        for (const auto& c : log.done()) {
            all.push_back(c.latency_ns);
            const std::uint32_t id = source.classes().at(c.seq);
            for (std::size_t k = 0; k < classes.size(); ++k) {
                if (classes[k].id == id) by_class[k].push_back(c.latency_ns);
            }
        }
        ojson exact;
        ojson cdfs = ojson::object();
        cdfs["all"] = cdf_json(all);
        for (std::size_t k = 0; k < classes.size(); ++k)
            cdfs[classes[k].name] = cdf_json(by_class[k]);
        exact["cdf_ns"] = cdfs;
        // The job at the overall p99 (nearest rank; the earliest such job on a tie), whose
        // timeline the report links.
        std::sort(all.begin(), all.end());
        const std::uint64_t p99 = exact_quantile(all, 0.99);
        for (const auto& c : log.done()) {
            if (c.latency_ns != p99) continue;
            const std::uint32_t id = source.classes().at(c.seq);
            const auto* decl = source.header().find_class(id);
            exact["p99_job"] = {{"seq", c.seq},
                                {"class", decl != nullptr ? decl->name : std::to_string(id)},
                                {"arrival_ns", c.done_ns - c.latency_ns},
                                {"done_ns", c.done_ns},
                                {"latency_ns", c.latency_ns}};
            break;
        }
        rec["exact"] = exact;
        return 0;
    });
    return rec;
}

namespace {

struct check_target {
    bool scenario = false;
    std::size_t target = 0;  // into scenarios or inputs
    std::size_t policy = 0;
};

check_target check_target_of(const matrix& m, std::size_t index) {
    if (index >= m.check_count()) throw std::out_of_range("check index past the matrix");
    const std::size_t t = index / m.policies.size();
    check_target c;
    c.policy = index % m.policies.size();
    c.scenario = t < m.scenarios.size();
    c.target = c.scenario ? t : t - m.scenarios.size();
    return c;
}

// A scenario's bounds hold for the worker count it declares, so its checks use that count;
// inputs use the matrix's.
std::uint32_t check_workers(const matrix& m, const check_target& c) {
    if (!c.scenario) return m.workers;
    const std::string path = properties::resolve_input(m.scenarios[c.target]);
    const auto source = traces::open_input(path);
    return properties::declared_workers(source->header(), path).value_or(m.workers);
}

std::string check_command_text(const matrix& m, const check_target& c, std::uint32_t workers) {
    const auto [gen, file] =
        c.scenario ? std::pair<std::string, std::string>{"", shell_quote(m.scenarios[c.target])}
                   : input_for_command(m.inputs[c.target], std::to_string(m.seeds.front()));
    const std::string name = c.scenario ? m.scenarios[c.target] : m.inputs[c.target].name;
    std::string out = "check-" + name + "-" + m.policies[c.policy].name;
    std::replace_if(
        out.begin(), out.end(),
        [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)) && ch != '-'; }, '-');
    return gen + "schedlab check " + file + policy_options(m, m.policies[c.policy], workers) +
           " --strategy random --runs " + std::to_string(m.check_runs) + " --seed 1 --out " + out;
}

}  // namespace

std::string check_command(const matrix& m, std::size_t index) {
    const check_target c = check_target_of(m, index);
    return check_command_text(m, c, check_workers(m, c));
}

ojson check_one(const matrix& m, std::size_t index) {
    const check_target c = check_target_of(m, index);
    ojson rec;
    rec["index"] = index;
    rec["target"] = c.scenario ? m.scenarios[c.target] : m.inputs[c.target].name;
    rec["kind"] = c.scenario ? "scenario" : "input";
    rec["policy"] = m.policies[c.policy].name;
    const std::uint32_t workers = check_workers(m, c);
    rec["command"] = check_command_text(m, c, workers);
    const auto check = [&](traces::job_source& source, const std::string& path) {
        const auto w = properties::workload::from_source(source);
        properties::check_options o;
        o.config = config_of(m, m.policies[c.policy], 1);
        o.config.workers = workers;
        if (c.scenario) {
            properties::apply_settings(properties::expectations_of(w.header, path), o.config);
        }
        o.runs = m.check_runs;
        o.seed = 1;
        // The report names the failure; the printed command shrinks it, which can take minutes
        // on a large input and would hold up every other cell.
        o.shrink_runs_max = 0;
        const properties::check_report r = properties::run_check(w, o);
        rec["workers"] = o.config.workers;
        rec["jobs"] = w.jobs.size();
        rec["runs"] = r.runs;
        rec["distinct_schedules"] = r.distinct_schedules;
        rec["rare_paths_runs"] = {{"budget_exhausted", r.budget_exhausted.runs},
                                  {"unassisted_capped", r.unassisted_capped.runs},
                                  {"global_trip", r.global_trip.runs},
                                  {"heap_fallback", r.heap_fallback.runs}};
        if (!r.failed) {
            rec["status"] = "ok";
            rec["max_inline_streak"] = r.max_inline_streak;
            rec["max_global_trips"] = r.max_global_trips;
            rec["max_peak_frames"] = r.max_peak_frames;
            return 0;
        }
        rec["status"] = "violation";
        rec["property"] = r.failed->property;
        rec["message"] = r.failed->message;
        rec["failing_run"] = r.failing_run;
        return 0;
    };
    if (c.scenario) {
        const std::string path = properties::resolve_input(m.scenarios[c.target]);
        auto source = traces::open_input(path);
        check(*source, path);
    } else {
        with_source(m.inputs[c.target], m.seeds.front(),
                    [&](traces::job_source& source) { return check(source, ""); });
    }
    return rec;
}

std::string timeline_of(const matrix& m, std::size_t input, std::size_t policy, std::uint64_t seed,
                        std::uint64_t from_ns, std::uint64_t to_ns) {
    sim::sim_config cfg = config_of(m, m.policies[policy], seed);
    const sim::chrome_timeline::window w{from_ns, to_ns};
    sim::chrome_timeline timeline(cfg.workers, w);
    cfg.observer = &timeline;
    return with_source(m.inputs[input], seed, [&](traces::job_source& source) {
        sim::simulate(source, cfg);
        return timeline.to_json(timeline_meta(cfg, w));
    });
}

}  // namespace schedlab::tools
