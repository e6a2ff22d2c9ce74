// Generated workloads crossed with generated policy parameters: every run passes every property
// of sim::check_config, the schedule it records replays it bit for bit, and the trace file it is
// written as replays it too. rapidcheck draws the cases and shrinks a failure to a minimal one,
// which is written to disk as a trace and a schedule, with the one `schedlab replay` command that
// reproduces it, in the failure's message.
#include <rapidcheck.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidcheck/catch.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "properties/check.hpp"
#include "properties/schedule.hpp"
#include "properties/workload.hpp"
#include "traces/format.hpp"

using namespace schedlab;
using namespace schedlab::properties;
namespace fs = std::filesystem;

namespace {

// A fixed seed and a small budget: the ordinary test run stays short and gives the same
// result every time; RC_PARAMS set by the caller wins (for longer runs).
const bool rc_configured = [] {
    ::setenv("RC_PARAMS", "seed=1 max_success=200 max_size=100 verbose_progress=0", 0);
    return true;
}();

// ---- what rapidcheck draws ----

// Step kinds as drawn; `send` only in a job's top-level program. Lower numbers are simpler,
// and rapidcheck shrinks towards them.
enum gen_kind : int { g_compute, g_io, g_ready, g_yield, g_call, g_fanout, g_send, g_kinds };

struct step_gen {
    int kind;
    std::uint32_t count;        // ready: operations; fanout: width
    std::uint32_t duration_ns;  // compute, io latency, compute after each ready operation
    std::uint32_t target;       // call, fanout: which sub-program; send: which channel
};

struct channel_gen {
    std::uint32_t capacity;
    std::uint32_t consumers;
};

struct arrival_gen {
    int pattern;  // 0 all at once, 1 evenly spaced, 2 random gaps, 3 bursts of `group`
    std::uint32_t gap_ns;
    std::uint32_t group;
    std::vector<std::uint32_t> gaps_ns;
};

struct policy_gen {
    int pump;  // 0 disabled, 1 fixed, 2 adaptive, 3 quota
    std::uint32_t fixed_budget;
    std::uint32_t initial, max_above_initial, unassisted;
    std::uint32_t quota_ns;
    bool recycling;
    std::uint32_t per_thread;
    bool take_all;
    bool private_stash;
    std::uint32_t workers;
    int jitter;  // index into jitters_ns
    std::uint64_t seed;
};

constexpr std::uint64_t jitters_ns[] = {0, 700, 3000};

// rapidcheck scales a range by the generation size, and a container passes its own (small)
// length limit down to its elements; values drawn over the whole range keep every step kind
// and policy reachable in every case. Shrinking still goes towards `lo`.
template <typename T>
rc::Gen<T> uniform(T lo, T hi) {
    return rc::gen::resize(100, rc::gen::inRange(lo, hi));
}

rc::Gen<step_gen> gen_step(bool top_level) {
    return rc::gen::build<step_gen>(
        rc::gen::set(&step_gen::kind, uniform(0, static_cast<int>(top_level ? g_kinds : g_send))),
        rc::gen::set(&step_gen::count, uniform(1u, 65u)),
        rc::gen::set(&step_gen::duration_ns, uniform(0u, 20000u)),
        rc::gen::set(&step_gen::target, uniform(0u, 1000u)));
}

rc::Gen<std::vector<step_gen>> gen_program(bool top_level, int steps_max) {
    return rc::gen::resize(
        steps_max,
        rc::gen::nonEmpty(rc::gen::container<std::vector<step_gen>>(gen_step(top_level))));
}

rc::Gen<channel_gen> gen_channel() {
    // Capacity 64 holds every job of a case at once, so such a channel is never full and
    // sends may go back and forth; smaller ones make senders wait.
    return rc::gen::build<channel_gen>(
        rc::gen::set(&channel_gen::capacity, rc::gen::element(64u, 1u, 2u, 4u)),
        rc::gen::set(&channel_gen::consumers, uniform(1u, 4u)));
}

rc::Gen<arrival_gen> gen_arrivals() {
    return rc::gen::build<arrival_gen>(
        rc::gen::set(&arrival_gen::pattern, uniform(0, 4)),
        rc::gen::set(&arrival_gen::gap_ns, uniform(0u, 20000u)),
        rc::gen::set(&arrival_gen::group, uniform(1u, 6u)),
        rc::gen::set(
            &arrival_gen::gaps_ns,
            rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint32_t>>(uniform(0u, 8000u)))));
}

rc::Gen<policy_gen> gen_policy() {
    return rc::gen::build<policy_gen>(
        rc::gen::set(&policy_gen::pump, uniform(0, 4)),
        rc::gen::set(&policy_gen::fixed_budget, uniform(1u, 65u)),
        rc::gen::set(&policy_gen::initial, uniform(0u, 9u)),
        rc::gen::set(&policy_gen::max_above_initial, uniform(0u, 33u)),
        rc::gen::set(&policy_gen::unassisted, uniform(0u, 9u)),
        rc::gen::set(&policy_gen::quota_ns, uniform(100u, 20000u)),
        rc::gen::set(&policy_gen::recycling, rc::gen::arbitrary<bool>()),
        rc::gen::set(&policy_gen::per_thread, uniform(0u, 33u)),
        rc::gen::set(&policy_gen::take_all, rc::gen::arbitrary<bool>()),
        rc::gen::set(&policy_gen::private_stash, rc::gen::arbitrary<bool>()),
        rc::gen::set(&policy_gen::workers, uniform(1u, 5u)),
        rc::gen::set(&policy_gen::jitter, uniform(0, 3)),
        rc::gen::set(&policy_gen::seed, rc::gen::arbitrary<std::uint64_t>()));
}

// ---- from drawn values to a workload and a configuration ----

// Frames one run of a program may allocate: a call or fan-out that would pass it becomes a
// compute, so nested fan-outs stay small enough for a hundred cases in well under a second.
constexpr std::uint64_t frames_per_program_max = 96;

struct converted {
    std::vector<traces::step> steps;
    std::uint64_t frames = 1;  // the program's own frame
};

converted convert(const std::vector<step_gen>& drawn,
                  const std::vector<const traces::program*>& subs,
                  const std::vector<std::uint64_t>& sub_frames, std::uint32_t channels,
                  bool channels_roomy) {
    converted out;
    std::uint32_t next_channel = 0;  // sends into small channels go forward only
    for (const auto& g : drawn) {
        traces::step s;
        s.duration_ns = g.duration_ns;
        switch (g.kind) {
            case g_io:
                s.kind = traces::step_kind::io;
                break;
            case g_ready:
                s.kind = traces::step_kind::ready;
                s.count = g.count;
                s.duration_ns = g.duration_ns / 16;
                break;
            case g_yield:
                s.kind = traces::step_kind::yield;
                break;
            case g_call:
            case g_fanout: {
                if (subs.empty()) break;
                const std::size_t k = g.target % subs.size();
                // A fan-out has a frame of its own besides its children's.
                const std::uint64_t own = g.kind == g_fanout ? 1 : 0;
                const std::uint64_t used = out.frames + own;
                const std::uint64_t room =
                    used < frames_per_program_max ? frames_per_program_max - used : 0;
                std::uint64_t width = g.kind == g_call ? 1 : g.count;
                width = std::min<std::uint64_t>(width, room / sub_frames[k]);
                if (width == 0) break;
                s.kind = g.kind == g_call ? traces::step_kind::call : traces::step_kind::fanout;
                s.count = static_cast<std::uint32_t>(width);
                s.sub = subs[k];
                out.frames += width * sub_frames[k] + own;
                break;
            }
            case g_send: {
                // Sends that only go forward through channels that can fill cannot wait on
                // each other in a cycle, so every generated pipeline can finish.
                if (channels == 0) break;
                std::uint32_t ch = g.target % channels;
                if (!channels_roomy) {
                    if (next_channel >= channels) break;
                    ch = next_channel + g.target % (channels - next_channel);
                    next_channel = ch + 1;
                }
                s.kind = traces::step_kind::send;
                s.channel = ch;
                break;
            }
            default:
                break;
        }
        out.steps.push_back(s);
    }
    return out;
}

workload build(const std::vector<std::vector<step_gen>>& subs_drawn,
               const std::vector<std::vector<step_gen>>& jobs_drawn,
               const std::vector<channel_gen>& channels, const arrival_gen& arrivals) {
    workload w;
    w.header.classes = {{0, "request"}, {1, "stream"}};
    bool roomy = true;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        w.header.channels.push_back(
            {"stage" + std::to_string(i), channels[i].capacity, channels[i].consumers});
        roomy = roomy && channels[i].capacity >= jobs_drawn.size();
    }
    // Sub-program i calls and fans out to sub-programs below i only: no cycles, and nesting
    // as deep as there are sub-programs.
    std::vector<const traces::program*> subs;
    std::vector<std::uint64_t> sub_frames;
    for (std::size_t i = 0; i < subs_drawn.size(); ++i) {
        converted c = convert(subs_drawn[i], subs, sub_frames, 0, true);
        traces::program p;
        p.name = "sub" + std::to_string(i);
        p.steps = std::move(c.steps);
        subs.push_back(w.keep(std::move(p)));
        sub_frames.push_back(c.frames);
    }
    std::uint64_t t = 0;
    for (std::size_t j = 0; j < jobs_drawn.size(); ++j) {
        auto p = std::make_shared<traces::program>();
        p->steps = convert(jobs_drawn[j], subs, sub_frames,
                           static_cast<std::uint32_t>(channels.size()), roomy)
                       .steps;
        switch (arrivals.pattern) {
            case 1:
                t = j * std::uint64_t{arrivals.gap_ns};
                break;
            case 2:
                t += j == 0 ? 0 : arrivals.gaps_ns[j % arrivals.gaps_ns.size()];
                break;
            case 3:
                t = (j / arrivals.group) * std::uint64_t{arrivals.gap_ns};
                break;
            default:
                t = 0;
                break;
        }
        // Jobs that start with ready operations stand for bulk streams, the rest for requests.
        const std::uint32_t cls = p->steps.front().kind == traces::step_kind::ready ? 1 : 0;
        w.jobs.push_back({t, cls, p});
    }
    return w;
}

sim::sim_config configure(const policy_gen& g) {
    sim::sim_config c;
    switch (g.pump) {
        case 0:
            c.pump = policies::pump_spec::parse("disabled");
            break;
        case 1:
            c.pump = policies::pump_spec::parse("fixed:" + std::to_string(g.fixed_budget));
            break;
        case 2:
            c.pump = policies::pump_spec::parse(
                "adaptive:initial=" + std::to_string(g.initial) +
                ",max=" + std::to_string(g.initial + g.max_above_initial) +
                ",unassisted=" + std::to_string(g.unassisted));
            break;
        default:
            c.pump = policies::pump_spec::parse("quota:" + std::to_string(g.quota_ns));
            break;
    }
    c.frames = policies::frames_spec::parse(
        g.recycling ? "recycling:per_thread=" + std::to_string(g.per_thread) +
                          ",take_all=" + (g.take_all ? "1" : "0")
                    : "heap");
    c.when_all =
        g.private_stash ? policies::when_all_frames::private_ : policies::when_all_frames::shared;
    c.workers = g.workers;
    c.seed = g.seed;
    c.io_jitter_ns = jitters_ns[g.jitter];
    // The heap allocator has no global pool: a trip would be a miscount.
    if (!g.recycling) c.checks.global_pool = sim::global_pool_rule::none;
    // No `children` rule for the private stash here: its arena is itself one allocation
    // from the current resource, a pooled block when arity times slot size is at most 2048
    // bytes, and a cold worker's bucket sends it to the global pool (DESIGN.md, "Model
    // checking"); properties_test pins that case down.
    return c;
}

// ---- a failing case on disk ----

struct written_case {
    std::string trace, schedule, command, failure;
    std::uint64_t jobs = 0, steps = 0;
};
// The last failing case written. rapidcheck runs the minimal case last, so after a failed
// property this is the minimal one.
written_case last_written;

std::string out_dir() {
    if (const char* d = std::getenv("SCHEDLAB_RC_OUT")) return d;
    return (fs::temp_directory_path() / ("schedlab-rc-" + std::to_string(::getpid()))).string();
}

// The planted failure writes beside, not over, a real failure's counterexample.
std::string case_dir(bool planted) {
    return planted ? (fs::path(out_dir()) / "planted").string() : out_dir();
}

// Removes the default output directory once nothing is left in it; a directory the caller
// named stays.
void remove_out_dir_if_empty() {
    if (std::getenv("SCHEDLAB_RC_OUT") != nullptr) return;
    std::error_code ignored;
    fs::remove(out_dir(), ignored);  // fails, harmlessly, unless empty
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes the case as a trace and a schedule and logs both with the replay command, which
// rapidcheck prints for the minimal case only.
void write_case(const std::string& dir, const workload& w, const sim::sim_config& c,
                const std::vector<sim::recorded_choice>& choices, const std::string& failure) {
    fs::create_directories(dir);
    written_case out;
    out.trace = (fs::path(dir) / "counterexample.trace").string();
    out.schedule = (fs::path(dir) / "counterexample.schedule").string();
    w.write(out.trace);
    schedule s;
    s.seed = c.seed;
    s.choices = choices;
    s.trim();
    s.settings = settings_of(c);
    s.save(out.schedule);
    out.command = "schedlab replay " + out.trace + " --pump " + c.pump.to_string() + " --frames " +
                  c.frames.to_string() + " --when-all " + policies::to_string(c.when_all) +
                  " --workers " + std::to_string(c.workers) + " --costs " + c.costs.name +
                  " --schedule " + out.schedule;
    out.failure = failure;
    out.jobs = w.jobs.size();
    out.steps = w.total_steps();
    RC_LOG() << failure << "\nminimal workload written to " << out.trace << ":\n"
             << slurp(out.trace) << "schedule written to " << out.schedule
             << "\nreproduce: " << out.command << "\n";
    last_written = out;
}

// ---- the property ----

// What the passing cases reached, so that a generator change that stops covering a feature
// shows up as a failed check rather than as quietly weaker testing.
struct coverage {
    std::uint64_t cases = 0, sends = 0, nested = 0, wide = 0, ready = 0, io = 0;
    std::uint64_t budget_exhausted = 0, unassisted_capped = 0, global_trips = 0;
    std::uint64_t heap_fallbacks = 0, private_stash = 0, several_workers = 0, jitter = 0;
    std::uint64_t round_trips = 0;
};
coverage covered;

void note_coverage(const workload& w, const sim::sim_config& c, const sim::run_result& r) {
    ++covered.cases;
    bool send = false, nested = false, wide = false, ready = false, io = false;
    for (const auto& j : w.jobs) {
        for (const auto& s : j.prog->steps) {
            send = send || s.kind == traces::step_kind::send;
            ready = ready || s.kind == traces::step_kind::ready;
            io = io || s.kind == traces::step_kind::io;
            wide = wide || (s.kind == traces::step_kind::fanout && s.count >= 16);
            if (s.sub == nullptr) continue;
            for (const auto& t : s.sub->steps) nested = nested || t.sub != nullptr;
        }
    }
    covered.sends += send;
    covered.nested += nested;
    covered.wide += wide;
    covered.ready += ready;
    covered.io += io;
    covered.budget_exhausted += r.pump_counters.budget_exhausted > 0;
    covered.unassisted_capped += r.pump_counters.unassisted_capped > 0;
    covered.global_trips += r.frames_result.counters.global_trips > 0;
    // The heap allocator counts every frame as a heap fallback; only the recycler's count
    // means a pool ran dry.
    covered.heap_fallbacks += c.frames.policy == policies::frames_spec::kind::recycling &&
                              r.frames_result.counters.heap_fallbacks > 0;
    covered.private_stash += c.when_all == policies::when_all_frames::private_;
    covered.several_workers += c.workers > 1;
    covered.jitter += c.io_jitter_ns > 0;
}

// What a test may change in the drawn configuration (a planted fault); empty for the real one.
using tweak = void (*)(sim::sim_config&);

void generated_case(tweak plant) {
    const auto subs = *rc::gen::resize(
        4, rc::gen::container<std::vector<std::vector<step_gen>>>(gen_program(false, 4)));
    const auto jobs = *rc::gen::resize(
        10, rc::gen::nonEmpty(
                rc::gen::container<std::vector<std::vector<step_gen>>>(gen_program(true, 6))));
    const auto channels =
        *rc::gen::resize(3, rc::gen::container<std::vector<channel_gen>>(gen_channel()));
    const auto arrivals = *gen_arrivals();
    const auto policy = *gen_policy();

    const workload w = build(subs, jobs, channels, arrivals);
    sim::sim_config c = configure(policy);
    if (plant != nullptr) plant(c);
    const std::string pump = c.pump.to_string();
    RC_TAG(pump.substr(0, pump.find(':')), policy.recycling ? "recycling" : "heap");

    random_chooser pick(policy.seed);
    const run_outcome first = run_once(w, c, pick);
    std::string problem;
    if (first.failed) {
        problem = first.failed->message;
    } else if (first.result.jobs_completed != w.jobs.size()) {
        problem = "only " + std::to_string(first.result.jobs_completed) + " of " +
                  std::to_string(w.jobs.size()) + " jobs completed";
    } else if (first.result.frames_result.outstanding_at_end != 0) {
        problem = "frames outstanding at the end";
    } else if (c.pump.policy != policies::pump_spec::kind::quota &&
               first.result.max_inline_streak > c.pump.inline_bound()) {
        problem = "an inline run of " + std::to_string(first.result.max_inline_streak) +
                  " passed the pump's bound " + std::to_string(c.pump.inline_bound());
    } else {
        // The recorded schedule replays the run strictly, and so does the trace it is
        // written as (which is what a counterexample on disk is).
        replay_chooser follow(first.choices, true);
        const run_outcome again = run_once(w, c, follow);
        if (again.failed || again.result.event_hash != first.result.event_hash) {
            problem = "the recorded schedule did not replay the run";
        } else if (policy.seed % 4 == 0) {
            // A quarter of the cases (each write ends in an fsync): the seed decides, and it
            // shrinks towards 0, so a failure here keeps being checked while it shrinks.
            ++covered.round_trips;
            const std::string dir = case_dir(plant != nullptr);
            fs::create_directories(dir);
            const std::string path = (fs::path(dir) / "round-trip.trace").string();
            w.write(path);
            auto src = traces::open_input(path);
            const workload back = workload::from_source(*src);
            replay_chooser follow_file(first.choices, true);
            const run_outcome from_file = run_once(back, c, follow_file);
            if (from_file.failed || from_file.result.event_hash != first.result.event_hash) {
                problem = "the trace written and read back did not replay the run";
            }
        }
    }
    if (problem.empty() && plant == nullptr) note_coverage(w, c, first.result);
    if (!problem.empty()) {
        write_case(case_dir(plant != nullptr), w, c, first.choices, problem);
        RC_FAIL(problem);
    }
}

int shell(const std::string& command) {
    const int raw = std::system(command.c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

}  // namespace

TEST_CASE("generated workloads pass every check under generated policy parameters") {
    REQUIRE(rc_configured);
    covered = {};
    rc::prop("no property fails; the schedule and the written trace replay the run",
             [] { generated_case(nullptr); });
    const coverage& k = covered;
    std::cout << "of " << k.cases << " passing cases: " << k.sends << " send through channels, "
              << k.nested << " nest sub-programs two deep, " << k.wide << " fan out 16 or wider, "
              << k.ready << " have ready operations, " << k.io << " I/O; " << k.private_stash
              << " use a private stash, " << k.several_workers << " several workers, " << k.jitter
              << " I/O jitter; reached: budget exhausted " << k.budget_exhausted
              << ", unassisted cap " << k.unassisted_capped << ", global trip " << k.global_trips
              << ", heap fallback " << k.heap_fallbacks << "; " << k.round_trips
              << " replayed from a written trace\n";
    // With the default budget (200 cases) every feature is reached; a smaller RC_PARAMS
    // budget may legitimately miss one.
    if (k.cases >= 200) {
        for (const std::uint64_t n :
             {k.sends, k.nested, k.wide, k.ready, k.io, k.budget_exhausted, k.unassisted_capped,
              k.global_trips, k.heap_fallbacks, k.private_stash, k.several_workers, k.jitter,
              k.round_trips}) {
            CHECK(n > 0);
        }
    }
    // A failure leaves its counterexample behind; a pass leaves nothing.
    std::error_code ignored;
    fs::remove(fs::path(out_dir()) / "round-trip.trace", ignored);
    remove_out_dir_if_empty();
}

TEST_CASE("a failing generated case shrinks to a trace on disk and a replay that reproduces it") {
    REQUIRE(rc_configured);
    // Planted: an effectively unbounded pump against a declared bound of 2 inline resumes.
    const tweak unbounded = [](sim::sim_config& c) {
        c.pump = policies::pump_spec::parse("fixed:1000000");
        c.checks.max_inline_streak = 2;
    };
    last_written = {};
    const auto result = rc::detail::checkTestable([unbounded] { generated_case(unbounded); });
    REQUIRE(result.template is<rc::detail::FailureResult>());
    const written_case cx = last_written;
    std::cout << "planted starvation shrunk to " << cx.jobs << " job(s), " << cx.steps
              << " top-level step(s)\n  " << cx.failure << "\n  " << cx.command << "\n"
              << slurp(cx.trace);
    CHECK_THAT(cx.failure, Catch::StartsWith("starvation:"));
    // Starvation needs a run of inline resumes (one job's ready step) while other work waits
    // in the queue (a second job's step): the shrunk case is exactly that, two jobs of one step
    // each (measured: `io 1` beside `ready 4 1`).
    CHECK(cx.jobs == 2);
    CHECK(cx.steps == 2);
    REQUIRE(fs::exists(cx.trace));
    REQUIRE(fs::exists(cx.schedule));
    const std::string prefix = "schedlab ";
    REQUIRE(cx.command.rfind(prefix, 0) == 0);
    const std::string err = case_dir(true) + "/replay.err";
    const int status = shell(std::string(SCHEDLAB_BINARY) + " " + cx.command.substr(prefix.size()) +
                             " -q >/dev/null 2>" + err);
    CHECK(status == 1);
    CHECK_THAT(slurp(err), Catch::Contains(cx.failure));
    fs::remove_all(case_dir(true));
    remove_out_dir_if_empty();
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
