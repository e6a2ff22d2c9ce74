#include "runtime/io_context.hpp"

#include <algorithm>
#include <cassert>
#include <thread>

#include "runtime/frame_hook.hpp"

namespace schedlab::runtime {

namespace {

thread_local policies::thread_cache tls_cache;

// Every frame from the heap, counted with atomics because any thread may free any frame.
class live_heap final : public policies::frame_resource {
public:
    std::int64_t outstanding() const noexcept override {
        return outstanding_.load(std::memory_order_relaxed);
    }
    std::int64_t peak_outstanding() const noexcept override {
        return peak_.load(std::memory_order_relaxed);
    }

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        ++tls_cache.counters.allocations;
        ++tls_cache.counters.heap_fallbacks;
        const auto now = outstanding_.fetch_add(1, std::memory_order_relaxed) + 1;
        auto seen = peak_.load(std::memory_order_relaxed);
        while (now > seen && !peak_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
        }
        return ::operator new (bytes, std::align_val_t{alignment});
    }
    void do_deallocate(void* p, std::size_t, std::size_t alignment) override {
        ++tls_cache.counters.deallocations;
        outstanding_.fetch_sub(1, std::memory_order_relaxed);
        ::operator delete (p, std::align_val_t{alignment});
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
    std::atomic<std::int64_t> outstanding_{0};
    std::atomic<std::int64_t> peak_{0};
};

}  // namespace

policies::thread_cache& thread_cache_seam::current() const noexcept {
    return tls_cache;
}

struct io_context::thread_state {
    explicit thread_state(const policies::pump_spec& spec) : pump(spec) {}
    policies::pump pump;
    std::vector<std::coroutine_handle<>> private_queue;
    std::vector<std::coroutine_handle<>> ready;
    std::uint64_t queued_items = 0;
    std::uint64_t reactor_turns = 0;
    std::uint64_t reactor_blocking_turns = 0;
    std::uint64_t unassisted_pops = 0;
    std::uint64_t direct_items = 0;  // queued items taken without a trip through the queue
    std::uint64_t streak = 0;
    std::uint64_t max_streak = 0;
    io_context* owner = nullptr;
};

namespace {
thread_local io_context* tls_context = nullptr;
thread_local void* tls_state = nullptr;
}  // namespace

io_context* io_context::current() noexcept {
    return tls_context;
}

io_context::io_context(std::unique_ptr<reactor> r, const context_options& options)
    : options_(options), reactor_(std::move(r)) {
    if (options_.threads == 0) options_.threads = 1;
    if (options_.frames.policy == policies::frames_spec::kind::heap) {
        frames_ = std::make_unique<live_heap>();
    } else {
        frames_ = std::make_unique<live_recycler>(options_.frames, thread_cache_seam{});
    }
    reactor_->post_fn = &io_context::post_trampoline;
    reactor_->post_ctx = this;
    reactor_->turns_alone = options_.threads == 1;
    queue_.push_back(entry{});  // the reactor's turn
}

io_context::~io_context() = default;

void io_context::post_trampoline(void* self, std::coroutine_handle<> h) noexcept {
    static_cast<io_context*>(self)->post(h);
}

void io_context::post(std::coroutine_handle<> h) noexcept {
    if (tls_context == this) {
        static_cast<thread_state*>(tls_state)->private_queue.push_back(h);
        return;
    }
    std::lock_guard lk(mu_);
    push_locked(h);
    wake_locked(1);
}

void io_context::push_locked(std::coroutine_handle<> h) {
    queue_.push_back(entry{h});
    ++real_items_;
    queued_hint_.store(real_items_, std::memory_order_relaxed);
}

// New items are in the queue: wake idle threads for them; with none idle, a thread blocked in
// the reactor is the only one that could take them.
void io_context::wake_locked(std::size_t items) {
    if (items == 0) return;
    if (idle_ > 0) {
        if (items >= idle_) {
            cv_.notify_all();
        } else {
            for (std::size_t i = 0; i < items; ++i) cv_.notify_one();
        }
    } else if (reactor_blocking_) {
        reactor_->wake();
    }
}

bool io_context::try_inline(const step_key& /*key*/) noexcept {
    if (tls_context != this) return false;
    auto* t = static_cast<thread_state*>(tls_state);
    // Only the quota policy reads time; the others get 0 and skip the clock read.
    const std::uint64_t now =
        options_.pump.policy == policies::pump_spec::kind::quota ? monotonic_ns() : 0;
    const bool granted = t->pump.try_inline(now);
    // The streak counts, as the simulator does, only inline resumes made while other work
    // waited: in the shared queue or in this thread's own posts not yet spliced onto it.
    if (granted &&
        (queued_hint_.load(std::memory_order_relaxed) > 0 || !t->private_queue.empty())) {
        if (++t->streak > t->max_streak) t->max_streak = t->streak;
    }
    return granted;
}

std::coroutine_handle<> io_context::detached_done(void* self, detail::promise_base& p) noexcept {
    auto* ctx = static_cast<io_context*>(self);
    auto& promise = static_cast<detail::promise<void>&>(p);
    if (promise.error) {
        std::lock_guard lk(ctx->mu_);
        if (!ctx->first_error_) ctx->first_error_ = promise.error;
    }
    // Destroying the frame here is safe: it is suspended at its final point and nothing
    // touches it after this returns.
    std::coroutine_handle<detail::promise<void>>::from_promise(promise).destroy();
    if (ctx->outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) ctx->stop();
    return std::noop_coroutine();
}

void io_context::spawn(task<void> t) {
    outstanding_.fetch_add(1, std::memory_order_relaxed);
    launch(std::move(t));
}

void io_context::launch(task<void> t) {
    auto h = t.release();
    h.promise().on_done = {&io_context::detached_done, this};
    post(h);
}

// The tasks spawned before run(), created on this context thread under its frame hook. Their
// outstanding count was taken when they were spawned.
void io_context::run_starters() {
    std::vector<std::function<task<void>()>> starters;
    {
        std::lock_guard lk(mu_);
        starters.swap(starters_);
    }
    for (auto& make : starters) {
        try {
            launch(make());
        } catch (...) {
            std::lock_guard lk(mu_);
            if (!first_error_) first_error_ = std::current_exception();
            if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                stopped_ = true;
                stop_requested_.store(true, std::memory_order_relaxed);
                cv_.notify_all();
                reactor_->wake();
            }
        }
    }
}

void io_context::stop() noexcept {
    std::lock_guard lk(mu_);
    stopped_ = true;
    stop_requested_.store(true, std::memory_order_relaxed);
    cv_.notify_all();
    reactor_->wake();
}

void io_context::run() {
    {
        std::lock_guard lk(mu_);
        stopped_ = outstanding_.load(std::memory_order_acquire) == 0;
        stop_requested_.store(stopped_, std::memory_order_relaxed);
    }
    std::vector<std::thread> threads;
    for (std::uint32_t i = 1; i < options_.threads; ++i) {
        threads.emplace_back([this, i] { thread_main(i); });
    }
    thread_main(0);
    for (auto& t : threads) t.join();
    stats_.frames_peak_outstanding = frames_->peak_outstanding();
    stats_.frames_outstanding_at_end = frames_->outstanding();
    if (first_error_) std::rethrow_exception(std::exchange(first_error_, nullptr));
}

void io_context::merge(const thread_state& t) {
    auto& p = stats_.pump;
    const auto& q = t.pump.counters();
    p.cycles += q.cycles;
    p.inline_granted += q.inline_granted;
    p.inline_refused += q.inline_refused;
    p.budget_exhausted += q.budget_exhausted;
    p.unassisted_capped += q.unassisted_capped;
    p.cap_doubled += q.cap_doubled;
    p.cap_reset += q.cap_reset;
    stats_.frames += tls_cache.counters;
    stats_.queued_items += t.queued_items;
    stats_.reactor_turns += t.reactor_turns;
    stats_.reactor_blocking_turns += t.reactor_blocking_turns;
    stats_.unassisted_pops += t.unassisted_pops;
    stats_.direct_items += t.direct_items;
    stats_.max_inline_streak = std::max(stats_.max_inline_streak, t.max_streak);
}

void io_context::run_queued(thread_state& self, std::coroutine_handle<> h, bool unassisted) {
    const std::uint64_t now =
        options_.pump.policy == policies::pump_spec::kind::quota ? monotonic_ns() : 0;
    self.pump.on_queued_start(unassisted, now);
    self.streak = 0;
    ++self.queued_items;
    h.resume();
    reactor_->flush();
}

void io_context::thread_main(std::uint32_t /*index*/) {
    thread_state self(options_.pump);
    self.owner = this;
    tls_context = this;
    tls_state = &self;
    tls_cache = policies::thread_cache{};
    set_current_executor(this);
    frame_resource_scope frames_scope(frames_.get());
    run_starters();

    std::unique_lock lk(mu_);
    for (auto h : self.private_queue) push_locked(h);
    wake_locked(self.private_queue.size());
    self.private_queue.clear();
    for (;;) {
        while (queue_.empty() && !stopped_) {
            ++idle_;
            cv_.wait(lk);
            --idle_;
        }
        if (stopped_) break;
        const entry e = queue_.front();
        queue_.pop_front();
        if (!e.h) {
            if (real_items_ > 0 && !reactor_->has_work()) {
                // Nothing waits in the reactor: its turn could only find nothing.
                queue_.push_back(entry{});
                continue;
            }
            // The reactor's turn. It may block only when nothing else is queued: otherwise
            // the queued work would wait for I/O that may never come.
            const bool block = real_items_ == 0;
            reactor_blocking_ = block;
            lk.unlock();
            ++self.reactor_turns;
            if (block) ++self.reactor_blocking_turns;
            self.ready.clear();
            reactor_->run_once(block, self.ready);
            lk.lock();
            reactor_blocking_ = false;
            for (auto h : self.ready) push_locked(h);
            // What the turn posted itself (an operation that completed while it was being
            // started, a channel hand-off) is in the private queue.
            for (auto h : self.private_queue) push_locked(h);
            queue_.push_back(entry{});
            wake_locked(self.ready.size() + self.private_queue.size());
            self.private_queue.clear();
            continue;
        }
        --real_items_;
        queued_hint_.store(real_items_, std::memory_order_relaxed);
        // Unassisted as the brief defines it: work is still queued after this pop and no idle
        // thread is left to wake. The reactor's own entry is not work, so it does not count.
        const bool unassisted = real_items_ > 0 && idle_ == 0;
        if (unassisted) ++self.unassisted_pops;
        if (real_items_ > 0 && idle_ > 0) cv_.notify_one();
        lk.unlock();

        run_queued(self, e.h, unassisted);
        // A handler that posted exactly one item while nothing else is queued and nothing
        // waits in the reactor: splicing it onto the queue and popping it again would give this
        // thread the same item with the same pump decision (the reactor's entry is skipped when
        // it has nothing to find), so take it without the lock. An item posted meanwhile by
        // another thread may go after it, as it could have after a splice.
        while (self.private_queue.size() == 1 &&
               queued_hint_.load(std::memory_order_relaxed) == 0 && !reactor_->has_work() &&
               !stop_requested_.load(std::memory_order_relaxed)) {
            const std::coroutine_handle<> next = self.private_queue.front();
            self.private_queue.clear();
            ++self.direct_items;
            run_queued(self, next, false);
        }

        lk.lock();
        for (auto h : self.private_queue) push_locked(h);
        // This thread takes one of them itself when it loops; wake helpers for the rest.
        if (self.private_queue.size() > 1) wake_locked(self.private_queue.size() - 1);
        self.private_queue.clear();
    }
    merge(self);
    lk.unlock();
    if (auto* rec = dynamic_cast<live_recycler*>(frames_.get())) rec->drain(tls_cache);
    tls_context = nullptr;
    tls_state = nullptr;
    set_current_executor(nullptr);
}

}  // namespace schedlab::runtime
