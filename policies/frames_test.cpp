#include "policies/frames.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace schedlab::policies;

namespace {

// The seam as a test fills it: a pointer to whichever cache "runs" now.
struct switchable_seam {
    thread_cache** current_cache;
    thread_cache& current() const { return **current_cache; }
};

struct fixture {
    thread_cache a, b;
    thread_cache* running = &a;
    recycling_resource<switchable_seam, null_lock> res;

    explicit fixture(const char* spec) : res(frames_spec::parse(spec), switchable_seam{&running}) {}
    ~fixture() {
        res.drain(a);
        res.drain(b);
    }
};

}  // namespace

TEST_CASE("size classes are the powers of two from 64 to 2048") {
    CHECK(frame_class_of(1) == 0);
    CHECK(frame_class_of(64) == 0);
    CHECK(frame_class_of(65) == 1);
    CHECK(frame_class_of(2048) == 5);
    CHECK(frame_class_of(2049) == frame_class_count);
}

TEST_CASE("a freed frame is reused from the thread's bucket") {
    fixture f("recycling");
    void* p = f.res.allocate(200);
    f.res.deallocate(p, 200);
    void* q = f.res.allocate(250);  // same class (256)
    CHECK(q == p);
    CHECK(f.a.counters.local_hits == 1);
    CHECK(f.a.counters.heap_fallbacks == 1);
    f.res.deallocate(q, 250);
}

TEST_CASE("a full local bucket returns frees to the global pool") {
    fixture f("recycling:per_thread=2");
    std::vector<void*> v;
    for (int i = 0; i < 5; ++i) v.push_back(f.res.allocate(100));
    for (void* p : v) f.res.deallocate(p, 100);
    CHECK(f.a.buckets[1].count == 2);
    CHECK(f.res.global_count(1) == 3);
    CHECK(f.a.counters.global_returns == 3);
    CHECK(f.res.outstanding() == 0);
    CHECK(f.res.peak_outstanding() == 5);
}

TEST_CASE("a miss with take_all moves the global bucket up to the local capacity") {
    fixture f("recycling:per_thread=4,take_all=1");
    std::vector<void*> v;
    for (int i = 0; i < 10; ++i) v.push_back(f.res.allocate(100));
    for (void* p : v) f.res.deallocate(p, 100);  // a holds 4, global 6
    f.running = &f.b;
    void* p = f.res.allocate(100);
    CHECK(f.b.counters.global_trips == 1);
    CHECK(f.b.counters.blocks_moved == 5);  // one served, four kept
    CHECK(f.b.buckets[1].count == 4);
    CHECK(f.res.global_count(1) == 1);
    f.res.deallocate(p, 100);
}

TEST_CASE("a miss without take_all moves one block") {
    fixture f("recycling:per_thread=4,take_all=0");
    std::vector<void*> v;
    for (int i = 0; i < 10; ++i) v.push_back(f.res.allocate(100));
    for (void* p : v) f.res.deallocate(p, 100);
    f.running = &f.b;
    void* p = f.res.allocate(100);
    CHECK(f.b.counters.blocks_moved == 1);
    CHECK(f.b.buckets[1].count == 0);
    CHECK(f.res.global_count(1) == 5);
    f.res.deallocate(p, 100);
}

TEST_CASE("an empty global pool falls back to the heap") {
    fixture f("recycling");
    void* p = f.res.allocate(1000);
    CHECK(f.a.counters.global_trips == 1);
    CHECK(f.a.counters.heap_fallbacks == 1);
    CHECK(f.a.counters.trips_by_class[4] == 1);
    f.res.deallocate(p, 1000);
}

TEST_CASE("oversize frames bypass the pools") {
    fixture f("recycling");
    void* p = f.res.allocate(5000);
    CHECK(f.a.counters.oversize == 1);
    CHECK(f.a.counters.global_trips == 0);
    f.res.deallocate(p, 5000);
    CHECK(f.a.buckets[5].count == 0);
}

TEST_CASE("per_thread=0 sends every frame through the global pool") {
    fixture f("recycling:per_thread=0");
    void* p = f.res.allocate(64);
    f.res.deallocate(p, 64);
    void* q = f.res.allocate(64);
    CHECK(q == p);
    CHECK(f.a.counters.global_trips == 2);
    CHECK(f.a.counters.heap_fallbacks == 1);
    f.res.deallocate(q, 64);
}

TEST_CASE("frames specs parse and print") {
    CHECK(frames_spec::parse("heap").policy == frames_spec::kind::heap);
    const auto s = frames_spec::parse("recycling:per_thread=128,take_all=0");
    CHECK(s.per_thread == 128);
    CHECK_FALSE(s.take_all);
    CHECK(s.to_string() == "recycling:per_thread=128,take_all=0");
    CHECK(frames_spec::parse("recycling").to_string() == "recycling:per_thread=16,take_all=1");
    CHECK_THROWS_AS(frames_spec::parse("slab"), std::invalid_argument);
    CHECK_THROWS_AS(frames_spec::parse("recycling:take_all=2"), std::invalid_argument);
    CHECK_THROWS_AS(frames_spec::parse("recycling:size=3"), std::invalid_argument);
}

TEST_CASE("heap resource counts every frame as a heap allocation") {
    heap_resource h;
    void* p = h.allocate(100);
    CHECK(h.counters().heap_fallbacks == 1);
    CHECK(h.outstanding() == 1);
    h.deallocate(p, 100);
    CHECK(h.outstanding() == 0);
}
