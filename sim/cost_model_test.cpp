#include "sim/cost_model.hpp"

#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "traces/trace.hpp"

using schedlab::sim::cost_model;

namespace {
std::string write_temp(const std::string& body) {
    char name[] = "/tmp/schedlab-costs-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(name) << body;
    return name;
}
}  // namespace

TEST_CASE("the zero profile charges nothing") {
    for (const auto& [key, value] : cost_model::zero().fields()) CHECK(value == 0);
}

TEST_CASE("a cost file overrides the fields it names") {
    const auto path = write_temp("# measured\npost_ns = 55\n\nheap_alloc_ns=300  # malloc\n");
    const auto c = cost_model::load(path);
    CHECK(c.post_ns == 55);
    CHECK(c.heap_alloc_ns == 300);
    CHECK(c.pop_ns == cost_model{}.pop_ns);
    std::remove(path.c_str());
}

TEST_CASE("a cost file with an unknown key or a bad number names the line") {
    const auto path = write_temp("post_ns = 5\nspeed = 3\n");
    CHECK_THROWS_WITH(cost_model::load(path), Catch::Contains("line 2") && Catch::Contains("key"));
    std::remove(path.c_str());
    const auto bad = write_temp("post_ns = -5\n");
    CHECK_THROWS_WITH(cost_model::load(bad),
                      Catch::Contains("line 1") && Catch::Contains("post_ns"));
    std::remove(bad.c_str());
    CHECK_THROWS_AS(cost_model::load("/nonexistent/costs"), schedlab::traces::input_error);
}

TEST_CASE("a cost file that sets one key twice names the key and both lines") {
    // The second value used to replace the first silently.
    const auto path = write_temp("post_ns = 5\n# comment\npop_ns = 7\npost_ns = 6\n");
    try {
        cost_model::load(path);
        FAIL("a key set twice was accepted");
    } catch (const schedlab::traces::input_error& e) {
        CHECK(e.file() == path);
        CHECK(e.where() == "line 4");
        CHECK(e.field() == "post_ns");
        CHECK_THAT(std::string(e.what()), Catch::Contains("set on line 1"));
    }
    std::remove(path.c_str());
}
