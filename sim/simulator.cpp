#include "sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <coroutine>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <variant>

#include "runtime/executor.hpp"
#include "runtime/frame_hook.hpp"
#include "runtime/task.hpp"
#include "runtime/when_all.hpp"
#include "sim/histogram.hpp"
#include "traces/random.hpp"

namespace schedlab::sim {

namespace {

// The latest virtual time a run may reach: twice the latest arrival a trace may give.
constexpr std::uint64_t virtual_time_max_ns = std::uint64_t{1} << 63;

namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;
using std::coroutine_handle;
using traces::step_kind;

enum class origin : std::uint8_t { reactor, posted };

// Something on the run queue: a coroutine to resume, or (no handle) the start of a job.
struct run_item {
    coroutine_handle<> h;
    std::uint32_t job = 0;
    origin from = origin::posted;
    std::uint64_t enqueued_ns = 0;
    std::uint64_t flow = 0;  // identifies the item from its post to its pop, for timelines
};

enum class ev_kind : std::uint8_t { arrival, enqueue, worker_free, worker_resume, io_complete };

struct event {
    std::uint64_t time_ns;
    std::uint64_t seq;  // insertion order: events due together are offered to the chooser in
                        // this canonical order, and every order it picks is legal
    ev_kind kind;
    origin from;
    std::uint32_t worker;
    std::uint32_t job;
    void* handle;
    std::uint64_t flow;
};

struct event_later {
    bool operator()(const event& a, const event& b) const noexcept {
        if (a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
        return a.seq > b.seq;
    }
};

enum class worker_mode : std::uint8_t { idle, waking, running, computing };

struct worker_state {
    explicit worker_state(std::uint32_t i, const pol::pump_spec& spec) : id(i), pump(spec) {}
    std::uint32_t id;
    pol::pump pump;
    pol::thread_cache cache;
    coroutine_handle<> continuation;  // the coroutine whose compute step holds this worker
    worker_mode mode = worker_mode::idle;
    std::uint64_t pending_ns = 0;  // overhead charged since `now` in the current slice
    std::uint64_t inline_streak = 0;
    bool cycle_unassisted = false;
    std::uint64_t busy_ns = 0;
    // What settle() has already charged for.
    std::uint64_t charged_local_hits = 0;
    std::uint64_t charged_heap = 0;
    // What note_pool_traffic() has already seen of this worker's pool traffic.
    std::uint64_t seen_trips = 0;
    std::uint64_t seen_heap_fallbacks = 0;
    std::array<std::uint64_t, pol::frame_class_count> seen_trips_by_class{};
    // This worker's latest trip to the global pool. A heap fallback always follows a trip of
    // the same allocation on the same worker, so this is where a fallback happened too.
    run_result::exhaustion_note last_trip;
};

struct hand_off {
    std::uint32_t job;
    const traces::program* prog;
    std::uint32_t pc;
};

struct blocked_send {
    coroutine_handle<> h;
    hand_off item;
};

struct channel_state {
    traces::channel_decl decl;
    std::deque<hand_off> items;
    std::deque<coroutine_handle<>> waiting;  // consumers suspended on an empty channel
    std::deque<blocked_send> blocked;        // senders suspended on a full channel
};

class engine;

struct job_record {
    engine* owner = nullptr;
    std::uint32_t index = 0;
    std::uint64_t seq = 0;
    std::uint64_t arrival_ns = 0;
    std::uint32_t class_index = 0;
    std::shared_ptr<const traces::program> prog;
    rt::task<void> root;
    bool live = false;
    bool completed = false;
    bool root_finished = false;
    bool root_destroyed = false;
};

struct sim_cache_seam {
    engine* e;
    pol::thread_cache& current() const noexcept;
};

// The global pool's lock on the virtual clock: a trip waits until the previous holder is
// done, then holds it for lock_hold_ns. Only one thread runs the simulation, so the plain
// counters in the recycler suffice.
struct sim_lock {
    static constexpr bool single_threaded = true;
    engine* e;
    void lock() noexcept;
    void unlock() noexcept {}
};

using sim_recycler = pol::recycling_resource<sim_cache_seam, sim_lock>;

class engine final : public rt::executor, public state_view {
public:
    engine(traces::job_source& source, const sim_config& config);
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;
    ~engine() { teardown(); }

    run_result run();

    // --- what the coroutines of the workload call ---
    void post(coroutine_handle<> h) noexcept override;
    void begin_compute(coroutine_handle<> h, std::uint64_t duration_ns);
    void begin_io(coroutine_handle<> h, std::uint64_t latency_ns);
    bool try_inline_ready();
    void job_done(std::uint32_t job);
    bool send_now(std::uint32_t ch, const hand_off& item);
    void block_sender(std::uint32_t ch, coroutine_handle<> h, const hand_off& item);
    bool has_item(std::uint32_t ch) const noexcept { return !channels_[ch].items.empty(); }
    void wait_for_item(std::uint32_t ch, coroutine_handle<> h);
    std::optional<hand_off> take_item(std::uint32_t ch);
    bool private_stash() const noexcept {
        return config_.when_all == pol::when_all_frames::private_;
    }
    std::uint64_t global_trips_now() const noexcept {
        return current_->cache.counters.global_trips;
    }
    void note_fanout(std::uint64_t child_trips, const pol::stash_counters* stash);
    // The job whose coroutine runs now, for the checks' reports.
    void at_job(std::uint32_t job) noexcept { current_job_ = job; }
    bool checking() const noexcept { return checks_on_; }
    bool lose_wakeup_next_fanout();
    void check_children_done(const std::vector<coroutine_handle<>>& children);
    // Right after a fan-out's children were allocated, on the worker that allocated them.
    void check_child_trips(std::uint64_t child_trips, std::size_t slots);
    void check_fanout(const pol::stash_counters* stash, std::size_t slots);
    // Records the first failed property; the run stops once the running slice returns.
    void fail(const char* property, std::uint32_t worker, const std::string& what);
    std::uint64_t fingerprint() const override;

    worker_state& current_worker() noexcept { return *current_; }
    std::uint64_t local_now() const noexcept { return now_ns_ + current_->pending_ns; }
    void charge_lock();

private:
    friend struct sim_cache_seam;

    void schedule(ev_kind kind, std::uint64_t at_ns, std::uint32_t worker, std::uint32_t job,
                  void* handle, origin from = origin::posted, std::uint64_t flow = 0);
    void observe(sim_event_kind kind, std::uint64_t t, std::uint32_t worker, std::uint64_t id,
                 std::uint64_t value) {
        if (config_.observer != nullptr) config_.observer->on_event({kind, t, worker, id, value});
    }
    void enqueue_now(run_item item);
    void dispatch(worker_state& w);
    void run_slices(worker_state& w, coroutine_handle<> first);
    void settle(worker_state& w) noexcept;
    coroutine_handle<> start_job(std::uint32_t job);
    coroutine_handle<> pop_for(worker_state& w);
    void reap_roots();
    void arrive();
    void pull_next_job();
    void release_job(std::uint32_t job);
    void teardown() noexcept;
    void hash_word(std::uint64_t v) noexcept { hash_ = (hash_ ^ v) * 0x100000001b3ULL; }
    std::uint32_t choose(choice_kind kind, std::uint32_t arity, const std::uint32_t* entities,
                         const std::uint32_t* actors);
    event take_next_event();
    void check_slice_end(worker_state& w);
    void check_inline(worker_state& w);
    void make_idle(worker_state& w) {
        w.mode = worker_mode::idle;
        idle_.insert(std::lower_bound(idle_.begin(), idle_.end(), w.id), w.id);
    }
    void note_pool_traffic(worker_state& w);
    void check_global_pool(const worker_state& w);
    void check_end();
    std::uint64_t running_job_seq() const noexcept;
    // The actor a choice among events attributes to the running job, else `fallback`.
    std::uint32_t job_actor(std::uint32_t fallback) const noexcept {
        const std::uint64_t seq = running_job_seq();
        if (seq == UINT64_MAX) return fallback;
        return job_actor_flag | static_cast<std::uint32_t>(seq & ~job_actor_flag);
    }
    void throw_if_failed() const {
        if (overflow_) throw std::invalid_argument(*overflow_);
        if (violation_) throw *violation_;
    }
    [[noreturn]] void liveness_failure(const std::string& why);

    static coroutine_handle<> root_done(void* ctx, rt::detail::promise_base&) noexcept;

    traces::job_source& source_;
    sim_config config_;
    traces::seeded_rng rng_;
    std::vector<event> events_;  // a heap of events due after now_ns_
    std::vector<event> tied_;    // events due at now_ns_, in insertion order
    std::uint64_t event_seq_ = 0;
    std::vector<std::uint32_t> entities_;  // per option of the choice being made
    std::vector<std::uint32_t> actors_;
    std::uint64_t choice_count_ = 0;
    bool checks_on_ = false;
    std::optional<property_violation> violation_;
    // Set (first one wins) when an event would fall past virtual_time_max_ns; thrown by the
    // event loop, since schedule() runs inside coroutines that must not throw.
    std::optional<std::string> overflow_;
    std::uint32_t current_job_ = UINT32_MAX;
    std::uint64_t fanout_seq_ = 0;
    std::uint64_t global_trips_total_ = 0;
    std::unique_ptr<pol::frame_resource> wrapped_frames_;
    std::uint64_t now_ns_ = 0;
    std::deque<worker_state> workers_;
    worker_state* current_ = nullptr;
    std::deque<run_item> queue_;
    std::vector<std::uint32_t> idle_;

    std::deque<job_record> jobs_;
    std::vector<std::uint32_t> free_jobs_;
    std::vector<std::uint32_t> finished_roots_;
    std::vector<std::uint32_t> completed_jobs_;
    std::uint64_t live_jobs_ = 0;
    std::uint64_t job_seq_ = 0;
    std::optional<traces::job> next_job_;
    bool source_done_ = false;
    std::uint64_t last_arrival_ns_ = 0;

    std::vector<channel_state> channels_;
    std::vector<rt::task<void>> consumers_;

    std::unique_ptr<pol::heap_resource> heap_;
    std::unique_ptr<sim_recycler> recycler_;
    pol::frame_resource* frames_ = nullptr;
    std::uint64_t lock_free_at_ns_ = 0;
    bool torn_down_ = false;

    std::vector<std::int32_t> class_index_;  // class id -> index into class_hist_
    histogram latency_;
    histogram queue_wait_;
    std::vector<std::unique_ptr<histogram>> class_hist_;
    run_result result_;
    std::uint64_t hash_ = 0xcbf29ce484222325ULL;
    std::uint64_t since_progress_ = 0;
    std::uint64_t flow_seq_ = 0;
};

pol::thread_cache& sim_cache_seam::current() const noexcept {
    return e->current_worker().cache;
}
void sim_lock::lock() noexcept {
    e->charge_lock();
}

// ---- the awaitables the workload's programs use ----

struct compute_awaiter {
    engine& e;
    std::uint64_t duration_ns;
    bool await_ready() const noexcept { return duration_ns == 0; }
    void await_suspend(coroutine_handle<> h) { e.begin_compute(h, duration_ns); }
    void await_resume() const noexcept {}
};

struct io_awaiter {
    engine& e;
    std::uint64_t latency_ns;
    bool await_ready() const noexcept { return false; }
    void await_suspend(coroutine_handle<> h) { e.begin_io(h, latency_ns); }
    void await_resume() const noexcept {}
};

// The scheduler as the core's completed_operation sees it.
struct pump_view {
    engine& e;
    bool try_inline(const rt::step_key&) { return e.try_inline_ready(); }
    void post(coroutine_handle<> h) { e.post(h); }
};

struct yield_awaiter {
    engine& e;
    bool await_ready() const noexcept { return false; }
    void await_suspend(coroutine_handle<> h) { e.post(h); }
    void await_resume() const noexcept {}
};

struct send_awaiter {
    engine& e;
    std::uint32_t ch;
    hand_off item;
    bool await_ready() { return e.send_now(ch, item); }
    void await_suspend(coroutine_handle<> h) { e.block_sender(ch, h, item); }
    void await_resume() const noexcept {}
};

// A receive that finds an item is an already-complete operation: the core's step decides.
struct receive_awaiter {
    engine& e;
    std::uint32_t ch;
    pump_view view{e};
    bool await_ready() {
        return e.has_item(ch) && rt::completed_operation<pump_view>(view).await_ready();
    }
    void await_suspend(coroutine_handle<> h) {
        if (e.has_item(ch)) {
            rt::completed_operation<pump_view>(view).await_suspend(h);  // the pump said post
        } else {
            e.wait_for_item(ch, h);
        }
    }
    void await_resume() const noexcept {}
};

rt::task<void> run_steps(engine& e, std::uint32_t job, const traces::program* prog,
                         std::uint32_t pc, bool top_level);

// A when_all that loses the parent's wake-up when the test hook says so: the checker's
// liveness property must catch it. Only sim_test_hooks::lose_wakeup selects it.
struct lossy_join {
    engine* e;
    std::size_t remaining = 0;
    std::coroutine_handle<> parent;
    bool lose = false;
    static coroutine_handle<> child_done(void* ctx, rt::detail::promise_base&) noexcept {
        auto* j = static_cast<lossy_join*>(ctx);
        if (--j->remaining > 0 || j->lose) return std::noop_coroutine();
        return j->parent;
    }
};

struct lossy_when_all {
    lossy_join& join;
    std::vector<rt::task<void>>& kids;
    bool await_ready() const noexcept { return kids.empty(); }
    void await_suspend(coroutine_handle<> parent) {
        join.parent = parent;
        join.remaining = kids.size();
        for (auto& k : kids) k.handle().promise().on_done = {&lossy_join::child_done, &join};
        for (auto& k : kids) join.e->post(k.handle());
    }
    void await_resume() const noexcept {}
};

// A fan-out lives in its own frame, as a function that calls when_all does, so the frame of
// every other step stays small.
rt::task<void> run_fanout(engine& e, std::uint32_t job, const traces::step& s) {
    const std::uint64_t trips_before = e.global_trips_now();
    const bool lose = e.lose_wakeup_next_fanout();
    if (e.private_stash()) {
        pol::frame_stash stash(s.count, rt::current_frame_resource());
        // Declared after the stash, so the children's frames go back before the stash does.
        std::vector<rt::task<void>> kids;
        kids.reserve(s.count);
        {
            auto launch = rt::when_all(stash);
            for (std::uint32_t i = 0; i < s.count; ++i) {
                kids.push_back(run_steps(e, job, s.sub, 0, false));
            }
        }
        const std::uint64_t child_trips = e.global_trips_now() - trips_before;
        if (e.checking()) e.check_child_trips(child_trips, s.count);
        if (lose) {
            lossy_join join{&e, 0, {}, true};
            co_await lossy_when_all{join, kids};
        } else if (e.checking()) {
            // A named awaitable keeps the children alive, so the check can see that every
            // one of them had finished when the parent resumed.
            std::vector<coroutine_handle<>> handles;
            handles.reserve(kids.size());
            for (auto& k : kids) handles.push_back(k.handle());
            auto all = rt::when_all(std::move(kids));
            co_await all;
            e.at_job(job);
            e.check_children_done(handles);
        } else {
            co_await rt::when_all(std::move(kids));
        }
        e.at_job(job);
        if (e.checking()) e.check_fanout(&stash.counters(), s.count);
        e.note_fanout(child_trips, &stash.counters());
    } else {
        std::vector<rt::task<void>> kids;
        kids.reserve(s.count);
        for (std::uint32_t i = 0; i < s.count; ++i) {
            kids.push_back(run_steps(e, job, s.sub, 0, false));
        }
        const std::uint64_t child_trips = e.global_trips_now() - trips_before;
        if (e.checking()) e.check_child_trips(child_trips, s.count);
        if (lose) {
            lossy_join join{&e, 0, {}, true};
            co_await lossy_when_all{join, kids};
        } else if (e.checking()) {
            // A named awaitable keeps the children alive, so the check can see that every
            // one of them had finished when the parent resumed.
            std::vector<coroutine_handle<>> handles;
            handles.reserve(kids.size());
            for (auto& k : kids) handles.push_back(k.handle());
            auto all = rt::when_all(std::move(kids));
            co_await all;
            e.at_job(job);
            e.check_children_done(handles);
        } else {
            co_await rt::when_all(std::move(kids));
        }
        e.at_job(job);
        if (e.checking()) e.check_fanout(nullptr, s.count);
        e.note_fanout(child_trips, nullptr);
    }
}

rt::task<void> run_steps(engine& e, std::uint32_t job, const traces::program* prog,
                         std::uint32_t pc, bool top_level) {
    const auto& steps = prog->steps;
    e.at_job(job);
    for (; pc < steps.size(); ++pc) {
        const traces::step& s = steps[pc];
        switch (s.kind) {
            case step_kind::compute:
                co_await compute_awaiter{e, s.duration_ns};
                break;
            case step_kind::io:
                co_await io_awaiter{e, s.duration_ns};
                break;
            case step_kind::ready:
                for (std::uint32_t i = 0; i < s.count; ++i) {
                    pump_view view{e};
                    co_await rt::completed_operation<pump_view>(view);
                    e.at_job(job);
                    co_await compute_awaiter{e, s.duration_ns};
                    e.at_job(job);
                }
                break;
            case step_kind::call:
                co_await run_steps(e, job, s.sub, 0, false);
                break;
            case step_kind::fanout:
                co_await run_fanout(e, job, s);
                break;
            case step_kind::yield:
                co_await yield_awaiter{e};
                break;
            case step_kind::send:
                // The rest of the program runs in the channel's stage consumer.
                co_await send_awaiter{e, s.channel, hand_off{job, prog, pc + 1}};
                co_return;
        }
        e.at_job(job);
    }
    if (top_level) e.job_done(job);
}

rt::task<void> stage_consumer(engine& e, std::uint32_t ch) {
    for (;;) {
        co_await receive_awaiter{e, ch};
        // Another consumer of the same channel may have taken the item while this one waited
        // in the run queue; then it simply waits again.
        const auto item = e.take_item(ch);
        if (!item) continue;
        co_await run_steps(e, item->job, item->prog, item->pc, true);
    }
}

// ---- the engine ----

engine::engine(traces::job_source& source, const sim_config& config)
    : source_(source), config_(config), rng_(config.seed) {
    if (config_.workers == 0) throw std::invalid_argument("workers must be at least 1");
    for (std::uint32_t i = 0; i < config_.workers; ++i) workers_.emplace_back(i, config_.pump);
    current_ = &workers_.front();
    if (config_.frames.policy == pol::frames_spec::kind::heap) {
        heap_ = std::make_unique<pol::heap_resource>();
        frames_ = heap_.get();
    } else {
        recycler_ =
            std::make_unique<sim_recycler>(config_.frames, sim_cache_seam{this}, sim_lock{this});
        frames_ = recycler_.get();
    }
    if (config_.test_hooks.wrap_frames) {
        wrapped_frames_ = config_.test_hooks.wrap_frames(*frames_);
        frames_ = wrapped_frames_.get();
    }
    checks_on_ = config_.checks.enabled;
    const auto& header = source_.header();
    class_index_.assign(65536, -1);
    for (const auto& c : header.classes) {
        class_index_[c.id] = static_cast<std::int32_t>(class_hist_.size());
        class_hist_.push_back(std::make_unique<histogram>());
        result_.classes.push_back(class_result{c.id, c.name, {}});
    }
    for (const auto& c : header.channels) channels_.push_back(channel_state{c, {}, {}, {}});
}

void engine::schedule(ev_kind kind, std::uint64_t at_ns, std::uint32_t worker, std::uint32_t job,
                      void* handle, origin from, std::uint64_t flow) {
    // Every addend of a time is below 2^63 and the clock is checked here, so a sum cannot wrap
    // before this test sees it: a run that would pass 2^63 ns stops instead of going on with
    // a clock that went backwards.
    if (at_ns > virtual_time_max_ns || at_ns < now_ns_) {
        if (!overflow_) {
            overflow_ = "virtual time would pass 2^63 ns (at " + std::to_string(now_ns_) +
                        " ns): the workload's demand and the cost model (--costs) together are "
                        "too large to simulate; lower the costs or the durations";
        }
        return;
    }
    const event ev{at_ns, event_seq_++, kind, from, worker, job, handle, flow};
    if (at_ns == now_ns_) {
        tied_.push_back(ev);  // joins the events due now, behind them
        return;
    }
    events_.push_back(ev);
    std::push_heap(events_.begin(), events_.end(), event_later{});
}

std::uint32_t engine::choose(choice_kind kind, std::uint32_t arity, const std::uint32_t* entities,
                             const std::uint32_t* actors) {
    std::uint32_t pick;
    if (config_.choices == nullptr) {
        pick = static_cast<std::uint32_t>(rng_.below(arity));
    } else {
        pick = config_.choices->choose(
            choice_point{kind, choice_count_, now_ns_, arity, entities, actors}, *this);
        if (pick >= arity) {
            throw schedule_divergence("chooser picked option " + std::to_string(pick) + " of " +
                                      std::to_string(arity) + " at choice " +
                                      std::to_string(choice_count_));
        }
    }
    ++choice_count_;
    if (config_.record_choices) result_.choices.push_back(recorded_choice{arity, pick});
    hash_word(0x63686f6963650000ULL | pick);
    return pick;
}

event engine::take_next_event() {
    if (tied_.empty()) {
        std::pop_heap(events_.begin(), events_.end(), event_later{});
        const event first = events_.back();
        events_.pop_back();
        if (events_.empty() || events_.front().time_ns != first.time_ns) return first;
        // Several events are due at this time: they form the tied set, in insertion order.
        tied_.push_back(first);
        while (!events_.empty() && events_.front().time_ns == first.time_ns) {
            std::pop_heap(events_.begin(), events_.end(), event_later{});
            tied_.push_back(events_.back());
            events_.pop_back();
        }
    }
    std::size_t pick = 0;
    if (tied_.size() > 1) {
        entities_.clear();
        actors_.clear();
        for (const auto& ev : tied_) {
            const bool reactor = ev.kind == ev_kind::arrival || ev.kind == ev_kind::io_complete;
            entities_.push_back(reactor ? reactor_entity : ev.worker);
            actors_.push_back(ev.job);
        }
        pick = choose(choice_kind::tie, static_cast<std::uint32_t>(tied_.size()), entities_.data(),
                      actors_.data());
    }
    const event ev = tied_[pick];
    tied_.erase(tied_.begin() + static_cast<std::ptrdiff_t>(pick));
    return ev;
}

void engine::settle(worker_state& w) noexcept {
    const auto& costs = config_.costs;
    if (recycler_) {
        const auto& c = w.cache.counters;
        const std::uint64_t heap = c.heap_fallbacks + c.oversize;
        w.pending_ns += (c.local_hits - w.charged_local_hits) * costs.local_alloc_ns +
                        (heap - w.charged_heap) * costs.heap_alloc_ns;
        w.charged_local_hits = c.local_hits;
        w.charged_heap = heap;
        if (c.heap_fallbacks != w.seen_heap_fallbacks) note_pool_traffic(w);
    } else {
        // One thread runs the simulation, so the heap's growth since the last settle is this
        // worker's.
        const std::uint64_t heap = heap_->counters().allocations;
        w.pending_ns += (heap - w.charged_heap) * costs.heap_alloc_ns;
        w.charged_heap = heap;
        for (auto& other : workers_) other.charged_heap = heap;
    }
}

void engine::charge_lock() {
    worker_state& w = *current_;
    const std::uint64_t t = local_now();
    const std::uint64_t wait = lock_free_at_ns_ > t ? lock_free_at_ns_ - t : 0;
    if (wait > 0) {
        ++result_.frames_result.lock_waits;
        result_.frames_result.lock_wait_ns += wait;
    }
    w.pending_ns += wait + config_.costs.lock_hold_ns + config_.costs.global_trip_ns;
    lock_free_at_ns_ = t + wait + config_.costs.lock_hold_ns;
    // Always, not only with checks: replay reports where exhaustion began.
    note_pool_traffic(w);
}

void engine::post(coroutine_handle<> h) noexcept {
    worker_state& w = *current_;
    settle(w);
    w.pending_ns += config_.costs.post_ns;
    ++result_.queued_items;
    const std::uint64_t flow = ++flow_seq_;
    observe(sim_event_kind::posted, local_now(), w.id, flow, 0);
    if (w.pending_ns == 0) {
        enqueue_now(run_item{h, 0, origin::posted, 0, flow});
    } else {
        schedule(ev_kind::enqueue, local_now(), w.id, job_actor(w.id), h.address(), origin::posted,
                 flow);
    }
}

void engine::enqueue_now(run_item item) {
    item.enqueued_ns = now_ns_;
    queue_.push_back(item);
    observe(sim_event_kind::queue_length, now_ns_, UINT32_MAX, 0, queue_.size());
    if (!idle_.empty()) {
        // Which idle worker wakes is a choice; idle_ is kept sorted by id so that an index
        // means the same worker in equal states.
        std::size_t pick = 0;
        if (idle_.size() > 1) {
            pick = choose(choice_kind::wake, static_cast<std::uint32_t>(idle_.size()), idle_.data(),
                          idle_.data());
        }
        const std::uint32_t id = idle_[pick];
        idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(pick));
        workers_[id].mode = worker_mode::waking;
        schedule(ev_kind::worker_free, now_ns_ + config_.costs.wake_ns, id, id, nullptr);
    }
}

void engine::begin_compute(coroutine_handle<> h, std::uint64_t duration_ns) {
    worker_state& w = *current_;
    settle(w);
    w.continuation = h;
    w.mode = worker_mode::computing;
    observe(sim_event_kind::compute_begin, local_now(), w.id, 0, duration_ns);
    schedule(ev_kind::worker_resume, local_now() + duration_ns, w.id, job_actor(w.id), nullptr);
    w.busy_ns += w.pending_ns + duration_ns;
    w.pending_ns = 0;
}

void engine::begin_io(coroutine_handle<> h, std::uint64_t latency_ns) {
    worker_state& w = *current_;
    settle(w);
    if (config_.io_jitter_ns > 0) {
        const std::uint32_t reactor[io_jitter_levels] = {reactor_entity, reactor_entity,
                                                         reactor_entity, reactor_entity};
        const std::uint32_t level =
            choose(choice_kind::io_jitter, io_jitter_levels, reactor, reactor);
        latency_ns += config_.io_jitter_ns * level / (io_jitter_levels - 1);
    }
    const std::uint64_t flow = ++flow_seq_;
    observe(sim_event_kind::posted, local_now() + latency_ns, UINT32_MAX, flow, 1);
    schedule(ev_kind::io_complete, local_now() + latency_ns, w.id, job_actor(reactor_entity),
             h.address(), origin::reactor, flow);
}

bool engine::try_inline_ready() {
    worker_state& w = *current_;
    if (w.pump.try_inline(local_now())) {
        w.pending_ns += config_.costs.inline_resume_ns;
        ++result_.inline_resumes;
        observe(sim_event_kind::inline_resume, local_now(), w.id, 0, 0);
        if (!queue_.empty()) {
            ++w.inline_streak;
            result_.max_inline_streak = std::max(result_.max_inline_streak, w.inline_streak);
        }
        if (checks_on_) check_inline(w);
        return true;
    }
    ++result_.posted_resumes;
    return false;
}

bool engine::send_now(std::uint32_t ch, const hand_off& item) {
    channel_state& c = channels_[ch];
    if (c.items.size() >= c.decl.capacity) return false;
    c.items.push_back(item);
    if (!c.waiting.empty()) {
        const auto h = c.waiting.front();
        c.waiting.pop_front();
        post(h);
    }
    return true;
}

void engine::block_sender(std::uint32_t ch, coroutine_handle<> h, const hand_off& item) {
    channels_[ch].blocked.push_back(blocked_send{h, item});
}

void engine::wait_for_item(std::uint32_t ch, coroutine_handle<> h) {
    channels_[ch].waiting.push_back(h);
}

std::optional<hand_off> engine::take_item(std::uint32_t ch) {
    channel_state& c = channels_[ch];
    if (c.items.empty()) return std::nullopt;
    const hand_off item = c.items.front();
    c.items.pop_front();
    if (!c.blocked.empty()) {
        const blocked_send b = c.blocked.front();
        c.blocked.pop_front();
        send_now(ch, b.item);
        post(b.h);
    }
    return item;
}

void engine::note_fanout(std::uint64_t child_trips, const pol::stash_counters* stash) {
    auto& f = result_.frames_result;
    f.child_global_trips += child_trips;
    if (child_trips > 0) ++f.fanouts_with_child_trips;
    if (stash != nullptr) {
        f.stash_arenas += stash->arena_allocations;
        f.stash_hits += stash->hits;
        f.stash_overflows += stash->overflows;
    }
}

coroutine_handle<> engine::root_done(void* ctx, rt::detail::promise_base&) noexcept {
    // The frame is still inside its final suspend: it is destroyed once the slice is over.
    auto* rec = static_cast<job_record*>(ctx);
    rec->root_finished = true;
    rec->owner->finished_roots_.push_back(rec->index);
    return std::noop_coroutine();
}

coroutine_handle<> engine::start_job(std::uint32_t job) {
    job_record& rec = jobs_[job];
    rec.root = run_steps(*this, job, rec.prog.get(), 0, true);
    rec.root.handle().promise().on_done = {&root_done, &rec};
    return rec.root.handle();
}

void engine::job_done(std::uint32_t job) {
    job_record& rec = jobs_[job];
    const std::uint64_t t = local_now();
    const std::uint64_t latency_ns = t - rec.arrival_ns;
    latency_.add(latency_ns);
    class_hist_[rec.class_index]->add(latency_ns);
    rec.completed = true;
    ++result_.jobs_completed;
    result_.last_completion_ns = std::max(result_.last_completion_ns, t);
    hash_word(rec.seq);
    hash_word(latency_ns);
    observe(sim_event_kind::job_done, t, current_->id, rec.seq, latency_ns);
    since_progress_ = 0;
    // The segment that called this is still running; the record goes after the slice.
    completed_jobs_.push_back(job);
}

void engine::reap_roots() {
    while (!finished_roots_.empty()) {
        const auto job = finished_roots_.back();
        finished_roots_.pop_back();
        job_record& rec = jobs_[job];
        rec.root = rt::task<void>{};  // frees the frame into the running worker's cache
        rec.root_destroyed = true;
        if (rec.completed) release_job(job);
    }
    while (!completed_jobs_.empty()) {
        const auto job = completed_jobs_.back();
        completed_jobs_.pop_back();
        // A job handed to a pipeline stage finished its root long ago; one that completed in
        // its root is released above, when the root is gone.
        if (jobs_[job].root_destroyed && jobs_[job].live) release_job(job);
    }
}

void engine::release_job(std::uint32_t job) {
    job_record& rec = jobs_[job];
    rec.prog.reset();
    rec.live = false;
    --live_jobs_;
    free_jobs_.push_back(job);
}

coroutine_handle<> engine::pop_for(worker_state& w) {
    const run_item item = queue_.front();
    queue_.pop_front();
    // Unassisted: work is still queued after this pop and no idle worker is left to wake.
    const bool unassisted = !queue_.empty() && idle_.empty();
    queue_wait_.add(now_ns_ - item.enqueued_ns);
    if (config_.observer != nullptr) {
        observe(sim_event_kind::popped, now_ns_, w.id, item.flow, now_ns_ - item.enqueued_ns);
        observe(sim_event_kind::queue_length, now_ns_, UINT32_MAX, 0, queue_.size());
        observe(sim_event_kind::slice_begin, now_ns_, w.id, item.h ? 0 : jobs_[item.job].seq,
                item.from == origin::reactor ? 1 : 0);
    }
    w.pump.on_queued_start(unassisted, now_ns_);
    w.inline_streak = 0;
    w.cycle_unassisted = unassisted;
    if (item.h) {
        current_job_ = UINT32_MAX;  // set again by the coroutine once it runs
    } else {
        current_job_ = item.job;
    }
    if (checks_on_ && config_.checks.max_queue_wait_ns > 0 &&
        now_ns_ - item.enqueued_ns > config_.checks.max_queue_wait_ns) {
        current_ = &w;
        fail("starvation", w.id,
             "an item waited " + std::to_string(now_ns_ - item.enqueued_ns) +
                 " ns in the run queue (bound --max-queue-wait-ns " +
                 std::to_string(config_.checks.max_queue_wait_ns) + ")");
    }
    w.pending_ns =
        config_.costs.pop_ns + (item.from == origin::reactor ? config_.costs.reactor_ns : 0);
    current_ = &w;
    return item.h ? item.h : start_job(item.job);
}

void engine::run_slices(worker_state& w, coroutine_handle<> first) {
    coroutine_handle<> h = first;
    for (;;) {
        current_ = &w;
        w.mode = worker_mode::running;
        h.resume();
        settle(w);
        reap_roots();
        if (checks_on_) check_slice_end(w);
        if (violation_ || overflow_) return;  // the event loop throws it
        if (w.mode == worker_mode::computing) return;
        w.busy_ns += w.pending_ns;
        if (config_.observer != nullptr) {
            observe(sim_event_kind::frames_outstanding, local_now(), w.id, 0,
                    static_cast<std::uint64_t>(frames_->outstanding()));
            observe(sim_event_kind::slice_end, local_now(), w.id, 0, 0);
        }
        if (w.pending_ns > 0) {
            schedule(ev_kind::worker_free, local_now(), w.id, w.id, nullptr);
            w.pending_ns = 0;
            w.mode = worker_mode::waking;
            return;
        }
        // No overhead to wait out: this worker takes the next item at the same instant.
        if (queue_.empty()) {
            make_idle(w);
            return;
        }
        h = pop_for(w);
    }
}

void engine::dispatch(worker_state& w) {
    if (queue_.empty()) {
        make_idle(w);
        return;
    }
    run_slices(w, pop_for(w));
}

void engine::pull_next_job() {
    next_job_ = source_.next();
    if (!next_job_) {
        source_done_ = true;
        return;
    }
    if (result_.jobs_arrived == 0 && !source_done_)
        result_.first_arrival_ns = next_job_->arrival_ns;
    if (next_job_->arrival_ns < last_arrival_ns_) {
        throw traces::input_error("workload", "job " + std::to_string(job_seq_), "arrival_ns",
                                  "non-decreasing arrivals");
    }
    last_arrival_ns_ = next_job_->arrival_ns;
    schedule(ev_kind::arrival, next_job_->arrival_ns, 0,
             job_actor_flag | static_cast<std::uint32_t>(job_seq_ & ~job_actor_flag), nullptr,
             origin::reactor);
}

void engine::arrive() {
    traces::job j = std::move(*next_job_);
    next_job_.reset();
    std::uint32_t slot;
    if (!free_jobs_.empty()) {
        slot = free_jobs_.back();
        free_jobs_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(jobs_.size());
        jobs_.emplace_back();
    }
    const std::int32_t cls = class_index_[j.class_id & 0xffff];
    if (j.class_id > 0xffff || cls < 0) {
        throw traces::input_error("workload", "job " + std::to_string(job_seq_), "class",
                                  "a class declared in the header", std::to_string(j.class_id));
    }
    job_record& rec = jobs_[slot];
    rec = job_record{};
    rec.owner = this;
    rec.index = slot;
    rec.seq = job_seq_++;
    rec.arrival_ns = j.arrival_ns;
    rec.class_index = static_cast<std::uint32_t>(cls);
    rec.prog = std::move(j.prog);
    rec.live = true;
    ++live_jobs_;
    ++result_.jobs_arrived;
    ++result_.queued_items;
    const std::uint64_t flow = ++flow_seq_;
    observe(sim_event_kind::posted, now_ns_, UINT32_MAX, flow, 1);
    enqueue_now(run_item{{}, slot, origin::reactor, 0, flow});
    pull_next_job();
}

void engine::liveness_failure(const std::string& why) {
    std::string msg = "liveness: " + why + "; " + std::to_string(live_jobs_) +
                      " job(s) never completed at virtual time " + std::to_string(now_ns_) + " ns";
    for (const auto& c : channels_) {
        if (!c.blocked.empty() || !c.items.empty()) {
            msg += "; channel " + c.decl.name + ": " + std::to_string(c.items.size()) + "/" +
                   std::to_string(c.decl.capacity) + " items, " + std::to_string(c.blocked.size()) +
                   " sender(s) blocked, " + std::to_string(c.waiting.size()) +
                   " consumer(s) waiting";
        }
    }
    std::uint64_t oldest = UINT64_MAX;
    for (const auto& rec : jobs_) {
        if (rec.live) oldest = std::min(oldest, rec.seq);
    }
    if (oldest != UINT64_MAX) msg += "; oldest unfinished job " + std::to_string(oldest);
    throw liveness_error(msg, now_ns_, oldest);
}

run_result engine::run() {
    rt::frame_resource_scope frames_scope(frames_);
    rt::executor* previous_executor = rt::current_executor();
    rt::set_current_executor(this);
    struct restore_executor {
        rt::executor* previous;
        ~restore_executor() { rt::set_current_executor(previous); }
    } restore{previous_executor};

    // Stage consumers exist from the start and wait on their empty channels.
    current_ = &workers_.front();
    for (std::uint32_t ch = 0; ch < channels_.size(); ++ch) {
        for (std::uint32_t k = 0; k < channels_[ch].decl.consumers; ++k) {
            consumers_.push_back(stage_consumer(*this, ch));
            consumers_.back().handle().resume();
        }
    }
    workers_.front().pending_ns = 0;
    for (auto& w : workers_) idle_.push_back(w.id);

    pull_next_job();
    std::uint64_t events = 0;
    while (!events_.empty() || !tied_.empty()) {
        const event ev = take_next_event();
        now_ns_ = ev.time_ns;
        if (checks_on_ && config_.checks.horizon_ns > 0 && now_ns_ > config_.checks.horizon_ns &&
            live_jobs_ > 0) {
            liveness_failure("not every job completed by the horizon of " +
                             std::to_string(config_.checks.horizon_ns) + " ns");
        }
        ++events;
        hash_word(ev.time_ns);
        hash_word((static_cast<std::uint64_t>(ev.kind) << 32) | ev.worker);
        switch (ev.kind) {
            case ev_kind::arrival:
                arrive();
                break;
            case ev_kind::enqueue:
                enqueue_now(run_item{coroutine_handle<>::from_address(ev.handle), 0, origin::posted,
                                     0, ev.flow});
                break;
            case ev_kind::io_complete:
                ++result_.queued_items;
                enqueue_now(run_item{coroutine_handle<>::from_address(ev.handle), 0,
                                     origin::reactor, 0, ev.flow});
                break;
            case ev_kind::worker_free:
                dispatch(workers_[ev.worker]);
                break;
            case ev_kind::worker_resume: {
                worker_state& w = workers_[ev.worker];
                const auto h = w.continuation;
                w.continuation = {};
                w.pending_ns = 0;
                run_slices(w, h);
                break;
            }
        }
        throw_if_failed();
        if (++since_progress_ > config_.stall_events_max) {
            liveness_failure("no job completed in " + std::to_string(config_.stall_events_max) +
                             " events");
        }
        if (config_.on_progress && events % config_.progress_every_events == 0) {
            config_.on_progress(progress{events, result_.jobs_completed, now_ns_});
        }
    }
    if (live_jobs_ > 0) liveness_failure("no event left to run");

    result_.events = events;
    result_.seed = config_.seed;
    result_.pump = config_.pump.to_string();
    result_.frames = config_.frames.to_string();
    result_.when_all = pol::to_string(config_.when_all);
    result_.costs = config_.costs.name;
    result_.workers = config_.workers;
    const auto summarize = [](const histogram& h) {
        return latency_summary{h.count(),        h.mean(),         h.quantile(0.50),
                               h.quantile(0.90), h.quantile(0.99), h.quantile(0.999),
                               h.max()};
    };
    result_.latency = summarize(latency_);
    result_.queue_wait = summarize(queue_wait_);
    for (std::size_t i = 0; i < class_hist_.size(); ++i) {
        result_.classes[i].latency = summarize(*class_hist_[i]);
    }
    const std::uint64_t span_ns = result_.last_completion_ns - result_.first_arrival_ns;
    result_.throughput_jobs_per_s = span_ns == 0 ? 0.0
                                                 : static_cast<double>(result_.jobs_completed) *
                                                       1e9 / static_cast<double>(span_ns);
    for (const auto& w : workers_) {
        const auto& p = w.pump.counters();
        auto& t = result_.pump_counters;
        t.cycles += p.cycles;
        t.inline_granted += p.inline_granted;
        t.inline_refused += p.inline_refused;
        t.budget_exhausted += p.budget_exhausted;
        t.unassisted_capped += p.unassisted_capped;
        t.cap_doubled += p.cap_doubled;
        t.cap_reset += p.cap_reset;
        result_.busy_ns += w.busy_ns;
    }
    result_.source_stats = source_.stats();

    teardown();
    auto& f = result_.frames_result;
    if (recycler_) {
        for (const auto& w : workers_) f.counters += w.cache.counters;
    } else {
        f.counters = heap_->counters();
    }
    f.peak_outstanding = frames_->peak_outstanding();
    f.outstanding_at_end = frames_->outstanding();
    result_.choice_points = choice_count_;
    if (checks_on_) check_end();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash_));
    result_.event_hash = hex;
    result_.final_draw = rng_.next_u64();
    return result_;
}

void engine::teardown() noexcept {
    if (torn_down_) return;
    torn_down_ = true;
    current_ = &workers_.front();
    // Every coroutine still alive (a deadlocked job, the stage consumers) is destroyed here;
    // children owned by a parent's when_all go with the parent.
    for (auto& rec : jobs_) rec.root = rt::task<void>{};
    consumers_.clear();
    if (recycler_) {
        for (auto& w : workers_) recycler_->drain(w.cache);
    }
}

// ---- the checks ----

std::uint64_t engine::running_job_seq() const noexcept {
    if (current_job_ >= jobs_.size()) return UINT64_MAX;
    return jobs_[current_job_].seq;
}

void engine::fail(const char* property, std::uint32_t worker, const std::string& what) {
    if (violation_) return;  // the first failure is the one reported
    const std::uint64_t t = worker == UINT32_MAX ? now_ns_ : local_now();
    const std::uint64_t job = running_job_seq();
    std::string msg = std::string(property) + ": " + what;
    if (worker != UINT32_MAX) msg += " (worker " + std::to_string(worker) + ")";
    msg += " at virtual time " + std::to_string(t) + " ns";
    if (job != UINT64_MAX) msg += ", job " + std::to_string(job);
    violation_.emplace(property, worker, t, job, msg);
}

void engine::check_inline(worker_state& w) {
    const auto& spec = config_.pump;
    if (spec.policy == pol::pump_spec::kind::disabled) {
        fail("disabled-never-inlines", w.id, "the disabled pump resumed a waiter inline");
        return;
    }
    if (queue_.empty()) return;
    std::uint64_t bound = spec.inline_bound();
    const char* why = "the pump's own bound";
    if (spec.policy == pol::pump_spec::kind::adaptive && w.cycle_unassisted &&
        spec.unassisted < bound) {
        bound = spec.unassisted;
        why = "the pump's unassisted cap";
    }
    if (config_.checks.max_inline_streak > 0 && config_.checks.max_inline_streak < bound) {
        bound = config_.checks.max_inline_streak;
        why = "max_inline_streak";
    }
    if (w.inline_streak > bound) {
        fail("starvation", w.id,
             std::to_string(w.inline_streak) + " inline resumes in a row while " +
                 std::to_string(queue_.size()) + " item(s) waited in the run queue (bound " +
                 std::to_string(bound) + " from " + why + ")");
    }
}

void engine::check_slice_end(worker_state& w) {
    if (recycler_) {
        for (std::size_t cls = 0; cls < pol::frame_class_count; ++cls) {
            if (w.cache.buckets[cls].count > config_.frames.per_thread) {
                fail("bucket-capacity", w.id,
                     "size class " + std::to_string(pol::frame_class_bytes(cls)) + " holds " +
                         std::to_string(w.cache.buckets[cls].count) + " frames, capacity " +
                         std::to_string(config_.frames.per_thread));
                return;
            }
        }
    }
    if (frames_->outstanding() < 0) {
        fail("frames-outstanding", w.id,
             "outstanding frames went negative (" + std::to_string(frames_->outstanding()) + ")");
    }
}

void engine::note_pool_traffic(worker_state& w) {
    const auto& c = w.cache.counters;
    // Fallbacks first: one not seen yet followed the latest trip already noted, and a trip
    // being noted now (from the lock) has not fallen back yet.
    if (c.heap_fallbacks != w.seen_heap_fallbacks) {
        w.seen_heap_fallbacks = c.heap_fallbacks;
        if (!result_.first_heap_fallback.seen) result_.first_heap_fallback = w.last_trip;
    }
    if (c.global_trips != w.seen_trips) {
        std::uint32_t cls = w.last_trip.size_class;
        for (std::size_t k = 0; k < pol::frame_class_count; ++k) {
            if (c.trips_by_class[k] != w.seen_trips_by_class[k]) {
                cls = static_cast<std::uint32_t>(k);
            }
        }
        w.seen_trips_by_class = c.trips_by_class;
        global_trips_total_ += c.global_trips - w.seen_trips;
        w.seen_trips = c.global_trips;
        w.last_trip = {true, w.id, cls, running_job_seq(), local_now()};
        if (!result_.first_global_trip.seen) result_.first_global_trip = w.last_trip;
        if (checks_on_) check_global_pool(w);
    }
}

void engine::check_global_pool(const worker_state& w) {
    const std::string where =
        "size class " + std::to_string(pol::frame_class_bytes(w.last_trip.size_class)) + " bytes";
    if (config_.checks.global_pool == global_pool_rule::none) {
        fail("global-pool", w.id, "a frame allocation went to the global pool, " + where);
    } else if (global_trips_total_ > config_.checks.max_global_trips) {
        fail("global-pool", w.id,
             std::to_string(global_trips_total_) + " trips to the global pool (at most " +
                 std::to_string(config_.checks.max_global_trips) + "), " + where);
    }
}

bool engine::lose_wakeup_next_fanout() {
    const std::uint64_t n = fanout_seq_++;
    return config_.test_hooks.lose_wakeup && config_.test_hooks.lose_wakeup(n);
}

void engine::check_children_done(const std::vector<coroutine_handle<>>& children) {
    for (const auto h : children) {
        if (!h.done()) {
            fail("when_all", current_->id, "the parent resumed before every child finished");
            return;
        }
    }
}

void engine::check_child_trips(std::uint64_t child_trips, std::size_t slots) {
    if (child_trips == 0 || config_.checks.global_pool != global_pool_rule::children) return;
    const worker_state& w = *current_;
    fail("global-pool", w.id,
         std::to_string(child_trips) + " trip(s) to the global pool while allocating " +
             std::to_string(slots) + " when_all children, size class " +
             std::to_string(pol::frame_class_bytes(w.last_trip.size_class)) + " bytes");
}

void engine::check_fanout(const pol::stash_counters* stash, std::size_t slots) {
    if (stash != nullptr && stash->peak_in_use > slots) {
        fail("when_all", current_->id,
             "the private stash handed out " + std::to_string(stash->peak_in_use) +
                 " frames at once, more than its " + std::to_string(slots) + " slots");
    }
}

void engine::check_end() {
    current_job_ = UINT32_MAX;
    if (result_.frames_result.outstanding_at_end != 0) {
        fail("frames-returned", UINT32_MAX,
             std::to_string(result_.frames_result.outstanding_at_end) +
                 " frame(s) never returned after every coroutine was destroyed (a leak)");
    }
    throw_if_failed();
}

// The abstract state: what the rest of the run can depend on, minus what a checker does not
// need to tell states apart (see DESIGN.md, "Model checking"). Order-free parts are summed.
std::uint64_t engine::fingerprint() const {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
    const auto spread = [](std::uint64_t v) {
        std::uint64_t st = v;
        return traces::splitmix64(st);
    };
    mix(now_ns_);
    mix(result_.jobs_completed);
    mix(live_jobs_);
    // The tied set in order (an option's index must mean the same event), then the rest of
    // the pending events as a multiset of (time from now, kind, worker).
    for (const auto& ev : tied_) mix((static_cast<std::uint64_t>(ev.kind) << 32) | ev.worker);
    std::uint64_t pending = 0;
    for (const auto& ev : events_) {
        pending += spread(((ev.time_ns - now_ns_) << 12) ^
                          (static_cast<std::uint64_t>(ev.kind) << 8) ^ ev.worker);
    }
    mix(pending);
    mix(queue_.size());
    for (const auto& item : queue_) {
        mix(item.job < jobs_.size() && !item.h ? jobs_[item.job].seq : UINT64_MAX);
        mix(static_cast<std::uint64_t>(item.from));
    }
    for (const auto& w : workers_) {
        mix(static_cast<std::uint64_t>(w.mode));
        mix(w.pump.cap());
        mix(w.pump.granted());
        mix(w.pump.used());
        mix(w.inline_streak);
        for (const auto& b : w.cache.buckets) mix(b.count);
    }
    if (recycler_) {
        for (std::size_t cls = 0; cls < pol::frame_class_count; ++cls) {
            mix(recycler_->global_count(cls));
        }
    }
    for (const auto& c : channels_) {
        mix(c.items.size());
        mix(c.waiting.size());
        mix(c.blocked.size());
    }
    mix(lock_free_at_ns_ > now_ns_ ? lock_free_at_ns_ - now_ns_ : 0);
    return h;
}

}  // namespace

const char* liveness_error::kind() const noexcept {
    return "liveness";
}

property_violation::property_violation(std::string property, std::uint32_t worker,
                                       std::uint64_t time_ns, std::uint64_t job,
                                       const std::string& what)
    : std::runtime_error(what),
      property_(std::move(property)),
      worker_(worker),
      time_ns_(time_ns),
      job_(job) {}

run_result simulate(traces::job_source& source, const sim_config& config) {
    engine e(source, config);
    return e.run();
}

}  // namespace schedlab::sim
