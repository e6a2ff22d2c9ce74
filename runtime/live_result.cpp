#include "runtime/live_result.hpp"

#include <algorithm>
#include <cmath>

namespace schedlab::runtime {

sim::latency_summary summarize(std::vector<std::uint64_t>& v) {
    sim::latency_summary s;
    s.count = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    long double sum = 0;
    for (auto x : v) sum += x;
    s.mean_ns = static_cast<double>(sum / v.size());
    const auto rank = [&](double q) {
        auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
        return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
    };
    s.p50_ns = rank(0.5);
    s.p90_ns = rank(0.9);
    s.p99_ns = rank(0.99);
    s.p999_ns = rank(0.999);
    s.max_ns = v.back();
    return s;
}

sim::run_result make_live_result(const live_options& o, const io_context& ctx, live_tallies& t) {
    const context_stats& st = ctx.stats();
    sim::run_result r;
    r.pump = ctx.options().pump.to_string();
    r.frames = ctx.options().frames.to_string();
    r.when_all = o.when_all;
    r.costs = "live:" + o.reactor;
    r.workers = o.threads;
    r.jobs_arrived = t.completed;
    r.jobs_completed = t.completed;
    r.first_arrival_ns = 0;
    r.last_completion_ns = t.elapsed_ns;
    r.throughput_jobs_per_s =
        t.elapsed_ns == 0 ? 0 : static_cast<double>(t.completed) * 1e9 / t.elapsed_ns;
    r.latency = summarize(t.latency_ns);
    sim::class_result cl;
    cl.id = 0;
    cl.name = o.workload;
    cl.latency = r.latency;
    r.classes.push_back(cl);
    r.inline_resumes = st.pump.inline_granted;
    r.posted_resumes = st.pump.inline_refused;
    r.queued_items = st.queued_items;
    r.max_inline_streak = st.max_inline_streak;
    r.pump_counters = st.pump;
    r.frames_result.counters = st.frames;
    r.frames_result.peak_outstanding = st.frames_peak_outstanding;
    r.frames_result.outstanding_at_end = st.frames_outstanding_at_end;
    r.frames_result.child_global_trips = t.child_global_trips;
    r.frames_result.stash_arenas = t.stash_arenas;
    r.frames_result.stash_hits = t.stash_hits;
    r.frames_result.stash_overflows = t.stash_overflows;
    r.events = st.queued_items + st.reactor_turns;
    r.busy_ns = 0;
    r.source_stats = {{"live", 1},
                      {"elapsed_ns", t.elapsed_ns},
                      {"reactor_turns", st.reactor_turns},
                      {"reactor_blocking_turns", st.reactor_blocking_turns},
                      {"unassisted_pops", st.unassisted_pops}};
    return r;
}

}  // namespace schedlab::runtime
