// The live io_context: N threads share one FIFO run queue (a mutex and a condition variable);
// the reactor's turn is an entry in that queue, so polling for I/O waits its turn like any
// handler. Work a handler posts goes to the thread's private queue and is spliced onto the
// back of the shared queue once the handler returns (one lock trip per handler, not per post).
//
// The policies are the ones the simulator links (policies/): every thread owns a pump that
// opens a cycle when a queued entry starts and is consulted by every already-complete
// operation; frames come from one recycling_resource whose per-thread cache is a real
// thread_local and whose global pool is guarded by a real std::mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <type_traits>
#include <vector>

#include "policies/frames.hpp"
#include "policies/pump.hpp"
#include "runtime/executor.hpp"
#include "runtime/reactor.hpp"
#include "runtime/task.hpp"

namespace schedlab::runtime {

// The recycler's cache seam for real threads: the calling thread's own cache.
struct thread_cache_seam {
    policies::thread_cache& current() const noexcept;
};
using live_recycler = policies::recycling_resource<thread_cache_seam, std::mutex>;

// Counters of one run, summed over the threads when they leave run().
struct context_stats {
    policies::pump_counters pump;
    policies::frame_counters frames;
    std::uint64_t queued_items = 0;  // handlers popped from the shared queue
    std::uint64_t reactor_turns = 0;
    std::uint64_t reactor_blocking_turns = 0;
    std::uint64_t unassisted_pops = 0;  // pops that left work queued with no idle thread
    // Of queued_items, those a thread took straight from its own posts: the only item, with
    // nothing else queued and nothing waiting in the reactor (the same item a trip through the
    // queue would have given it).
    std::uint64_t direct_items = 0;
    std::uint64_t max_inline_streak = 0;
    std::int64_t frames_peak_outstanding = 0;
    std::int64_t frames_outstanding_at_end = 0;
};

struct context_options {
    std::uint32_t threads = 1;
    policies::pump_spec pump = policies::pump_spec::parse("adaptive");
    policies::frames_spec frames = policies::frames_spec::parse("recycling");
};

class io_context final : public executor {
public:
    io_context(std::unique_ptr<reactor> r, const context_options& options);
    io_context(const io_context&) = delete;
    io_context& operator=(const io_context&) = delete;
    ~io_context();

    // From a context thread: the private queue. From anywhere else: the shared queue.
    void post(std::coroutine_handle<> h) noexcept override;

    // The pump of the calling context thread decides: true resumes inline. Outside a context
    // thread there is no cycle to extend, so the answer is always post. Reached only through
    // completed_operation<io_context>, the step the simulator uses too.
    bool try_inline(const step_key& key) noexcept;

    // Starts `t` detached; run() returns once every spawned task has finished. The first
    // exception a detached task throws is rethrown by run(). The frame of `t` came from the
    // hook of the thread that created it.
    void spawn(task<void> t);

    // Calls `make` (which returns a task<void>) on a context thread and starts its task
    // detached, so the frame comes from this context's resource and is counted in its stats.
    // Called outside a run, `make` runs when run() starts.
    template <class F>
    requires std::is_invocable_r_v<task<void>, F&> void spawn(F make) {
        if (current() == this) {
            spawn(make());
            return;
        }
        std::lock_guard lk(mu_);
        outstanding_.fetch_add(1, std::memory_order_relaxed);
        starters_.emplace_back(std::move(make));
    }

    // Runs `threads` threads until the spawned work is done or stop() is called.
    void run();
    void stop() noexcept;

    reactor& io() noexcept { return *reactor_; }
    std::pmr::memory_resource* frames() noexcept { return frames_.get(); }
    const context_options& options() const noexcept { return options_; }
    const context_stats& stats() const noexcept { return stats_; }

    // The io_context whose thread is calling, or null.
    static io_context* current() noexcept;

private:
    struct thread_state;
    struct entry {
        std::coroutine_handle<> h;  // empty: the reactor's turn
    };

    void thread_main(std::uint32_t index);
    // Opens a pump cycle and runs one queued item to its next suspension.
    void run_queued(thread_state& self, std::coroutine_handle<> h, bool unassisted);
    void push_locked(std::coroutine_handle<> h);
    void wake_locked(std::size_t items);
    static void post_trampoline(void* self, std::coroutine_handle<> h) noexcept;
    static std::coroutine_handle<> detached_done(void* self, detail::promise_base& p) noexcept;
    void merge(const thread_state& t);
    void run_starters();
    void launch(task<void> t);

    context_options options_;
    std::unique_ptr<reactor> reactor_;
    std::unique_ptr<policies::frame_resource> frames_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<entry> queue_;
    std::size_t real_items_ = 0;  // queue_ entries that are not the reactor's turn
    // real_items_ as last stored under mu_, read without it by try_inline: a streak statistic
    // may be one item stale, which no decision depends on (relaxed on both sides).
    std::atomic<std::size_t> queued_hint_{0};
    // stopped_ as last stored under mu_, for the lock-free path after a handler (relaxed: a
    // stop() racing with it lets this thread run one more item before it sees the stop).
    std::atomic<bool> stop_requested_{false};
    std::uint32_t idle_ = 0;  // threads waiting on cv_
    bool reactor_blocking_ = false;
    bool stopped_ = false;

    std::vector<std::function<task<void>()>> starters_;  // spawned before run(); under mu_
    std::atomic<std::uint64_t> outstanding_{0};
    std::exception_ptr first_error_;
    context_stats stats_;
};

}  // namespace schedlab::runtime
