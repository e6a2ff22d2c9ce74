#include "runtime/dpdk_pipeline.hpp"

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/channel.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_result.hpp"
#include "traces/pcap.hpp"

namespace schedlab::runtime {

namespace {

namespace pol = schedlab::policies;

constexpr std::uint16_t burst_size = 32;
constexpr std::uint32_t stage_count = 3;
const char* const stage_names[stage_count] = {"parse", "classify", "emit"};

// What the stages learn about a frame, carried with it from channel to channel.
struct packet {
    rte_mbuf* m = nullptr;
    std::uint64_t rx_ns = 0;
    std::uint64_t stage_in_ns = 0;
    std::uint8_t ip_proto = 0;
    std::uint16_t src_port = 0, dst_port = 0;
    std::uint32_t l4_bytes = 0;
};

enum class traffic : std::uint8_t { dns, http, tls, other_tcp, other_udp, other, count };
const char* const traffic_names[] = {"dns", "http", "tls", "other_tcp", "other_udp", "other"};

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// Stage 1: the L2/L3/L4 headers (Ethernet with VLAN tags, IPv4 or IPv6, TCP or UDP ports).
void parse(packet& p) {
    const auto* d = rte_pktmbuf_mtod(p.m, const std::uint8_t*);
    const std::uint32_t len = rte_pktmbuf_data_len(p.m);
    std::uint32_t off = 12;
    if (len < 14) return;
    std::uint16_t type = be16(d + off);
    off += 2;
    while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
        type = be16(d + off + 2);
        off += 4;
    }
    std::uint32_t l4 = 0;
    if (type == 0x0800 && off + 20 <= len) {
        const std::uint32_t ihl = (d[off] & 0x0f) * 4u;
        p.ip_proto = d[off + 9];
        l4 = off + ihl;
    } else if (type == 0x86dd && off + 40 <= len) {
        p.ip_proto = d[off + 6];
        l4 = off + 40;
    } else {
        return;
    }
    if ((p.ip_proto == 6 || p.ip_proto == 17) && l4 + 4 <= len) {
        p.src_port = be16(d + l4);
        p.dst_port = be16(d + l4 + 2);
        p.l4_bytes = len - l4;
    }
}

// Stage 2: which application the frame belongs to, by well-known port.
traffic classify(const packet& p) {
    const auto either = [&](std::uint16_t port) {
        return p.src_port == port || p.dst_port == port;
    };
    if (p.ip_proto == 17) return either(53) ? traffic::dns : traffic::other_udp;
    if (p.ip_proto == 6) {
        if (either(80)) return traffic::http;
        if (either(443)) return traffic::tls;
        return traffic::other_tcp;
    }
    return traffic::other;
}

struct stage_tally {
    std::vector<std::uint64_t> latency_ns;  // channel entry to stage exit
};

struct pipeline;

// The poll-mode reactor. Every turn polls the port once (when a pipeline is attached) and the
// timer heap; a blocking turn keeps polling until something completes or wake() is called,
// which is how a poll-mode lcore waits. Timers are kept on the steady clock, the clock
// sleep_for's deadlines are taken from, so a timer never fires early.
class dpdk_reactor final : public reactor {
public:
    std::string_view name() const noexcept override { return "dpdk"; }
    void wake() noexcept override { woken_.store(true, std::memory_order_release); }
    void start_io(io_op&) override {
        throw std::logic_error("dpdk reactor: socket operations go to epoll or io_uring");
    }
    void start_timer(timer_op& op) override {
        std::lock_guard lk(timer_mu_);
        timers_.push_back(&op);
        std::push_heap(timers_.begin(), timers_.end(), timer_later{});
        next_deadline_ns_.store(timers_.front()->deadline_ns, std::memory_order_release);
        timer_count_.fetch_add(1, std::memory_order_relaxed);
    }
    bool has_work() const noexcept override {
        const bool port_open = pipe != nullptr && !input_closed_.load(std::memory_order_relaxed);
        return port_open || timer_count_.load(std::memory_order_relaxed) > 0;
    }
    void run_once(bool block, std::vector<std::coroutine_handle<>>& ready) override;

    pipeline* pipe = nullptr;
    std::uint64_t rx_packets = 0, rx_bursts = 0, empty_polls = 0, tx_packets = 0, tx_dropped = 0;
    std::uint16_t port = 0;
    bool pcap = false;

private:
    struct timer_later {
        bool operator()(const timer_op* a, const timer_op* b) const noexcept {
            return a->deadline_ns > b->deadline_ns;
        }
    };
    void poll_port(std::vector<std::coroutine_handle<>>& ready);
    void transmit();
    void expire_timers(std::vector<std::coroutine_handle<>>& ready);

    std::atomic<bool> input_closed_{false};
    std::array<rte_mbuf*, burst_size> rx_{};
    std::uint16_t rx_held_ = 0, rx_next_ = 0;  // a burst the first channel had no room for
    std::uint32_t idle_polls_ = 0;

    std::atomic<bool> woken_{false};
    std::mutex timer_mu_;  // timers start on any context thread
    std::vector<timer_op*> timers_;
    std::atomic<std::uint64_t> next_deadline_ns_{UINT64_MAX};  // lets a poll skip the lock
    std::atomic<std::uint32_t> timer_count_{0};
};

struct pipeline {
    pipeline(io_context& ctx, std::size_t capacity) {
        for (std::uint32_t i = 0; i < stage_count; ++i) {
            channels.push_back(std::make_unique<channel<packet>>(ctx, capacity));
        }
    }
    std::vector<std::unique_ptr<channel<packet>>> channels;  // channels[i] feeds stage i
    std::array<std::atomic<std::uint32_t>, stage_count> live_consumers{};
    std::array<std::atomic<std::uint64_t>, static_cast<int>(traffic::count)> classes{};
    std::atomic<std::uint64_t> processed{0};
    std::mutex tx_mu;  // the last stage hands frames to the reactor, which alone calls tx_burst
    std::vector<rte_mbuf*> tx;
    std::uint64_t deadline_ns = 0;
    std::uint64_t max_packets = 0;
    std::deque<stage_tally> tallies[stage_count];
    std::vector<std::uint64_t>* end_to_end = nullptr;  // one vector per last-stage consumer
    std::deque<std::vector<std::uint64_t>> e2e;
};

void dpdk_reactor::run_once(bool block, std::vector<std::coroutine_handle<>>& ready) {
    for (;;) {
        if (pipe != nullptr) poll_port(ready);
        expire_timers(ready);
        if (!block || !ready.empty()) return;
        if (woken_.exchange(false, std::memory_order_acq_rel)) return;
        rte_pause();
    }
}

void dpdk_reactor::expire_timers(std::vector<std::coroutine_handle<>>& ready) {
    if (next_deadline_ns_.load(std::memory_order_acquire) > monotonic_ns()) return;
    std::lock_guard lk(timer_mu_);
    const std::uint64_t now = monotonic_ns();
    while (!timers_.empty() && timers_.front()->deadline_ns <= now) {
        ready.push_back(timers_.front()->waiter);
        std::pop_heap(timers_.begin(), timers_.end(), timer_later{});
        timers_.pop_back();
        timer_count_.fetch_sub(1, std::memory_order_relaxed);
    }
    next_deadline_ns_.store(timers_.empty() ? UINT64_MAX : timers_.front()->deadline_ns,
                            std::memory_order_release);
}

void dpdk_reactor::transmit() {
    std::vector<rte_mbuf*> out;
    {
        std::lock_guard lk(pipe->tx_mu);
        out.swap(pipe->tx);
    }
    std::size_t sent = 0;
    while (sent < out.size()) {
        const auto n =
            static_cast<std::uint16_t>(std::min<std::size_t>(burst_size, out.size() - sent));
        const std::uint16_t done = rte_eth_tx_burst(port, 0, out.data() + sent, n);
        tx_packets += done;
        if (done < n) {
            // The port refused the rest of this burst: they are dropped, as a NIC would.
            for (std::uint16_t i = done; i < n; ++i) rte_pktmbuf_free(out[sent + i]);
            tx_dropped += n - done;
        }
        sent += n;
    }
}

void dpdk_reactor::poll_port(std::vector<std::coroutine_handle<>>& ready) {
    transmit();
    if (input_closed_.load(std::memory_order_relaxed)) return;
    auto& first = *pipe->channels[0];
    if (rx_held_ == 0) {
        const bool out_of_time = monotonic_ns() >= pipe->deadline_ns;
        const bool enough = pipe->max_packets != 0 && rx_packets >= pipe->max_packets;
        std::uint16_t want = burst_size;
        if (pipe->max_packets != 0) {
            want = static_cast<std::uint16_t>(std::min<std::uint64_t>(
                burst_size, pipe->max_packets - std::min(rx_packets, pipe->max_packets)));
        }
        std::uint16_t n = 0;
        if (!out_of_time && !enough && want > 0) n = rte_eth_rx_burst(port, 0, rx_.data(), want);
        if (n == 0) {
            ++empty_polls;
            // The pcap PMD reads the file inside rx_burst, so a run of empty bursts is the end
            // of the capture; the null PMD never runs dry and stops on time or count.
            if (out_of_time || enough || (pcap && ++idle_polls_ >= 1000)) {
                input_closed_.store(true, std::memory_order_relaxed);
                first.close(ready);
            }
            return;
        }
        idle_polls_ = 0;
        ++rx_bursts;
        rx_packets += n;
        rx_held_ = n;
        rx_next_ = 0;
    }
    const std::uint64_t now = monotonic_ns();
    while (rx_next_ < rx_held_) {
        packet p;
        p.m = rx_[rx_next_];
        p.rx_ns = now;
        p.stage_in_ns = now;
        if (!first.try_send(p, ready)) break;  // backpressure: the rest waits for the next turn
        ++rx_next_;
    }
    if (rx_next_ == rx_held_) rx_held_ = 0;
}

task<void> stage(pipeline& pl, std::uint32_t index, stage_tally& tally,
                 std::vector<std::uint64_t>* e2e) {
    auto& in = *pl.channels[index];
    for (;;) {
        std::optional<packet> item = co_await in.receive();
        if (!item) break;
        packet& p = *item;
        if (index == 0) {
            parse(p);
        } else if (index == 1) {
            pl.classes[static_cast<int>(classify(p))].fetch_add(1, std::memory_order_relaxed);
        }
        const std::uint64_t now = monotonic_ns();
        tally.latency_ns.push_back(now - p.stage_in_ns);
        if (index + 1 < stage_count) {
            p.stage_in_ns = now;
            co_await pl.channels[index + 1]->send(p);
        } else {
            e2e->push_back(now - p.rx_ns);
            pl.processed.fetch_add(1, std::memory_order_relaxed);
            std::lock_guard lk(pl.tx_mu);
            pl.tx.push_back(p.m);
        }
    }
    // The last consumer of a stage to leave closes the next stage's channel.
    if (pl.live_consumers[index].fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        index + 1 < stage_count) {
        pl.channels[index + 1]->close();
    }
}

[[noreturn]] void dpdk_fail(const std::string& what, int err) {
    throw std::runtime_error("dpdk: " + what + ": " + rte_strerror(err));
}

std::mutex eal_mu;
bool eal_ready = false;
bool eal_failed = false;
std::uint32_t eal_runs = 0;  // names each run's hot-plugged device and mbuf pool

// A device hot-plugged for one run, and its mbuf pool; removed again when the run ends so the
// next run in the process can add its own.
class run_port {
public:
    explicit run_port(const std::string& pcap) {
        std::uint32_t n = 0;
        {
            std::lock_guard lk(eal_mu);
            n = eal_runs++;
        }
        name_ = (pcap.empty() ? "net_null" : "net_pcap") + std::to_string(n);
        const std::string args = pcap.empty() ? std::string() : "rx_pcap=" + pcap;
        int rc = rte_eal_hotplug_add("vdev", name_.c_str(), args.c_str());
        if (rc < 0) dpdk_fail("adding device " + name_, -rc);
        added_ = true;
        if (rte_eth_dev_get_port_by_name(name_.c_str(), &port) != 0) {
            throw std::runtime_error("dpdk: no port was created for " + name_);
        }
        const std::string pool_name = "schedlab_mbufs" + std::to_string(n);
        pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        static_cast<int>(rte_socket_id()));
        if (pool_ == nullptr) dpdk_fail("rte_pktmbuf_pool_create", rte_errno);
        rte_eth_conf conf{};
        rc = rte_eth_dev_configure(port, 1, 1, &conf);
        if (rc < 0) dpdk_fail("rte_eth_dev_configure", -rc);
        const auto socket = static_cast<unsigned>(rte_eth_dev_socket_id(port));
        rc = rte_eth_rx_queue_setup(port, 0, 1024, socket, nullptr, pool_);
        if (rc < 0) dpdk_fail("rte_eth_rx_queue_setup", -rc);
        rc = rte_eth_tx_queue_setup(port, 0, 1024, socket, nullptr);
        if (rc < 0) dpdk_fail("rte_eth_tx_queue_setup", -rc);
        rc = rte_eth_dev_start(port);
        if (rc < 0) dpdk_fail("rte_eth_dev_start", -rc);
        started_ = true;
    }
    run_port(const run_port&) = delete;
    run_port& operator=(const run_port&) = delete;
    ~run_port() {
        if (started_) rte_eth_dev_stop(port);
        if (added_) {
            rte_eth_dev_close(port);
            rte_eal_hotplug_remove("vdev", name_.c_str());
        }
        if (pool_ != nullptr) rte_mempool_free(pool_);
    }
    std::uint16_t port = 0;

private:
    std::string name_;
    rte_mempool* pool_ = nullptr;
    bool added_ = false;
    bool started_ = false;
};

}  // namespace

void dpdk_eal_init(const std::string& file_prefix) {
    std::lock_guard lk(eal_mu);
    if (eal_ready) return;
    if (eal_failed) throw std::runtime_error("dpdk: the EAL failed to initialise earlier");
    // --no-shconf: no shared config or memory files, since no secondary process ever attaches
    // (--in-memory says the same but refuses --no-huge, which implies --legacy-mem).
    std::vector<std::string> args = {"schedlab",
                                     "--no-huge",
                                     "--no-shconf",
                                     "--no-pci",
                                     "-m",
                                     "256",
                                     "--file-prefix=" + file_prefix,
                                     "-l",
                                     "0",
                                     "--log-level=lib.eal:error",
                                     "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    // The EAL pins the calling thread to its lcore; the io_context threads it starts must not
    // inherit that, so the thread's own affinity is put back after initialisation.
    cpu_set_t affinity;
    CPU_ZERO(&affinity);
    sched_getaffinity(0, sizeof affinity, &affinity);
    // DPDK refuses a second rte_eal_init in one process, even after a failed one.
    eal_failed = true;
    const int rc = rte_eal_init(static_cast<int>(argv.size()), argv.data());
    const int err = rte_errno;
    // The EAL creates its runtime directory (/var/run/dpdk/PREFIX as root) even with
    // --no-shconf, which keeps it empty, and nothing removes it; an empty one is of no use to
    // anyone, so it goes at once rather than accumulating one per process.
    ::rmdir(rte_eal_get_runtime_dir());
    if (rc < 0) dpdk_fail("rte_eal_init", err);
    sched_setaffinity(0, sizeof affinity, &affinity);
    eal_failed = false;
    eal_ready = true;
    std::atexit([] { rte_eal_cleanup(); });
}

std::unique_ptr<reactor> make_dpdk_reactor() {
    return std::make_unique<dpdk_reactor>();
}

sim::run_result run_dpdk_pipeline(const live_options& o) {
    if (o.reactor != "dpdk") {
        throw std::invalid_argument("run: the pipeline workload needs --reactor dpdk");
    }
    if (o.threads == 0) throw std::invalid_argument("run: --threads must be at least 1");
    if (!o.record.empty()) {
        throw std::invalid_argument("run: --record is not supported for the pipeline workload");
    }
    if (!o.pcap.empty()) {
        // The pcap PMD stops at the first frame it cannot read, which would look like a short
        // capture: every frame is read once before the run, so a damaged file is an error that
        // names the byte offset. open_capture throws input_error for it.
        auto frames = traces::open_capture(o.pcap);
        while (frames->next()) {
        }
    }
    dpdk_eal_init(o.dpdk_prefix);
    run_port dev(o.pcap);
    const std::uint16_t port = dev.port;

    sim::run_result result;
    {
        context_options copt;
        copt.threads = o.threads;
        copt.pump = pol::pump_spec::parse(o.pump);
        copt.frames = pol::frames_spec::parse(o.frames);
        auto owned = std::make_unique<dpdk_reactor>();
        owned->port = port;
        owned->pcap = !o.pcap.empty();
        dpdk_reactor* dr = owned.get();
        io_context ctx(std::move(owned), copt);
        pipeline pl(ctx, 256);
        dr->pipe = &pl;
        const std::uint32_t consumers = o.concurrency == 0 ? o.threads : o.concurrency;
        const std::uint64_t start = monotonic_ns();
        pl.deadline_ns = start + static_cast<std::uint64_t>(o.duration_s * 1e9);
        pl.max_packets = o.jobs;
        for (std::uint32_t s = 0; s < stage_count; ++s) {
            pl.live_consumers[s].store(consumers);
            for (std::uint32_t k = 0; k < consumers; ++k) {
                auto& tally = pl.tallies[s].emplace_back();
                std::vector<std::uint64_t>* e2e = nullptr;
                if (s + 1 == stage_count) e2e = &pl.e2e.emplace_back();
                // Created on a context thread, so the frames come from the run's resource.
                ctx.spawn([&pl, s, &tally, e2e] { return stage(pl, s, tally, e2e); });
            }
        }
        ctx.run();
        const std::uint64_t end = monotonic_ns();
        // Frames the last stage handed over after the reactor's final turn go out now.
        std::vector<std::coroutine_handle<>> none;
        dr->run_once(false, none);
        live_tallies lt;
        for (auto& v : pl.e2e) lt.latency_ns.insert(lt.latency_ns.end(), v.begin(), v.end());
        lt.completed = pl.processed.load();
        lt.elapsed_ns = end - start;
        result = make_live_result(o, ctx, lt);
        result.jobs_arrived = dr->rx_packets;
        result.source_stats.emplace_back("rx_packets", dr->rx_packets);
        result.source_stats.emplace_back("rx_bursts", dr->rx_bursts);
        result.source_stats.emplace_back("tx_packets", dr->tx_packets);
        result.source_stats.emplace_back("tx_dropped", dr->tx_dropped);
        for (int c = 0; c < static_cast<int>(traffic::count); ++c) {
            result.source_stats.emplace_back(std::string("traffic_") + traffic_names[c],
                                             pl.classes[c].load());
        }
        for (std::uint32_t s = 0; s < stage_count; ++s) {
            std::vector<std::uint64_t> all;
            for (auto& t : pl.tallies[s])
                all.insert(all.end(), t.latency_ns.begin(), t.latency_ns.end());
            const sim::latency_summary l = summarize(all);
            const std::string key = std::string("stage") + std::to_string(s) + "_" + stage_names[s];
            result.source_stats.emplace_back(key + "_packets", l.count);
            result.source_stats.emplace_back(key + "_p50_ns", l.p50_ns);
            result.source_stats.emplace_back(key + "_p99_ns", l.p99_ns);
            result.source_stats.emplace_back(key + "_p999_ns", l.p999_ns);
            result.source_stats.emplace_back(key + "_max_ns", l.max_ns);
        }
    }
    return result;
}

}  // namespace schedlab::runtime
