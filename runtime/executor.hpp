// The seams a coroutine needs from whatever drives it. The simulator fills them with
// simulated workers on a virtual clock; the live runtime fills them with its io_context
// threads. Nothing in the core knows which.
#pragma once

#include <concepts>
#include <coroutine>

namespace schedlab::runtime {

// Where work that cannot run now goes: the back of a run queue. when_all posts its children
// through the executor current on the launching thread.
class executor {
public:
    virtual void post(std::coroutine_handle<> h) noexcept = 0;

protected:
    ~executor() = default;
};

namespace detail {
inline thread_local executor* executor_tls = nullptr;
}

inline executor* current_executor() noexcept {
    return detail::executor_tls;
}
inline void set_current_executor(executor* e) noexcept {
    detail::executor_tls = e;
}

class step_key;

// A scheduler as the pump sees it: an already-complete operation asks try_inline(); a refusal
// posts the waiter. try_inline takes a step_key, which only completed_operation can make, so
// no awaitable can consult the pump except through the one step below.
template <class S>
concept pump_scheduler = requires(S& s, std::coroutine_handle<> h, const step_key& key) {
    { s.try_inline(key) } -> std::same_as<bool>;
    s.post(h);
};

template <pump_scheduler S>
class completed_operation;

class step_key {
    step_key() = default;
    template <pump_scheduler S>
    friend class completed_operation;
};

// The scheduler step that consults the pump: await an operation that is already complete.
// While the pump allows, the waiter resumes inline (it never leaves the thread); otherwise it
// is posted and the thread goes back to its queue. The simulator's ready operations and
// channel receives and every live operation (socket, timer, channel) are awaited through it.
template <pump_scheduler S>
class completed_operation {
public:
    explicit completed_operation(S& s) noexcept : s_(s) {}
    bool await_ready() noexcept { return s_.try_inline(step_key{}); }
    void await_suspend(std::coroutine_handle<> h) noexcept { s_.post(h); }
    void await_resume() const noexcept {}

private:
    S& s_;
};

}  // namespace schedlab::runtime
