#include "tools/replay_timeline.hpp"

#include <stdexcept>

#include "policies/spec_parse.hpp"
#include "tools/output_file.hpp"

namespace schedlab::tools {

namespace {

// The parsed option values; the replay subcommand exists once per process.
struct timeline_options {
    std::string file;
    std::string window;
};

timeline_options& options() {
    static timeline_options o;
    return o;
}

}  // namespace

void add_timeline_options(CLI::App& replay) {
    auto* file = replay.add_option(
        "--timeline", options().file,
        "Also write the run as a Chrome trace (chrome://tracing, Perfetto): workers as threads, "
        "runs as slices, queue hand-offs as flows, run-queue length and frames outstanding as "
        "counters");
    // A window without a timeline would be ignored without a word.
    replay
        .add_option("--timeline-window", options().window,
                    "FROM_NS:TO_NS of virtual time to keep in the timeline (default: all; a "
                    "long run's full timeline is large)")
        ->needs(file);
}

sim::chrome_timeline::window parse_window(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("--timeline-window: expected FROM_NS:TO_NS, got '" + text +
                                    "'");
    }
    sim::chrome_timeline::window w;
    using policies::detail::parse_uint;
    w.from_ns = parse_uint(std::string_view(text).substr(0, colon), "--timeline-window FROM_NS", 0,
                           UINT64_MAX);
    w.to_ns = parse_uint(std::string_view(text).substr(colon + 1), "--timeline-window TO_NS",
                         w.from_ns, UINT64_MAX);
    return w;
}

std::vector<std::pair<std::string, std::string>> timeline_meta(const sim::sim_config& cfg,
                                                               sim::chrome_timeline::window w) {
    std::vector<std::pair<std::string, std::string>> meta;
    meta.emplace_back("pump", cfg.pump.to_string());
    meta.emplace_back("frames", cfg.frames.to_string());
    meta.emplace_back("when_all", policies::to_string(cfg.when_all));
    meta.emplace_back("workers", std::to_string(cfg.workers));
    meta.emplace_back("seed", std::to_string(cfg.seed));
    meta.emplace_back("window_ns", std::to_string(w.from_ns) + ":" + std::to_string(w.to_ns));
    return meta;
}

replay_timeline::replay_timeline(sim::sim_config& cfg) : cfg_(cfg) {
    if (options().file.empty()) return;
    if (!options().window.empty()) window_ = parse_window(options().window);
    timeline_ = std::make_unique<sim::chrome_timeline>(cfg.workers, window_);
    cfg.observer = timeline_.get();
}

void replay_timeline::write() const {
    if (!timeline_) return;
    write_file_atomically(options().file, timeline_->to_json(timeline_meta(cfg_, window_)));
}

}  // namespace schedlab::tools
