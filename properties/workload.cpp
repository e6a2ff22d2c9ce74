#include "properties/workload.hpp"

#include <utility>

#include "traces/format.hpp"

namespace schedlab::properties {

namespace {

class vector_source final : public traces::job_source {
public:
    vector_source(const workload& w) : w_(w) {}
    const traces::workload_header& header() const override { return w_.header; }
    std::optional<traces::job> next() override {
        if (next_ == w_.jobs.size()) return std::nullopt;
        return w_.jobs[next_++];
    }

private:
    const workload& w_;
    std::size_t next_ = 0;
};

}  // namespace

workload workload::from_source(traces::job_source& src) {
    workload w;
    w.header = src.header();
    while (auto j = src.next()) {
        if (w.originals.empty() || w.originals.back() != j->prog) w.originals.push_back(j->prog);
        w.jobs.push_back(std::move(*j));
    }
    return w;
}

std::unique_ptr<traces::job_source> workload::source() const {
    return std::make_unique<vector_source>(*this);
}

const traces::program* workload::keep(traces::program p) {
    made->push_back(std::move(p));
    return &made->back();
}

void workload::write(const std::string& path) const {
    auto src = source();
    traces::write_trace(*src, path);
}

std::uint64_t workload::total_steps() const {
    std::uint64_t n = 0;
    for (const auto& j : jobs) n += j.prog->steps.size();
    return n;
}

}  // namespace schedlab::properties
