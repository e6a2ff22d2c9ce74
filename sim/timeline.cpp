#include "sim/timeline.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace schedlab::sim {

namespace {

enum name_index : std::uint8_t {
    n_run_posted,
    n_run_reactor,
    n_start_job,
    n_compute,
    n_inline,
    n_job_done,
    n_reactor_completion,
    n_flow_posted,
    n_flow_reactor,
    n_run_queue,
    n_frames,
};

constexpr const char* names[] = {
    "run posted item",    "run reactor item", "start job", "compute",   "inline resume", "job done",
    "reactor completion", "posted",           "reactor",   "run queue", "frames",
};

// Microseconds with three decimals, from integer nanoseconds, so no rounding varies.
void append_us(std::string& out, std::uint64_t ns) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                  static_cast<unsigned long long>(ns % 1000));
    out += buf;
}

void append_u64(std::string& out, std::uint64_t v) {
    out += std::to_string(v);
}

}  // namespace

chrome_timeline::chrome_timeline(std::uint32_t workers, window w)
    : workers_(workers), win_(w), open_(workers), popped_(workers, {0, 0}) {}

std::uint32_t chrome_timeline::tid_of(std::uint32_t worker) const noexcept {
    // Workers are threads 1..N; the reactor is the thread after them.
    return worker == UINT32_MAX || worker >= workers_ ? workers_ + 1 : worker + 1;
}

void chrome_timeline::close_slice(std::uint32_t worker, std::uint64_t end_ns) {
    open_slice& s = open_[worker];
    s.open = false;
    const bool overlaps = s.begin_ns <= win_.to_ns && end_ns >= win_.from_ns;
    if (overlaps) {
        record b;
        b.ph = 'B';
        b.ts_ns = s.begin_ns;
        b.tid = tid_of(worker);
        b.id = s.job;
        b.value = s.wait_ns;
        b.name = s.job != 0 ? n_start_job : s.from_reactor ? n_run_reactor : n_run_posted;
        out_.push_back(b);
        out_.insert(out_.end(), s.inner.begin(), s.inner.end());
        record e = b;
        e.ph = 'E';
        e.ts_ns = end_ns;
        out_.push_back(e);
        ++slices_kept_;
    }
    s.inner.clear();
}

void chrome_timeline::on_event(const sim_event& e) {
    const bool worker_event = e.worker < workers_;
    switch (e.kind) {
        case sim_event_kind::popped:
            if (worker_event) popped_[e.worker] = {e.id, e.value};
            return;
        case sim_event_kind::slice_begin: {
            if (!worker_event) return;
            if (open_[e.worker].open) close_slice(e.worker, e.time_ns);
            open_slice& s = open_[e.worker];
            s.open = true;
            s.begin_ns = e.time_ns;
            s.job = e.id;
            s.from_reactor = e.value != 0;
            s.flow = popped_[e.worker].first;
            s.wait_ns = popped_[e.worker].second;
            popped_[e.worker] = {0, 0};
            // The finish of the flow that brought this item, bound to the slice it opens.
            const auto it = s.flow != 0 ? flow_started_.find(s.flow) : flow_started_.end();
            if (it != flow_started_.end()) {
                if (in_window(e.time_ns)) {
                    it->second.finished = true;
                    ++flows_kept_;
                    record f;
                    f.ph = 'f';
                    f.name = it->second.name;
                    f.ts_ns = e.time_ns;
                    f.tid = tid_of(e.worker);
                    f.id = s.flow;
                    s.inner.push_back(f);
                } else {
                    flow_started_.erase(it);
                }
            }
            return;
        }
        case sim_event_kind::slice_end:
            if (worker_event && open_[e.worker].open) close_slice(e.worker, e.time_ns);
            return;
        case sim_event_kind::compute_begin:
        case sim_event_kind::inline_resume:
        case sim_event_kind::job_done: {
            if (!worker_event || !open_[e.worker].open) return;
            record r;
            r.tid = tid_of(e.worker);
            r.ts_ns = e.time_ns;
            if (e.kind == sim_event_kind::compute_begin) {
                r.ph = 'X';
                r.name = n_compute;
                r.dur_ns = e.value;
            } else {
                r.ph = 'i';
                r.name = e.kind == sim_event_kind::inline_resume ? n_inline : n_job_done;
                r.id = e.id;
                r.value = e.value;
            }
            open_[e.worker].inner.push_back(r);
            return;
        }
        case sim_event_kind::posted: {
            if (!in_window(e.time_ns)) return;
            record s;
            s.ph = 's';
            s.ts_ns = e.time_ns;
            s.id = e.id;
            if (worker_event) {
                // A post from a worker happens inside the slice that made it.
                if (!open_[e.worker].open) return;
                s.tid = tid_of(e.worker);
                s.name = n_flow_posted;
                open_[e.worker].inner.push_back(s);
            } else {
                // The reactor has no slices of its own: each completion gets one, 1 ns wide,
                // so that its flow has a slice to start from.
                record mark;
                mark.ph = 'X';
                mark.name = n_reactor_completion;
                mark.ts_ns = e.time_ns;
                mark.dur_ns = 1;
                mark.tid = tid_of(UINT32_MAX);
                mark.id = e.id;
                out_.push_back(mark);
                s.tid = mark.tid;
                s.name = n_flow_reactor;
                out_.push_back(s);
            }
            flow_started_.emplace(e.id, flow_state{false, s.name});
            return;
        }
        case sim_event_kind::queue_length:
        case sim_event_kind::frames_outstanding: {
            if (!in_window(e.time_ns)) return;
            record c;
            c.ph = 'C';
            c.ts_ns = e.time_ns;
            c.tid = 0;
            c.name = e.kind == sim_event_kind::queue_length ? n_run_queue : n_frames;
            c.value = e.value;
            out_.push_back(c);
            return;
        }
    }
}

std::string chrome_timeline::to_json(
    const std::vector<std::pair<std::string, std::string>>& meta) const {
    std::vector<record> events = out_;
    // A slice still open when the run ended closes at its last inner event.
    for (std::uint32_t w = 0; w < workers_; ++w) {
        const open_slice& s = open_[w];
        if (!s.open) continue;
        std::uint64_t end = s.begin_ns;
        for (const auto& r : s.inner) end = std::max(end, r.ts_ns + r.dur_ns);
        if (s.begin_ns > win_.to_ns || end < win_.from_ns) continue;
        record b;
        b.ph = 'B';
        b.ts_ns = s.begin_ns;
        b.tid = tid_of(w);
        b.name = s.job != 0 ? n_start_job : s.from_reactor ? n_run_reactor : n_run_posted;
        events.push_back(b);
        events.insert(events.end(), s.inner.begin(), s.inner.end());
        b.ph = 'E';
        b.ts_ns = end;
        events.push_back(b);
    }
    // Each thread's events are already in time order; a stable sort merges the threads without
    // reordering events of one thread that share a timestamp.
    std::stable_sort(events.begin(), events.end(),
                     [](const record& a, const record& b) { return a.ts_ns < b.ts_ns; });

    std::string out;
    out.reserve(events.size() * 96 + 1024);
    out += "{\"traceEvents\":[\n";
    const auto thread_meta = [&](std::uint32_t tid, const std::string& name) {
        out += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":";
        append_u64(out, tid);
        out += ",\"args\":{\"name\":\"" + name + "\"}},\n";
        out += "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":";
        append_u64(out, tid);
        out += ",\"args\":{\"sort_index\":";
        append_u64(out, tid);
        out += "}},\n";
    };
    out +=
        "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
        "\"args\":{\"name\":\"schedlab simulation\"}},\n";
    for (std::uint32_t w = 0; w < workers_; ++w) thread_meta(w + 1, "worker " + std::to_string(w));
    thread_meta(workers_ + 1, "reactor");

    bool first = true;
    for (const auto& r : events) {
        if ((r.ph == 's' || r.ph == 'f')) {
            const auto it = flow_started_.find(r.id);
            if (it == flow_started_.end() || !it->second.finished) continue;
        }
        if (!first) out += ",\n";
        first = false;
        out += "{\"name\":\"";
        out += names[r.name];
        out += "\",\"ph\":\"";
        out += r.ph;
        out += "\",\"ts\":";
        append_us(out, r.ts_ns);
        out += ",\"pid\":1,\"tid\":";
        append_u64(out, r.tid);
        switch (r.ph) {
            case 'X':
                out += ",\"dur\":";
                append_us(out, r.dur_ns);
                out += ",\"cat\":\"sim\"";
                if (r.name == n_reactor_completion) {
                    out += ",\"args\":{\"item\":";
                    append_u64(out, r.id);
                    out += "}";
                }
                break;
            case 'B':
                out += ",\"cat\":\"sim\",\"args\":{";
                if (r.name == n_start_job) {
                    out += "\"job\":";
                    append_u64(out, r.id);
                    out += ",";
                }
                out += "\"queue_wait_ns\":";
                append_u64(out, r.value);
                out += "}";
                break;
            case 'i':
                out += ",\"s\":\"t\",\"cat\":\"sim\"";
                if (r.name == n_job_done) {
                    out += ",\"args\":{\"job\":";
                    append_u64(out, r.id);
                    out += ",\"latency_ns\":";
                    append_u64(out, r.value);
                    out += "}";
                }
                break;
            case 'C':
                out +=
                    r.name == n_run_queue ? ",\"args\":{\"items\":" : ",\"args\":{\"outstanding\":";
                append_u64(out, r.value);
                out += "}";
                break;
            case 's':
            case 'f':
                // Both ends carry the same name and category: viewers match flows on them.
                out += ",\"cat\":\"flow\",\"id\":";
                append_u64(out, r.id);
                if (r.ph == 'f') out += ",\"bp\":\"e\"";
                break;
            default:
                break;
        }
        out += "}";
    }
    out += "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{";
    bool first_meta = true;
    for (const auto& [k, v] : meta) {
        if (!first_meta) out += ",";
        first_meta = false;
        out += nlohmann::json(k).dump() + ":" + nlohmann::json(v).dump();
    }
    out += "}}\n";
    return out;
}

}  // namespace schedlab::sim
