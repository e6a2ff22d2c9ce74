#include "runtime/recorder.hpp"

#include <algorithm>
#include <bit>

#include "traces/format.hpp"

namespace schedlab::runtime {

using traces::step;
using traces::step_kind;

std::uint64_t quantize_ns(std::uint64_t v) noexcept {
    if (v < 32) return v;
    const int shift = std::bit_width(v) - 5;
    // Round to the nearest multiple of 2^shift, keeping five significant bits.
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    return ((v + half) >> shift) << shift;
}

void step_builder::push(step s) {
    if (!steps_.empty()) {
        step& last = steps_.back();
        // `ready 1 0` then compute: the compute follows the operation, which is what
        // `ready COUNT NS` means.
        if (s.kind == step_kind::compute && last.kind == step_kind::ready &&
            last.duration_ns == 0 && last.count == 1) {
            last.duration_ns = s.duration_ns;
            return;
        }
        if (s.kind == step_kind::ready && last.kind == step_kind::ready &&
            last.duration_ns == s.duration_ns && s.duration_ns == 0) {
            last.count += s.count;
            return;
        }
        if (s.kind == step_kind::compute && last.kind == step_kind::compute) {
            last.duration_ns += s.duration_ns;
            return;
        }
    }
    steps_.push_back(s);
}

void step_builder::before_await() noexcept {
    if (!enabled_) return;
    const std::uint64_t now = monotonic_ns();
    const std::uint64_t c = quantize_ns(now - last_ns_);
    if (c > 0) push({step_kind::compute, 1, c, nullptr, 0});
    last_ns_ = now;
}

void step_builder::after_io(const io_result& r) {
    if (!enabled_) return;
    if (r.was_ready) {
        push({step_kind::ready, 1, 0, nullptr, 0});
    } else {
        push({step_kind::io, 1, std::max<std::uint64_t>(quantize_ns(r.waited_ns), 1), nullptr, 0});
    }
    last_ns_ = monotonic_ns();
}

void step_builder::add_call(const traces::program* sub) {
    if (!enabled_) return;
    push({step_kind::call, 1, 0, sub, 0});
    last_ns_ = monotonic_ns();
}

void step_builder::add_fanout(std::uint32_t width, const traces::program* sub) {
    if (!enabled_) return;
    push({step_kind::fanout, width, 0, sub, 0});
    last_ns_ = monotonic_ns();
}

std::vector<step> step_builder::finish() {
    before_await();
    return std::move(steps_);
}

namespace {
std::string content_key(const std::vector<step>& steps) {
    std::string key;
    for (const auto& s : steps) {
        key += std::to_string(static_cast<int>(s.kind)) + ',' + std::to_string(s.count) + ',' +
               std::to_string(s.duration_ns) + ',' + (s.sub != nullptr ? s.sub->name : "") + ';';
    }
    return key;
}
}  // namespace

const traces::program* demand_recorder::intern(std::vector<step> steps) {
    std::string key = content_key(steps);
    std::lock_guard lk(mu_);
    auto [it, fresh] = programs_.try_emplace(std::move(key));
    if (fresh) {
        it->second = std::make_shared<traces::program>();
        it->second->name = workload_ + "_p" + std::to_string(programs_.size());
        it->second->steps = std::move(steps);
    }
    return it->second.get();
}

void demand_recorder::add_job(std::uint64_t arrival_ns, std::vector<step> steps) {
    auto prog = std::make_shared<traces::program>();
    prog->steps = std::move(steps);
    std::lock_guard lk(mu_);
    jobs_.push_back({arrival_ns, std::move(prog)});
}

std::uint64_t demand_recorder::jobs() const {
    std::lock_guard lk(mu_);
    return jobs_.size();
}

void demand_recorder::write(const std::string& path,
                            const std::vector<std::pair<std::string, std::string>>& meta) {
    std::lock_guard lk(mu_);
    std::stable_sort(jobs_.begin(), jobs_.end(),
                     [](const auto& a, const auto& b) { return a.arrival_ns < b.arrival_ns; });
    traces::workload_header header;
    header.classes.push_back({0, workload_});
    header.meta = meta;
    traces::trace_writer writer(path);
    writer.write_header(header);
    for (const auto& j : jobs_) {
        traces::job out;
        out.arrival_ns = j.arrival_ns;
        out.class_id = 0;
        out.prog = j.prog;
        writer.add_job(out);
    }
    writer.commit();
}

}  // namespace schedlab::runtime
