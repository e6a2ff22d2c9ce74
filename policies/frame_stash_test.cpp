#include "policies/frame_stash.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "policies/frames.hpp"

using namespace schedlab::policies;

TEST_CASE("a stash takes its slots from upstream once and reuses them") {
    heap_resource up;
    {
        frame_stash stash(4, &up);
        for (int round = 0; round < 3; ++round) {
            std::vector<void*> v;
            for (int i = 0; i < 4; ++i) v.push_back(stash.allocate(200));
            for (void* p : v) stash.deallocate(p, 200);
        }
        CHECK(stash.counters().arena_allocations == 1);
        CHECK(stash.counters().hits == 12);
        CHECK(stash.counters().overflows == 0);
        CHECK(stash.counters().peak_in_use == 4);
        CHECK(stash.slot_bytes() == 256);
        CHECK(up.counters().allocations == 1);
    }
    CHECK(up.outstanding() == 0);
}

TEST_CASE("a stash never hands out more slots than it has") {
    heap_resource up;
    frame_stash stash(2, &up);
    void* a = stash.allocate(64);
    void* b = stash.allocate(64);
    void* c = stash.allocate(64);  // overflow goes upstream
    CHECK(stash.counters().in_use == 2);
    CHECK(stash.counters().overflows == 1);
    stash.deallocate(c, 64);
    stash.deallocate(b, 64);
    stash.deallocate(a, 64);
    CHECK(stash.counters().in_use == 0);
    CHECK(up.outstanding() == 1);  // only the arena remains
}

TEST_CASE("a request larger than the slot goes upstream") {
    heap_resource up;
    frame_stash stash(2, &up);
    void* a = stash.allocate(100);  // slot 128
    void* b = stash.allocate(300);
    CHECK(stash.counters().overflows == 1);
    stash.deallocate(b, 300);
    stash.deallocate(a, 100);
}

TEST_CASE("a one-slot stash serves repeated calls from one frame") {
    heap_resource up;
    frame_stash stash(1, &up);
    void* first = stash.allocate(500);
    stash.deallocate(first, 500);
    for (int i = 0; i < 10; ++i) {
        void* p = stash.allocate(500);
        CHECK(p == first);
        stash.deallocate(p, 500);
    }
    CHECK(up.counters().allocations == 1);
}

TEST_CASE("when_all frame modes parse") {
    CHECK(parse_when_all("shared") == when_all_frames::shared);
    CHECK(parse_when_all("private") == when_all_frames::private_);
    CHECK_THROWS_AS(parse_when_all("mine"), std::invalid_argument);
}
