// task<T>: a lazy coroutine whose frame comes from the frame hook and which resumes its awaiter
// by symmetric transfer when it finishes, so a chain of nested calls never grows the stack.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/frame_hook.hpp"

namespace schedlab::runtime {

template <class T = void>
class task;

namespace detail {

// What runs when a task finishes and nobody co_awaits it directly: when_all's join and the
// simulator's job bookkeeping. It returns the coroutine to transfer to (or noop).
struct promise_base;

struct completion_hook {
    std::coroutine_handle<> (*fn)(void* ctx, promise_base& finished) noexcept = nullptr;
    void* ctx = nullptr;
};

struct promise_base : frame_allocated {
    std::coroutine_handle<> continuation;
    completion_hook on_done;
    std::exception_ptr error;

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            promise_base& p = h.promise();
            if (p.on_done.fn != nullptr) return p.on_done.fn(p.on_done.ctx, p);
            if (p.continuation) return p.continuation;
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct promise final : promise_base {
    std::optional<T> value;
    task<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    T take() {
        if (error) std::rethrow_exception(error);
        return std::move(*value);
    }
};

template <>
struct promise<void> final : promise_base {
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const {
        if (error) std::rethrow_exception(error);
    }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    task() noexcept = default;
    explicit task(handle_type h) noexcept : h_(h) {}
    task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { reset(); }

    bool valid() const noexcept { return static_cast<bool>(h_); }
    bool done() const noexcept { return h_.done(); }
    handle_type handle() const noexcept { return h_; }

    // Gives up ownership: whoever takes the handle destroys the frame.
    handle_type release() noexcept { return std::exchange(h_, {}); }

    auto operator co_await() && noexcept {
        struct awaiter {
            handle_type h;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> waiter) noexcept {
                h.promise().continuation = waiter;
                return h;  // start the callee by symmetric transfer
            }
            T await_resume() { return h.promise().take(); }
        };
        return awaiter{h_};
    }

private:
    void reset() noexcept {
        if (h_) h_.destroy();
        h_ = {};
    }
    handle_type h_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace schedlab::runtime
