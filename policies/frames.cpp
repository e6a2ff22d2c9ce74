#include "policies/frames.hpp"

#include <stdexcept>

#include "policies/spec_parse.hpp"

namespace schedlab::policies {

frames_spec frames_spec::parse(std::string_view text) {
    const auto [name, rest] = detail::split_spec(text);
    frames_spec spec;
    if (name == "heap") {
        if (!rest.empty()) throw std::invalid_argument("frames 'heap' takes no options");
        spec.policy = kind::heap;
        return spec;
    }
    if (name != "recycling") {
        throw std::invalid_argument("frames: unknown allocator '" + std::string(name) +
                                    "' (expected heap or recycling[:per_thread=N,take_all=0|1])");
    }
    spec.policy = kind::recycling;
    for (const auto& [key, value] : detail::split_options(rest, "frames recycling")) {
        if (key == "per_thread") {
            spec.per_thread = static_cast<std::uint32_t>(
                detail::parse_uint(value, "frames recycling per_thread", 0, 1u << 20));
        } else if (key == "take_all") {
            spec.take_all = detail::parse_uint(value, "frames recycling take_all", 0, 1) == 1;
        } else {
            throw std::invalid_argument("frames recycling: unknown option '" +
                                        std::string(key.empty() ? value : key) +
                                        "' (expected per_thread=N, take_all=0|1)");
        }
    }
    return spec;
}

std::string frames_spec::to_string() const {
    if (policy == kind::heap) return "heap";
    return "recycling:per_thread=" + std::to_string(per_thread) +
           ",take_all=" + (take_all ? "1" : "0");
}

frame_counters& frame_counters::operator+=(const frame_counters& o) {
    allocations += o.allocations;
    deallocations += o.deallocations;
    local_hits += o.local_hits;
    global_trips += o.global_trips;
    blocks_moved += o.blocks_moved;
    global_returns += o.global_returns;
    heap_fallbacks += o.heap_fallbacks;
    oversize += o.oversize;
    for (std::size_t i = 0; i < frame_class_count; ++i) trips_by_class[i] += o.trips_by_class[i];
    return *this;
}

void* heap_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
    ++counters_.allocations;
    ++counters_.heap_fallbacks;
    if (++outstanding_ > peak_) peak_ = outstanding_;
    return ::operator new (bytes, std::align_val_t{alignment});
}

void heap_resource::do_deallocate(void* p, std::size_t, std::size_t alignment) {
    ++counters_.deallocations;
    --outstanding_;
    ::operator delete (p, std::align_val_t{alignment});
}

}  // namespace schedlab::policies
