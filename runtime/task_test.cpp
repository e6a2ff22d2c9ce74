#include "runtime/task.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

#include "policies/frames.hpp"
#include "runtime/test_executor.hpp"

using schedlab::runtime::task;
namespace rt = schedlab::runtime;

namespace {

task<int> leaf(int v) {
    co_return v * 2;
}

task<int> nest(int depth) {
    if (depth == 0) co_return co_await leaf(1);
    co_return 1 + co_await nest(depth - 1);
}

task<void> store(int& out, task<int> t) {
    out = co_await std::move(t);
}

task<int> thrower() {
    throw std::runtime_error("boom");
    co_return 0;
}

// Starts a task from outside any coroutine and runs it to its end.
template <class T>
void run(task<T>& t) {
    t.handle().resume();
    REQUIRE(t.done());
}

}  // namespace

TEST_CASE("a task is lazy and returns its value to its awaiter") {
    int out = 0;
    auto t = store(out, leaf(21));
    CHECK(out == 0);
    run(t);
    CHECK(out == 42);
}

TEST_CASE("a deep chain of nested calls resumes by symmetric transfer without stack growth") {
    int out = 0;
    // Deep enough to overflow an 8 MiB stack if each completion nested a resume() call.
    auto t = store(out, nest(200'000));
    run(t);
    CHECK(out == 200'002);
}

TEST_CASE("an exception in a callee reaches its awaiter") {
    bool caught = false;
    auto body = [&]() -> task<void> {
        try {
            co_await thrower();
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "boom";
        }
    };
    auto t = body();
    run(t);
    CHECK(caught);
}

TEST_CASE("frames come from the hook's resource and go back to it after the hook changes") {
    schedlab::policies::heap_resource first, second;
    task<int> t;
    {
        rt::frame_resource_scope scope(&first);
        t = leaf(1);
    }
    CHECK(first.outstanding() == 1);
    {
        rt::frame_resource_scope scope(&second);
        t = task<int>{};  // destroyed while another resource is installed
    }
    CHECK(first.outstanding() == 0);
    CHECK(second.counters().allocations == 0);
}

TEST_CASE("the scheduler step resumes inline while the pump allows and posts after") {
    struct scheduler {
        rt::testing::fifo_executor ex;
        int budget = 2;
        int posted = 0;
        bool try_inline(const rt::step_key&) { return budget-- > 0; }
        void post(std::coroutine_handle<> h) {
            ++posted;
            ex.post(h);
        }
    } s;
    int steps = 0;
    auto body = [&]() -> task<void> {
        for (int i = 0; i < 5; ++i) {
            co_await rt::completed_operation<scheduler>(s);
            ++steps;
        }
    };
    auto t = body();
    t.handle().resume();
    CHECK(steps == 2);  // two inline, then the third was posted
    CHECK(s.posted == 1);
    s.ex.drain();
    CHECK(steps == 5);
    CHECK(s.posted == 3);
}
