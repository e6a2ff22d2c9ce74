#include "traces/generators.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "traces/format.hpp"
#include "traces/program_store.hpp"
#include "traces/random.hpp"
#include "traces/text_util.hpp"

namespace schedlab::traces {

namespace {

using detail::numbered;

__extension__ using u128 = unsigned __int128;

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

const std::vector<generator_kind>& kind_table() {
    static const std::vector<generator_kind> table = {
        {"chain",
         "nested calls, depth frames deep at the innermost point, periodic arrivals",
         {{"depth", "8", "frames on the deepest call chain (1..64)"},
          {"compute_ns", "2000", "compute per level, split around the nested call"},
          {"interval_ns", "100000", "time between arrivals"}}},
        {"fanout",
         "when_all over width children, nested nesting levels deep, periodic arrivals",
         {{"width", "64", "children per fanout (1..65536)"},
          {"nesting", "1", "fanout levels below the root (1..63)"},
          {"compute_ns", "1000", "compute of each leaf"},
          {"interval_ns", "200000", "time between arrivals"}}},
        {"pingpong",
         "two stage consumers that keep waking each other through channels ping and pong",
         {{"rounds", "10", "ping/pong hand-off pairs per job (1..65536)"},
          {"compute_ns", "500", "compute between hand-offs"},
          {"interval_ns", "20000", "time between arrivals"},
          {"capacity", "64", "items each channel buffers; small values can deadlock the cycle"}}},
        {"mixed",
         "bulk streams of ready operations (class 1, arriving first) beside Poisson requests "
         "(class 0); the streams keep the workers busy, so the span measures their throughput",
         {{"streams", "4", "stream jobs, all arriving at time 0 (0..jobs)"},
          {"run", "65536", "already-complete operations per stream run (1..1048576)"},
          {"run_compute_ns", "200", "compute after each ready operation"},
          {"runs", "24", "io-then-ready runs per stream (1..65536)"},
          {"io_ns", "20000", "latency of each io wait"},
          {"rate_per_s", "20000", "mean request arrivals per second"},
          {"request_compute_ns", "3000", "compute of a request, split around its io"}}},
        {"pipeline",
         "Poisson arrivals through stages compute segments joined by channels s1..",
         {{"stages", "3", "compute segments per job (1..1024)"},
          {"compute_ns", "2000", "compute of each segment"},
          {"capacity", "64", "items each channel buffers"},
          {"consumers", "1", "consumer coroutines per channel"},
          {"rate_per_s", "100000", "mean arrivals per second"}}},
        {"poisson",
         "M/M/c or M/D/c: Poisson arrivals, one inline compute per job",
         {{"utilization", "0.5", "offered load per worker (> 0)"},
          {"mean_service_ns", "10000", "mean compute per job"},
          {"service", "exp", "service time distribution: exp or det"},
          {"ready_before", "0", "ready operations before the compute (0..1048576)"},
          {"workers", "1", "workers the utilization is spread over"}}},
    };
    return table;
}

// Parameters of one generator after defaults are applied, with range checks that name the
// generator and the parameter in their messages.
class param_values {
public:
    param_values(const generator_kind& kind, const std::map<std::string, std::string>& given)
        : kind_(kind.name) {
        for (const auto& [name, value] : given) {
            const bool known =
                std::any_of(kind.params.begin(), kind.params.end(),
                            [&name = name](const generator_param& p) { return p.name == name; });
            if (!known) {
                std::vector<std::string> names;
                for (const auto& p : kind.params) {
                    names.push_back(p.name);
                }
                throw std::invalid_argument("unknown parameter '" + name + "' for generator '" +
                                            kind_ + "' (it takes " + joined(names, ", ") + ")");
            }
        }
        for (const auto& p : kind.params) {
            const auto found = given.find(p.name);
            values_.emplace_back(p.name, found == given.end() ? p.default_value : found->second);
        }
    }

    const std::vector<std::pair<std::string, std::string>>& resolved() const { return values_; }

    // "name=value" for each of `names`, joined for a message.
    std::string describe(std::initializer_list<const char*> names) const {
        std::vector<std::string> parts;
        for (const char* name : names) {
            parts.push_back(std::string(name) + "=" + raw(name));
        }
        return joined(parts, ", ");
    }

    std::uint64_t integer(const std::string& name, std::uint64_t min, std::uint64_t max) const {
        const std::string& text = raw(name);
        std::uint64_t value = 0;
        if (detail::parse_u64(text, value) != detail::number_status::ok || value < min ||
            value > max) {
            throw bad(name, text,
                      "a decimal integer in " + std::to_string(min) + ".." + std::to_string(max));
        }
        return value;
    }

    // A finite number above `min` (or at least `min` when min_inclusive) and at most `max`.
    double real(const std::string& name, double min, bool min_inclusive, double max) const {
        const std::string& text = raw(name);
        double value = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool parsed = !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
        const bool in_range =
            std::isfinite(value) && (min_inclusive ? value >= min : value > min) && value <= max;
        if (!parsed || !in_range) {
            throw bad(name, text,
                      std::string("a number ") + (min_inclusive ? "at least " : "above ") +
                          trim_number(min) + " and at most " + trim_number(max));
        }
        return value;
    }

    std::string choice(const std::string& name, const std::vector<std::string>& options) const {
        const std::string& text = raw(name);
        if (std::find(options.begin(), options.end(), text) == options.end()) {
            throw bad(name, text, joined(options, " or "));
        }
        return text;
    }

private:
    const std::string& raw(const std::string& name) const {
        for (const auto& [key, value] : values_) {
            if (key == name) {
                return value;
            }
        }
        throw std::logic_error("generator " + kind_ + " reads undeclared parameter " + name);
    }

    std::invalid_argument bad(const std::string& name, const std::string& text,
                              const std::string& expected) const {
        return std::invalid_argument("generator '" + kind_ + "': parameter " + name + " expects " +
                                     expected + ", got '" + text + "'");
    }

    static std::string trim_number(double value) {
        char text[64];
        const auto result = std::to_chars(text, text + sizeof text, value);
        return std::string(text, result.ptr);
    }

    std::string kind_;
    std::vector<std::pair<std::string, std::string>> values_;
};

step compute_step(std::uint64_t duration_ns) {
    step s;
    s.kind = step_kind::compute;
    s.duration_ns = duration_ns;
    return s;
}

step io_step(std::uint64_t duration_ns) {
    step s;
    s.kind = step_kind::io;
    s.duration_ns = duration_ns;
    return s;
}

step ready_step(std::uint32_t count, std::uint64_t duration_ns) {
    step s;
    s.kind = step_kind::ready;
    s.count = count;
    s.duration_ns = duration_ns;
    return s;
}

step call_step(const program* sub) {
    step s;
    s.kind = step_kind::call;
    s.sub = sub;
    return s;
}

step fanout_step(std::uint32_t width, const program* sub) {
    step s;
    s.kind = step_kind::fanout;
    s.count = width;
    s.sub = sub;
    return s;
}

step send_step(std::uint32_t channel) {
    step s;
    s.kind = step_kind::send;
    s.channel = channel;
    return s;
}

// Shared plumbing: the header, the program store, the rng and the job counter. Each kind
// only says how job number `index` looks.
class generator_source : public job_source {
public:
    generator_source(const std::string& kind, const param_values& params, std::uint64_t jobs,
                     std::uint64_t seed)
        : kind_(kind), jobs_(jobs), rng_(seed) {
        header_.meta.emplace_back("generator", kind);
        for (const auto& [name, value] : params.resolved()) {
            header_.meta.emplace_back("param." + name, value);
        }
        header_.meta.emplace_back("jobs", std::to_string(jobs));
        header_.meta.emplace_back("seed", std::to_string(seed));
    }

    const workload_header& header() const override { return header_; }

    std::optional<job> next() override {
        if (produced_ == jobs_) {
            return std::nullopt;
        }
        job j = make(produced_);
        ++produced_;
        return j;
    }

    std::vector<std::pair<std::string, std::uint64_t>> stats() const override {
        return {{"jobs", produced_}, {"named_programs", store_.size()}};
    }

protected:
    virtual job make(std::uint64_t index) = 0;

    std::shared_ptr<const program> add_program(std::string name, std::vector<step> steps) {
        return store_.add(program{std::move(name), std::move(steps)});
    }

    // Refuses, before anything is written, parameters whose jobs the trace reader would reject,
    // counting through the reader's own function; `names` are the parameters that shape `prog`.
    void check_job_bounds(const program& prog, const param_values& p,
                          std::initializer_list<const char*> names) const {
        job_totals totals;
        const job_bound bound = measure_program(prog, totals);
        if (bound != job_bound::none) {
            throw std::invalid_argument("generator '" + kind_ + "': " + p.describe(names) +
                                        " give jobs over the trace format's per-job bound on " +
                                        job_bound_field(bound) + ": " + job_bound_rule(bound));
        }
    }

    // Periodic arrivals are exact integers; the whole span is checked up front so that no
    // arrival can pass the format's limit.
    void check_periodic_span(std::uint64_t interval_ns) const {
        if (jobs_ > 1 && static_cast<u128>(jobs_ - 1) * interval_ns > max_arrival_ns) {
            throw std::invalid_argument("generator: jobs * interval_ns exceeds 2^62 ns");
        }
    }

    void check_poisson_span(double mean_gap_ns) const {
        if (static_cast<double>(jobs_) * mean_gap_ns > static_cast<double>(max_arrival_ns / 2)) {
            throw std::invalid_argument(
                "generator: the expected span of the arrivals exceeds 2^61 ns; use fewer jobs "
                "or a higher rate");
        }
    }

    // Poisson arrivals accumulate in double; rounding a non-decreasing double keeps the
    // integer arrivals non-decreasing. The first job arrives at 0.
    std::uint64_t poisson_arrival(std::uint64_t index, double mean_gap_ns) {
        if (index > 0) {
            clock_ns_ += rng_.exponential(mean_gap_ns);
        }
        if (clock_ns_ > static_cast<double>(max_arrival_ns)) {
            throw std::range_error("generator: arrival beyond 2^62 ns");
        }
        return static_cast<std::uint64_t>(std::llround(clock_ns_));
    }

    std::string kind_;
    workload_header header_;
    detail::program_store store_;
    std::uint64_t jobs_;
    seeded_rng rng_;

private:
    std::uint64_t produced_ = 0;
    double clock_ns_ = 0;
};

class chain_source final : public generator_source {
public:
    chain_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("chain", p, jobs, seed) {
        const auto depth = p.integer("depth", 1, max_nesting_depth);
        const auto compute_ns = p.integer("compute_ns", 0, max_duration_ns);
        interval_ns_ = p.integer("interval_ns", 0, max_arrival_ns);
        check_periodic_span(interval_ns_);
        header_.classes.push_back({0, "default"});
        // Built innermost first so that every level can point at the one below it.
        const program* below = nullptr;
        for (std::uint64_t level = depth; level-- > 0;) {
            std::vector<step> steps;
            if (below == nullptr) {
                steps.push_back(compute_step(compute_ns));
            } else {
                steps.push_back(compute_step(compute_ns / 2));
                steps.push_back(call_step(below));
                steps.push_back(compute_step(compute_ns - compute_ns / 2));
            }
            root_ = add_program(numbered("L", level), std::move(steps));
            below = root_.get();
        }
        check_job_bounds(*root_, p, {"depth", "compute_ns"});
    }

private:
    job make(std::uint64_t index) override { return {index * interval_ns_, 0, root_}; }

    std::uint64_t interval_ns_ = 0;
    std::shared_ptr<const program> root_;
};

class fanout_source final : public generator_source {
public:
    fanout_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("fanout", p, jobs, seed) {
        const auto width = static_cast<std::uint32_t>(p.integer("width", 1, max_fanout_width));
        const auto nesting = p.integer("nesting", 1, max_nesting_depth - 1);
        const auto compute_ns = p.integer("compute_ns", 0, max_duration_ns);
        interval_ns_ = p.integer("interval_ns", 0, max_arrival_ns);
        check_periodic_span(interval_ns_);
        header_.classes.push_back({0, "default"});
        const program* below = add_program("leaf", {compute_step(compute_ns)}).get();
        // Levels nesting-1 down to 1 are pure when_all nodes; the root adds the compute around
        // the outermost fanout.
        for (std::uint64_t level = nesting - 1; level >= 1; --level) {
            below = add_program(numbered("level", level), {fanout_step(width, below)}).get();
        }
        root_ =
            add_program("root", {compute_step(500), fanout_step(width, below), compute_step(500)});
        check_job_bounds(*root_, p, {"width", "nesting", "compute_ns"});
    }

private:
    job make(std::uint64_t index) override { return {index * interval_ns_, 0, root_}; }

    std::uint64_t interval_ns_ = 0;
    std::shared_ptr<const program> root_;
};

class pingpong_source final : public generator_source {
public:
    pingpong_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("pingpong", p, jobs, seed) {
        const auto rounds = p.integer("rounds", 1, 65536);
        const auto compute_ns = p.integer("compute_ns", 0, max_duration_ns);
        interval_ns_ = p.integer("interval_ns", 0, max_arrival_ns);
        const auto capacity = static_cast<std::uint32_t>(p.integer("capacity", 1, 1u << 20));
        check_periodic_span(interval_ns_);
        header_.classes.push_back({0, "default"});
        header_.channels.push_back({"ping", capacity, 1});
        header_.channels.push_back({"pong", capacity, 1});
        std::vector<step> steps;
        steps.reserve(4 * rounds);
        for (std::uint64_t round = 0; round < rounds; ++round) {
            steps.push_back(compute_step(compute_ns));
            steps.push_back(send_step(0));
            steps.push_back(compute_step(compute_ns));
            steps.push_back(send_step(1));
        }
        prog_ = add_program("pingpong", std::move(steps));
        check_job_bounds(*prog_, p, {"rounds", "compute_ns"});
    }

private:
    job make(std::uint64_t index) override { return {index * interval_ns_, 0, prog_}; }

    std::uint64_t interval_ns_ = 0;
    std::shared_ptr<const program> prog_;
};

class mixed_source final : public generator_source {
public:
    mixed_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("mixed", p, jobs, seed) {
        streams_ = p.integer("streams", 0, jobs);
        const auto run = static_cast<std::uint32_t>(p.integer("run", 1, max_ready_count));
        const auto run_compute_ns = p.integer("run_compute_ns", 0, max_duration_ns);
        const auto runs = p.integer("runs", 1, 65536);
        const auto io_ns = p.integer("io_ns", 0, max_duration_ns);
        const double rate_per_s = p.real("rate_per_s", 0, false, 1e12);
        const auto request_ns = p.integer("request_compute_ns", 0, max_duration_ns);
        mean_gap_ns_ = 1e9 / rate_per_s;
        check_poisson_span(mean_gap_ns_);
        header_.classes.push_back({0, "request"});
        header_.classes.push_back({1, "stream"});
        request_ = add_program("request", {compute_step(request_ns / 2), io_step(io_ns),
                                           compute_step(request_ns - request_ns / 2)});
        std::vector<step> steps;
        steps.reserve(2 * runs);
        for (std::uint64_t i = 0; i < runs; ++i) {
            steps.push_back(io_step(io_ns));
            steps.push_back(ready_step(run, run_compute_ns));
        }
        stream_ = add_program("stream", std::move(steps));
        check_job_bounds(*request_, p, {"request_compute_ns", "io_ns"});
        if (streams_ > 0) {
            check_job_bounds(*stream_, p, {"run", "runs", "run_compute_ns", "io_ns"});
        }
    }

private:
    // The streams come first, all at time 0, so that they are in the system for the whole
    // run; the requests follow a Poisson process that also starts at 0.
    job make(std::uint64_t index) override {
        if (index < streams_) return {0, 1U, stream_};
        return {poisson_arrival(index - streams_, mean_gap_ns_), 0U, request_};
    }

    std::uint64_t streams_ = 0;
    double mean_gap_ns_ = 0;
    std::shared_ptr<const program> request_;
    std::shared_ptr<const program> stream_;
};

class pipeline_source final : public generator_source {
public:
    pipeline_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("pipeline", p, jobs, seed) {
        const auto stages = p.integer("stages", 1, 1024);
        const auto compute_ns = p.integer("compute_ns", 0, max_duration_ns);
        const auto capacity = static_cast<std::uint32_t>(p.integer("capacity", 1, UINT32_MAX));
        const auto consumers =
            static_cast<std::uint32_t>(p.integer("consumers", 1, max_channel_consumers));
        const double rate_per_s = p.real("rate_per_s", 0, false, 1e12);
        mean_gap_ns_ = 1e9 / rate_per_s;
        check_poisson_span(mean_gap_ns_);
        header_.classes.push_back({0, "default"});
        std::vector<step> steps;
        for (std::uint64_t stage = 0; stage < stages; ++stage) {
            if (stage > 0) {
                header_.channels.push_back({numbered("s", stage), capacity, consumers});
                steps.push_back(send_step(static_cast<std::uint32_t>(stage - 1)));
            }
            steps.push_back(compute_step(compute_ns));
        }
        prog_ = add_program("pipeline", std::move(steps));
        check_job_bounds(*prog_, p, {"stages", "compute_ns"});
    }

private:
    job make(std::uint64_t index) override {
        return {poisson_arrival(index, mean_gap_ns_), 0, prog_};
    }

    double mean_gap_ns_ = 0;
    std::shared_ptr<const program> prog_;
};

class poisson_source final : public generator_source {
public:
    poisson_source(const param_values& p, std::uint64_t jobs, std::uint64_t seed)
        : generator_source("poisson", p, jobs, seed) {
        const double utilization = p.real("utilization", 0, false, 1e6);
        mean_service_ns_ = p.integer("mean_service_ns", 1, max_duration_ns);
        exponential_ = p.choice("service", {"exp", "det"}) == "exp";
        ready_before_ = static_cast<std::uint32_t>(p.integer("ready_before", 0, max_ready_count));
        const auto workers = p.integer("workers", 1, 1 << 20);
        // lambda = utilization * workers / mean_service, so the mean gap is its inverse.
        mean_gap_ns_ =
            static_cast<double>(mean_service_ns_) / (utilization * static_cast<double>(workers));
        check_poisson_span(mean_gap_ns_);
        header_.classes.push_back({0, "default"});
        // The largest job make() can draw: every ready operation and the longest service.
        const program largest{
            "", {ready_step(std::max(ready_before_, 1U), 0), compute_step(max_duration_ns)}};
        check_job_bounds(largest, p, {"ready_before", "mean_service_ns"});
    }

private:
    job make(std::uint64_t index) override {
        const std::uint64_t arrival_ns = poisson_arrival(index, mean_gap_ns_);
        std::uint64_t service_ns = mean_service_ns_;
        if (exponential_) {
            const double drawn_ns = std::round(rng_.exponential(static_cast<double>(service_ns)));
            service_ns = drawn_ns < 1 ? 1
                         : drawn_ns > static_cast<double>(max_duration_ns)
                             ? max_duration_ns
                             : static_cast<std::uint64_t>(drawn_ns);
        }
        std::vector<step> steps;
        steps.reserve(ready_before_ > 0 ? 2 : 1);
        if (ready_before_ > 0) {
            steps.push_back(ready_step(ready_before_, 0));
        }
        steps.push_back(compute_step(service_ns));
        return {arrival_ns, 0, store_.make_inline(std::move(steps))};
    }

    std::uint64_t mean_service_ns_ = 0;
    bool exponential_ = true;
    std::uint32_t ready_before_ = 0;
    double mean_gap_ns_ = 0;
};

}  // namespace

const std::vector<generator_kind>& generator_kinds() {
    return kind_table();
}

std::unique_ptr<job_source> make_generator(const std::string& kind,
                                           const std::map<std::string, std::string>& params,
                                           std::uint64_t jobs, std::uint64_t seed) {
    const auto& table = kind_table();
    const auto found = std::find_if(table.begin(), table.end(),
                                    [&](const generator_kind& k) { return k.name == kind; });
    if (found == table.end()) {
        std::vector<std::string> names;
        for (const auto& k : table) {
            names.push_back(k.name);
        }
        throw std::invalid_argument("unknown generator kind '" + kind +
                                    "' (known: " + joined(names, ", ") + ")");
    }
    const param_values values(*found, params);
    if (kind == "chain") {
        return std::make_unique<chain_source>(values, jobs, seed);
    }
    if (kind == "fanout") {
        return std::make_unique<fanout_source>(values, jobs, seed);
    }
    if (kind == "pingpong") {
        return std::make_unique<pingpong_source>(values, jobs, seed);
    }
    if (kind == "mixed") {
        return std::make_unique<mixed_source>(values, jobs, seed);
    }
    if (kind == "pipeline") {
        return std::make_unique<pipeline_source>(values, jobs, seed);
    }
    return std::make_unique<poisson_source>(values, jobs, seed);
}

}  // namespace schedlab::traces
