// The pump: how many already-complete operations may resume their waiters inline before the
// thread goes back to the run queue. Pure and deterministic: time and "am I unassisted" are
// passed in by the caller (the simulator from its virtual clock, the runtime from its own).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace schedlab::policies {

struct pump_spec {
    enum class kind : std::uint8_t {
        disabled,  // always post
        fixed,     // the same budget every cycle
        adaptive,  // doubling budget with an unassisted cap (the production runtime's rule)
        quota,     // inline while the cycle is younger than a wall-clock quota
    };

    kind policy = kind::adaptive;
    std::uint32_t fixed_budget = 0;
    std::uint32_t initial = 2;
    std::uint32_t max = 16;
    std::uint32_t unassisted = 4;
    std::uint64_t quota_ns = 500'000;

    // Accepts `disabled`, `fixed:N`, `adaptive[:initial=I,max=M,unassisted=U]`, `quota:NS`.
    // Throws std::invalid_argument naming the part that is wrong.
    static pump_spec parse(std::string_view text);
    std::string to_string() const;

    // The most inline resumes one cycle can run back to back, which is the starvation bound
    // queued work can rely on. A quota is bounded in time, not count: it returns the maximum.
    std::uint32_t inline_bound() const;
};

struct pump_counters {
    std::uint64_t cycles = 0;             // queued completions that opened a cycle
    std::uint64_t inline_granted = 0;     // operations resumed inline
    std::uint64_t inline_refused = 0;     // operations posted because the budget was spent
    std::uint64_t budget_exhausted = 0;   // cycles that spent their whole non-zero budget
    std::uint64_t unassisted_capped = 0;  // cycles whose budget the unassisted cap lowered
    std::uint64_t cap_doubled = 0;
    std::uint64_t cap_reset = 0;
};

// One per thread (or simulated worker): the state is the cycle that thread is running.
class pump {
public:
    explicit pump(const pump_spec& spec);

    // A queued completion starts running: close the previous cycle and open a new one.
    void on_queued_start(bool unassisted, std::uint64_t now_ns) noexcept;

    // An awaited operation is already complete. True: resume its waiter inline (one unit of
    // the budget is spent). False: post it to the run queue.
    bool try_inline(std::uint64_t now_ns) noexcept;

    std::uint32_t cap() const noexcept { return cap_; }
    std::uint32_t granted() const noexcept { return granted_; }
    std::uint32_t used() const noexcept { return used_; }
    const pump_counters& counters() const noexcept { return counters_; }
    const pump_spec& spec() const noexcept { return spec_; }

private:
    pump_spec spec_;
    std::uint32_t cap_ = 0;      // adaptive: the budget a fresh assisted cycle receives
    std::uint32_t granted_ = 0;  // budget of the current cycle
    std::uint32_t used_ = 0;     // inline resumes spent in the current cycle
    bool cycle_open_ = false;
    bool exhausted_marked_ = false;
    std::uint64_t cycle_start_ns_ = 0;
    pump_counters counters_;
};

}  // namespace schedlab::policies
