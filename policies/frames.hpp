// Frame allocators as std::pmr::memory_resource: the heap, and a recycler with per-thread
// size-class buckets over a global pool under a lock. The per-thread cache and the lock are
// seams (template parameters): the simulator points the cache at the simulated worker that is
// running and charges virtual time for the lock; the live runtime uses thread_local caches and
// a real mutex. The policy code does not know which.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

namespace schedlab::policies {

inline constexpr std::size_t frame_class_count = 6;  // 64, 128, ..., 2048 bytes
inline constexpr std::size_t frame_class_min_bytes = 64;
inline constexpr std::size_t frame_class_max_bytes = 2048;

constexpr std::size_t frame_class_bytes(std::size_t cls) {
    return frame_class_min_bytes << cls;
}

// The size class that holds `bytes`, or frame_class_count when it is larger than any class.
constexpr std::size_t frame_class_of(std::size_t bytes) {
    std::size_t cls = 0;
    while (cls < frame_class_count && frame_class_bytes(cls) < bytes) ++cls;
    return cls;
}

struct frames_spec {
    enum class kind : std::uint8_t { heap, recycling };
    kind policy = kind::recycling;
    std::uint32_t per_thread = 16;  // frames each per-thread bucket may hold
    bool take_all = true;           // a miss takes the whole global bucket, not one frame

    // Accepts `heap` or `recycling[:per_thread=N,take_all=0|1]`.
    static frames_spec parse(std::string_view text);
    std::string to_string() const;
};

// Counters of one thread's traffic (or of the whole resource when summed). Rare paths leave
// a mark here so a test can assert that a scenario reached them.
struct frame_counters {
    std::uint64_t allocations = 0;
    std::uint64_t deallocations = 0;
    std::uint64_t local_hits = 0;      // served from this thread's bucket
    std::uint64_t global_trips = 0;    // a local miss that took the global lock
    std::uint64_t blocks_moved = 0;    // blocks carried from the global pool to this thread
    std::uint64_t global_returns = 0;  // frees that overflowed a full local bucket
    std::uint64_t heap_fallbacks = 0;  // allocations the pools could not serve
    std::uint64_t oversize = 0;        // requests larger than the largest class (always heap)
    std::array<std::uint64_t, frame_class_count> trips_by_class{};

    frame_counters& operator+=(const frame_counters& other);
};

struct free_block {
    free_block* next;
};

// One thread's buckets. Owned by whoever owns the thread (a simulated worker, a runtime
// thread); the resource reaches it through the cache seam.
struct thread_cache {
    struct bucket {
        free_block* head = nullptr;
        std::uint32_t count = 0;
    };
    std::array<bucket, frame_class_count> buckets{};
    frame_counters counters;
};

// A lock for single-threaded use, which charges nothing. A lock type that declares
// `single_threaded = true` (this one, or the simulator's virtual-time lock) tells the recycler
// that plain counters are enough.
struct null_lock {
    static constexpr bool single_threaded = true;
    void lock() noexcept {}
    void unlock() noexcept {}
};

template <class L>
concept single_threaded_lock = requires {
    L::single_threaded;
}
&&L::single_threaded;

// Interface the simulator and tests read without knowing the seams.
class frame_resource : public std::pmr::memory_resource {
public:
    virtual std::int64_t outstanding() const noexcept = 0;
    virtual std::int64_t peak_outstanding() const noexcept = 0;
};

// Every frame straight from the heap: the baseline the recyclers are judged against.
class heap_resource final : public frame_resource {
public:
    std::int64_t outstanding() const noexcept override { return outstanding_; }
    std::int64_t peak_outstanding() const noexcept override { return peak_; }
    const frame_counters& counters() const noexcept { return counters_; }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override;
    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    frame_counters counters_;
    std::int64_t outstanding_ = 0;
    std::int64_t peak_ = 0;
};

// CacheSeam: `thread_cache& current()`, the cache of the thread running now.
// Lock: BasicLockable guarding the global pool.
template <class CacheSeam, class Lock = std::mutex>
class recycling_resource final : public frame_resource {
    static constexpr bool single_threaded = single_threaded_lock<Lock>;
    using count_type = std::conditional_t<single_threaded, std::int64_t, std::atomic<std::int64_t>>;

public:
    // A lock that cannot be moved (std::mutex) is built in place.
    recycling_resource(const frames_spec& spec, CacheSeam seam) : spec_(spec), seam_(seam) {}
    recycling_resource(const frames_spec& spec, CacheSeam seam, Lock lock)
        : spec_(spec), seam_(seam), lock_(std::move(lock)) {}

    recycling_resource(const recycling_resource&) = delete;
    recycling_resource& operator=(const recycling_resource&) = delete;

    ~recycling_resource() override {
        for (auto& b : global_) release_chain(b.head);
    }

    // Frees every block a thread's cache holds, for a thread (or worker) that is going away.
    void drain(thread_cache& cache) noexcept {
        for (auto& b : cache.buckets) {
            release_chain(b.head);
            b = {};
        }
    }

    std::uint32_t global_count(std::size_t cls) const noexcept { return global_[cls].count; }
    const frames_spec& spec() const noexcept { return spec_; }
    Lock& lock() noexcept { return lock_; }

    std::int64_t outstanding() const noexcept override { return load(outstanding_); }
    std::int64_t peak_outstanding() const noexcept override { return load(peak_); }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        note_outstanding(+1);
        const std::size_t cls = frame_class_of(bytes);
        thread_cache& cache = seam_.current();
        ++cache.counters.allocations;
        if (cls == frame_class_count || alignment > alignof(std::max_align_t)) {
            ++cache.counters.oversize;
            return ::operator new (bytes, std::align_val_t{alignment});
        }
        auto& local = cache.buckets[cls];
        if (local.head != nullptr) {
            ++cache.counters.local_hits;
            return pop(local);
        }
        ++cache.counters.global_trips;
        ++cache.counters.trips_by_class[cls];
        {
            std::lock_guard guard(lock_);
            auto& global = global_[cls];
            if (global.head != nullptr) {
                // One block serves this request; with take_all the rest of the bucket, up to
                // what the local bucket may hold, comes along so the next misses stay local.
                void* block = pop(global);
                std::uint32_t moved = 1;
                if (spec_.take_all) {
                    while (global.head != nullptr && local.count < spec_.per_thread) {
                        push(local, pop(global));
                        ++moved;
                    }
                }
                cache.counters.blocks_moved += moved;
                return block;
            }
        }
        ++cache.counters.heap_fallbacks;
        return ::operator new (frame_class_bytes(cls), std::align_val_t{alignof(std::max_align_t)});
    }

    void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
        note_outstanding(-1);
        const std::size_t cls = frame_class_of(bytes);
        thread_cache& cache = seam_.current();
        ++cache.counters.deallocations;
        if (cls == frame_class_count || alignment > alignof(std::max_align_t)) {
            ::operator delete (p, std::align_val_t{alignment});
            return;
        }
        auto& local = cache.buckets[cls];
        if (local.count < spec_.per_thread) {
            push(local, p);
            return;
        }
        ++cache.counters.global_returns;
        std::lock_guard guard(lock_);
        push(global_[cls], p);
    }

    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    static void* pop(thread_cache::bucket& b) noexcept {
        free_block* block = b.head;
        b.head = block->next;
        --b.count;
        return block;
    }

    static void push(thread_cache::bucket& b, void* p) noexcept {
        auto* block = static_cast<free_block*>(p);
        block->next = b.head;
        b.head = block;
        ++b.count;
    }

    static void release_chain(free_block* head) noexcept {
        while (head != nullptr) {
            free_block* next = head->next;
            ::operator delete (head, std::align_val_t{alignof(std::max_align_t)});
            head = next;
        }
    }

    void note_outstanding(std::int64_t delta) noexcept {
        if constexpr (single_threaded) {
            outstanding_ += delta;
            if (outstanding_ > peak_) peak_ = outstanding_;
        } else {
            // Relaxed: these are statistics, no other memory is published through them.
            const auto now = outstanding_.fetch_add(delta, std::memory_order_relaxed) + delta;
            auto seen = peak_.load(std::memory_order_relaxed);
            while (now > seen &&
                   !peak_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
            }
        }
    }

    static std::int64_t load(const count_type& c) noexcept {
        if constexpr (single_threaded) {
            return c;
        } else {
            return c.load(std::memory_order_relaxed);
        }
    }

    frames_spec spec_;
    CacheSeam seam_;
    Lock lock_;
    std::array<thread_cache::bucket, frame_class_count> global_{};
    count_type outstanding_{0};
    count_type peak_{0};
};

}  // namespace schedlab::policies
