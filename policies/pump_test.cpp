#include "policies/pump.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

#include "policies/frames.hpp"

using schedlab::policies::frames_spec;
using schedlab::policies::pump;
using schedlab::policies::pump_spec;

namespace {

// Runs one cycle: a queued completion starts, then `attempts` already-complete operations ask
// to resume inline. Returns how many were allowed.
std::uint32_t cycle(pump& p, std::uint32_t attempts, bool unassisted = false) {
    p.on_queued_start(unassisted, 0);
    std::uint32_t allowed = 0;
    for (std::uint32_t i = 0; i < attempts; ++i) allowed += p.try_inline(0) ? 1 : 0;
    return allowed;
}

}  // namespace

TEST_CASE("disabled pump never resumes inline") {
    pump p(pump_spec::parse("disabled"));
    CHECK(cycle(p, 10) == 0);
    CHECK(cycle(p, 10, true) == 0);
    CHECK(p.counters().inline_refused == 20);
    CHECK(p.counters().budget_exhausted == 0);
}

TEST_CASE("fixed pump grants the same budget every cycle") {
    pump p(pump_spec::parse("fixed:3"));
    CHECK(cycle(p, 10) == 3);
    CHECK(cycle(p, 1) == 1);
    CHECK(cycle(p, 10, true) == 3);
    CHECK(p.counters().budget_exhausted == 2);
}

TEST_CASE("adaptive budget is reset when a queued completion starts") {
    pump p(pump_spec::parse("adaptive"));
    CHECK(cycle(p, 1) == 1);  // partial use of 2
    p.on_queued_start(false, 0);
    CHECK(p.used() == 0);
    CHECK(p.granted() == 2);
}

TEST_CASE("adaptive cap doubles up to max when the whole budget was used") {
    pump p(pump_spec::parse("adaptive"));
    CHECK(cycle(p, 100) == 2);
    CHECK(cycle(p, 100) == 4);
    CHECK(cycle(p, 100) == 8);
    CHECK(cycle(p, 100) == 16);
    CHECK(cycle(p, 100) == 16);  // max reached, stays
    CHECK(p.counters().cap_doubled == 3);
}

TEST_CASE("adaptive cap drops back to initial when only part was used") {
    pump p(pump_spec::parse("adaptive"));
    cycle(p, 100);
    cycle(p, 100);
    CHECK(cycle(p, 3) == 3);  // 3 of 8: partial
    CHECK(cycle(p, 100) == 2);
    CHECK(p.counters().cap_reset == 1);
}

TEST_CASE("adaptive cap is unchanged by a cycle that never asked") {
    pump p(pump_spec::parse("adaptive"));
    cycle(p, 100);  // 2 of 2: cap becomes 4 at the next start
    cycle(p, 0);    // untouched: granted 4, used 0
    CHECK(p.cap() == 4);
    CHECK(cycle(p, 100) == 4);
}

TEST_CASE("adaptive budget is capped while the thread is unassisted") {
    pump p(pump_spec::parse("adaptive"));
    for (int i = 0; i < 4; ++i) cycle(p, 100);  // cap now 16
    CHECK(p.cap() == 16);
    CHECK(cycle(p, 100, true) == 4);
    CHECK(p.counters().unassisted_capped == 1);
    // Spending the capped budget whole counts as a full cycle: the cap stays at max.
    CHECK(cycle(p, 100) == 16);
}

TEST_CASE("adaptive unassisted cap does not raise a smaller budget") {
    pump p(pump_spec::parse("adaptive"));
    CHECK(cycle(p, 100, true) == 2);
    CHECK(p.counters().unassisted_capped == 0);
}

TEST_CASE("adaptive with zero budgets always posts") {
    pump p(pump_spec::parse("adaptive:initial=0,max=0,unassisted=0"));
    CHECK(cycle(p, 5) == 0);
    CHECK(cycle(p, 5) == 0);
}

TEST_CASE("adaptive options are honoured") {
    const auto spec = pump_spec::parse("adaptive:initial=3,max=10,unassisted=1");
    pump p(spec);
    CHECK(cycle(p, 100) == 3);
    CHECK(cycle(p, 100) == 6);
    CHECK(cycle(p, 100) == 10);
    CHECK(cycle(p, 100, true) == 1);
    CHECK(spec.to_string() == "adaptive:initial=3,max=10,unassisted=1");
}

TEST_CASE("quota pump allows inline resumes while the cycle is younger than the quota") {
    pump p(pump_spec::parse("quota:500"));
    p.on_queued_start(false, 1000);
    CHECK(p.try_inline(1000));
    CHECK(p.try_inline(1499));
    CHECK_FALSE(p.try_inline(1500));
    p.on_queued_start(false, 2000);
    CHECK(p.try_inline(2100));
}

TEST_CASE("pump specs reject malformed text") {
    CHECK_THROWS_AS(pump_spec::parse("fast"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("fixed"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("fixed:-1"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("fixed:3x"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("adaptive:initial=9,max=4"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("adaptive:speed=2"), std::invalid_argument);
    CHECK_THROWS_AS(pump_spec::parse("disabled:1"), std::invalid_argument);
    CHECK_THROWS_WITH(pump_spec::parse("fixed:abc"), Catch::Contains("fixed:N"));
}

TEST_CASE("a pump option given twice is refused, naming it") {
    // Two values for one key used to keep the last silently.
    CHECK_THROWS_WITH(pump_spec::parse("adaptive:initial=2,initial=3"),
                      Catch::Contains("pump adaptive: option 'initial' given twice") &&
                          Catch::Contains("'initial=2' and 'initial=3'"));
    CHECK_THROWS_WITH(pump_spec::parse("adaptive:max=8,unassisted=1,max=8"),
                      Catch::Contains("option 'max' given twice"));
    CHECK_THROWS_WITH(frames_spec::parse("recycling:per_thread=8,per_thread=9"),
                      Catch::Contains("frames recycling: option 'per_thread' given twice"));
}

TEST_CASE("inline bound states the most inline resumes a cycle can run") {
    CHECK(pump_spec::parse("disabled").inline_bound() == 0);
    CHECK(pump_spec::parse("fixed:7").inline_bound() == 7);
    CHECK(pump_spec::parse("adaptive").inline_bound() == 16);
}
