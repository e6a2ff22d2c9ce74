#include "sim/histogram.hpp"

#include <bit>
#include <cmath>

namespace schedlab::sim {

int histogram::index_of(std::uint64_t v) noexcept {
    if (v < exact_limit) return static_cast<int>(v);
    const int msb = 63 - std::countl_zero(v);  // >= 8
    const int shift = msb - 7;                 // top 8 bits kept: [128, 256)
    const auto top = static_cast<int>(v >> shift);
    return exact_limit + (shift - 1) * sub_buckets + (top - sub_buckets);
}

std::uint64_t histogram::lower_bound_of(int index) noexcept {
    if (index < exact_limit) return static_cast<std::uint64_t>(index);
    const int j = index - exact_limit;
    const int shift = j / sub_buckets + 1;
    const auto top = static_cast<std::uint64_t>(sub_buckets + j % sub_buckets);
    return top << shift;
}

void histogram::add(std::uint64_t v) noexcept {
    ++counts_[static_cast<std::size_t>(index_of(v))];
    ++count_;
    sum_ += static_cast<long double>(v);
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
}

double histogram::mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t histogram::quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    std::uint64_t seen = 0;
    for (int i = 0; i < bucket_count; ++i) {
        seen += counts_[static_cast<std::size_t>(i)];
        if (seen >= rank) {
            if (i < exact_limit) return lower_bound_of(i);
            const std::uint64_t lo = lower_bound_of(i);
            const std::uint64_t hi = i + 1 < bucket_count ? lower_bound_of(i + 1) : max_;
            const std::uint64_t mid = lo + (hi - lo) / 2;
            return mid > max_ ? max_ : (mid < min_ ? min_ : mid);
        }
    }
    return max_;
}

}  // namespace schedlab::sim
