// A fixed-size frame cache: `slots` frames of one size, taken from an upstream resource in one
// piece the first time a frame is asked for and reused for as long as the stash lives. It is
// the private stash `when_all` owns (slots = arity), and, with one slot, the cache a stack
// object can hold so that repeated calls reuse one frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string_view>

namespace schedlab::policies {

struct stash_counters {
    std::uint64_t allocations = 0;
    std::uint64_t hits = 0;               // served from a slot
    std::uint64_t arena_allocations = 0;  // times the slots were taken from upstream
    std::uint64_t overflows = 0;          // requests passed upstream: all slots busy, or too big
    std::uint32_t in_use = 0;
    std::uint32_t peak_in_use = 0;
};

class frame_stash final : public std::pmr::memory_resource {
public:
    // The slot size is fixed by the first request, rounded up to 64 bytes.
    frame_stash(std::size_t slots, std::pmr::memory_resource* upstream) noexcept
        : slots_(slots), upstream_(upstream) {}
    frame_stash(const frame_stash&) = delete;
    frame_stash& operator=(const frame_stash&) = delete;
    ~frame_stash() override;

    std::size_t slots() const noexcept { return slots_; }
    std::size_t slot_bytes() const noexcept { return slot_bytes_; }
    const stash_counters& counters() const noexcept { return counters_; }
    std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override;
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
    bool owns(const void* p) const noexcept;

    struct slot_link {
        slot_link* next;
    };

    std::size_t slots_;
    std::pmr::memory_resource* upstream_;
    std::byte* arena_ = nullptr;
    std::size_t slot_bytes_ = 0;
    std::size_t fresh_ = 0;  // slots never handed out yet, taken from the arena in order
    slot_link* free_ = nullptr;
    stash_counters counters_;
};

// How `when_all` sources its children's frames.
enum class when_all_frames : std::uint8_t {
    shared,   // children allocate from whatever resource is current
    private_  // a stash sized to the arity, installed before the children are created
};

when_all_frames parse_when_all(std::string_view text);  // throws std::invalid_argument
const char* to_string(when_all_frames mode);

}  // namespace schedlab::policies
