#include "tools/run_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "runtime/workloads.hpp"
#include "sim/report.hpp"
#include "tools/cli_numbers.hpp"
#include "tools/output_file.hpp"
#include "traces/trace.hpp"

namespace schedlab::tools {

namespace {

// The exit statuses every subcommand documents.
constexpr int exit_not_finished = 1;
constexpr int exit_bad_input = 2;

struct run_args {
    runtime::live_options live;
    bool json = false;
    std::string output;
};

// A client started by hand (wrk, curl) needs the port, which --port 0 leaves to the system.
void announce_serving(std::uint16_t port, double duration_s) {
    std::fprintf(stderr, "schedlab: serving http on 127.0.0.1:%u for %g s\n",
                 static_cast<unsigned>(port), duration_s);
    std::fflush(stderr);
}

int run(const run_args& a) {
    try {
        if (!a.output.empty()) check_output_path("--output", a.output);
        if (!a.live.record.empty()) check_output_path("--record", a.live.record);
        const sim::run_result r = runtime::run_live(a.live, &announce_serving);
        std::string text = a.json ? sim::to_json(r).dump(2) + "\n"
                                  : "workload   " + a.live.workload + " on " + a.live.reactor +
                                        "\n" + sim::to_table(r, true);
        if (a.output.empty()) {
            std::fwrite(text.data(), 1, text.size(), stdout);
        } else {
            write_file_atomically(a.output, text);
        }
        if (!a.live.record.empty()) {
            std::fprintf(stderr, "schedlab: recorded the run to %s\n", a.live.record.c_str());
        }
        return 0;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        return exit_bad_input;
    } catch (const traces::input_error& e) {
        std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        return exit_bad_input;
    } catch (const std::exception& e) {
        // The system refused something mid-run (a socket, the reactor, the EAL).
        std::fprintf(stderr, "schedlab: error: the run could not finish: %s\n", e.what());
        return exit_not_finished;
    }
}

}  // namespace

void add_run_command(CLI::App& app) {
    auto args = std::make_shared<run_args>();
    auto& o = args->live;
    auto* cmd = app.add_subcommand(
        "run",
        "Run a workload on the live runtime (real threads, a real reactor, the same policies "
        "the simulator replays) and report it in replay's shape");
    cmd->add_option("workload", o.workload, "chain | fanout | pingpong | http | pipeline")
        ->required()
        ->check(CLI::IsMember({"chain", "fanout", "pingpong", "http", "pipeline"}));
    cmd->add_option("--reactor", o.reactor, "epoll | io_uring | dpdk (pipeline only)")
        ->capture_default_str()
        ->check(CLI::IsMember({"epoll", "io_uring", "dpdk"}));
    cmd->add_option("--threads", o.threads, "io_context threads")
        ->capture_default_str()
        ->transform(unsigned_in(1, 256));
    cmd->add_option("--pump", o.pump,
                    "disabled | fixed:N | adaptive[:initial=2,max=16,unassisted=4] | quota:NS")
        ->capture_default_str();
    cmd->add_option("--frames", o.frames, "heap | recycling[:per_thread=16,take_all=1]")
        ->capture_default_str();
    cmd->add_option("--when-all", o.when_all, "shared | private")->capture_default_str();
    cmd->add_option("--duration", o.duration_s, "Seconds to issue new jobs for")
        ->capture_default_str()
        ->check(CLI::Range(0.001, 3600.0));
    cmd->add_option("--jobs", o.jobs, "Stop after this many jobs too (0: no limit)")
        ->capture_default_str()
        ->transform(unsigned_of<std::uint64_t>());
    cmd->add_option("--concurrency", o.concurrency,
                    "Jobs in flight (clients, connections; pipeline: consumers per stage); "
                    "0: 2 per thread (pipeline: 1 per thread)")
        ->capture_default_str()
        ->transform(unsigned_of<std::uint32_t>());
    cmd->add_option("--depth", o.depth, "chain: nested calls")
        ->capture_default_str()
        ->transform(unsigned_in(1, 64));
    cmd->add_option("--width", o.width, "fanout: children per when_all")
        ->capture_default_str()
        ->transform(unsigned_in(1, 4096));
    cmd->add_option("--ops", o.ops, "chain, fanout: socket round trips per leaf")
        ->capture_default_str()
        ->transform(unsigned_in(1, 1u << 20));
    cmd->add_option("--bytes", o.message_bytes, "pingpong: message size")
        ->capture_default_str()
        ->transform(unsigned_in(1, 1u << 20));
    cmd->add_option("--port", o.port,
                    "http, pingpong: port on 127.0.0.1 to listen on (0: any free port, "
                    "announced on stderr with --serve)")
        ->capture_default_str()
        ->transform(unsigned_of<std::uint16_t>());
    cmd->add_flag("--serve", o.serve,
                  "http: serve outside clients (wrk, curl) for --duration seconds, or until "
                  "--jobs requests, without the built-in load generator; jobs are requests, "
                  "latency is the service time from request head to response sent");
    cmd->add_option("--pcap", o.pcap,
                    "pipeline only: capture fed through the pcap PMD, read whole first so a "
                    "damaged one is refused (default: the null PMD)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--dpdk-prefix", o.dpdk_prefix, "pipeline: EAL --file-prefix")
        ->capture_default_str();
    cmd->add_option("--record", o.record, "Write the observed demand as a trace replay reads");
    cmd->add_flag("--json", args->json, "Print one JSON object (replay's keys)");
    cmd->add_option("-o,--output", args->output, "Write the result to FILE instead of stdout");
    cmd->footer(
        "Examples:\n"
        "  schedlab run chain --reactor epoll --threads 2 --duration 1 --json\n"
        "  schedlab run fanout --when-all private --width 64 --duration 0.5\n"
        "  schedlab run pingpong --reactor io_uring --threads 2 --record pp.trace\n"
        "  schedlab run pipeline --reactor dpdk --pcap ../shared/data/http_dns_browsing.pcap\n"
        "  schedlab run http --serve --port 8080 --threads 2 --duration 10 --json &\n"
        "    wrk -t2 -c16 -d5s http://127.0.0.1:8080/index.html\n"
        "Only loopback addresses are used: the server binds 127.0.0.1 alone. It answers GET "
        "/index.html with 1024 bytes (anything else with 404), one request at a time per "
        "connection (no pipelining); with --serve, connections still open when the run ends "
        "are shut down. Latency is measured per job from issue to completion; queue waits "
        "are not measured live (queue_wait_ns is zero).\n"
        "Limits: every socket must fit RLIMIT_NOFILE's hard limit (the soft limit is raised to "
        "it): two descriptors per --concurrency (fanout: per --concurrency times --width); "
        "pingpong and http need a local port per connection too. A run above either, an "
        "output directory that does not exist or cannot be written, or a damaged --pcap is "
        "refused before it starts.\n"
        "Exit status: 0 success, 1 the run could not finish (the system refused a socket, the "
        "reactor or the EAL mid-run), 2 bad usage or bad input.");
    cmd->callback([args] {
        const int rc = run(*args);
        std::fflush(stdout);
        std::fflush(stderr);
        std::exit(rc);
    });
}

}  // namespace schedlab::tools
