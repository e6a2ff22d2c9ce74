// The Chrome trace importer on the real recording in ../shared/data, whose slice counts and
// durations were tallied independently of this code, and on broken inputs.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "sim/simulator.hpp"
#include "traces/chrome_import.hpp"
#include "traces/format.hpp"

#include "tools/test_support.hpp"

namespace fs = std::filesystem;
namespace tr = schedlab::traces;

namespace {

using schedlab::test_support::outcome;
using schedlab::test_support::slurp;

using schedlab::test_support::scratch;

const std::string real_file = std::string(SCHEDLAB_DATA_DIR) + "/chrome_trace_flows.json";

std::map<std::string, std::uint64_t> stats_of(const tr::job_source& s) {
    std::map<std::string, std::uint64_t> m;
    for (const auto& [k, v] : s.stats()) m[k] = v;
    return m;
}

std::string error_of(const std::string& body) {
    scratch s;
    const auto p = (s.dir / "bad.json").string();
    std::ofstream(p) << body;
    try {
        tr::import_chrome_trace(p);
    } catch (const tr::input_error& e) {
        return e.field() + " @ " + e.where();
    }
    return "no error";
}

}  // namespace

TEST_CASE("every top-level slice of the real recording becomes one compute step") {
    scratch s;
    const std::string out = (s.dir / "chrome.trace").string();
    auto imported = tr::import_chrome_trace(real_file);
    const auto st = stats_of(*imported);
    // 1,625 B and 1,622 E events: 885 top-level slices, 737 nested, 3 left open at the end.
    CHECK(st.at("slices") == 885);
    CHECK(st.at("nested_slices") == 737);
    CHECK(st.at("open_slices_dropped") == 3);
    CHECK(st.at("flows_linked") > 0);
    CHECK(st.at("jobs") == 885 - st.at("flows_linked"));
    CHECK(st.at("longest_chain_slices") >= 2);
    tr::write_trace(*imported, out);

    // Read back through the ordinary reader: the sums survive the text format.
    auto back = tr::open_input(out);
    CHECK(back->header().classes.size() == 9);
    CHECK(back->header().channels.size() == 9);
    std::uint64_t computes = 0, compute_ns = 0, jobs = 0, sends = 0, yields = 0;
    std::uint64_t last_arrival = 0;
    while (auto j = back->next()) {
        ++jobs;
        CHECK(j->arrival_ns >= last_arrival);
        last_arrival = j->arrival_ns;
        REQUIRE(!j->prog->steps.empty());
        CHECK(j->prog->steps.front().kind == tr::step_kind::send);
        for (const auto& step : j->prog->steps) {
            if (step.kind == tr::step_kind::compute) {
                ++computes;
                compute_ns += step.duration_ns;
            }
            sends += step.kind == tr::step_kind::send;
            yields += step.kind == tr::step_kind::yield;
        }
    }
    CHECK(jobs == st.at("jobs"));
    CHECK(computes == 885);
    CHECK(compute_ns == 777'960'000);  // the top-level slices' durations, summed
    // Each link is a hand-off: to another thread's stage or back through the same one.
    CHECK(sends + yields == jobs + st.at("flows_linked"));
    CHECK(last_arrival > 8'000'000'000ULL);  // the recording spans 8.6 s
}

TEST_CASE("the imported recording replays to completion") {
    auto imported = tr::import_chrome_trace(real_file);
    schedlab::sim::sim_config cfg;
    cfg.workers = 2;
    const auto r = schedlab::sim::simulate(*imported, cfg);
    CHECK(r.jobs_completed == r.jobs_arrived);
    CHECK(r.jobs_completed == stats_of(*imported).at("jobs"));
}

TEST_CASE("broken chrome traces name the event and the field") {
    CHECK(error_of("{\"traceEvents\": [") == "json @ byte 18");
    CHECK(error_of("{\"events\": []}") == "traceEvents @ top level");
    CHECK(error_of("[{\"ph\": \"B\", \"pid\": 1, \"tid\": 1}]") == "ts @ event 0");
    CHECK(error_of("[{\"ph\": \"X\", \"ts\": 1, \"pid\": 1, \"tid\": 1}]") == "dur @ event 0");
    CHECK(error_of("[{\"ph\": \"B\", \"ts\": 1, \"pid\": 1}]") == "tid @ event 0");
    CHECK(error_of("[{\"ph\": \"M\"}, {\"ph\": \"s\", \"ts\": 1, \"pid\": 1, \"tid\": 1}]") ==
          "id @ event 1");
    CHECK(error_of("[{\"ph\": \"B\", \"ts\": 5, \"pid\": 1, \"tid\": 1},"
                   " {\"ph\": \"E\", \"ts\": 4, \"pid\": 1, \"tid\": 1}]") == "ts @ event 1");
    CHECK(error_of("[7]") == "event @ event 0");
}

TEST_CASE("a flow joins two slices on different threads into one job") {
    scratch s;
    const auto p = (s.dir / "two.json").string();
    std::ofstream(p) << R"([
      {"ph":"X","name":"a","ts":10,"dur":5,"pid":1,"tid":1},
      {"ph":"s","name":"post","cat":"c","id":"0x1","ts":12,"pid":1,"tid":1},
      {"ph":"f","name":"post","cat":"c","id":"0x1","ts":20,"pid":1,"tid":2},
      {"ph":"X","name":"b","ts":20,"dur":3,"pid":1,"tid":2},
      {"ph":"X","name":"c","ts":30,"dur":2,"pid":1,"tid":2}
    ])";
    auto src = tr::import_chrome_trace(p);
    auto first = src->next();
    REQUIRE(first);
    CHECK(first->arrival_ns == 0);
    const auto& st = first->prog->steps;
    REQUIRE(st.size() == 4);
    CHECK(st[0].kind == tr::step_kind::send);
    CHECK(st[0].channel == 0);
    CHECK(st[1].duration_ns == 5000);
    CHECK(st[2].kind == tr::step_kind::send);
    CHECK(st[2].channel == 1);
    CHECK(st[3].duration_ns == 3000);
    auto second = src->next();
    REQUIRE(second);
    CHECK(second->arrival_ns == 20'000);
    CHECK(second->class_id == 1);
    CHECK(!src->next());
}
