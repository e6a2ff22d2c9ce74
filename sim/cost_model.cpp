#include "sim/cost_model.hpp"

#include <charconv>
#include <fstream>
#include <map>

#include "traces/trace.hpp"

namespace schedlab::sim {

namespace {

std::uint64_t* field_ptr(cost_model& c, const std::string& key) {
    if (key == "inline_resume_ns") return &c.inline_resume_ns;
    if (key == "post_ns") return &c.post_ns;
    if (key == "pop_ns") return &c.pop_ns;
    if (key == "reactor_ns") return &c.reactor_ns;
    if (key == "wake_ns") return &c.wake_ns;
    if (key == "local_alloc_ns") return &c.local_alloc_ns;
    if (key == "global_trip_ns") return &c.global_trip_ns;
    if (key == "lock_hold_ns") return &c.lock_hold_ns;
    if (key == "heap_alloc_ns") return &c.heap_alloc_ns;
    return nullptr;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

}  // namespace

cost_model cost_model::zero() {
    cost_model c;
    for (const auto& [key, value] : c.fields()) *field_ptr(c, key) = 0;
    c.name = "zero";
    return c;
}

std::vector<std::pair<std::string, std::uint64_t>> cost_model::fields() const {
    return {{"inline_resume_ns", inline_resume_ns},
            {"post_ns", post_ns},
            {"pop_ns", pop_ns},
            {"reactor_ns", reactor_ns},
            {"wake_ns", wake_ns},
            {"local_alloc_ns", local_alloc_ns},
            {"global_trip_ns", global_trip_ns},
            {"lock_hold_ns", lock_hold_ns},
            {"heap_alloc_ns", heap_alloc_ns}};
}

cost_model cost_model::load(const std::string& spec) {
    if (spec == "zero") return zero();
    if (spec == "default") return cost_model{};
    std::ifstream in(spec);
    if (!in) {
        throw traces::input_error(spec, "line 0", "file", "a readable cost model file");
    }
    cost_model c;
    c.name = spec;
    std::string line;
    std::uint64_t line_no = 0;
    // The line each key was set on: a second setting would silently replace the first.
    std::map<std::string, std::uint64_t> set_on;
    while (std::getline(in, line)) {
        ++line_no;
        const auto hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        line = trim(line);
        if (line.empty()) continue;
        const std::string where = "line " + std::to_string(line_no);
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            throw traces::input_error(spec, where, "line", "'key = value'", line);
        }
        const std::string key = trim(line.substr(0, eq));
        const std::string value = trim(line.substr(eq + 1));
        std::uint64_t* slot = field_ptr(c, key);
        if (slot == nullptr) {
            throw traces::input_error(spec, where, "key",
                                      "one of inline_resume_ns, post_ns, pop_ns, reactor_ns, "
                                      "wake_ns, local_alloc_ns, global_trip_ns, lock_hold_ns, "
                                      "heap_alloc_ns",
                                      key);
        }
        if (const auto [at, added] = set_on.emplace(key, line_no); !added) {
            throw traces::input_error(
                spec, where, key,
                "each key at most once (set on line " + std::to_string(at->second) + ")", line);
        }
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size() ||
            v > 1'000'000'000'000ULL) {
            throw traces::input_error(spec, where, key, "a whole number of nanoseconds <= 1e12",
                                      value);
        }
        *slot = v;
    }
    return c;
}

}  // namespace schedlab::sim
