// `schedlab check` and `replay --schedule` as a user runs them: the exit status, the shrunk
// counterexample on disk, and the printed command that reproduces it.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tools/test_support.hpp"

namespace fs = std::filesystem;

namespace {

using schedlab::test_support::outcome;
using schedlab::test_support::slurp;

using schedlab::test_support::scratch;

outcome run(const std::string& args, const scratch& s) {
    return schedlab::test_support::run_shell(std::string(SCHEDLAB_BINARY) + " " + args, s);
}

// The text after `prefix` on the line that starts with it.
std::string line_after(const std::string& text, const std::string& prefix) {
    const auto at = text.find("\n" + prefix);
    if (at == std::string::npos) return "";
    const auto from = at + 1 + prefix.size();
    return text.substr(from, text.find('\n', from) - from);
}

}  // namespace

TEST_CASE("check finds the planted starvation, and the printed replay reproduces it") {
    scratch s;
    const auto cx = (s.dir / "cx").string();
    const auto o = run("check hop-storm --pump fixed:1000000 --runs 300 --out " + cx, s);
    INFO(o.out << o.err);
    REQUIRE(o.status == 1);
    CHECK_THAT(o.out, Catch::Contains("VIOLATION") && Catch::Contains("starvation") &&
                          Catch::Contains("worker") && Catch::Contains("virtual time"));
    CHECK(fs::exists(s.dir / "cx" / "counterexample.trace"));
    CHECK(fs::exists(s.dir / "cx" / "counterexample.schedule"));
    const std::string command = line_after(o.out, "reproduce: schedlab ");
    REQUIRE_FALSE(command.empty());
    const auto r = run(command + " -q", s);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains(line_after(o.out, "shrunk case fails with: ")));

    // Without the policy options the schedule's own are used; with another pump it refuses.
    const std::string files = (s.dir / "cx" / "counterexample.trace").string() + " --schedule " +
                              (s.dir / "cx" / "counterexample.schedule").string();
    const auto bare = run("replay " + files + " -q", s);
    INFO(bare.err);
    CHECK(bare.status == 1);
    CHECK_THAT(bare.err, Catch::Contains(line_after(o.out, "shrunk case fails with: ")));
    const auto other = run("replay " + files + " -q --pump disabled", s);
    CHECK(other.status == 2);
    CHECK_THAT(other.err, Catch::Contains("counterexample.schedule:set pump: field 'pump'") &&
                              Catch::Contains("fixed:1000000") && Catch::Contains("'disabled'"));

    // A recorded setting that does not parse is bad input, named once.
    std::string text = slurp(s.dir / "cx" / "counterexample.schedule");
    const auto at = text.find("set pump ");
    REQUIRE(at != std::string::npos);
    text.replace(at, text.find('\n', at) - at, "set pump fixed:-3");
    std::ofstream(s.dir / "bad.schedule", std::ios::binary) << text;
    const auto bad = run("replay " + (s.dir / "cx" / "counterexample.trace").string() +
                             " -q --schedule " + (s.dir / "bad.schedule").string(),
                         s);
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("bad.schedule:set pump: field 'pump'") &&
                            Catch::Contains("got '-3'"));
    CHECK(bad.err.find("got", bad.err.find("got '-3'") + 1) == std::string::npos);

    // Same inputs and seed: the same files, byte for byte.
    const auto cx2 = (s.dir / "cx2").string();
    REQUIRE(run("check hop-storm --pump fixed:1000000 --runs 300 --out " + cx2, s).status == 1);
    CHECK(slurp(s.dir / "cx" / "counterexample.trace") ==
          slurp(s.dir / "cx2" / "counterexample.trace"));
    CHECK(slurp(s.dir / "cx" / "counterexample.schedule") ==
          slurp(s.dir / "cx2" / "counterexample.schedule"));
}

TEST_CASE("check passes the shipped adaptive pump and prints the counts") {
    scratch s;
    const auto o = run("check hop-storm --pump adaptive --runs 100 --io-jitter-ns 1000", s);
    INFO(o.out << o.err);
    CHECK(o.status == 0);
    CHECK_THAT(o.out, Catch::Contains("runs 100, distinct schedules") &&
                          Catch::Contains("budget exhausted") && Catch::Contains("ok:"));
    // Where exhaustion began, beside the rare-path counts: on cold buckets and an empty global
    // pool, the first run's first frame, a stage consumer's (hop-storm has channels), which
    // belongs to no job.
    const std::string trip = line_after(o.out, "  global trip ");
    CHECK_THAT(trip, Catch::Contains("; first in run 0: worker ") &&
                         Catch::Contains(", size class ") &&
                         Catch::Contains(" bytes, no job, at "));
    const std::string fallback = line_after(o.out, "  heap fallback ");
    CHECK(fallback.substr(fallback.find(';')) == trip.substr(trip.find(';')));
    const auto d =
        run("check chain-8 --frames recycling:per_thread=8 --strategy dfs --runs 500", s);
    INFO(d.out << d.err);
    CHECK(d.status == 0);
    CHECK_THAT(d.out, Catch::Contains("distinct states"));
    // No channels: the first frame is job 0's own (the first arrival's), at its arrival.
    CHECK_THAT(line_after(d.out, "  global trip "), Catch::Contains("; first in run 0: worker ") &&
                                                        Catch::Contains(" bytes, job 0, at "));
}

TEST_CASE("check --help names PCT's actors, and both kinds run") {
    scratch s;
    const auto h = run("check --help", s);
    CHECK(h.status == 0);
    CHECK_THAT(h.out, Catch::Contains("pct:DEPTH[,by=jobs|workers]"));
    for (const char* by : {"jobs", "workers"}) {
        const auto o =
            run(std::string("check hop-storm --strategy pct:2,by=") + by + " --runs 20", s);
        INFO(o.out << o.err);
        CHECK(o.status == 0);
        CHECK_THAT(o.out, Catch::Contains(std::string("strategy pct:2,by=") + by) &&
                              Catch::Contains("runs 20, distinct schedules"));
    }
}

TEST_CASE("replay --schedule prints and reports the schedule's seed, not --seed's") {
    scratch s;
    const auto sched = s.dir / "seed.schedule";
    std::ofstream(sched) << "schedlab-schedule 1\nseed 77\n";
    const std::string trace =
        std::string(SCHEDLAB_SOURCE_DIR) + "/properties/scenarios/chain-8.trace";
    const auto o = run("replay " + trace + " --workers 2 --seed 5 --schedule " + sched.string(), s);
    INFO(o.out << o.err);
    CHECK(o.status == 0);
    CHECK(o.out.rfind("seed=77\n", 0) == 0);
    const auto j = run("replay " + trace + " --workers 2 --json --schedule " + sched.string(), s);
    CHECK(j.status == 0);
    CHECK_THAT(j.out, Catch::Contains("\"seed\": 77,"));
}

TEST_CASE("check --out that cannot be a directory is a clear error with exit 2") {
    scratch s;
    std::ofstream(s.dir / "file") << "in the way\n";
    for (const auto& out : {s.dir / "file", s.dir / "file" / "cx"}) {
        const auto o =
            run("check hop-storm --pump fixed:1000000 --runs 300 --out " + out.string(), s);
        INFO(o.out << o.err);
        CHECK(o.status == 2);
        CHECK_THAT(o.err, Catch::Contains("cannot create the counterexample directory '" +
                                          out.string() + "'"));
        CHECK_THAT(o.out, Catch::Contains("VIOLATION"));
    }
}

TEST_CASE("check and replay --schedule reject bad input with exit 2") {
    scratch s;
    CHECK(run("check no-such-scenario", s).status == 2);
    CHECK(run("check hop-storm --strategy bogus", s).status == 2);
    CHECK(run("check hop-storm --strategy pct:0", s).status == 2);
    const auto by = run("check hop-storm --strategy pct:2,by=threads", s);
    CHECK(by.status == 2);
    CHECK_THAT(by.err, Catch::Contains("by=jobs or by=workers"));
    const auto bad = s.dir / "bad.schedule";
    std::ofstream(bad) << "schedlab-schedule 1\nseed 1\n2 5\n";
    const std::string trace =
        std::string(SCHEDLAB_SOURCE_DIR) + "/properties/scenarios/chain-8.trace";
    const auto o = run("replay " + trace + " --schedule " + bad.string(), s);
    CHECK(o.status == 2);
    CHECK_THAT(o.err, Catch::Contains("line 3") && Catch::Contains("index"));
    // A schedule recorded for another run diverges: a clear message, not a wrong answer.
    std::ofstream(bad) << "schedlab-schedule 1\nseed 1\n7 5\n";
    const auto d = run("replay " + trace + " --workers 2 --schedule " + bad.string(), s);
    CHECK(d.status == 2);
    CHECK_THAT(d.err, Catch::Contains("diverges at choice 0"));
}
