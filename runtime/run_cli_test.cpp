// `schedlab run` as a user meets it: replay's JSON shape, --record feeding replay, the null
// PMD pipeline, and exit status 2 for bad usage.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct outcome {
    int status = -1;
    std::string out;
};

outcome run(const std::string& args) {
    const std::string cmd = std::string(SCHEDLAB_BINARY) + " " + args + " 2>/dev/null";
    outcome o;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
    const int st = ::pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return o;
}

std::vector<std::string> keys(const nlohmann::json& j) {
    std::vector<std::string> k;
    for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
    return k;
}

struct temp_path {
    fs::path path =
        fs::temp_directory_path() / ("schedlab-run-cli-" + std::to_string(::getpid()) + ".trace");
    ~temp_path() { fs::remove(path); }
};

}  // namespace

TEST_CASE("run --record writes a trace that replay runs with the same jobs, in replay's shape") {
    const std::string reactor = GENERATE("epoll", "io_uring");
    temp_path trace;
    const auto live = run("run chain --reactor " + reactor +
                          " --threads 2 --jobs 100 --depth 3 --duration 60 --json --record " +
                          trace.path.string());
    REQUIRE(live.status == 0);
    const auto lj = nlohmann::json::parse(live.out);
    CHECK(lj["jobs_completed"] == 100);
    CHECK(lj["frames"]["outstanding_at_end"] == 0);

    const auto replay = run("replay " + trace.path.string() + " --json -q");
    REQUIRE(replay.status == 0);
    const auto rj = nlohmann::json::parse(replay.out);
    CHECK(rj["jobs_completed"] == 100);
    CHECK(keys(lj) == keys(rj));
    CHECK(keys(lj["latency_ns"]) == keys(rj["latency_ns"]));
    CHECK(keys(lj["frames"]) == keys(rj["frames"]));
    CHECK(keys(lj["pump"]) == keys(rj["pump"]));
}

TEST_CASE("run http serves every request on loopback") {
    const auto r = run("run http --threads 2 --jobs 200 --duration 60 --json");
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["jobs_completed"] == 200);
    CHECK(j["classes"][0]["name"] == "http");
}

TEST_CASE("run pipeline on the null PMD processes exactly the packets asked for") {
    const auto r =
        run("run pipeline --reactor dpdk --threads 2 --jobs 5000 --duration 60 "
            "--dpdk-prefix schedlab_cli_null_" +
            std::to_string(::getpid()) + " --json");
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["jobs_completed"] == 5000);
    CHECK(j["source"]["rx_packets"] == 5000);
    CHECK(j["source"]["stage2_emit_packets"] == 5000);
}

TEST_CASE("run rejects combinations it cannot run with exit status 2") {
    CHECK(run("run pipeline --reactor epoll --jobs 1").status == 2);
    CHECK(run("run chain --reactor dpdk --jobs 1").status == 2);
    CHECK(run("run chain --pump bogus --jobs 1").status == 2);
    CHECK(run("run nosuch").status == 2);
}
