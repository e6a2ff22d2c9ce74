// `schedlab run` as a user meets it: replay's JSON shape, --record feeding replay, the null
// PMD pipeline, and exit status 2 for bad usage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct outcome {
    int status = -1;
    std::string out;
};

// Reads a command started with popen to its end and closes it.
outcome finish(FILE* p) {
    outcome o;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
    const int st = ::pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return o;
}

// Runs `schedlab ARGS` through the shell, after `shell_prefix` (a ulimit, say); with
// `with_stderr` the output holds stderr too.
outcome run(const std::string& args, const std::string& shell_prefix = "",
            bool with_stderr = false) {
    const std::string cmd = shell_prefix + std::string(SCHEDLAB_BINARY) + " " + args +
                            (with_stderr ? " 2>&1" : " 2>/dev/null");
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    return finish(p);
}

std::vector<std::string> keys(const nlohmann::json& j) {
    std::vector<std::string> k;
    for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
    return k;
}

struct temp_path {
    explicit temp_path(const std::string& suffix = ".trace")
        : path(fs::temp_directory_path() /
               ("schedlab-run-cli-" + std::to_string(::getpid()) + suffix)) {}
    fs::path path;
    ~temp_path() { fs::remove(path); }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::uint64_t read_proc_number(const char* path, std::uint64_t fallback) {
    std::ifstream in(path);
    std::uint64_t v = 0;
    return in >> v ? v : fallback;
}

rlim_t hard_descriptor_limit() {
    rlimit lim{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
    return lim.rlim_max;
}

// The port a `run http --serve` announces on stderr (redirected to `err`), once it listens.
// Polls at most 1000 times, 10 ms apart, so a server that never comes up fails the test.
std::uint16_t announced_port(const fs::path& err) {
    const std::string marker = "serving http on 127.0.0.1:";
    for (int i = 0; i < 1000; ++i) {
        std::ifstream in(err);
        std::stringstream text;
        text << in.rdbuf();
        const auto at = text.str().find(marker);
        if (at != std::string::npos && text.str().find('\n', at) != std::string::npos) {
            return static_cast<std::uint16_t>(std::stoul(text.str().substr(at + marker.size())));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

// A blocking loopback connection with a receive timeout, so a silent server fails the test
// instead of hanging it.
int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

struct http_reply {
    std::string status;  // the status line
    std::string body;
};

// Sends one GET and reads the reply's head and its Content-Length body.
http_reply get(int fd, const std::string& path) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string in;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    std::size_t body_bytes = 0;
    for (;;) {
        if (head_end == std::string::npos) {
            const auto at = in.find("\r\n\r\n");
            if (at != std::string::npos) {
                head_end = at + 4;
                const auto cl = in.find("Content-Length: ");
                REQUIRE(cl != std::string::npos);
                body_bytes = std::stoul(in.substr(cl + 16));
            }
        }
        if (head_end != std::string::npos && in.size() >= head_end + body_bytes) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        REQUIRE(n > 0);
        in.append(buf, static_cast<std::size_t>(n));
    }
    return {in.substr(0, in.find("\r\n")), in.substr(head_end, body_bytes)};
}

}  // namespace

TEST_CASE("run http --serve answers a loopback client on the port it announces") {
    temp_path err;
    // --jobs 5 ends the run after the fifth request, long before the duration.
    const auto serve = [&](const std::string& reactor, std::uint16_t port) {
        const std::string cmd = std::string(SCHEDLAB_BINARY) + " run http --serve --reactor " +
                                reactor + " --port " + std::to_string(port) +
                                " --threads 2 --duration 60 --jobs 5 --json 2>" + err.path.string();
        FILE* p = ::popen(cmd.c_str(), "r");
        REQUIRE(p != nullptr);
        return p;
    };
    const auto exchange = [](std::uint16_t port) {
        const int fd = connect_to(port);
        for (int i = 0; i < 4; ++i) {
            const http_reply r = get(fd, "/index.html");
            CHECK(r.status == "HTTP/1.1 200 OK");
            CHECK(r.body == std::string(1024, 'a'));
        }
        const http_reply missing = get(fd, "/nothing-here");
        CHECK(missing.status == "HTTP/1.1 404 Not Found");
        // The fifth request was the last: the server shuts the connection down.
        char c;
        CHECK(::recv(fd, &c, 1, 0) == 0);
        ::close(fd);
    };

    // Port 0: the system picks one and the server announces it.
    FILE* first = serve("epoll", 0);
    const std::uint16_t port = announced_port(err.path);
    REQUIRE(port != 0);
    exchange(port);
    const outcome a = finish(first);
    REQUIRE(a.status == 0);
    const auto aj = nlohmann::json::parse(a.out);
    CHECK(aj["jobs_completed"] == 5);
    CHECK(aj["latency_ns"]["p50"] > 0);
    CHECK(aj["source"]["connections"] == 1);
    CHECK(aj["source"]["connection_errors"] == 0);
    CHECK(aj["frames"]["outstanding_at_end"] == 0);

    // --port N listens on exactly that port (free again now that the first server is gone).
    fs::remove(err.path);
    FILE* second = serve("io_uring", port);
    CHECK(announced_port(err.path) == port);
    exchange(port);
    const outcome b = finish(second);
    REQUIRE(b.status == 0);
    CHECK(nlohmann::json::parse(b.out)["jobs_completed"] == 5);
}

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
    // The EAL's runtime directory of this prefix is gone with the run.
    CHECK_FALSE(fs::exists("/var/run/dpdk/schedlab_cli_null_" + std::to_string(::getpid())));
}

TEST_CASE("run rejects combinations it cannot run with exit status 2") {
    CHECK(run("run pipeline --reactor epoll --jobs 1").status == 2);
    CHECK(run("run chain --reactor dpdk --jobs 1").status == 2);
    CHECK(run("run chain --pump bogus --jobs 1").status == 2);
    CHECK(run("run nosuch").status == 2);
    CHECK(run("run chain --serve --jobs 1").status == 2);
    CHECK(run("run chain --port 8080 --jobs 1").status == 2);
    CHECK(run("run http --serve --record x.trace --jobs 1").status == 2);
}

TEST_CASE("run pingpong and http connect more clients than a listen backlog holds") {
    // Each connection used to be opened by a blocking connect before anything accepted, so
    // past net.core.somaxconn queued connections the next connect waited for minutes.
    const std::uint64_t backlog = read_proc_number("/proc/sys/net/core/somaxconn", 4096);
    const std::uint64_t conns = backlog + 100;
    if (hard_descriptor_limit() < 2 * conns + 256) {
        WARN("RLIMIT_NOFILE is too low for " << conns << " connections; not run");
        return;
    }
    const std::string workload = GENERATE("pingpong", "http");
    const std::string reactor = GENERATE("epoll", "io_uring");
    // --jobs ends the run (the duration is a bound only): the count is exact. The timeout
    // turns a hang into a failure.
    const auto r = run("run " + workload + " --reactor " + reactor + " --concurrency " +
                           std::to_string(conns) + " --jobs " + std::to_string(2 * conns) +
                           " --duration 60 --json",
                       "timeout -s KILL 100 ");
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["jobs_completed"] == 2 * conns);
    CHECK(j["frames"]["outstanding_at_end"] == 0);
}

TEST_CASE("run that cannot finish exits 1, one that needs too many descriptors exits 2") {
    // A listener of this test holds a port: the run's bind fails once it has started.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const auto busy =
        run("run pingpong --jobs 10 --port " + std::to_string(ntohs(addr.sin_port)), "", true);
    ::close(fd);
    CHECK(busy.status == 1);
    CHECK(contains(busy.out, "the run could not finish"));
    CHECK(contains(busy.out, "bind"));

    // 8 clients of 64 socket pairs each need over 1024 descriptors: refused before any opens.
    const auto wide = run("run fanout --width 64 --concurrency 8 --jobs 10 --duration 60",
                          "ulimit -n 200 && ", true);
    CHECK(wide.status == 2);
    CHECK(contains(wide.out, "--concurrency 8 with --width 64"));
    CHECK(contains(wide.out, "limit of 200"));
}

TEST_CASE("run raises the soft descriptor limit to the hard one when it needs more") {
    if (hard_descriptor_limit() < 1024) {
        WARN("RLIMIT_NOFILE's hard limit is below 1024; not run");
        return;
    }
    // 200 clients hold 400 sockets, more than a soft limit of 256 allows.
    const auto r =
        run("run chain --concurrency 200 --jobs 1000 --duration 60 --json", "ulimit -Sn 256 && ");
    REQUIRE(r.status == 0);
    CHECK(nlohmann::json::parse(r.out)["jobs_completed"] == 1000);
}

TEST_CASE("run checks its output paths before it starts") {
    // The duration is the whole run if the paths were only checked at the end.
    for (const std::string opt : {"--record", "-o"}) {
        const auto r = run("run chain --duration 5 " + opt + " /nonexistent-dir/x.out", "", true);
        CHECK(r.status == 2);
        CHECK(contains(r.out, "/nonexistent-dir/x.out"));
        CHECK(contains(r.out, "does not exist"));
    }
    const auto dir =
        run("run chain --duration 5 -o " + fs::temp_directory_path().string(), "", true);
    CHECK(dir.status == 2);
    CHECK(contains(dir.out, "is a directory"));
}

TEST_CASE("run --pcap is for the pipeline alone, and a damaged capture is refused up front") {
    const std::string capture = std::string(SCHEDLAB_DATA_DIR) + "/http_dns_browsing.pcap";
    const auto chain = run("run chain --jobs 10 --pcap " + capture, "", true);
    CHECK(chain.status == 2);
    CHECK(contains(chain.out, "--pcap"));

    // The first 10000 bytes: the capture ends inside a frame.
    temp_path cut(".pcap");
    {
        std::ifstream in(capture, std::ios::binary);
        std::vector<char> head(10000);
        REQUIRE(in.read(head.data(), static_cast<std::streamsize>(head.size())));
        std::ofstream(cut.path, std::ios::binary).write(head.data(), 10000);
    }
    const auto r = run("run pipeline --reactor dpdk --duration 60 --pcap " + cut.path.string() +
                           " --dpdk-prefix schedlab_cli_cut_" + std::to_string(::getpid()),
                       "", true);
    CHECK(r.status == 2);
    CHECK(contains(r.out, cut.path.string() + ":byte "));
}

TEST_CASE("run's table shows live figures, not the simulator's") {
    const auto r = run("run chain --jobs 100 --duration 60");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "jobs       100 completed of 100 arrived"));
    CHECK(contains(r.out, " elapsed\n"));
    CHECK_FALSE(contains(r.out, "virtual"));
    CHECK_FALSE(contains(r.out, "event_hash"));
    CHECK_FALSE(contains(r.out, "final_draw"));
    CHECK_FALSE(contains(r.out, "queue wait"));
    // --json keeps replay's keys, simulator-only ones included.
    const auto j = nlohmann::json::parse(run("run chain --jobs 100 --duration 60 --json").out);
    CHECK(j.contains("event_hash"));
    CHECK(j.contains("virtual_span_ns"));
}
