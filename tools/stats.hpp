// Summary statistics over seeds: the mean with a 95% Student-t interval, and Welch's t-test for
// a difference between two policies. The report states which rule marks a change significant;
// this file is where that rule lives.
#pragma once

#include <cstddef>
#include <vector>

namespace schedlab::tools {

struct interval {
    std::size_t n = 0;
    double mean = 0;
    double sd = 0;          // sample standard deviation (n - 1 in the denominator)
    double half_width = 0;  // of the 95% interval; 0 when n < 2 or every sample is equal
};

// The mean of `samples` with its 95% Student-t interval (mean +- half_width).
interval summarize(const std::vector<double>& samples);

// The two-sided p-value of Welch's t-test for equal means. Two samples whose values do not vary
// at all (a deterministic metric) differ with certainty when their means differ: p = 0. With
// fewer than two samples on either side there is no test: p = 1.
double welch_p_value(const interval& a, const interval& b);

// The quantile function of Student's t distribution with `df` (> 0, may be fractional) degrees
// of freedom, for 0 < p < 1.
double student_t_quantile(double p, double df);

// The distribution function of Student's t with `df` degrees of freedom.
double student_t_cdf(double t, double df);

}  // namespace schedlab::tools
