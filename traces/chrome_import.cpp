#include "traces/chrome_import.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "traces/format.hpp"

namespace schedlab::traces {

namespace {

using json = nlohmann::json;

struct thread_key {
    std::string pid, tid;
    bool operator<(const thread_key& o) const {
        return std::tie(pid, tid) < std::tie(o.pid, o.tid);
    }
};

struct slice {
    std::uint64_t begin_ns = 0, end_ns = 0;
    std::size_t thread = 0;
    std::size_t order = 0;   // position in the file, to break ties of equal begin times
    std::int64_t next = -1;  // the slice the job continues to
    bool has_prev = false;
    bool has_next = false;
};

struct flow_end {
    std::size_t thread;
    std::uint64_t ts_ns;
    bool enclosing;
};

class vector_source final : public job_source {
public:
    vector_source(workload_header h, std::vector<job> jobs,
                  std::vector<std::pair<std::string, std::uint64_t>> stats)
        : header_(std::move(h)), jobs_(std::move(jobs)), stats_(std::move(stats)) {}
    const workload_header& header() const override { return header_; }
    std::optional<job> next() override {
        if (next_ == jobs_.size()) return std::nullopt;
        return jobs_[next_++];
    }
    std::vector<std::pair<std::string, std::uint64_t>> stats() const override { return stats_; }

private:
    workload_header header_;
    std::vector<job> jobs_;
    std::size_t next_ = 0;
    std::vector<std::pair<std::string, std::uint64_t>> stats_;
};

std::string id_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
    return {};
}

std::string text_field(const json& e, const char* name) {
    const auto it = e.find(name);
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::unique_ptr<job_source> import_chrome_trace(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw input_error(path, "", "file", "a readable Chrome trace (JSON)");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw input_error(path, "byte " + std::to_string(e.byte), "json", "valid JSON");
    }
    const json* events = &doc;
    if (doc.is_object()) {
        if (!doc.contains("traceEvents") || !doc.at("traceEvents").is_array()) {
            throw input_error(path, "top level", "traceEvents", "an array of events");
        }
        events = &doc.at("traceEvents");
    } else if (!doc.is_array()) {
        throw input_error(path, "top level", "traceEvents", "an object or an array of events");
    }

    std::map<thread_key, std::size_t> thread_index;
    std::vector<thread_key> threads;
    std::vector<std::vector<slice>> slices;  // per thread, in order of their end
    std::vector<std::vector<std::pair<std::uint64_t, std::size_t>>> open;  // begin, depth
    struct flow_start {
        std::size_t thread;
        std::uint64_t ts_ns;
    };
    std::map<std::string, std::vector<flow_start>> pending;  // started flows, by key
    std::vector<std::pair<flow_start, flow_end>> flows;
    std::uint64_t nested = 0, unmatched_end = 0, unmatched_finish = 0, ignored = 0;
    std::size_t order = 0;

    const auto thread_of = [&](const thread_key& k) {
        auto [it, added] = thread_index.emplace(k, threads.size());
        if (added) {
            threads.push_back(k);
            slices.emplace_back();
            open.emplace_back();
        }
        return it->second;
    };

    for (std::size_t n = 0; n < events->size(); ++n) {
        const json& e = (*events)[n];
        const std::string where = "event " + std::to_string(n);
        if (!e.is_object()) throw input_error(path, where, "event", "an object");
        if (!e.contains("ph") || !e.at("ph").is_string() ||
            e.at("ph").get<std::string>().size() != 1) {
            throw input_error(path, where, "ph", "a one-letter phase");
        }
        const char ph = e.at("ph").get<std::string>()[0];
        if (ph == 'M') continue;
        if (ph != 'B' && ph != 'E' && ph != 'X' && ph != 's' && ph != 'f' && ph != 't') {
            ++ignored;
            continue;
        }
        if (!e.contains("ts") || !e.at("ts").is_number() || e.at("ts").get<double>() < 0) {
            throw input_error(path, where, "ts", "a non-negative number of microseconds");
        }
        const auto ts_ns =
            static_cast<std::uint64_t>(std::llround(e.at("ts").get<double>() * 1000));
        for (const char* f : {"pid", "tid"}) {
            if (!e.contains(f) || id_text(e.at(f)).empty()) {
                throw input_error(path, where, f, "an integer or a string");
            }
        }
        const std::size_t t = thread_of({id_text(e.at("pid")), id_text(e.at("tid"))});
        auto& stack = open[t];
        if (ph == 'B') {
            stack.emplace_back(ts_ns, order++);
        } else if (ph == 'E') {
            if (stack.empty()) {
                ++unmatched_end;
                continue;
            }
            const auto [begin, ord] = stack.back();
            stack.pop_back();
            if (ts_ns < begin) throw input_error(path, where, "ts", "an end after its begin");
            if (!stack.empty()) {
                ++nested;
                continue;
            }
            slices[t].push_back({begin, ts_ns, t, ord});
        } else if (ph == 'X') {
            if (!e.contains("dur") || !e.at("dur").is_number() || e.at("dur").get<double>() < 0) {
                throw input_error(path, where, "dur", "a non-negative number of microseconds");
            }
            const auto dur =
                static_cast<std::uint64_t>(std::llround(e.at("dur").get<double>() * 1000));
            if (!stack.empty()) {
                ++nested;
                continue;
            }
            slices[t].push_back({ts_ns, ts_ns + dur, t, order++});
        } else {
            if (!e.contains("id") || id_text(e.at("id")).empty()) {
                throw input_error(path, where, "id", "a flow id (string or integer)");
            }
            const std::string key = text_field(e, "cat") + "\x1f" + text_field(e, "name") + "\x1f" +
                                    id_text(e.at("id"));
            if (ph == 's') {
                pending[key].push_back({t, ts_ns});
            } else if (ph == 'f') {
                auto it = pending.find(key);
                if (it == pending.end() || it->second.empty()) {
                    ++unmatched_finish;
                    continue;
                }
                // Ids are reused once a flow ends: the finish closes the oldest open start.
                const flow_start s = it->second.front();
                it->second.erase(it->second.begin());
                const bool enclosing = e.contains("bp") && e.at("bp") == "e";
                flows.push_back({s, {t, ts_ns, enclosing}});
            }
        }
    }
    std::uint64_t open_at_end = 0, unfinished_flows = 0;
    for (const auto& st : open) open_at_end += st.size();
    for (const auto& [k, v] : pending) unfinished_flows += v.size();

    // Slices of each thread in time order; top-level slices of one thread do not overlap.
    for (auto& list : slices) {
        std::sort(list.begin(), list.end(), [](const slice& a, const slice& b) {
            return std::tie(a.begin_ns, a.order) < std::tie(b.begin_ns, b.order);
        });
    }
    const auto enclosing = [&](std::size_t t, std::uint64_t ts) -> std::int64_t {
        const auto& list = slices[t];
        auto it = std::upper_bound(list.begin(), list.end(), ts,
                                   [](std::uint64_t v, const slice& s) { return v < s.begin_ns; });
        if (it == list.begin()) return -1;
        --it;
        return ts <= it->end_ns ? it - list.begin() : -1;
    };
    const auto next_from = [&](std::size_t t, std::uint64_t ts) -> std::int64_t {
        const auto& list = slices[t];
        auto it = std::lower_bound(list.begin(), list.end(), ts,
                                   [](const slice& s, std::uint64_t v) { return s.begin_ns < v; });
        return it == list.end() ? -1 : it - list.begin();
    };

    // Global slice ids: thread-major offsets.
    std::vector<std::size_t> offset(threads.size() + 1, 0);
    for (std::size_t t = 0; t < threads.size(); ++t) offset[t + 1] = offset[t] + slices[t].size();
    const auto at = [&](std::size_t id) -> slice& {
        const auto t = static_cast<std::size_t>(std::upper_bound(offset.begin(), offset.end(), id) -
                                                offset.begin() - 1);
        return slices[t][id - offset[t]];
    };
    std::uint64_t flows_linked = 0, flows_unbound = 0, flows_forked = 0, flows_joined = 0;
    // In order of the post, so a slice's first outgoing flow is the earliest one.
    std::stable_sort(flows.begin(), flows.end(),
                     [](const auto& a, const auto& b) { return a.first.ts_ns < b.first.ts_ns; });
    for (const auto& [s, f] : flows) {
        const std::int64_t from = enclosing(s.thread, s.ts_ns);
        const std::int64_t to =
            f.enclosing ? enclosing(f.thread, f.ts_ns) : next_from(f.thread, f.ts_ns);
        if (from < 0 || to < 0) {
            ++flows_unbound;
            continue;
        }
        slice& a = slices[s.thread][static_cast<std::size_t>(from)];
        slice& b = slices[f.thread][static_cast<std::size_t>(to)];
        const std::size_t b_id = offset[f.thread] + static_cast<std::size_t>(to);
        // Links only go forward in (begin, file position), so no chain can loop.
        if (std::tie(b.begin_ns, b.order) <= std::tie(a.begin_ns, a.order)) {
            ++flows_unbound;
        } else if (b.has_prev) {
            ++flows_joined;
        } else if (a.has_next) {
            ++flows_forked;
        } else {
            a.has_next = true;
            a.next = static_cast<std::int64_t>(b_id);
            b.has_prev = true;
            ++flows_linked;
        }
    }

    if (threads.size() > 65536) {
        throw input_error(path, "", "tid", "at most 65536 threads (one job class each)");
    }
    workload_header header;
    for (std::size_t t = 0; t < threads.size(); ++t) {
        const std::string name = "p" + threads[t].pid + "-t" + threads[t].tid;
        if (!is_valid_name(name)) {
            throw input_error(path, "thread " + threads[t].pid + "/" + threads[t].tid, "pid/tid",
                              "ids made of letters, digits, '_', '-' and '.'");
        }
        header.classes.push_back({static_cast<std::uint32_t>(t), name});
        header.channels.push_back({name, 64, 1});
    }
    header.meta.emplace_back("source", "chrome-trace");
    header.meta.emplace_back("mapping", "thread=stage slice=compute flow=hand-off chain=job");

    std::uint64_t first_ns = UINT64_MAX;
    for (const auto& list : slices) {
        if (!list.empty()) first_ns = std::min(first_ns, list.front().begin_ns);
    }
    std::vector<std::pair<std::pair<std::uint64_t, std::size_t>, job>> jobs;
    std::uint64_t longest = 0;
    for (std::size_t id = 0; id < offset.back(); ++id) {
        const slice& head = at(id);
        if (head.has_prev) continue;
        auto prog = std::make_shared<program>();
        std::size_t cur = id;
        std::size_t thread = head.thread;
        std::uint64_t length = 0;
        prog->steps.push_back({step_kind::send, 1, 0, nullptr, static_cast<std::uint32_t>(thread)});
        for (;;) {
            const slice& s = at(cur);
            if (s.thread != thread) {
                prog->steps.push_back(
                    {step_kind::send, 1, 0, nullptr, static_cast<std::uint32_t>(s.thread)});
                thread = s.thread;
            } else if (length > 0) {
                prog->steps.push_back({step_kind::yield, 1, 0, nullptr, 0});
            }
            prog->steps.push_back({step_kind::compute, 1, s.end_ns - s.begin_ns, nullptr, 0});
            ++length;
            if (!s.has_next) break;
            cur = static_cast<std::size_t>(s.next);
        }
        longest = std::max(longest, length);
        job j;
        j.arrival_ns = head.begin_ns - first_ns;
        j.class_id = static_cast<std::uint32_t>(head.thread);
        j.prog = std::move(prog);
        jobs.push_back({{j.arrival_ns, head.order}, std::move(j)});
    }
    std::sort(jobs.begin(), jobs.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<job> out;
    out.reserve(jobs.size());
    for (auto& [k, j] : jobs) out.push_back(std::move(j));

    std::vector<std::pair<std::string, std::uint64_t>> stats = {
        {"slices", offset.back()},
        {"nested_slices", nested},
        {"open_slices_dropped", open_at_end},
        {"unmatched_ends", unmatched_end},
        {"flows_linked", flows_linked},
        {"flows_forked_into_new_jobs", flows_forked},
        {"flows_dropped_join", flows_joined},
        {"flows_dropped_unbound", flows_unbound},
        {"flows_without_start", unmatched_finish},
        {"flows_without_finish", unfinished_flows},
        {"events_ignored", ignored},
        {"jobs", out.size()},
        {"longest_chain_slices", longest},
    };
    return std::make_unique<vector_source>(std::move(header), std::move(out), std::move(stats));
}

}  // namespace schedlab::traces
