// when_all: run children concurrently, resume the parent when the last one finishes. Results
// come back in the children's order; the first exception to occur is the one rethrown, and
// the other children still run to completion (nothing is cancelled).
//
// Children are posted through the current executor, so other threads (or simulated workers)
// can take them; each child's frame is its own task frame, with no wrapper frame per child.
//
// Frame sourcing: `when_all(stash)(children...)` installs `stash` as the frame resource before
// the children's frames are allocated (the first call runs before the argument list is
// evaluated) and puts the previous resource back before awaiting.
#pragma once

#include <atomic>
#include <cassert>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory_resource>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/executor.hpp"
#include "runtime/task.hpp"

namespace schedlab::runtime {

namespace detail {

struct when_all_join {
    std::atomic<std::size_t> remaining{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::coroutine_handle<> parent;

    static std::coroutine_handle<> child_done(void* ctx, promise_base& child) noexcept {
        auto* join = static_cast<when_all_join*>(ctx);
        if (child.error && !join->failed.exchange(true, std::memory_order_acq_rel)) {
            join->first_error = child.error;
        }
        // acq_rel: the last child must see every other child's result before resuming.
        if (join->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) return join->parent;
        return std::noop_coroutine();
    }

    // Posts every child. After the last post the parent may already be running elsewhere, so
    // nothing owned by the parent's frame is touched once the loop is done.
    void launch(std::coroutine_handle<>* handles, std::size_t n, std::coroutine_handle<> p) {
        parent = p;
        remaining.store(n, std::memory_order_relaxed);
        executor* ex = current_executor();
        assert(ex != nullptr && "when_all needs an executor to post its children");
        for (std::size_t i = 0; i < n; ++i) ex->post(handles[i]);
    }

    completion_hook hook() noexcept { return {&child_done, this}; }

    void rethrow_if_failed() const {
        if (first_error) std::rethrow_exception(first_error);
    }
};

template <class T>
using result_of_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
result_of_t<T> take_result(task<T>& t) {
    if constexpr (std::is_void_v<T>) {
        t.handle().promise().take();
        return {};
    } else {
        return t.handle().promise().take();
    }
}

}  // namespace detail

template <class... Ts>
class [[nodiscard]] when_all_tuple {
public:
    explicit when_all_tuple(task<Ts>... children) : children_(std::move(children)...) {}

    bool await_ready() const noexcept { return sizeof...(Ts) == 0; }
    void await_suspend(std::coroutine_handle<> parent) {
        std::coroutine_handle<> handles[sizeof...(Ts)];
        std::apply(
            [&](auto&... c) {
                std::size_t i = 0;
                ((c.handle().promise().on_done = join_.hook(), handles[i++] = c.handle()), ...);
            },
            children_);
        join_.launch(handles, sizeof...(Ts), parent);
    }
    std::tuple<detail::result_of_t<Ts>...> await_resume() {
        join_.rethrow_if_failed();
        return std::apply(
            [](auto&... c) { return std::tuple<detail::result_of_t<Ts>...>(take(c)...); },
            children_);
    }

private:
    template <class T>
    static detail::result_of_t<T> take(task<T>& t) {
        return detail::take_result(t);
    }
    std::tuple<task<Ts>...> children_;
    detail::when_all_join join_;
};

template <class T>
class [[nodiscard]] when_all_range {
public:
    explicit when_all_range(std::vector<task<T>> children) : children_(std::move(children)) {}

    bool await_ready() const noexcept { return children_.empty(); }
    void await_suspend(std::coroutine_handle<> parent) {
        handles_.reserve(children_.size());
        for (auto& c : children_) {
            c.handle().promise().on_done = join_.hook();
            handles_.push_back(c.handle());
        }
        join_.launch(handles_.data(), handles_.size(), parent);
    }
    auto await_resume() {
        join_.rethrow_if_failed();
        if constexpr (std::is_void_v<T>) {
            for (auto& c : children_) c.handle().promise().take();
        } else {
            std::vector<T> out;
            out.reserve(children_.size());
            for (auto& c : children_) out.push_back(c.handle().promise().take());
            return out;
        }
    }

private:
    std::vector<task<T>> children_;
    std::vector<std::coroutine_handle<>> handles_;
    detail::when_all_join join_;
};

template <class... Ts>
when_all_tuple<Ts...> when_all(task<Ts>... children) {
    return when_all_tuple<Ts...>(std::move(children)...);
}

template <class T>
when_all_range<T> when_all(std::vector<task<T>> children) {
    return when_all_range<T>(std::move(children));
}

// The first of the two calls: installs `frames` for the children about to be created.
class [[nodiscard]] when_all_builder {
public:
    explicit when_all_builder(std::pmr::memory_resource& frames) noexcept
        : previous_(detail::frame_resource_tls) {
        detail::frame_resource_tls = &frames;
    }
    when_all_builder(const when_all_builder&) = delete;
    when_all_builder& operator=(const when_all_builder&) = delete;
    ~when_all_builder() { restore(); }

    template <class... Ts>
    when_all_tuple<Ts...> operator()(task<Ts>... children) {
        restore();
        return when_all_tuple<Ts...>(std::move(children)...);
    }
    template <class T>
    when_all_range<T> operator()(std::vector<task<T>> children) {
        restore();
        return when_all_range<T>(std::move(children));
    }

private:
    void restore() noexcept {
        if (!restored_) detail::frame_resource_tls = previous_;
        restored_ = true;
    }
    std::pmr::memory_resource* previous_;
    bool restored_ = false;
};

inline when_all_builder when_all(std::pmr::memory_resource& frames) {
    return when_all_builder(frames);
}

}  // namespace schedlab::runtime
