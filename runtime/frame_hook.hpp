// The frame hook: the resource that coroutine frames of this thread are allocated from. A
// frame remembers the resource it came from, so freeing stays right after the hook changes
// (when_all installs a private stash only while its children are being created).
#pragma once

#include <cstddef>
#include <memory_resource>
#include <new>

namespace schedlab::runtime {

namespace detail {
inline thread_local std::pmr::memory_resource* frame_resource_tls = nullptr;
}

inline std::pmr::memory_resource* current_frame_resource() noexcept {
    auto* r = detail::frame_resource_tls;
    return r != nullptr ? r : std::pmr::new_delete_resource();
}

inline void set_current_frame_resource(std::pmr::memory_resource* r) noexcept {
    detail::frame_resource_tls = r;
}

// Installs a resource for the lifetime of the scope and puts the previous one back.
class frame_resource_scope {
public:
    explicit frame_resource_scope(std::pmr::memory_resource* r) noexcept
        : previous_(detail::frame_resource_tls) {
        detail::frame_resource_tls = r;
    }
    frame_resource_scope(const frame_resource_scope&) = delete;
    frame_resource_scope& operator=(const frame_resource_scope&) = delete;
    ~frame_resource_scope() { detail::frame_resource_tls = previous_; }

private:
    std::pmr::memory_resource* previous_;
};

// Base of every promise type whose frame goes through the hook. The resource pointer is kept
// in a header in front of the frame; the header is a whole max_align_t so the frame stays
// aligned.
struct frame_allocated {
    static constexpr std::size_t header_bytes = alignof(std::max_align_t);
    static_assert(header_bytes >= sizeof(std::pmr::memory_resource*));

    static void* operator new(std::size_t bytes) {
        auto* r = current_frame_resource();
        void* block = r->allocate(bytes + header_bytes, alignof(std::max_align_t));
        *static_cast<std::pmr::memory_resource**>(block) = r;
        return static_cast<std::byte*>(block) + header_bytes;
    }

    static void operator delete(void* frame, std::size_t bytes) noexcept {
        void* block = static_cast<std::byte*>(frame) - header_bytes;
        auto* r = *static_cast<std::pmr::memory_resource**>(block);
        r->deallocate(block, bytes + header_bytes, alignof(std::max_align_t));
    }
};

}  // namespace schedlab::runtime
