// `schedlab compare` and `schedlab merge` as a reviewer relies on them: the numbers are the
// replay's own, the bytes do not depend on the thread count or on sharding, the printed
// commands reproduce them, and bad input stops everything with exit status 2.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tools/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using schedlab::test_support::outcome;
using schedlab::test_support::slurp;

using schedlab::test_support::scratch;

// Runs a shell command line in the scratch directory, with `schedlab` meaning the built binary.
outcome shell(const std::string& line, const scratch& s) {
    std::string cmd;
    std::size_t pos = 0;
    while (true) {
        const auto at = line.find("schedlab ", pos);
        if (at == std::string::npos) break;
        cmd += line.substr(pos, at - pos) + SCHEDLAB_BINARY + " ";
        pos = at + 9;
    }
    cmd += line.substr(pos);
    return schedlab::test_support::run_shell("cd " + s.dir.string() + " && " + cmd, s);
}

std::string data(const std::string& name) {
    return std::string(SCHEDLAB_DATA_DIR) + "/" + name;
}

// A small matrix: one real capture and one generated input, two policies, three seeds.
std::string matrix_args() {
    return "--inputs " + data("smb2_line_rate_burst.pcap") +
           " gen:fanout:width=16,jobs=150 --policies adaptive stash --seeds 3 --workers 2 -q";
}

}  // namespace

TEST_CASE("compare writes the same bytes whatever the thread count") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " -j 1 -o one", s).status == 0);
    REQUIRE(shell("schedlab compare " + matrix_args() + " -j 2 -o two", s).status == 0);
    for (const char* f : {"results.json", "report.md", "report.html", "timelines/stash.json"}) {
        INFO(f);
        CHECK(slurp(s.dir / "one" / f) == slurp(s.dir / "two" / f));
        CHECK(!slurp(s.dir / "one" / f).empty());
    }
}

TEST_CASE("every run's printed command reproduces its numbers") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " -o out", s).status == 0);
    const json results = json::parse(slurp(s.dir / "out" / "results.json"));
    REQUIRE(results.at("runs").size() == 2 * 2 * 3);
    // The capture with the baseline, and the generated input (which needs `schedlab gen`).
    for (const std::size_t index : {std::size_t{1}, std::size_t{10}}) {
        const json& run = results.at("runs").at(index);
        INFO(run.at("command").get<std::string>());
        const outcome o = shell(run.at("command").get<std::string>(), s);
        REQUIRE(o.status == 0);
        CHECK(json::parse(o.out) == run.at("result"));
    }
}

TEST_CASE("the report's per-seed loops reproduce every seed's numbers") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " --no-timelines -o out", s).status == 0);
    const json results = json::parse(slurp(s.dir / "out" / "results.json"));
    const std::string md = slurp(s.dir / "out" / "report.md");
    // The loop for the generated input under stash (input 1, policy 1: runs 9, 10, 11).
    std::string loop;
    std::istringstream lines(md);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("for seed in 1 2 3; do schedlab gen fanout", 0) == 0 &&
            line.find("--when-all private") != std::string::npos) {
            loop = line;
        }
    }
    REQUIRE(!loop.empty());
    const std::string tail = "--json -q; done";
    REQUIRE(loop.size() > tail.size());
    REQUIRE(loop.compare(loop.size() - tail.size(), tail.size(), tail) == 0);
    loop.replace(loop.size() - tail.size(), tail.size(), "--json -q > run-$seed.json; done");
    INFO(loop);
    REQUIRE(shell(loop, s).status == 0);
    for (int seed = 1; seed <= 3; ++seed) {
        const json& run = results.at("runs").at(8 + seed);
        REQUIRE(run.at("seed") == seed);
        CHECK(json::parse(slurp(s.dir / ("run-" + std::to_string(seed) + ".json"))) ==
              run.at("result"));
    }
}

TEST_CASE("the summary's means and changes are those of the runs") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " -o out", s).status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    // Throughput of the generated input (input 1) under stash (policy 1), seeds at 9, 10, 11.
    double sum = 0, base = 0;
    for (int k = 0; k < 3; ++k) {
        sum += r.at("runs").at(9 + k).at("result").at("throughput_jobs_per_s").get<double>();
        base += r.at("runs").at(6 + k).at("result").at("throughput_jobs_per_s").get<double>();
    }
    const json* cell = nullptr;
    for (const auto& c : r.at("summary").at("inputs").at(1).at("cells")) {
        if (c.at("metric") == "throughput_jobs_per_s" && c.at("policy") == "stash") cell = &c;
    }
    REQUIRE(cell != nullptr);
    CHECK(cell->at("seeds") == 3);
    CHECK(cell->at("mean").get<double>() == Approx(sum / 3));
    CHECK(cell->at("change_vs_baseline").get<double>() == Approx((sum - base) / base));
    const std::string md = slurp(s.dir / "out" / "report.md");
    CHECK(md.find("## Property results") != std::string::npos);
    CHECK(md.find("No violation in any explored schedule") != std::string::npos);
    // Every policy on the three scenarios and the two inputs.
    REQUIRE(r.at("checks").size() == (3 + 2) * 2);
    for (const auto& c : r.at("checks")) {
        CHECK(c.at("status") == "ok");
        CHECK(c.at("runs") == 10);
    }
    CHECK(md.find("## Sign-off") != std::string::npos);
    CHECK(md.find("Welch") != std::string::npos);
}

TEST_CASE("a policy that is worse is listed where it is worse, worst first") {
    scratch s;
    // Streams of ready operations: posting every one of them (disabled) makes streams slower.
    const outcome o = shell(
        "schedlab compare --inputs gen:mixed:jobs=60,streams=2,run=512,runs=4 --policies "
        "adaptive disabled --baseline adaptive --seeds 3 -q --no-timelines -o out",
        s);
    REQUIRE(o.status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    const json& worse = r.at("summary").at("who_gets_worse").at("disabled");
    REQUIRE(!worse.empty());
    bool stream_p99 = false;
    for (const auto& w : worse) {
        CHECK(w.at("p_value").get<double>() < 0.05);
        stream_p99 = stream_p99 || (w.at("metric") == "latency p99" && w.at("class") == "stream");
    }
    CHECK(stream_p99);
    // Worst first.
    for (std::size_t i = 1; i < worse.size(); ++i) {
        if (worse[i].at("change").is_null()) continue;
        CHECK(std::fabs(worse[i - 1].at("change").get<double>()) >=
              std::fabs(worse[i].at("change").get<double>()));
    }
}

TEST_CASE("must show 1: the adaptive pump's throughput gain and the class whose p99 it worsens") {
    scratch s;
    // The brief's tradeoff against always posting: a real capture and the mixed workload, the
    // five presets, disabled as the baseline.
    const outcome o = shell("schedlab compare --inputs " + data("smb2_line_rate_burst.pcap") +
                                " gen:mixed:jobs=1500 --policies disabled fixed4 adaptive "
                                "recycler128 stash --seeds 3 -q --no-timelines --check-runs 2 "
                                "-o out",
                            s);
    REQUIRE(o.status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    const auto cell = [&](const std::string& cls, const std::string& metric) -> const json& {
        for (const auto& c : r.at("summary").at("inputs").at(1).at("cells")) {
            if (c.at("policy") == "adaptive" && c.at("class") == cls && c.at("metric") == metric) {
                return c;
            }
        }
        FAIL("no cell " << cls << " " << metric);
        throw std::logic_error("unreachable");
    };
    const json& throughput = cell("all", "throughput_jobs_per_s");
    const json& p99 = cell("request", "latency_p99_ns");
    INFO("adaptive vs disabled on mixed: throughput "
         << throughput.at("change_vs_baseline") << " (p " << throughput.at("p_value")
         << "), request p99 " << p99.at("change_vs_baseline") << " (p " << p99.at("p_value")
         << ")");
    CHECK(throughput.at("verdict") == "better");
    CHECK(throughput.at("change_vs_baseline").get<double>() > 0.05);
    CHECK(p99.at("verdict") == "worse");
    // And the who-gets-worse list names that class, so a reviewer cannot miss it.
    bool listed = false;
    for (const auto& w : r.at("summary").at("who_gets_worse").at("adaptive")) {
        listed = listed || (w.at("input") == "mixed:jobs=1500" && w.at("class") == "request" &&
                            w.at("metric") == "latency p99");
    }
    CHECK(listed);
}

TEST_CASE("a policy that breaks a starvation bound is reported with a command that reproduces it") {
    scratch s;
    // An effectively unbounded pump against hop-storm's declared bound of 16 inline resumes.
    std::ofstream(s / "pol.txt") << "adaptive pump=adaptive\ngreedy pump=fixed:1000000\n";
    const outcome o = shell(
        "schedlab compare --inputs gen:chain:depth=4,jobs=40 --policies pol.txt --seeds 2 -q "
        "--no-timelines --check-runs 300 -o out",
        s);
    // The report is written, and the exit status says a check failed.
    CHECK(o.status == 1);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    const json* bad = nullptr;
    for (const auto& c : r.at("checks")) {
        if (c.at("status") != "ok") {
            CHECK(c.at("policy") == "greedy");
            bad = &c;
        }
    }
    REQUIRE(bad != nullptr);
    CHECK(bad->at("target") == "hop-storm");
    CHECK(bad->at("property") == "starvation");
    const json& worse = r.at("summary").at("who_gets_worse").at("greedy");
    REQUIRE(!worse.empty());
    CHECK(worse.at(0).at("metric") == "property starvation");
    CHECK(worse.at(0).at("input") == "hop-storm");
    const std::string md = slurp(s.dir / "out" / "report.md");
    CHECK(md.find("**violation: starvation**") != std::string::npos);

    // The printed command finds the same violation and shrinks it.
    const outcome again = shell(bad->at("command").get<std::string>(), s);
    CHECK(again.status == 1);
    CHECK(again.out.find("VIOLATION in run " + std::to_string(bad->at("failing_run").get<int>()) +
                         ": " + bad->at("message").get<std::string>()) != std::string::npos);
    CHECK(again.out.find("reproduce: schedlab replay") != std::string::npos);
}

TEST_CASE("scenario checks keep the worker count their bounds were worked out for") {
    scratch s;
    // chain-8's bound of 16 global trips holds for the 2 workers it declares; 3 workers would
    // break it for every policy, which says nothing about the policies.
    const outcome o = shell(
        "schedlab compare --inputs gen:chain:jobs=50 --policies disabled adaptive --seeds 2 "
        "--check-runs 2 --workers 3 -q --no-timelines -o out",
        s);
    CHECK(o.status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    REQUIRE(r.at("checks").size() == (3 + 1) * 2);
    for (const auto& c : r.at("checks")) {
        INFO(c.dump());
        CHECK(c.at("status") == "ok");
        CHECK(c.at("workers") == (c.at("kind") == "scenario" ? 2 : 3));
    }
}

TEST_CASE("a class without jobs says so instead of showing zeros") {
    scratch s;
    // The capture declares tcp, udp and other; none of its frames is `other`.
    REQUIRE(shell("schedlab compare --inputs " + data("http_dns_browsing.pcap") +
                      " --policies disabled adaptive --seeds 2 -q --no-timelines --check-runs 0 "
                      "-o out",
                  s)
                .status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    std::size_t empty = 0;
    for (const auto& c : r.at("summary").at("inputs").at(0).at("cells")) {
        if (c.at("class") != "other") continue;
        CHECK(c.value("no_jobs", false));
        CHECK_FALSE(c.contains("verdict"));
        ++empty;
    }
    CHECK(empty == 3 * 2);  // three latency metrics, two policies
    const std::string md = slurp(s.dir / "out" / "report.md");
    CHECK(md.find("| other | latency p99 | no jobs in this class |") != std::string::npos);
    CHECK(slurp(s.dir / "out" / "report.html").find("class other: no jobs") != std::string::npos);
}

TEST_CASE("shards merged give the single run's results byte for byte") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " -o whole", s).status == 0);
    for (int i = 0; i < 3; ++i) {
        const std::string shard = std::to_string(i) + "/3";
        REQUIRE(shell("schedlab compare " + matrix_args() + " --shard " + shard + " -o s" +
                          std::to_string(i),
                      s)
                    .status == 0);
        CHECK(!fs::exists(s.dir / ("s" + std::to_string(i)) / "report.md"));
    }
    REQUIRE(shell("schedlab merge s2 s0 s1 -q -o merged", s).status == 0);
    for (const char* f : {"results.json", "report.md", "report.html", "timelines/adaptive.json"}) {
        INFO(f);
        CHECK(slurp(s.dir / "whole" / f) == slurp(s.dir / "merged" / f));
    }
    const outcome missing = shell("schedlab merge s0 s1 -q -o partial", s);
    CHECK(missing.status == 2);
    CHECK(missing.err.find("shard 2/3 is missing") != std::string::npos);
    // An edited record is refused naming the file, the record and the field.
    const std::string shard0 = slurp(s.dir / "s0" / "results.json");
    const auto tamper = [&](const std::function<void(json&)>& edit) {
        json doc = json::parse(shard0);
        edit(doc);
        std::ofstream(s.dir / "s0" / "results.json", std::ios::binary) << doc.dump(1);
        return shell("schedlab merge s0 s1 s2 -q -o tampered", s);
    };
    outcome bad = tamper([](json& d) { d["runs"][0]["result"]["latency_ns"]["p99"] = -1e300; });
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("s0/results.json:runs[0]: field 'result.latency_ns.p99'"));
    bad = tamper([](json& d) { d["runs"][1]["status"] = 7; });
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("s0/results.json:runs[1]: field 'status'"));
    bad = tamper([](json& d) { d["checks"][0]["runs"] = "many"; });
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("s0/results.json:checks[0]: field 'runs'"));
    CHECK_FALSE(fs::exists(s.dir / "tampered"));
    std::ofstream(s.dir / "s0" / "results.json", std::ios::binary) << shard0;

    const outcome twice = shell("schedlab merge s0 s0 s1 s2 -q -o twice", s);
    CHECK(twice.status == 2);
    CHECK(twice.err.find("shard") != std::string::npos);
}

TEST_CASE("the linked timeline is what replay --timeline writes") {
    scratch s;
    REQUIRE(shell("schedlab compare " + matrix_args() + " -o out", s).status == 0);
    const json r = json::parse(slurp(s.dir / "out" / "results.json"));
    const json& timelines = r.at("summary").at("timelines");
    REQUIRE(timelines.size() == 2);
    for (const auto& t : timelines) {
        const std::string cmd = "cd out && " + t.at("command").get<std::string>();
        const std::string file = t.at("file").get<std::string>();
        const std::string before = slurp(s.dir / "out" / file);
        fs::remove(s.dir / "out" / file);
        REQUIRE(shell(cmd, s).status == 0);
        CHECK(slurp(s.dir / "out" / file) == before);
        const json tl = json::parse(before);
        CHECK(tl.at("traceEvents").size() > 10);
    }
}

TEST_CASE("bad compare input exits 2 naming the file, line and field") {
    scratch s;
    std::ofstream(s / "pol.txt") << "# two policies\nfast pump=fixed:4\nslow pump=sometimes\n";
    outcome o = shell(
        "schedlab compare --inputs " + data("tls_browsing.pcap") + " --policies pol.txt -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("pol.txt") != std::string::npos);
    CHECK(o.err.find("line 3") != std::string::npos);
    CHECK(o.err.find("pump") != std::string::npos);
    CHECK(!fs::exists(s.dir / "out"));

    o = shell("schedlab compare --inputs missing.pcap --policies adaptive -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("missing.pcap") != std::string::npos);

    o = shell("schedlab compare --inputs gen:fanout:depth=3 --policies adaptive -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("depth") != std::string::npos);

    o = shell("schedlab compare --inputs gen:fanout --policies adaptive sometimes -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("sometimes") != std::string::npos);

    o = shell("schedlab compare --inputs gen:fanout --policies adaptive --baseline x -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("--baseline") != std::string::npos);

    o = shell("schedlab compare --inputs gen:fanout --policies adaptive --shard 3/3 -o out", s);
    CHECK(o.status == 2);
    CHECK(o.err.find("--shard") != std::string::npos);
    CHECK(!fs::exists(s.dir / "out"));
}
