#include "traces/generators.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "traces/format.hpp"
#include "traces/test_util.hpp"

using namespace schedlab::traces;
using namespace schedlab::traces::test;
using Catch::Matchers::Contains;

namespace {

const std::vector<std::string> all_kinds = {"chain", "fanout",   "pingpong",
                                            "mixed", "pipeline", "poisson"};
const std::vector<std::string> random_kinds = {"mixed", "pipeline", "poisson"};

std::string written(const std::string& kind, std::uint64_t jobs, std::uint64_t seed,
                    const std::map<std::string, std::string>& params = {}) {
    temp_dir dir;
    auto src = make_generator(kind, params, jobs, seed);
    write_trace(*src, dir.file("g.trace"));
    return slurp(dir.file("g.trace"));
}

std::string invalid_argument_message(const std::string& kind,
                                     const std::map<std::string, std::string>& params) {
    try {
        make_generator(kind, params, 10, 1);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    FAIL("no invalid_argument for " << kind);
    return {};
}

}  // namespace

TEST_CASE("generator_kinds lists every kind with defaults and descriptions") {
    std::vector<std::string> names;
    for (const auto& kind : generator_kinds()) {
        names.push_back(kind.name);
        CHECK_FALSE(kind.description.empty());
        CHECK_FALSE(kind.params.empty());
        for (const auto& param : kind.params) {
            CHECK_FALSE(param.default_value.empty());
            CHECK_FALSE(param.description.empty());
        }
    }
    CHECK(names == all_kinds);
    const auto& chain = generator_kinds()[0];
    CHECK(chain.params[0].name == "depth");
    CHECK(chain.params[0].default_value == "8");
}

TEST_CASE("every default parameter value is accepted") {
    for (const auto& kind : generator_kinds()) {
        std::map<std::string, std::string> explicit_defaults;
        for (const auto& param : kind.params) {
            explicit_defaults[param.name] = param.default_value;
        }
        INFO(kind.name);
        CHECK(written(kind.name, 50, 3, explicit_defaults) == written(kind.name, 50, 3));
    }
}

TEST_CASE("an unknown generator kind is an invalid_argument naming it") {
    const std::string message = invalid_argument_message("spiral", {});
    CHECK_THAT(message, Contains("spiral"));
    CHECK_THAT(message, Contains("chain"));
}

TEST_CASE("an unknown parameter is an invalid_argument naming it and the known ones") {
    const std::string message = invalid_argument_message("chain", {{"width", "3"}});
    CHECK_THAT(message, Contains("width"));
    CHECK_THAT(message, Contains("depth"));
}

TEST_CASE("a bad parameter value is an invalid_argument naming the parameter and value") {
    const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
        {"chain", "depth", "0"},
        {"chain", "depth", "65"},
        {"chain", "depth", "eight"},
        {"chain", "compute_ns", "-1"},
        {"fanout", "width", "65537"},
        {"fanout", "nesting", "0"},
        {"fanout", "nesting", "64"},
        {"pingpong", "rounds", "0"},
        {"mixed", "streams", "1000001"},
        {"pingpong", "capacity", "0"},
        {"mixed", "rate_per_s", "0"},
        {"mixed", "rate_per_s", "nan"},
        {"mixed", "run", "0"},
        {"pipeline", "stages", "0"},
        {"pipeline", "capacity", "0"},
        {"poisson", "service", "uniform"},
        {"poisson", "utilization", "-0.5"},
        {"poisson", "utilization", "inf"},
        {"poisson", "workers", "0"},
        {"poisson", "mean_service_ns", "0"}};
    for (const auto& [kind, name, value] : bad) {
        INFO(kind << " " << name << "=" << value);
        const std::string message = invalid_argument_message(kind, {{name, value}});
        CHECK_THAT(message, Contains(name));
        CHECK_THAT(message, Contains("'" + value + "'"));
    }
}

TEST_CASE("a workload whose arrivals would pass 2^62 ns is an invalid_argument") {
    CHECK_THROWS_AS(make_generator("chain", {{"interval_ns", "4611686018427387904"}}, 3, 1),
                    std::invalid_argument);
    CHECK_THROWS_AS(make_generator("poisson", {{"utilization", "0.000000001"}}, 1000000000, 1),
                    std::invalid_argument);
}

TEST_CASE("parameters whose jobs pass the reader's per-job bounds are refused, named") {
    struct over {
        std::string kind;
        std::map<std::string, std::string> params;
        std::string bound;
    };
    const std::vector<over> cases = {
        {"chain", {{"depth", "64"}, {"compute_ns", "99999999999999"}}, "demand_ns"},
        {"fanout", {{"width", "1024"}, {"nesting", "2"}}, "frames"},
        {"fanout",
         {{"width", "64"}, {"nesting", "3"}, {"compute_ns", "1000000000000"}},
         "demand_ns"},
        {"pingpong", {{"rounds", "65536"}, {"compute_ns", "10000000000000"}}, "demand_ns"},
        {"mixed",
         {{"run", "1048576"}, {"runs", "65536"}, {"run_compute_ns", "1000000"}},
         "operations"},
        {"mixed",
         {{"run", "1"}, {"runs", "2"}, {"run_compute_ns", "1000000000000000"}},
         "demand_ns"},
        {"mixed", {{"run", "1048576"}, {"runs", "17"}, {"run_compute_ns", "0"}}, "operations"},
        {"mixed",
         {{"request_compute_ns", "1000000000000000"}, {"io_ns", "1000000000000000"}},
         "demand_ns"},
        {"pipeline", {{"stages", "1024"}, {"compute_ns", "1000000000000000"}}, "demand_ns"},
    };
    for (const auto& c : cases) {
        INFO(c.kind << " over " << c.bound);
        const std::string message = invalid_argument_message(c.kind, c.params);
        CHECK_THAT(message, Contains("generator '" + c.kind + "'"));
        CHECK_THAT(message, Contains("per-job bound on " + c.bound));
        for (const auto& [name, value] : c.params) {
            CHECK_THAT(message, Contains(name + "=" + value));
        }
    }
}

TEST_CASE("parameters right at the per-job bounds give traces the reader accepts") {
    // 64 levels of 15625000000000 ns each is exactly 10^15 ns; 16 runs of 2^20 ready
    // operations and their 16 io steps stay under 2^24 operations.
    const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
        {"chain", {{"depth", "64"}, {"compute_ns", "15625000000000"}}},
        {"mixed", {{"streams", "1"}, {"run", "1048576"}, {"runs", "15"}, {"run_compute_ns", "0"}}},
    };
    for (const auto& [kind, params] : cases) {
        INFO(kind);
        temp_dir dir;
        auto src = make_generator(kind, params, 2, 1);
        write_trace(*src, dir.file("g.trace"));
        CHECK(drain(*open_trace(dir.file("g.trace"))).size() == 2);
    }
}

TEST_CASE("generators record kind, parameters, jobs and seed in the header") {
    auto src = make_generator("poisson", {{"service", "det"}}, 123, 77);
    const auto& header = src->header();
    CHECK(meta_value(header, "generator") == "poisson");
    CHECK(meta_value(header, "param.service") == "det");
    CHECK(meta_value(header, "param.utilization") == "0.5");
    CHECK(meta_value(header, "jobs") == "123");
    CHECK(meta_value(header, "seed") == "77");
}

TEST_CASE("each generator produces exactly the requested number of jobs") {
    for (const auto& kind : all_kinds) {
        INFO(kind);
        auto src = make_generator(kind, {}, 1234, 5);
        CHECK(drain(*src).size() == 1234);
        CHECK_FALSE(src->next());
        CHECK(stat(*src, "jobs") == 1234);
    }
    CHECK(drain(*make_generator("chain", {}, 0, 5)).empty());
}

TEST_CASE("the same seed gives byte-identical traces") {
    for (const auto& kind : all_kinds) {
        INFO(kind);
        CHECK(written(kind, 2000, 42) == written(kind, 2000, 42));
    }
}

TEST_CASE("different seeds give different traces for random kinds") {
    for (const auto& kind : random_kinds) {
        INFO(kind);
        CHECK(written(kind, 2000, 42) != written(kind, 2000, 43));
    }
}

TEST_CASE("generated arrivals are non-decreasing") {
    for (const auto& kind : all_kinds) {
        INFO(kind);
        auto src = make_generator(kind, {}, 20000, 9);
        std::uint64_t last_ns = 0;
        bool ordered = true;
        while (auto j = src->next()) {
            ordered = ordered && j->arrival_ns >= last_ns;
            last_ns = j->arrival_ns;
        }
        CHECK(ordered);
    }
}

TEST_CASE("generated traces read back as the same workload") {
    for (const auto& kind : all_kinds) {
        INFO(kind);
        temp_dir dir;
        auto src = make_generator(kind, {}, 300, 8);
        write_trace(*src, dir.file("g.trace"));
        auto reread = open_trace(dir.file("g.trace"));
        CHECK(reread->header().meta == src->header().meta);
        CHECK(describe_all(drain(*reread)) ==
              describe_all(drain(*make_generator(kind, {}, 300, 8))));
    }
}

TEST_CASE("chain jobs nest depth frames with compute split around each call") {
    auto src = make_generator("chain", {}, 5, 1);
    const auto jobs = drain(*src);
    CHECK(stat(*src, "named_programs") == 8);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        CHECK(jobs[i].arrival_ns == i * 100000);
        CHECK(jobs[i].prog == jobs[0].prog);
    }
    const program* level = jobs[0].prog.get();
    CHECK(frame_depth(*level) == 8);
    for (int i = 0; i < 7; ++i) {
        CHECK(level->name == "L" + std::to_string(i));
        REQUIRE(level->steps.size() == 3);
        CHECK(level->steps[0].kind == step_kind::compute);
        CHECK(level->steps[0].duration_ns == 1000);
        CHECK(level->steps[1].kind == step_kind::call);
        CHECK(level->steps[2].duration_ns == 1000);
        level = level->steps[1].sub;
    }
    CHECK(describe(*level) == "L7{compute 2000;}");
    // A job's total compute (8 levels of 2000 ns) ends long before the next arrival.
    CHECK(8 * 2000 < 100000);
}

TEST_CASE("chain depth 1 is a single compute and depth 64 is accepted") {
    auto shallow = drain(*make_generator("chain", {{"depth", "1"}}, 1, 1));
    CHECK(describe(shallow[0]) == "0 c0 L0{compute 2000;}");
    auto deep = drain(*make_generator("chain", {{"depth", "64"}}, 1, 1));
    CHECK(frame_depth(*deep[0].prog) == 64);
}

TEST_CASE("fanout jobs fan out width children under compute at the root") {
    const auto jobs = drain(*make_generator("fanout", {}, 3, 1));
    CHECK(describe(jobs[1]) ==
          "200000 c0 root{compute 500;fanout 64 leaf{compute 1000;};compute 500;}");
    const auto nested = drain(*make_generator("fanout", {{"nesting", "3"}, {"width", "4"}}, 1, 1));
    CHECK(describe(nested[0]) ==
          "0 c0 root{compute 500;fanout 4 level1{fanout 4 level2{fanout 4 leaf{compute "
          "1000;};};};compute 500;}");
}

TEST_CASE("pingpong jobs alternate sends on channels ping and pong") {
    auto src = make_generator("pingpong", {{"rounds", "3"}}, 2, 1);
    const auto& channels = src->header().channels;
    REQUIRE(channels.size() == 2);
    CHECK(channels[0].name == "ping");
    CHECK(channels[1].name == "pong");
    CHECK(channels[0].capacity == 64);
    CHECK(channels[1].consumers == 1);
    const auto jobs = drain(*src);
    CHECK(jobs[1].arrival_ns == 20000);
    std::string round = "compute 500;send #0;compute 500;send #1;";
    CHECK(describe(*jobs[0].prog) == "pingpong{" + round + round + round + "}");
}

TEST_CASE("mixed starts with its streams at time 0, then Poisson requests") {
    auto src = make_generator("mixed", {}, 100000, 4);
    REQUIRE(src->header().classes.size() == 2);
    CHECK(src->header().find_class(0)->name == "request");
    CHECK(src->header().find_class(1)->name == "stream");
    for (int i = 0; i < 4; ++i) {
        const job s = *src->next();
        CHECK(s.class_id == 1);
        CHECK(s.arrival_ns == 0);
        CHECK(s.prog->name == "stream");
    }
    std::uint64_t requests = 0;
    std::uint64_t last_ns = 0;
    bool all_requests = true;
    while (auto j = src->next()) {
        ++requests;
        all_requests = all_requests && j->class_id == 0 && j->prog->name == "request";
        last_ns = j->arrival_ns;
    }
    CHECK(all_requests);
    CHECK(requests == 99996);
    // 20000 requests per second is a mean gap of 50 us.
    CHECK(std::abs(static_cast<double>(last_ns) / 99995 - 50000) < 1000);
}

TEST_CASE("mixed programs follow the request and stream shapes") {
    auto src = make_generator("mixed", {{"runs", "2"}, {"run", "256"}, {"streams", "1"}}, 2, 4);
    CHECK(describe(*src->next()->prog) == "stream{io 20000;ready 256 200;io 20000;ready 256 200;}");
    CHECK(describe(*src->next()->prog) == "request{compute 1500;io 20000;compute 1500;}");
}

TEST_CASE("pipeline jobs pass through stages joined by channels") {
    auto src = make_generator("pipeline", {{"stages", "4"}, {"capacity", "8"}, {"consumers", "2"}},
                              50000, 6);
    const auto& channels = src->header().channels;
    REQUIRE(channels.size() == 3);
    CHECK(channels[2].name == "s3");
    CHECK(channels[2].capacity == 8);
    CHECK(channels[2].consumers == 2);
    const auto jobs = drain(*src);
    CHECK(describe(*jobs[0].prog) ==
          "pipeline{compute 2000;send #0;compute 2000;send #1;compute 2000;send #2;compute 2000;}");
    const double mean_gap_ns = static_cast<double>(jobs.back().arrival_ns) / (jobs.size() - 1);
    CHECK(std::abs(mean_gap_ns - 10000) < 200);
}

TEST_CASE("poisson mean inter-arrival and mean service are within 2% over 200k jobs") {
    auto src = make_generator("poisson", {}, 200000, 12345);
    double service_sum = 0;
    std::uint64_t first_ns = 0;
    std::uint64_t last_ns = 0;
    std::uint64_t count = 0;
    bool inline_single_compute = true;
    while (auto j = src->next()) {
        if (count == 0) {
            first_ns = j->arrival_ns;
        }
        last_ns = j->arrival_ns;
        const auto& steps = j->prog->steps;
        inline_single_compute = inline_single_compute && j->prog->name.empty() &&
                                steps.size() == 1 && steps[0].kind == step_kind::compute &&
                                steps[0].duration_ns >= 1;
        service_sum += static_cast<double>(steps[0].duration_ns);
        ++count;
    }
    CHECK(inline_single_compute);
    // Utilization 0.5 on one worker with 10 us service: one arrival every 20 us on average.
    const double mean_gap_ns = static_cast<double>(last_ns - first_ns) / (count - 1);
    CHECK(std::abs(mean_gap_ns / 20000 - 1) < 0.02);
    CHECK(std::abs(service_sum / count / 10000 - 1) < 0.02);
}

TEST_CASE("poisson with deterministic service and ready operations before it") {
    auto src = make_generator(
        "poisson", {{"service", "det"}, {"ready_before", "3"}, {"workers", "4"}}, 100000, 2);
    std::uint64_t last_ns = 0;
    bool all_exact = true;
    while (auto j = src->next()) {
        all_exact = all_exact && describe(*j->prog) == "<inline>{ready 3 0;compute 10000;}";
        last_ns = j->arrival_ns;
    }
    CHECK(all_exact);
    // Four workers at utilization 0.5 quadruple the arrival rate: a 5 us mean gap.
    CHECK(std::abs(static_cast<double>(last_ns) / 99999 / 5000 - 1) < 0.02);
}

TEST_CASE("ten million generated jobs keep memory constant") {
    auto chain = make_generator("chain", {}, 10'000'000, 1);
    const program* shared = chain->next()->prog.get();
    bool same = true;
    while (auto j = chain->next()) {
        same = same && j->prog.get() == shared;
    }
    CHECK(same);
    CHECK(stat(*chain, "named_programs") == 8);
    CHECK(stat(*chain, "jobs") == 10'000'000);

    // Inline programs are freed with their jobs: the source keeps no reference to them.
    auto poisson = make_generator("poisson", {}, 10'000'000, 1);
    std::weak_ptr<const program> first = poisson->next()->prog;
    CHECK(first.expired());
    for (int i = 0; i < 100000; ++i) {
        poisson->next();
    }
    const std::uint64_t before = resident_bytes();
    while (poisson->next()) {
    }
    const std::uint64_t after = resident_bytes();
    CHECK(stat(*poisson, "named_programs") == 0);
    CHECK(stat(*poisson, "jobs") == 10'000'000);
#ifndef __SANITIZE_ADDRESS__
    // AddressSanitizer quarantines freed blocks, which makes resident memory grow without a
    // leak, so the check only means something in ordinary builds.
    CHECK(after < before + 16 * 1024 * 1024);
#else
    (void)before;
    (void)after;
#endif
}
