// The interval and the test the report's "significant" marks rest on, against published
// values of Student's t distribution and hand-computed samples.
#include <catch2/catch.hpp>

#include "tools/stats.hpp"

using schedlab::tools::interval;
using schedlab::tools::student_t_cdf;
using schedlab::tools::student_t_quantile;
using schedlab::tools::summarize;
using schedlab::tools::welch_p_value;

TEST_CASE("student t quantiles match the published table") {
    CHECK(student_t_quantile(0.975, 1) == Approx(12.7062).epsilon(1e-4));
    CHECK(student_t_quantile(0.975, 2) == Approx(4.3027).epsilon(1e-4));
    CHECK(student_t_quantile(0.975, 4) == Approx(2.7764).epsilon(1e-4));
    CHECK(student_t_quantile(0.975, 9) == Approx(2.2622).epsilon(1e-4));
    CHECK(student_t_quantile(0.975, 29) == Approx(2.0452).epsilon(1e-4));
    CHECK(student_t_quantile(0.995, 10) == Approx(3.1693).epsilon(1e-4));
    CHECK(student_t_quantile(0.025, 4) == Approx(-2.7764).epsilon(1e-4));
    CHECK(student_t_cdf(0, 3.5) == Approx(0.5));
}

TEST_CASE("the interval of five samples uses t with four degrees of freedom") {
    const interval r = summarize({10, 12, 14, 16, 18});
    CHECK(r.n == 5);
    CHECK(r.mean == Approx(14));
    CHECK(r.sd == Approx(3.16228).epsilon(1e-5));
    // 2.7764 * 3.16228 / sqrt(5)
    CHECK(r.half_width == Approx(3.9264).epsilon(1e-4));
}

TEST_CASE("one sample or equal samples give a zero-width interval") {
    CHECK(summarize({7}).half_width == 0);
    CHECK(summarize({7, 7, 7}).half_width == 0);
    CHECK(summarize({}).n == 0);
}

TEST_CASE("welch's test separates shifted samples and not overlapping ones") {
    const interval a = summarize({10, 11, 12, 11, 10});
    const interval b = summarize({14, 15, 16, 15, 14});
    const interval c = summarize({10, 12, 11, 10, 12});
    // t = -7.559 with 8 degrees of freedom: p = 6.5507e-5 (the tail integrated numerically).
    CHECK(welch_p_value(a, b) == Approx(6.5507e-5).epsilon(1e-3));
    CHECK(welch_p_value(a, c) > 0.5);
    CHECK(welch_p_value(summarize({3, 3}), summarize({4, 4})) == 0);
    CHECK(welch_p_value(summarize({3, 3}), summarize({3, 3})) == 1);
    CHECK(welch_p_value(summarize({3}), summarize({4, 5})) == 1);
}
