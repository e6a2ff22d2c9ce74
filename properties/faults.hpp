// Planted faults for the checker's own tests, injected through sim::sim_test_hooks. Nothing
// on the command line can reach them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "policies/frames.hpp"

namespace schedlab::properties::faults {

// A recycler that loses one frame in `every`: the frame is never given back to the real
// resource, so it stays outstanding. The blocks are released to the heap when this goes away.
class leaky_frames final : public policies::frame_resource {
public:
    leaky_frames(policies::frame_resource& real, std::uint64_t every)
        : real_(real), every_(every) {}
    ~leaky_frames() override {
        for (void* p : lost_) ::operator delete (p, std::align_val_t{alignof(std::max_align_t)});
    }
    std::int64_t outstanding() const noexcept override { return real_.outstanding(); }
    std::int64_t peak_outstanding() const noexcept override { return real_.peak_outstanding(); }
    std::uint64_t lost() const noexcept { return lost_.size(); }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        return real_.allocate(bytes, alignment);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        if (++frees_ % every_ == 0) {
            lost_.push_back(p);
            return;
        }
        real_.deallocate(p, bytes, alignment);
    }
    bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
        return this == &o;
    }

    policies::frame_resource& real_;
    std::uint64_t every_;
    std::uint64_t frees_ = 0;
    std::vector<void*> lost_;
};

inline auto leak_one_in(std::uint64_t every) {
    return [every](policies::frame_resource& real) -> std::unique_ptr<policies::frame_resource> {
        return std::make_unique<leaky_frames>(real, every);
    };
}

// A when_all that loses the wake-up of one fan-out in `every`.
inline auto lose_wakeup_one_in(std::uint64_t every) {
    return [every](std::uint64_t fanout) { return fanout % every == every - 1; };
}

}  // namespace schedlab::properties::faults
