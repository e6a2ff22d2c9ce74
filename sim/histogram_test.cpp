#include "sim/histogram.hpp"

#include <catch2/catch.hpp>

using schedlab::sim::histogram;

TEST_CASE("values below 256 are kept exactly") {
    histogram h;
    for (int v = 1; v <= 100; ++v) h.add(static_cast<std::uint64_t>(v));
    CHECK(h.quantile(0.5) == 50);
    CHECK(h.quantile(0.99) == 99);
    CHECK(h.quantile(1.0) == 100);
    CHECK(h.mean() == Approx(50.5));
}

TEST_CASE("large values are reported within 0.4 percent") {
    histogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v) h.add(v * 1000);
    const auto p99 = static_cast<double>(h.quantile(0.99));
    CHECK(p99 == Approx(99'000'000.0).epsilon(0.004));
    CHECK(h.max() == 100'000'000);
}

TEST_CASE("bucket bounds are monotonic and cover their values") {
    for (std::uint64_t v : {255ull, 256ull, 257ull, 1000ull, 123456789ull, 1ull << 40}) {
        const int i = histogram::index_of(v);
        CHECK(histogram::lower_bound_of(i) <= v);
        CHECK(histogram::lower_bound_of(i + 1) > v);
    }
}

TEST_CASE("an empty histogram reports zeros") {
    histogram h;
    CHECK(h.count() == 0);
    CHECK(h.quantile(0.99) == 0);
    CHECK(h.mean() == 0);
}
