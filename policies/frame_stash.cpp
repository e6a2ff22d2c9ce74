#include "policies/frame_stash.hpp"

#include <stdexcept>
#include <string>

namespace schedlab::policies {

namespace {
constexpr std::size_t slot_align = alignof(std::max_align_t);
constexpr std::size_t round_up_64(std::size_t n) {
    return (n + 63) & ~std::size_t{63};
}
}  // namespace

frame_stash::~frame_stash() {
    if (arena_ != nullptr) upstream_->deallocate(arena_, slots_ * slot_bytes_, slot_align);
}

bool frame_stash::owns(const void* p) const noexcept {
    const auto* b = static_cast<const std::byte*>(p);
    return arena_ != nullptr && b >= arena_ && b < arena_ + slots_ * slot_bytes_;
}

void* frame_stash::do_allocate(std::size_t bytes, std::size_t alignment) {
    ++counters_.allocations;
    if (arena_ == nullptr && slots_ > 0 && alignment <= slot_align) {
        slot_bytes_ = round_up_64(bytes);
        arena_ = static_cast<std::byte*>(upstream_->allocate(slots_ * slot_bytes_, slot_align));
        ++counters_.arena_allocations;
    }
    if (arena_ != nullptr && bytes <= slot_bytes_ && alignment <= slot_align) {
        void* out = nullptr;
        if (free_ != nullptr) {
            out = free_;
            free_ = free_->next;
        } else if (fresh_ < slots_) {
            out = arena_ + fresh_ * slot_bytes_;
            ++fresh_;
        }
        if (out != nullptr) {
            ++counters_.hits;
            if (++counters_.in_use > counters_.peak_in_use) {
                counters_.peak_in_use = counters_.in_use;
            }
            return out;
        }
    }
    ++counters_.overflows;
    return upstream_->allocate(bytes, alignment);
}

void frame_stash::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
    if (!owns(p)) {
        upstream_->deallocate(p, bytes, alignment);
        return;
    }
    auto* link = static_cast<slot_link*>(p);
    link->next = free_;
    free_ = link;
    --counters_.in_use;
}

when_all_frames parse_when_all(std::string_view text) {
    if (text == "shared") return when_all_frames::shared;
    if (text == "private") return when_all_frames::private_;
    throw std::invalid_argument("when-all: expected 'shared' or 'private', got '" +
                                std::string(text) + "'");
}

const char* to_string(when_all_frames mode) {
    return mode == when_all_frames::shared ? "shared" : "private";
}

}  // namespace schedlab::policies
