// A log-linear histogram of nanosecond values: exact below 256, then 128 buckets per power of
// two (relative error under 0.4% at the bucket midpoint). Fixed memory, so a run of any
// length keeps its percentiles without keeping its samples.
#pragma once

#include <array>
#include <cstdint>

namespace schedlab::sim {

class histogram {
public:
    static constexpr int exact_limit = 256;
    static constexpr int sub_buckets = 128;
    static constexpr int bucket_count = exact_limit + 56 * sub_buckets;

    void add(std::uint64_t v) noexcept;
    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t max() const noexcept { return max_; }
    std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
    double mean() const noexcept;
    // The smallest recorded value v such that at least q of the samples are <= v, reported
    // as the midpoint of its bucket (exact below 256) and never above the maximum.
    std::uint64_t quantile(double q) const noexcept;

    static int index_of(std::uint64_t v) noexcept;
    static std::uint64_t lower_bound_of(int index) noexcept;

private:
    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    long double sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

}  // namespace schedlab::sim
