// `schedlab import chrome FILE -o TRACE`.
#include <cstdio>

#include "tools/commands.hpp"
#include "traces/chrome_import.hpp"
#include "traces/format.hpp"

namespace schedlab::tools {

void register_import_chrome(CLI::App& import_command) {
    struct args {
        std::string input, output;
    };
    static args a;
    auto* cmd = import_command.add_subcommand(
        "chrome",
        "A Chrome Trace Event Format recording (chrome://tracing, Perfetto JSON) becomes a "
        "workload: each thread a one-consumer stage, each top-level slice a compute on it, each "
        "flow-linked chain of slices one job that hands off between them (send to another "
        "thread's stage, yield on the same thread)");
    cmd->add_option("trace", a.input, "Chrome trace JSON")->required();
    cmd->add_option("-o,--output", a.output, "Trace file to write")->required();
    cmd->footer(
        "Limits: nested slices count as their parent's time; only a slice's first outgoing "
        "flow continues its job (later ones start new jobs), and a slice reached by several "
        "flows keeps the first; queueing delay between post and run, timer delays, I/O, async "
        "slices, instants and counters are not carried. Counts of everything dropped are "
        "printed on stderr.\n"
        "Example:\n  schedlab import chrome ../shared/data/chrome_trace_flows.json -o "
        "chrome.trace");
    cmd->callback([] {
        int status = 2;
        try {
            auto source = traces::import_chrome_trace(a.input);
            traces::write_trace(*source, a.output);
            for (const auto& [k, v] : source->stats()) {
                std::fprintf(stderr, "schedlab: %s=%llu\n", k.c_str(),
                             static_cast<unsigned long long>(v));
            }
            status = 0;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "schedlab: error: %s\n", e.what());
        }
        std::fflush(stdout);
        std::fflush(stderr);
        std::exit(status);
    });
}

}  // namespace schedlab::tools
