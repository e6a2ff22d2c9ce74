// Generated workloads under every shipped policy: each run passes every check, and the
// schedule it records replays it bit for bit. rapidcheck draws the workloads and shrinks any
// failure to a small one.
#include <rapidcheck.h>

#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "properties/check.hpp"
#include "properties/schedule.hpp"
#include "properties/workload.hpp"

using namespace schedlab;
using namespace schedlab::properties;

namespace {

// A fixed seed and a small budget: the ordinary test run stays short and gives the same
// result every time; RC_PARAMS set by the caller wins (for longer runs).
const bool rc_configured = [] {
    ::setenv("RC_PARAMS", "seed=1 max_success=60 max_size=30 verbose_progress=0", 0);
    return true;
}();

struct step_spec {
    int kind;  // 0 compute, 1 io, 2 ready, 3 yield, 4 call, 5 fanout
    std::uint32_t count;
    std::uint32_t duration_ns;
};

struct workload_spec {
    std::vector<std::vector<step_spec>> jobs;
    std::vector<std::uint32_t> gaps_ns;
    std::uint32_t workers;
    int pump;
    bool private_stash;
    std::uint64_t seed;
};

const char* const pumps[] = {"disabled", "fixed:3", "fixed:16", "adaptive", "quota:2000"};

workload build(const workload_spec& s, traces::program*& leaf_out) {
    workload w;
    w.header.classes.push_back({0, "default"});
    traces::program leaf;
    leaf.name = "leaf";
    leaf.steps = {traces::step{traces::step_kind::compute, 1, 300, nullptr, 0},
                  traces::step{traces::step_kind::ready, 2, 50, nullptr, 0}};
    const traces::program* sub = w.keep(std::move(leaf));
    leaf_out = nullptr;
    std::uint64_t t = 0;
    for (std::size_t j = 0; j < s.jobs.size(); ++j) {
        auto p = std::make_shared<traces::program>();
        for (const auto& st : s.jobs[j]) {
            traces::step x;
            x.duration_ns = st.duration_ns;
            switch (st.kind) {
                case 0:
                    x.kind = traces::step_kind::compute;
                    break;
                case 1:
                    x.kind = traces::step_kind::io;
                    break;
                case 2:
                    x.kind = traces::step_kind::ready;
                    x.count = st.count;
                    break;
                case 3:
                    x.kind = traces::step_kind::yield;
                    break;
                case 4:
                    x.kind = traces::step_kind::call;
                    x.sub = sub;
                    break;
                default:
                    x.kind = traces::step_kind::fanout;
                    x.count = st.count;
                    x.sub = sub;
                    break;
            }
            p->steps.push_back(x);
        }
        if (p->steps.empty()) p->steps.push_back(traces::step{});
        t += j < s.gaps_ns.size() ? s.gaps_ns[j] : 0;
        w.jobs.push_back({t, 0, p});
    }
    return w;
}

rc::Gen<step_spec> gen_step() {
    return rc::gen::build<step_spec>(
        rc::gen::set(&step_spec::kind, rc::gen::inRange(0, 6)),
        rc::gen::set(&step_spec::count, rc::gen::inRange(1u, 40u)),
        rc::gen::set(&step_spec::duration_ns, rc::gen::inRange(0u, 5000u)));
}

rc::Gen<workload_spec> gen_workload() {
    return rc::gen::build<workload_spec>(
        rc::gen::set(
            &workload_spec::jobs,
            rc::gen::resize(
                12,
                rc::gen::nonEmpty(rc::gen::container<std::vector<std::vector<step_spec>>>(
                    rc::gen::resize(6, rc::gen::container<std::vector<step_spec>>(gen_step())))))),
        rc::gen::set(&workload_spec::gaps_ns,
                     rc::gen::container<std::vector<std::uint32_t>>(rc::gen::inRange(0u, 4000u))),
        rc::gen::set(&workload_spec::workers, rc::gen::inRange(1u, 4u)),
        rc::gen::set(&workload_spec::pump, rc::gen::inRange(0, 5)),
        rc::gen::set(&workload_spec::private_stash, rc::gen::arbitrary<bool>()),
        rc::gen::set(&workload_spec::seed, rc::gen::arbitrary<std::uint64_t>()));
}

}  // namespace

TEST_CASE("generated workloads pass every check under the shipped policies") {
    REQUIRE(rc_configured);
    rc::prop("no property fails and the recorded schedule replays the run", [] {
        const workload_spec s = *gen_workload();
        traces::program* unused = nullptr;
        const workload w = build(s, unused);
        sim::sim_config c;
        c.pump = policies::pump_spec::parse(pumps[s.pump]);
        c.when_all = s.private_stash ? policies::when_all_frames::private_
                                     : policies::when_all_frames::shared;
        c.workers = s.workers;
        c.io_jitter_ns = 1500;
        c.checks.global_pool =
            s.private_stash ? sim::global_pool_rule::children : sim::global_pool_rule::allowed;
        random_chooser pick(s.seed);
        const run_outcome first = run_once(w, c, pick);
        RC_ASSERT(!first.failed.has_value());
        RC_ASSERT(first.result.jobs_completed == w.jobs.size());
        RC_ASSERT(first.result.frames_result.outstanding_at_end == 0);
        RC_ASSERT(first.result.max_inline_streak <= c.pump.inline_bound());
        replay_chooser follow(first.choices, true);
        const run_outcome again = run_once(w, c, follow);
        RC_ASSERT(again.result.event_hash == first.result.event_hash);
    });
}

TEST_CASE("a schedule survives its text form") {
    REQUIRE(rc_configured);
    rc::prop("parse(to_text(s)) == s", [](std::uint64_t seed, std::vector<std::uint32_t> raw) {
        schedule s;
        s.seed = seed;
        for (const auto r : raw) {
            const std::uint32_t arity = 2 + r % 7;
            s.choices.push_back({arity, (r / 7) % arity});
        }
        const schedule back = schedule::parse(s.to_text(), "generated");
        RC_ASSERT(back.seed == s.seed);
        RC_ASSERT(back.choices == s.choices);
    });
}

TEST_CASE("shrinking keeps the failure and never grows the case") {
    REQUIRE(rc_configured);
    rc::prop("a starving fixed pump shrinks to a smaller case with the same property", [] {
        const auto ready = *rc::gen::inRange(20u, 60u);
        const auto jobs = *rc::gen::inRange(2u, 8u);
        workload w;
        w.header.classes.push_back({0, "default"});
        auto p = std::make_shared<traces::program>();
        p->steps = {traces::step{traces::step_kind::ready, ready, 100, nullptr, 0}};
        for (std::uint32_t j = 0; j < jobs; ++j) w.jobs.push_back({j * 50ull, 0, p});
        sim::sim_config c;
        c.pump = policies::pump_spec::parse("fixed:1000");
        c.checks.max_inline_streak = 8;
        random_chooser pick(1);
        const run_outcome o = run_once(w, c, pick);
        RC_PRE(o.failed.has_value());
        const shrunk s = shrink(w, o.choices, c, o.failed->property, 500);
        RC_ASSERT(s.f.property == o.failed->property);
        RC_ASSERT(s.w.jobs.size() <= w.jobs.size());
        RC_ASSERT(s.choices.size() <= o.choices.size());
        // The shrunk case fails again when followed strictly.
        replay_chooser follow(s.choices, true);
        const run_outcome again = run_once(s.w, c, follow);
        RC_ASSERT(again.failed.has_value());
        RC_ASSERT(again.failed->message == s.f.message);
    });
}
