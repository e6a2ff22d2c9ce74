#include "tools/stats.hpp"

#include <cmath>
#include <stdexcept>

namespace schedlab::tools {

namespace {

// The continued fraction of the regularized incomplete beta function, evaluated with the
// modified Lentz method; converges fast for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
    constexpr double tiny = 1e-300;
    constexpr double epsilon = 1e-15;
    constexpr int terms_max = 500;
    double c = 1.0;
    double d = 1.0 - (a + b) * x / (a + 1.0);
    if (std::fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double result = d;
    for (int m = 1; m <= terms_max; ++m) {
        const double m2 = 2.0 * m;
        // The even step of the fraction, then the odd one.
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        result *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double step = d * c;
        result *= step;
        if (std::fabs(step - 1.0) < epsilon) break;
    }
    return result;
}

double regularized_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    const double front = std::exp(log_front);
    // The fraction converges on one side of the mode; the symmetry I_x(a,b) = 1 - I_1-x(b,a)
    // covers the other.
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
    return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

double student_t_cdf(double t, double df) {
    const double x = df / (df + t * t);
    const double tail = 0.5 * regularized_beta(df / 2.0, 0.5, x);
    return t >= 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) {
        throw std::invalid_argument("student_t_quantile: needs 0 < p < 1 and df > 0");
    }
    if (p == 0.5) return 0;
    if (p < 0.5) return -student_t_quantile(1.0 - p, df);
    // The distribution function is monotonic, so bisection on a bracket that grows until it
    // holds p is enough; 200 halvings reach the precision of a double.
    double lo = 0, hi = 1;
    while (student_t_cdf(hi, df) < p && hi < 1e12) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (student_t_cdf(mid, df) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

interval summarize(const std::vector<double>& samples) {
    interval r;
    r.n = samples.size();
    if (r.n == 0) return r;
    double sum = 0;
    for (double v : samples) sum += v;
    r.mean = sum / static_cast<double>(r.n);
    if (r.n < 2) return r;
    double squares = 0;
    for (double v : samples) squares += (v - r.mean) * (v - r.mean);
    r.sd = std::sqrt(squares / static_cast<double>(r.n - 1));
    const double t = student_t_quantile(0.975, static_cast<double>(r.n - 1));
    r.half_width = t * r.sd / std::sqrt(static_cast<double>(r.n));
    return r;
}

double welch_p_value(const interval& a, const interval& b) {
    if (a.n < 2 || b.n < 2) return 1.0;
    const double va = a.sd * a.sd / static_cast<double>(a.n);
    const double vb = b.sd * b.sd / static_cast<double>(b.n);
    const double diff = a.mean - b.mean;
    if (va + vb == 0) return diff == 0 ? 1.0 : 0.0;
    const double t = diff / std::sqrt(va + vb);
    // The Welch-Satterthwaite approximation of the degrees of freedom.
    const double df =
        (va + vb) * (va + vb) /
        (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
    return 2.0 * (1.0 - student_t_cdf(std::fabs(t), df));
}

}  // namespace schedlab::tools
