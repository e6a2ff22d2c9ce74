#include "policies/pump.hpp"

#include <algorithm>
#include <stdexcept>

#include "policies/spec_parse.hpp"

namespace schedlab::policies {

namespace {

// A budget far past anything a real runtime would grant, so a doubling never overflows.
constexpr std::uint64_t budget_limit = 1u << 30;

}  // namespace

pump_spec pump_spec::parse(std::string_view text) {
    const auto [name, rest] = detail::split_spec(text);
    pump_spec spec;
    if (name == "disabled") {
        if (!rest.empty()) throw std::invalid_argument("pump 'disabled' takes no options");
        spec.policy = kind::disabled;
        return spec;
    }
    if (name == "fixed") {
        spec.policy = kind::fixed;
        spec.fixed_budget = static_cast<std::uint32_t>(
            detail::parse_uint(rest, "pump fixed:N budget", 0, budget_limit));
        return spec;
    }
    if (name == "quota") {
        spec.policy = kind::quota;
        spec.quota_ns = detail::parse_uint(rest, "pump quota:NS", 0, 1'000'000'000'000ULL);
        return spec;
    }
    if (name == "adaptive") {
        spec.policy = kind::adaptive;
        for (const auto& [key, value] : detail::split_options(rest, "pump adaptive")) {
            if (key == "initial") {
                spec.initial = static_cast<std::uint32_t>(
                    detail::parse_uint(value, "pump adaptive initial", 0, budget_limit));
            } else if (key == "max") {
                spec.max = static_cast<std::uint32_t>(
                    detail::parse_uint(value, "pump adaptive max", 0, budget_limit));
            } else if (key == "unassisted") {
                spec.unassisted = static_cast<std::uint32_t>(
                    detail::parse_uint(value, "pump adaptive unassisted", 0, budget_limit));
            } else {
                throw std::invalid_argument("pump adaptive: unknown option '" +
                                            std::string(key.empty() ? value : key) +
                                            "' (expected initial=, max=, unassisted=)");
            }
        }
        if (spec.initial > spec.max) {
            throw std::invalid_argument("pump adaptive: initial must not exceed max");
        }
        return spec;
    }
    throw std::invalid_argument("pump: unknown policy '" + std::string(name) +
                                "' (expected disabled, fixed:N, adaptive[:initial=I,max=M,"
                                "unassisted=U] or quota:NS)");
}

std::string pump_spec::to_string() const {
    switch (policy) {
        case kind::disabled:
            return "disabled";
        case kind::fixed:
            return "fixed:" + std::to_string(fixed_budget);
        case kind::quota:
            return "quota:" + std::to_string(quota_ns);
        case kind::adaptive:
            return "adaptive:initial=" + std::to_string(initial) + ",max=" + std::to_string(max) +
                   ",unassisted=" + std::to_string(unassisted);
    }
    return "?";
}

std::uint32_t pump_spec::inline_bound() const {
    switch (policy) {
        case kind::disabled:
            return 0;
        case kind::fixed:
            return fixed_budget;
        case kind::adaptive:
            return max;
        case kind::quota:
            return std::numeric_limits<std::uint32_t>::max();
    }
    return 0;
}

pump::pump(const pump_spec& spec) : spec_(spec), cap_(spec.initial) {}

void pump::on_queued_start(bool unassisted, std::uint64_t now_ns) noexcept {
    if (spec_.policy == pump_spec::kind::adaptive && cycle_open_) {
        // The rule closes the previous cycle first: a cycle that spent all it had earns a
        // doubled cap, one that spent part goes back to the start, one that never asked
        // tells nothing and leaves the cap alone.
        if (granted_ > 0 && used_ == granted_) {
            const std::uint32_t doubled =
                std::min<std::uint64_t>(std::uint64_t{cap_} * 2, spec_.max);
            if (doubled != cap_) ++counters_.cap_doubled;
            cap_ = doubled;
        } else if (used_ > 0) {
            if (cap_ != spec_.initial) ++counters_.cap_reset;
            cap_ = spec_.initial;
        }
    }
    switch (spec_.policy) {
        case pump_spec::kind::disabled:
            granted_ = 0;
            break;
        case pump_spec::kind::fixed:
            granted_ = spec_.fixed_budget;
            break;
        case pump_spec::kind::quota:
            granted_ = std::numeric_limits<std::uint32_t>::max();
            break;
        case pump_spec::kind::adaptive:
            granted_ = cap_;
            // An unassisted thread is the only one draining the queue: keep its inline runs
            // short so the queue behind it keeps moving.
            if (unassisted && granted_ > spec_.unassisted) {
                granted_ = spec_.unassisted;
                ++counters_.unassisted_capped;
            }
            break;
    }
    used_ = 0;
    cycle_open_ = true;
    exhausted_marked_ = false;
    cycle_start_ns_ = now_ns;
    ++counters_.cycles;
}

bool pump::try_inline(std::uint64_t now_ns) noexcept {
    bool allowed = used_ < granted_;
    if (allowed && spec_.policy == pump_spec::kind::quota) {
        allowed = now_ns - cycle_start_ns_ < spec_.quota_ns;
    }
    if (allowed) {
        ++used_;
        ++counters_.inline_granted;
        return true;
    }
    ++counters_.inline_refused;
    if (granted_ > 0 && !exhausted_marked_) {
        exhausted_marked_ = true;
        ++counters_.budget_exhausted;
    }
    return false;
}

}  // namespace schedlab::policies
