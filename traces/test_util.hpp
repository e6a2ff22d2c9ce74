// Helpers shared by the traces tests: temporary files, draining sources and comparing
// workloads by their content rather than by pointer.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "traces/format.hpp"
#include "traces/trace.hpp"

namespace schedlab::traces::test {

// A directory that exists for one test and is removed with everything in it afterwards.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "traces_test.XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

    std::string write(const std::string& name, const std::string& content) const {
        const std::string target = file(name);
        std::ofstream out(target, std::ios::binary);
        out << content;
        return target;
    }

    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(path_)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<job> drain(job_source& src) {
    std::vector<job> jobs;
    while (auto next = src.next()) {
        jobs.push_back(std::move(*next));
    }
    return jobs;
}

// A canonical text for a program, including the full text of its sub-programs, so that two
// workloads compare equal exactly when they describe the same demand.
inline std::string describe(const program& prog) {
    std::ostringstream out;
    out << (prog.name.empty() ? "<inline>" : prog.name) << "{";
    for (const step& s : prog.steps) {
        out << to_string(s.kind);
        switch (s.kind) {
            case step_kind::compute:
            case step_kind::io:
                out << " " << s.duration_ns;
                break;
            case step_kind::ready:
                out << " " << s.count << " " << s.duration_ns;
                break;
            case step_kind::call:
                out << " " << describe(*s.sub);
                break;
            case step_kind::fanout:
                out << " " << s.count << " " << describe(*s.sub);
                break;
            case step_kind::yield:
                break;
            case step_kind::send:
                out << " #" << s.channel;
                break;
        }
        out << ";";
    }
    out << "}";
    return out.str();
}

inline std::string describe(const job& j) {
    return std::to_string(j.arrival_ns) + " c" + std::to_string(j.class_id) + " " +
           describe(*j.prog);
}

inline std::vector<std::string> describe_all(const std::vector<job>& jobs) {
    std::vector<std::string> out;
    out.reserve(jobs.size());
    for (const auto& j : jobs) {
        out.push_back(describe(j));
    }
    return out;
}

inline std::optional<std::string> meta_value(const workload_header& header,
                                             const std::string& key) {
    for (const auto& [k, v] : header.meta) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

inline std::uint64_t stat(const job_source& src, const std::string& name) {
    for (const auto& [k, v] : src.stats()) {
        if (k == name) {
            return v;
        }
    }
    FAIL("no stat named " << name);
    return 0;
}

// The frames a job can stack up at its deepest: its own program plus the deepest chain of
// calls and fanouts below it.
inline int frame_depth(const program& prog) {
    int deepest = 0;
    for (const step& s : prog.steps) {
        if (s.kind == step_kind::call || s.kind == step_kind::fanout) {
            deepest = std::max(deepest, frame_depth(*s.sub));
        }
    }
    return deepest + 1;
}

// Pages currently resident for this process, from /proc/self/statm.
inline std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    statm >> size_pages >> resident_pages;
    return resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace schedlab::traces::test
