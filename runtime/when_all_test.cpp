#include "runtime/when_all.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/frame_stash.hpp"
#include "policies/frames.hpp"
#include "runtime/test_executor.hpp"

namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;
using rt::task;

namespace {

// Each child yields through the executor `hops` times before finishing, so children finish
// in an order other than the one they were listed in.
struct yield_once {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { rt::current_executor()->post(h); }
    void await_resume() const noexcept {}
};

task<int> value_after(int v, int hops, std::vector<int>& finished) {
    for (int i = 0; i < hops; ++i) co_await yield_once{};
    finished.push_back(v);
    co_return v;
}

task<void> fail_after(int hops, std::string what, std::vector<int>& finished, int id) {
    for (int i = 0; i < hops; ++i) co_await yield_once{};
    finished.push_back(id);
    throw std::runtime_error(what);
}

}  // namespace

TEST_CASE("when_all over a fixed list returns results in the children's order") {
    rt::testing::fifo_executor ex;
    std::vector<int> finished;
    std::tuple<int, int, int> got{};
    auto parent = [&]() -> task<void> {
        got = co_await rt::when_all(value_after(1, 3, finished), value_after(2, 0, finished),
                                    value_after(3, 1, finished));
    };
    auto t = parent();
    ex.post(t.handle());
    ex.drain();
    REQUIRE(t.done());
    CHECK(finished == std::vector<int>{2, 3, 1});
    CHECK(got == std::tuple<int, int, int>{1, 2, 3});
}

TEST_CASE("when_all over a range returns results in order") {
    rt::testing::fifo_executor ex;
    std::vector<int> finished;
    std::vector<int> got;
    auto parent = [&]() -> task<void> {
        std::vector<task<int>> kids;
        for (int i = 0; i < 10; ++i) kids.push_back(value_after(i, 10 - i, finished));
        got = co_await rt::when_all(std::move(kids));
    };
    auto t = parent();
    ex.post(t.handle());
    ex.drain();
    REQUIRE(t.done());
    CHECK(finished.front() == 9);
    CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("when_all rethrows the first exception and still finishes the other children") {
    rt::testing::fifo_executor ex;
    std::vector<int> finished;
    std::string caught;
    auto parent = [&]() -> task<void> {
        std::vector<task<void>> kids;
        kids.push_back(fail_after(5, "late", finished, 0));
        kids.push_back(fail_after(1, "early", finished, 1));
        kids.push_back(fail_after(3, "middle", finished, 2));
        try {
            co_await rt::when_all(std::move(kids));
        } catch (const std::runtime_error& e) {
            caught = e.what();
        }
    };
    auto t = parent();
    ex.post(t.handle());
    ex.drain();
    REQUIRE(t.done());
    CHECK(caught == "early");
    CHECK(finished.size() == 3);
}

TEST_CASE("when_all with no children completes at once") {
    rt::testing::fifo_executor ex;
    bool done = false;
    auto parent = [&]() -> task<void> {
        co_await rt::when_all(std::vector<task<int>>{});
        done = true;
    };
    auto t = parent();
    t.handle().resume();
    CHECK(done);
}

TEST_CASE("two-call when_all allocates the children from the stash and nothing else") {
    rt::testing::fifo_executor ex;
    pol::heap_resource heap;
    rt::frame_resource_scope scope(&heap);
    std::vector<int> finished;
    std::vector<int> got;
    pol::stash_counters seen;
    auto parent = [&]() -> task<void> {
        pol::frame_stash stash(8, rt::current_frame_resource());
        std::vector<task<int>> kids;
        auto launch = rt::when_all(stash);
        for (int i = 0; i < 8; ++i) kids.push_back(value_after(i, 1, finished));
        got = co_await launch(std::move(kids));
        seen = stash.counters();
    };
    auto t = parent();  // the parent frame itself comes from the heap resource
    const auto before = heap.counters().allocations;
    ex.post(t.handle());
    ex.drain();
    REQUIRE(t.done());
    CHECK(got.size() == 8);
    CHECK(seen.hits == 8);
    CHECK(seen.overflows == 0);
    CHECK(seen.arena_allocations == 1);
    // The only upstream allocation during the run is the stash's arena.
    CHECK(heap.counters().allocations - before == 1);
    CHECK(rt::current_frame_resource() == &heap);
}

TEST_CASE("two-call syntax over a fixed list installs the stash before the children exist") {
    rt::testing::fifo_executor ex;
    pol::heap_resource heap;
    rt::frame_resource_scope scope(&heap);
    std::vector<int> finished;
    std::uint64_t hits = 0;
    auto parent = [&]() -> task<void> {
        pol::frame_stash stash(2, &heap);
        co_await rt::when_all(stash)(value_after(1, 0, finished), value_after(2, 0, finished));
        hits = stash.counters().hits;
    };
    auto t = parent();
    ex.post(t.handle());
    ex.drain();
    CHECK(hits == 2);
}
