#include "sim/report.hpp"

#include <cstdio>

namespace schedlab::sim {

namespace {

nlohmann::ordered_json latency_json(const latency_summary& l) {
    nlohmann::ordered_json j;
    j["mean"] = l.mean_ns;
    j["p50"] = l.p50_ns;
    j["p90"] = l.p90_ns;
    j["p99"] = l.p99_ns;
    j["p999"] = l.p999_ns;
    j["max"] = l.max_ns;
    return j;
}

std::string fmt_ns(double ns) {
    char buf[64];
    if (ns >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.3f s", ns / 1e9);
    } else if (ns >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.3f ms", ns / 1e6);
    } else if (ns >= 1e3) {
        std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f ns", ns);
    }
    return buf;
}

}  // namespace

nlohmann::ordered_json to_json(const run_result::exhaustion_note& n) {
    if (!n.seen) return nullptr;
    nlohmann::ordered_json j;
    j["worker"] = n.worker;
    j["size_class_bytes"] = policies::frame_class_bytes(n.size_class);
    j["job"] =
        n.job == UINT64_MAX ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(n.job);
    j["time_ns"] = n.time_ns;
    return j;
}

std::string describe(const run_result::exhaustion_note& n) {
    if (!n.seen) return "none";
    return "worker " + std::to_string(n.worker) + ", size class " +
           std::to_string(policies::frame_class_bytes(n.size_class)) + " bytes, " +
           (n.job == UINT64_MAX ? std::string("no job") : "job " + std::to_string(n.job)) +
           ", at " + std::to_string(n.time_ns) + " ns";
}

nlohmann::ordered_json to_json(const run_result& r) {
    nlohmann::ordered_json j;
    j["seed"] = r.seed;
    j["policies"] = {{"pump", r.pump}, {"frames", r.frames}, {"when_all", r.when_all}};
    j["workers"] = r.workers;
    j["costs"] = r.costs;
    j["jobs_arrived"] = r.jobs_arrived;
    j["jobs_completed"] = r.jobs_completed;
    j["throughput_jobs_per_s"] = r.throughput_jobs_per_s;
    j["latency_ns"] = latency_json(r.latency);
    j["queue_wait_ns"] = {{"mean", r.queue_wait.mean_ns},
                          {"p50", r.queue_wait.p50_ns},
                          {"p99", r.queue_wait.p99_ns},
                          {"max", r.queue_wait.max_ns}};
    j["inline_resumes"] = r.inline_resumes;
    j["posted_resumes"] = r.posted_resumes;
    j["queued_items"] = r.queued_items;
    j["max_inline_streak"] = r.max_inline_streak;
    const auto& p = r.pump_counters;
    j["pump"] = {{"cycles", p.cycles},
                 {"budget_exhausted", p.budget_exhausted},
                 {"unassisted_capped", p.unassisted_capped},
                 {"cap_doubled", p.cap_doubled},
                 {"cap_reset", p.cap_reset}};
    const auto& f = r.frames_result;
    const auto& c = f.counters;
    j["frames"] = {{"allocations", c.allocations},
                   {"local_hits", c.local_hits},
                   {"global_trips", c.global_trips},
                   {"blocks_moved", c.blocks_moved},
                   {"global_returns", c.global_returns},
                   {"heap_fallbacks", c.heap_fallbacks},
                   {"oversize", c.oversize},
                   {"peak_outstanding", f.peak_outstanding},
                   {"outstanding_at_end", f.outstanding_at_end},
                   {"lock_waits", f.lock_waits},
                   {"lock_wait_ns", f.lock_wait_ns},
                   {"child_global_trips", f.child_global_trips},
                   {"fanouts_with_child_trips", f.fanouts_with_child_trips},
                   {"stash_arenas", f.stash_arenas},
                   {"stash_hits", f.stash_hits},
                   {"stash_overflows", f.stash_overflows},
                   {"first_global_trip", to_json(r.first_global_trip)},
                   {"first_heap_fallback", to_json(r.first_heap_fallback)}};
    auto classes = nlohmann::ordered_json::array();
    for (const auto& cl : r.classes) {
        nlohmann::ordered_json e;
        e["id"] = cl.id;
        e["name"] = cl.name;
        e["jobs"] = cl.latency.count;
        e["latency_ns"] = latency_json(cl.latency);
        classes.push_back(e);
    }
    j["classes"] = classes;
    nlohmann::ordered_json src = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.source_stats) src[k] = v;
    j["source"] = src;
    j["events"] = r.events;
    j["virtual_span_ns"] = r.last_completion_ns - r.first_arrival_ns;
    j["busy_ns"] = r.busy_ns;
    j["event_hash"] = r.event_hash;
    j["final_draw"] = r.final_draw;
    return j;
}

std::string to_table(const run_result& r, bool live) {
    std::string out;
    char line[256];
    const auto add = [&](const char* fmt, auto... args) {
        std::snprintf(line, sizeof line, fmt, args...);
        out += line;
    };
    if (live) {
        add("policies   pump=%s frames=%s when_all=%s threads=%u\n", r.pump.c_str(),
            r.frames.c_str(), r.when_all.c_str(), r.workers);
    } else {
        add("policies   pump=%s frames=%s when_all=%s workers=%u costs=%s\n", r.pump.c_str(),
            r.frames.c_str(), r.when_all.c_str(), r.workers, r.costs.c_str());
    }
    add("jobs       %llu completed of %llu arrived, %.1f jobs/s over %s %s\n",
        static_cast<unsigned long long>(r.jobs_completed),
        static_cast<unsigned long long>(r.jobs_arrived), r.throughput_jobs_per_s,
        fmt_ns(static_cast<double>(r.last_completion_ns - r.first_arrival_ns)).c_str(),
        live ? "elapsed" : "virtual");
    out += "\n";
    add("%-12s %8s %10s %10s %10s %10s %10s %10s\n", "class", "jobs", "mean", "p50", "p90", "p99",
        "p99.9", "max");
    const auto row = [&](const std::string& name, const latency_summary& l) {
        add("%-12s %8llu %10s %10s %10s %10s %10s %10s\n", name.c_str(),
            static_cast<unsigned long long>(l.count), fmt_ns(l.mean_ns).c_str(),
            fmt_ns(static_cast<double>(l.p50_ns)).c_str(),
            fmt_ns(static_cast<double>(l.p90_ns)).c_str(),
            fmt_ns(static_cast<double>(l.p99_ns)).c_str(),
            fmt_ns(static_cast<double>(l.p999_ns)).c_str(),
            fmt_ns(static_cast<double>(l.max_ns)).c_str());
    };
    row("all", r.latency);
    for (const auto& c : r.classes) {
        if (c.latency.count > 0) row(c.name, c.latency);
    }
    if (!live) row("queue wait", r.queue_wait);
    out += "\n";
    const double resumes = static_cast<double>(r.inline_resumes + r.posted_resumes);
    add("pump       %llu inline, %llu posted (%.1f%% inline), longest inline run while work "
        "waited: %llu\n",
        static_cast<unsigned long long>(r.inline_resumes),
        static_cast<unsigned long long>(r.posted_resumes),
        resumes > 0 ? 100.0 * static_cast<double>(r.inline_resumes) / resumes : 0.0,
        static_cast<unsigned long long>(r.max_inline_streak));
    add("           %llu budgets exhausted, %llu unassisted caps applied\n",
        static_cast<unsigned long long>(r.pump_counters.budget_exhausted),
        static_cast<unsigned long long>(r.pump_counters.unassisted_capped));
    const auto& f = r.frames_result;
    add("frames     %llu allocations: %llu local hits, %llu global trips, %llu heap fallbacks, "
        "peak %lld outstanding\n",
        static_cast<unsigned long long>(f.counters.allocations),
        static_cast<unsigned long long>(f.counters.local_hits),
        static_cast<unsigned long long>(f.counters.global_trips),
        static_cast<unsigned long long>(f.counters.heap_fallbacks),
        static_cast<long long>(f.peak_outstanding));
    if (live) {
        add("           %llu trips for when_all children, %llu stash arenas\n",
            static_cast<unsigned long long>(f.child_global_trips),
            static_cast<unsigned long long>(f.stash_arenas));
    } else {
        add("           %llu lock waits (%s), %llu trips for when_all children, %llu stash "
            "arenas\n",
            static_cast<unsigned long long>(f.lock_waits),
            fmt_ns(static_cast<double>(f.lock_wait_ns)).c_str(),
            static_cast<unsigned long long>(f.child_global_trips),
            static_cast<unsigned long long>(f.stash_arenas));
        out += "           first global trip: " + describe(r.first_global_trip) + "\n";
        out += "           first heap fallback: " + describe(r.first_heap_fallback) + "\n";
    }
    for (const auto& [k, v] : r.source_stats) {
        add("source     %s = %llu\n", k.c_str(), static_cast<unsigned long long>(v));
    }
    if (live) {
        // A live run is not deterministic: there is no event log to hash and no draw.
        add("events     %llu (queued handlers and reactor turns)\n",
            static_cast<unsigned long long>(r.events));
    } else {
        add("events     %llu, event_hash=%s final_draw=%016llx\n",
            static_cast<unsigned long long>(r.events), r.event_hash.c_str(),
            static_cast<unsigned long long>(r.final_draw));
    }
    return out;
}

}  // namespace schedlab::sim
