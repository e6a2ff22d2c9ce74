// The schedlab command as a user meets it: real captures, determinism to the byte, and a
// clear error with exit status 2 for every kind of bad input.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

std::string data(const std::string& name) {
    return std::string(SCHEDLAB_DATA_DIR) + "/" + name;
}

void write(const fs::path& p, const std::string& body) {
    std::ofstream(p, std::ios::binary) << body;
}

}  // namespace

TEST_CASE("the same replay twice gives byte-identical JSON") {
    scratch s;
    REQUIRE(
        run("gen fanout width=16 --jobs 300 --seed 4 -o " + (s / "f.trace").string(), s).status ==
        0);
    const std::string cmd = "replay " + (s / "f.trace").string() + " --workers 3 --json -q";
    const auto a = run(cmd, s);
    const auto b = run(cmd, s);
    REQUIRE(a.status == 0);
    CHECK(a.out == b.out);
    const auto j = nlohmann::json::parse(a.out);
    CHECK(j["jobs_completed"] == 300);
    const auto c = run(cmd + " --seed 99", s);
    CHECK(nlohmann::json::parse(c.out)["event_hash"] != j["event_hash"]);
}

TEST_CASE("replay JSON carries every documented field") {
    scratch s;
    const auto o = run("replay " + data("http_1000_requests.pcap") + " --json -q", s);
    REQUIRE(o.status == 0);
    const auto j = nlohmann::json::parse(o.out);
    for (const char* key :
         {"seed", "policies", "jobs_completed", "throughput_jobs_per_s", "latency_ns",
          "queue_wait_ns", "inline_resumes", "posted_resumes", "frames", "classes", "event_hash"}) {
        CHECK(j.contains(key));
    }
    for (const char* key : {"mean", "p50", "p90", "p99", "p999", "max"}) {
        CHECK(j["latency_ns"].contains(key));
    }
    for (const char* key : {"allocations", "local_hits", "global_trips", "heap_fallbacks",
                            "peak_outstanding", "first_global_trip", "first_heap_fallback"}) {
        CHECK(j["frames"].contains(key));
    }
    CHECK(j["queue_wait_ns"].contains("p99"));
    CHECK(j["queue_wait_ns"].contains("max"));
    // Buckets start empty, so the run's first frame is the first trip, and the global pool
    // starts empty too, so it is also the first heap fallback. A capture replays as a pipeline
    // whose stage consumers exist from the start: that first frame is a consumer's, on the one
    // worker, and belongs to no job.
    for (const char* key : {"first_global_trip", "first_heap_fallback"}) {
        const auto& n = j["frames"][key];
        INFO(key << ": " << n.dump());
        REQUIRE(n.is_object());
        CHECK(n["worker"] == 0);
        CHECK(n["job"].is_null());
        const auto bytes = n["size_class_bytes"].get<std::uint64_t>();
        CHECK((bytes >= 64 && bytes <= 2048 && (bytes & (bytes - 1)) == 0));
        CHECK(n["time_ns"].is_number_unsigned());
    }
    CHECK(j["frames"]["first_global_trip"] == j["frames"]["first_heap_fallback"]);
    // The heap allocator has no pool to exhaust.
    const auto h = run("replay " + data("http_1000_requests.pcap") + " --frames heap --json -q", s);
    REQUIRE(h.status == 0);
    const auto hj = nlohmann::json::parse(h.out);
    CHECK(hj["frames"]["first_global_trip"].is_null());
    CHECK(hj["frames"]["first_heap_fallback"].is_null());
}

TEST_CASE("every real capture replays one job per frame") {
    const std::pair<const char*, int> captures[] = {
        {"http_dns_browsing.pcap", 4631},  {"modbus_polling.pcap", 13622},
        {"http_1000_requests.pcap", 4102}, {"smb2_line_rate_burst.pcap", 3138},
        {"tls_browsing.pcap", 7451},       {"vnc_session.pcapng", 4551}};
    scratch s;
    for (const auto& [name, frames] : captures) {
        const auto o = run("replay " + data(name) + " --workers 2 --json -q", s);
        INFO(name << ": " << o.err);
        REQUIRE(o.status == 0);
        const auto j = nlohmann::json::parse(o.out);
        CHECK(j["jobs_completed"] == frames);
        CHECK(j["source"]["frames"] == frames);
        CHECK(j["frames"]["outstanding_at_end"] == 0);
        const int backwards = std::string(name) == "tls_browsing.pcap" ? 4 : 0;
        CHECK(j["source"]["backwards_timestamps"] == backwards);
    }
}

TEST_CASE("an imported capture replays like the capture itself") {
    scratch s;
    const auto trace = (s / "tls.trace").string();
    REQUIRE(run("import pcap " + data("tls_browsing.pcap") + " -o " + trace, s).status == 0);
    const auto direct = run("replay " + data("tls_browsing.pcap") + " --json -q", s);
    const auto imported = run("replay " + trace + " --json -q", s);
    REQUIRE(direct.status == 0);
    REQUIRE(imported.status == 0);
    const auto a = nlohmann::json::parse(direct.out), b = nlohmann::json::parse(imported.out);
    CHECK(a["event_hash"] == b["event_hash"]);
    CHECK(a["latency_ns"] == b["latency_ns"]);
}

TEST_CASE("the table output starts with the seed") {
    scratch s;
    const auto o = run("replay " + data("modbus_polling.pcap") + " --seed 42", s);
    REQUIRE(o.status == 0);
    CHECK(o.out.rfind("seed=42\n", 0) == 0);
    CHECK(o.out.find("event_hash=") != std::string::npos);
    // The capture's stage consumers allocate the first frames, before any job.
    CHECK(o.out.find("first global trip: worker 0, size class ") != std::string::npos);
    CHECK(o.out.find("first heap fallback: worker 0, size class ") != std::string::npos);
    CHECK(o.out.find(" bytes, no job, at ") != std::string::npos);
}

TEST_CASE("bad input exits 2 with the file, the place and the field") {
    scratch s;
    struct bad_case {
        const char* name;
        std::string body;
        std::string expect;  // fragment the message must contain
    };
    const bad_case cases[] = {
        {"empty.trace", "", "empty.trace"},
        {"header.trace", "job 0 0 : compute 5\n", "line 1"},
        {"step.trace", "schedlab-trace 1\njob 0 0 : teleport 5\n", "line 2"},
        {"negative.trace", "schedlab-trace 1\njob 0 0 : compute -5\n", "line 2"},
        {"overflow.trace", "schedlab-trace 1\njob 0 0 : compute 99999999999999999999999\n",
         "line 2"},
        {"undefined.trace", "schedlab-trace 1\njob 0 0 nowhere\n", "nowhere"},
    };
    for (const auto& c : cases) {
        write(s / c.name, c.body);
        const auto o = run("replay " + (s / c.name).string() + " -q", s);
        INFO(c.name << ": " << o.err);
        CHECK(o.status == 2);
        CHECK(o.err.find(c.expect) != std::string::npos);
        CHECK(o.err.find(c.name) != std::string::npos);
    }
}

TEST_CASE("a truncated capture exits 2 with the byte offset") {
    scratch s;
    const std::string whole = slurp(data("http_1000_requests.pcap"));
    for (const std::size_t cut : {std::size_t{10}, std::size_t{30}, std::size_t{1000}}) {
        write(s / "cut.pcap", whole.substr(0, cut));
        const auto o = run("replay " + (s / "cut.pcap").string() + " -q", s);
        INFO("cut at " << cut << ": " << o.err);
        CHECK(o.status == 2);
        CHECK(o.err.find("byte") != std::string::npos);
    }
}

TEST_CASE("a failed write leaves no half-written output file") {
    scratch s;
    write(s / "bad.trace", "schedlab-trace 1\njob 0 0 : compute 5\njob 1 0 : bogus\n");
    const auto out = s / "result.json";
    const auto o = run("replay " + (s / "bad.trace").string() + " --json -q -o " + out.string(), s);
    CHECK(o.status == 2);
    CHECK_FALSE(fs::exists(out));
    // A capture cut in the middle of a frame, imported to a trace: nothing is left behind.
    const std::string whole = slurp(data("http_1000_requests.pcap"));
    write(s / "cut.pcap", whole.substr(0, whole.size() / 2 + 3));
    const auto trace = s / "out.trace";
    CHECK(run("import pcap " + (s / "cut.pcap").string() + " -o " + trace.string(), s).status == 2);
    CHECK_FALSE(fs::exists(trace));
    for (const auto& entry : fs::directory_iterator(s.dir)) {
        CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
    }
}

TEST_CASE("an output path that is a FIFO, a symlink or a device is refused, not replaced") {
    scratch s;
    REQUIRE(run("gen chain --jobs 20 -o " + (s / "c.trace").string(), s).status == 0);
    const std::string fifo = (s / "fifo").string(), link = (s / "link").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::ofstream(s / "target") << "kept\n";
    fs::create_symlink(s / "target", link);
    const std::string in = (s / "c.trace").string();
    for (const std::string& target : {fifo, link}) {
        INFO(target);
        for (const std::string& args :
             {"replay " + in + " -q -o " + target, "replay " + in + " -q --timeline " + target,
              "gen chain --jobs 5 -o " + target}) {
            const outcome o = run(args, s);
            INFO(args << "\n" << o.err);
            CHECK(o.status == 2);
            CHECK_THAT(o.err, Catch::Contains(target) && Catch::Contains("field 'output'"));
        }
    }
    CHECK(fs::is_fifo(fs::symlink_status(fifo)));
    CHECK(fs::is_symlink(fs::symlink_status(link)));
    CHECK(slurp(s / "target") == "kept\n");
}

TEST_CASE("a timeline window without a timeline is refused") {
    scratch s;
    REQUIRE(run("gen chain --jobs 20 -o " + (s / "c.trace").string(), s).status == 0);
    const outcome o = run("replay " + (s / "c.trace").string() + " --timeline-window 0:100", s);
    CHECK(o.status == 2);
    CHECK_THAT(o.err, Catch::Contains("--timeline-window") && Catch::Contains("--timeline"));
}

TEST_CASE("bad policy specs and options exit 2") {
    scratch s;
    const auto input = data("modbus_polling.pcap");
    for (const std::string args : {"--pump fast", "--frames slab", "--when-all mine", "--workers 0",
                                   "--costs /nonexistent", "--pump fixed:-3"}) {
        const auto o = run("replay " + input + " -q " + args, s);
        INFO(args << ": " << o.err);
        CHECK(o.status == 2);
        CHECK_FALSE(o.err.empty());
    }
    CHECK(run("replay", s).status == 2);
    CHECK(run("frobnicate", s).status == 2);
}

TEST_CASE("help lists examples on every subcommand") {
    scratch s;
    for (const std::string sub : {"", "gen ", "import pcap ", "replay "}) {
        const auto o = run(sub + "--help", s);
        INFO(sub);
        CHECK(o.status == 0);
        CHECK(o.out.find("Examples:") != std::string::npos);
    }
}

TEST_CASE("gen refuses parameters whose jobs replay would reject, before writing anything") {
    scratch s;
    const std::pair<std::string, std::vector<std::string>> cases[] = {
        {"chain depth=64 compute_ns=99999999999999", {"depth=64", "compute_ns=99999999999999"}},
        {"mixed run=1048576 runs=65536 run_compute_ns=1000000", {"run=1048576", "runs=65536"}},
    };
    for (const auto& [params, named] : cases) {
        const auto o = run("gen " + params + " --jobs 10 -o " + (s / "x.trace").string(), s);
        INFO(params << ": " << o.err);
        CHECK(o.status == 2);
        for (const auto& name : named) {
            CHECK(o.err.find(name) != std::string::npos);
        }
        CHECK(o.err.find("per-job bound") != std::string::npos);
        CHECK_FALSE(fs::exists(s / "x.trace"));
    }
}

TEST_CASE("negative and out-of-range numeric options exit 2 naming the option") {
    scratch s;
    const auto trace = (s / "t.trace").string();
    REQUIRE(run("gen chain --jobs 3 -o " + trace, s).status == 0);
    struct bad_option {
        std::string args;
        std::string option;
    };
    const bad_option cases[] = {
        {"replay " + trace + " -q --seed -1", "--seed"},
        {"replay " + trace + " -q --seed 99999999999999999999", "--seed"},
        {"replay " + trace + " -q --workers 4294967297", "--workers"},
        {"replay " + trace + " -q --seed 0x10", "--seed"},
        {"gen chain --seed -1 -o " + (s / "g.trace").string(), "--seed"},
        {"gen chain --jobs -1 -o " + (s / "g.trace").string(), "--jobs"},
        {"check " + trace + " --runs 1 --io-jitter-ns 99999999999999999999", "--io-jitter-ns"},
        // --runs 1 keeps a wrongly accepted value from running for ever.
        {"check " + trace + " --runs 1 --seed -1", "--seed"},
        {"check " + trace + " --runs 1 --horizon-ns -5", "--horizon-ns"},
        {"check " + trace + " --runs 1 --max-global-trips 18446744073709551616",
         "--max-global-trips"},
        {"import pcap " + data("modbus_polling.pcap") + " --stages -1 -o " +
             (s / "i.trace").string(),
         "--stages"},
        {"import pcap " + data("modbus_polling.pcap") + " --base-compute-ns -1 -o " +
             (s / "i.trace").string(),
         "--base-compute-ns"},
        {"compare --inputs " + trace + " --policies disabled --seeds -1 -o " + (s / "cmp").string(),
         "--seeds"},
        {"compare --inputs " + trace + " --policies disabled -j -1 -o " + (s / "cmp").string(),
         "--threads"},
    };
    for (const auto& c : cases) {
        const auto o = run(c.args, s);
        INFO(c.args << ": " << o.err);
        CHECK(o.status == 2);
        CHECK(o.err.find(c.option + ": expected a decimal integer in ") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(s / "g.trace"));
    CHECK_FALSE(fs::exists(s / "i.trace"));
    CHECK_FALSE(fs::exists(s / "cmp"));
    // Leading zeros are decimal, not octal: 010 jobs are ten.
    REQUIRE(run("gen chain --jobs 010 -o " + (s / "g.trace").string(), s).status == 0);
    const auto o = run("replay " + (s / "g.trace").string() + " --json -q --seed 010", s);
    REQUIRE(o.status == 0);
    CHECK(nlohmann::json::parse(o.out)["jobs_completed"] == 10);
    CHECK(nlohmann::json::parse(o.out)["seed"] == 10);
}

TEST_CASE("a key given twice exits 2 naming the key") {
    scratch s;
    const auto gen = run("gen chain depth=8 depth=9 -o " + (s / "g.trace").string(), s);
    INFO(gen.err);
    CHECK(gen.status == 2);
    CHECK(gen.err.find("parameter 'depth' given twice") != std::string::npos);
    CHECK_FALSE(fs::exists(s / "g.trace"));
    const auto input = data("modbus_polling.pcap");
    const auto pump = run("replay " + input + " -q --pump adaptive:initial=2,initial=3", s);
    INFO(pump.err);
    CHECK(pump.status == 2);
    CHECK(pump.err.find("option 'initial' given twice") != std::string::npos);
    write(s / "costs.txt", "post_ns = 5\npost_ns = 6\n");
    const auto costs = run("replay " + input + " -q --costs " + (s / "costs.txt").string(), s);
    INFO(costs.err);
    CHECK(costs.status == 2);
    CHECK(costs.err.find("costs.txt:line 2: field 'post_ns'") != std::string::npos);
}

TEST_CASE("import --help shows import examples, not another command's") {
    scratch s;
    const auto o = run("import --help", s);
    CHECK(o.status == 0);
    CHECK(o.out.find("Examples:") != std::string::npos);
    CHECK(o.out.find("schedlab import pcap ") != std::string::npos);
    CHECK(o.out.find("schedlab import chrome ") != std::string::npos);
    CHECK(o.out.find("schedlab gen ") == std::string::npos);
    CHECK(o.out.find("schedlab check ") == std::string::npos);
    CHECK(o.out.find("schedlab replay ") == std::string::npos);
}

TEST_CASE("an interrupted gen leaves no temporary file behind") {
    for (const int signal_number : {SIGINT, SIGTERM}) {
        INFO("signal " << signal_number);
        scratch s;
        const std::string output = (s / "big.trace").string();
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // Default dispositions, whatever the test runner ignores: the signal must reach
            // the command as it would from a terminal.
            std::signal(SIGINT, SIG_DFL);
            std::signal(SIGTERM, SIG_DFL);
            std::freopen("/dev/null", "w", stdout);
            std::freopen("/dev/null", "w", stderr);
            // Far more jobs than it can write before the signal arrives.
            ::execl(SCHEDLAB_BINARY, SCHEDLAB_BINARY, "gen", "chain", "--jobs", "1000000000", "-o",
                    output.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // Signal once the temporary exists; polled, so no wall-clock bound is involved.
        bool temporary_seen = false;
        int status = 0;
        bool exited = false;
        while (!temporary_seen && !exited) {
            for (const auto& entry : fs::directory_iterator(s.dir)) {
                temporary_seen |= entry.path().filename().string().rfind("big.trace.tmp.", 0) == 0;
            }
            exited = !temporary_seen && ::waitpid(child, &status, WNOHANG) == child;
            if (!temporary_seen && !exited) {
                ::usleep(1000);
            }
        }
        REQUIRE(temporary_seen);
        REQUIRE(::kill(child, signal_number) == 0);
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == signal_number);
        std::vector<std::string> left;
        for (const auto& entry : fs::directory_iterator(s.dir)) {
            left.push_back(entry.path().filename().string());
        }
        INFO("left behind: " << left.size());
        CHECK(left.empty());
    }
}
