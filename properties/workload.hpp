// A workload held in memory, so that a checker can run it many times and a shrinker can take
// it apart: the header, every job, and the programs the edits create.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "traces/trace.hpp"

namespace schedlab::properties {

struct workload {
    traces::workload_header header;
    std::vector<traces::job> jobs;
    // Programs made by edits; shared by copies, so a job's sub pointers stay valid.
    std::shared_ptr<std::deque<traces::program>> made =
        std::make_shared<std::deque<traces::program>>();
    // The programs the source gave: they own the named programs that sub pointers reach,
    // which must outlive every edit that replaces a job's program.
    std::vector<std::shared_ptr<const traces::program>> originals;

    // Reads every job of `src` (which must be finite).
    static workload from_source(traces::job_source& src);
    // A fresh source over the jobs, for one run.
    std::unique_ptr<traces::job_source> source() const;
    // Keeps a new named program alive as long as this workload (and its copies).
    const traces::program* keep(traces::program p);
    // Writes a version-1 trace atomically.
    void write(const std::string& path) const;

    std::uint64_t total_steps() const;  // over every job's top-level program
};

}  // namespace schedlab::properties
