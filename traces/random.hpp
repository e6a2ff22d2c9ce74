// Seeded randomness with results that do not depend on the standard library's
// distributions (which differ between implementations): one seed, the same bytes everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace schedlab::traces {

// splitmix64 expands one seed into independent streams; xoshiro256** draws from a stream.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class seeded_rng {
public:
    explicit seeded_rng(std::uint64_t seed) {
        std::uint64_t sm = seed;
        for (auto& word : s_) word = splitmix64(sm);
    }

    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in (0, 1]: never 0, so that -log(u) is finite.
    double uniform_open0() { return (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53; }

    // Uniform integer in [0, bound) without modulo bias worth measuring (bound < 2^32).
    std::uint64_t below(std::uint64_t bound) {
        __extension__ using u128 = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<u128>(next_u64()) * bound) >> 64);
    }

    double exponential(double mean) { return -std::log(uniform_open0()) * mean; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace schedlab::traces
