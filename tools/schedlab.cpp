// The schedlab command line: generate and import workloads, replay them against policies.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/frame_stash.hpp"
#include "policies/frames.hpp"
#include "policies/pump.hpp"
#include "properties/check_command.hpp"
#include "sim/report.hpp"
#include "sim/simulator.hpp"
#include "tools/cli_numbers.hpp"
#include "tools/commands.hpp"
#include "tools/output_file.hpp"
#include "tools/replay_timeline.hpp"
#include "tools/run_command.hpp"
#include "traces/format.hpp"
#include "traces/generators.hpp"
#include "traces/pcap.hpp"

namespace {

namespace sl = schedlab;

constexpr int exit_ok = 0;
constexpr int exit_violation = 1;  // the workload ran into a liveness failure
constexpr int exit_bad_input = 2;  // bad usage or bad input

// Capture-to-program options, shared by `import pcap` and by `replay` of a capture.
void add_capture_options(CLI::App& cmd, sl::traces::pcap_options& o) {
    cmd.add_option("--stages", o.stages, "Pipeline stages per frame (compute segments)")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_in(1, sl::traces::max_capture_stages));
    cmd.add_option("--base-compute-ns", o.base_compute_ns, "Compute of every stage, ns")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_of<std::uint64_t>());
    cmd.add_option("--per-byte-compute-ps", o.per_byte_compute_ps,
                   "Extra compute per byte of frame length, picoseconds")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_of<std::uint64_t>());
    cmd.add_option("--capacity", o.capacity, "Items each stage channel buffers")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_in(1, 1u << 20));
    cmd.add_option("--consumers", o.consumers, "Consumer coroutines per stage")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_in(1, sl::traces::max_channel_consumers));
}

std::string generator_help() {
    std::string out = "Kinds and their parameters (KEY=VALUE after the kind):\n";
    for (const auto& k : sl::traces::generator_kinds()) {
        out += "  " + k.name + ": " + k.description + "\n";
        for (const auto& p : k.params) {
            out += "      " + p.name + "=" + p.default_value + "  " + p.description + "\n";
        }
    }
    out +=
        "Parameters whose jobs would pass a trace's per-job bounds (2^20 frames, 10^15 ns of "
        "demand, 2^24 operations) are refused.\n";
    return out;
}

struct gen_args {
    std::string kind;
    std::vector<std::string> params;
    std::uint64_t jobs = 1000;
    std::uint64_t seed = 1;
    std::string output;
};

int run_gen(const gen_args& a) {
    std::map<std::string, std::string> params;
    for (const auto& kv : a.params) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw std::invalid_argument("gen: parameter '" + kv + "' is not KEY=VALUE");
        }
        const std::string key = kv.substr(0, eq);
        if (const auto [at, added] = params.emplace(key, kv.substr(eq + 1)); !added) {
            // A second value would otherwise silently replace the first.
            throw std::invalid_argument("gen: parameter '" + key + "' given twice ('" + key + "=" +
                                        at->second + "' and '" + kv + "')");
        }
    }
    auto source = sl::traces::make_generator(a.kind, params, a.jobs, a.seed);
    sl::traces::write_trace(*source, a.output);
    std::cerr << "schedlab: wrote " << a.jobs << " jobs to " << a.output << "\n";
    return exit_ok;
}

struct import_args {
    std::string capture;
    std::string output;
    sl::traces::pcap_options options;
};

int run_import(const import_args& a) {
    auto source = sl::traces::open_capture(a.capture, a.options);
    sl::traces::write_trace(*source, a.output);
    for (const auto& [k, v] : source->stats()) std::cerr << "schedlab: " << k << "=" << v << "\n";
    return exit_ok;
}

struct replay_args {
    std::string input;
    std::string pump = "adaptive";
    std::string frames = "recycling";
    std::string when_all = "shared";
    std::uint32_t workers = 1;
    std::uint64_t seed = 1;
    std::string costs = "default";
    bool json = false;
    bool quiet = false;
    std::string output;
    std::string schedule;
    std::vector<std::string> given;  // of pump, frames, when_all, workers, costs
    sl::traces::pcap_options capture;
};

int run_replay(const replay_args& a) {
    sl::sim::sim_config cfg;
    cfg.pump = sl::policies::pump_spec::parse(a.pump);
    cfg.frames = sl::policies::frames_spec::parse(a.frames);
    cfg.when_all = sl::policies::parse_when_all(a.when_all);
    cfg.workers = a.workers;
    cfg.seed = a.seed;
    cfg.costs = sl::sim::cost_model::load(a.costs);

    // Progress appears only once a replay has run for a second, and only on stderr.
    const auto started = std::chrono::steady_clock::now();
    auto last_shown = started;
    bool shown = false;
    if (!a.quiet) {
        cfg.progress_every_events = 1u << 18;
        cfg.on_progress = [&](const sl::sim::progress& p) {
            const auto now = std::chrono::steady_clock::now();
            if (now - started < std::chrono::seconds(1)) return;
            if (shown && now - last_shown < std::chrono::milliseconds(500)) return;
            last_shown = now;
            shown = true;
            std::fprintf(stderr, "\rreplay: %llu events, %llu jobs done, virtual %.3f s   ",
                         static_cast<unsigned long long>(p.events),
                         static_cast<unsigned long long>(p.jobs_completed),
                         static_cast<double>(p.virtual_ns) / 1e9);
        };
    }
    // A schedule brings its own seed, which replaces --seed: print the one the run uses.
    std::unique_ptr<sl::sim::chooser> follow;
    if (!a.schedule.empty()) follow = sl::properties::apply_schedule(cfg, a.schedule, a.given);
    if (!a.json && !a.quiet) std::printf("seed=%llu\n", static_cast<unsigned long long>(cfg.seed));
    std::fflush(stdout);

    auto source = sl::traces::open_input(a.input, a.capture);
    const sl::tools::replay_timeline timeline(cfg);
    const sl::sim::run_result result = sl::sim::simulate(*source, cfg);
    timeline.write();
    if (shown) std::fprintf(stderr, "\n");

    std::string text;
    if (a.json) {
        text = sl::sim::to_json(result).dump(2) + "\n";
    } else {
        text = "input      " + a.input + "\n" + sl::sim::to_table(result);
    }
    if (a.output.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
        sl::tools::write_file_atomically(a.output, text);
    }
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "schedlab: coroutine scheduler policies (pump, frame allocator, when_all) replayed in "
        "a deterministic simulator, checked by a model checker, run on live reactors and "
        "compared side by side for a reviewer.\n"
        "Exit status: 0 success, 1 the workload could not finish (liveness) or a check found a "
        "violation, 2 bad usage or bad input."};
    app.set_version_flag("--version", "schedlab 0.1.0");
    app.require_subcommand(1);
    app.footer(
        "Examples:\n"
        "  schedlab replay ../shared/data/http_dns_browsing.pcap --workers 2\n"
        "  schedlab gen fanout width=64 --jobs 1000 --seed 7 -o fanout.trace\n"
        "  schedlab replay fanout.trace --when-all private --json\n"
        "  schedlab check hop-storm --pump fixed:1000000 --runs 300\n"
        "  schedlab compare --inputs gen:mixed:jobs=20000 --policies disabled adaptive stash "
        "-o cmp");

    gen_args ga;
    auto* gen = app.add_subcommand("gen", "Generate a workload trace");
    gen->add_option("kind", ga.kind, "Generator kind")->required();
    gen->add_option("params", ga.params, "Generator parameters as KEY=VALUE");
    gen->add_option("--jobs", ga.jobs, "Number of jobs")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_of<std::uint64_t>());
    gen->add_option("--seed", ga.seed, "Seed for every random choice")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_of<std::uint64_t>());
    gen->add_option("-o,--output", ga.output, "Trace file to write")->required();
    gen->footer(generator_help() +
                "Examples:\n"
                "  schedlab gen chain depth=8 --jobs 1000 -o chain.trace\n"
                "  schedlab gen poisson utilization=0.8 service=exp --jobs 100000 -o mm1.trace\n"
                "  schedlab gen mixed rate_per_s=40000 --jobs 20000 --seed 3 -o mixed.trace");

    import_args ia;
    auto* imp = app.add_subcommand("import", "Import a recording as a workload trace");
    imp->require_subcommand(1);
    // Its own examples: a subcommand otherwise shows the top-level footer, replay's and gen's.
    imp->footer(
        "Examples:\n"
        "  schedlab import pcap ../shared/data/tls_browsing.pcap -o tls.trace\n"
        "  schedlab import chrome ../shared/data/chrome_trace_flows.json -o chrome.trace\n"
        "  schedlab import pcap capture.pcapng --stages 4 -o c.trace");
    auto* pcap = imp->add_subcommand(
        "pcap",
        "Every frame of a capture (pcap in either byte order, us or ns timestamps, or pcapng) "
        "becomes a job arriving at its capture time relative to the first frame. A timestamp "
        "earlier than the latest seen is clamped to it and counted (backwards_timestamps).");
    pcap->add_option("capture", ia.capture, "Capture file")->required();
    pcap->add_option("-o,--output", ia.output, "Trace file to write")->required();
    add_capture_options(*pcap, ia.options);
    pcap->footer(
        "Examples:\n"
        "  schedlab import pcap ../shared/data/tls_browsing.pcap -o tls.trace\n"
        "  schedlab import pcap capture.pcapng --stages 4 --per-byte-compute-ps 500 -o c.trace");

    replay_args ra;
    auto* replay = app.add_subcommand(
        "replay",
        "Replay a trace or a capture (recognised by its magic number) under the given policies "
        "on simulated workers sharing one FIFO run queue");
    replay->add_option("input", ra.input, "Trace or capture file")->required();
    replay
        ->add_option("--pump", ra.pump,
                     "disabled | fixed:N | adaptive[:initial=2,max=16,unassisted=4] | "
                     "quota:NS")
        ->capture_default_str();
    replay->add_option("--frames", ra.frames, "heap | recycling[:per_thread=16,take_all=1]")
        ->capture_default_str();
    replay->add_option("--when-all", ra.when_all, "shared | private (a stash sized to the arity)")
        ->capture_default_str();
    replay->add_option("--workers", ra.workers, "Simulated worker threads")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_in(1, 1024));
    replay
        ->add_option("--seed", ra.seed,
                     "Seed for every choice the simulator makes (a --schedule file's own seed "
                     "replaces it)")
        ->capture_default_str()
        ->transform(sl::tools::unsigned_of<std::uint64_t>());
    replay->add_option("--costs", ra.costs, "Overhead model: default | zero | FILE (key = value)")
        ->capture_default_str();
    replay->add_flag("--json", ra.json, "Print one JSON object instead of a table");
    replay->add_flag("-q,--quiet", ra.quiet, "No progress on stderr");
    replay->add_option("-o,--output", ra.output, "Write the result to FILE instead of stdout");
    replay->add_option("--schedule", ra.schedule,
                       "Follow a schedule written by `schedlab check` and judge the run by its "
                       "checks (exit 1 on a violation)");
    add_capture_options(*replay, ra.capture);
    sl::properties::add_check_command(app);
    replay->footer(
        "Examples:\n"
        "  schedlab replay ../shared/data/http_dns_browsing.pcap --workers 2\n"
        "  schedlab replay mixed.trace --pump disabled --json\n"
        "  schedlab replay fanout.trace --frames recycling:per_thread=128 --when-all private\n"
        "  schedlab replay mm1.trace --costs zero --pump disabled --workers 1\n"
        "Limits: one shared FIFO run queue (no work stealing); I/O latencies come from the "
        "workload, not from a device model; cancellation is not modelled.");

    sl::tools::add_run_command(app);
    sl::tools::add_timeline_options(*replay);
    sl::tools::register_compare(app);
    sl::tools::register_merge(app);
    sl::tools::register_import_chrome(*imp);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_bad_input;
    }

    try {
        if (*gen) return run_gen(ga);
        if (*pcap) return run_import(ia);
        if (*replay) {
            const std::pair<const char*, const char*> options[] = {{"--pump", "pump"},
                                                                   {"--frames", "frames"},
                                                                   {"--when-all", "when_all"},
                                                                   {"--workers", "workers"},
                                                                   {"--costs", "costs"}};
            for (const auto& [option, key] : options) {
                if (replay->count(option) > 0) ra.given.emplace_back(key);
            }
            return run_replay(ra);
        }
    } catch (const sl::sim::property_violation& e) {
        std::fprintf(stderr, "schedlab: %s\n", e.what());
        return exit_violation;
    } catch (const sl::traces::input_error& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        return exit_bad_input;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        return exit_bad_input;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        return exit_bad_input;
    }
    return exit_bad_input;
}
