#include "runtime/workloads.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

#include "policies/frame_stash.hpp"
#include "runtime/dpdk_pipeline.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_ops.hpp"
#include "runtime/live_result.hpp"
#include "runtime/recorder.hpp"
#include "runtime/when_all.hpp"

namespace schedlab::runtime {

namespace {

namespace pol = schedlab::policies;

[[noreturn]] void sys_fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// A descriptor known to the reactor; detached before it is closed.
class attached_fd {
public:
    attached_fd(reactor& r, int fd) : r_(&r), fd_(fd) { r_->attach(fd_); }
    attached_fd(attached_fd&& o) noexcept : r_(o.r_), fd_(std::exchange(o.fd_, -1)) {}
    attached_fd(const attached_fd&) = delete;
    attached_fd& operator=(const attached_fd&) = delete;
    attached_fd& operator=(attached_fd&&) = delete;
    ~attached_fd() { close(); }
    int get() const noexcept { return fd_; }
    void close() noexcept {
        if (fd_ < 0) return;
        r_->detach(fd_);
        ::close(fd_);
        fd_ = -1;
    }

private:
    reactor* r_;
    int fd_;
};

struct socket_pair {
    socket_pair(reactor& r, int fds[2]) : a(r, fds[0]), b(r, fds[1]) {}
    attached_fd a, b;
};

std::unique_ptr<socket_pair> make_pair(reactor& r) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
        sys_fail("socketpair");
    }
    return std::make_unique<socket_pair>(r, fds);
}

// When to stop issuing jobs: a deadline and, optionally, a job count. Jobs in flight finish.
struct run_control {
    std::uint64_t start_ns = 0;
    std::uint64_t deadline_ns = 0;
    std::uint64_t max_jobs = 0;
    std::atomic<std::uint64_t> issued{0};
    bool next() noexcept {
        if (monotonic_ns() >= deadline_ns) return false;
        if (max_jobs == 0) return true;
        return issued.fetch_add(1, std::memory_order_relaxed) < max_jobs;
    }
};

// One closed-loop client's tallies; merged after the run, so no locking while it runs.
struct driver_tally {
    std::vector<std::uint64_t> latency_ns;
    std::uint64_t completed = 0;
};

struct env {
    io_context& ctx;
    run_control& control;
    const live_options& opt;
    demand_recorder* rec;
    bool private_stash = false;
    std::atomic<std::uint64_t> child_global_trips{0};
    std::atomic<std::uint64_t> stash_arenas{0}, stash_hits{0}, stash_overflows{0};
    // Already-complete operations of no job (accepts, the closing handshake): the live pump
    // decided them, a replay of the recorded jobs does not.
    std::atomic<std::uint64_t> ready_outside_jobs{0};
};

void check_io(const io_result& r, std::int64_t expected, const char* what) {
    if (r.value == expected) return;
    if (r.value < 0)
        throw std::system_error(static_cast<int>(-r.value), std::generic_category(), what);
    throw std::runtime_error(std::string(what) + ": short transfer");
}

// The leaf of a chain and each fan-out child: `ops` round trips through a socket pair. The
// bytes are in the socket before the receive, so both operations are already complete: the
// pump's case.
task<void> leaf(env& e, socket_pair& p, const traces::program** recorded) {
    step_builder sb(e.rec != nullptr);
    char out = 'x';
    char in = 0;
    for (std::uint32_t i = 0; i < e.opt.ops; ++i) {
        sb.before_await();
        const io_result w = co_await async_send(e.ctx, p.a.get(), &out, 1);
        sb.after_io(w);
        check_io(w, 1, "send");
        sb.before_await();
        const io_result r = co_await async_recv(e.ctx, p.b.get(), &in, 1);
        sb.after_io(r);
        check_io(r, 1, "recv");
    }
    if (e.rec != nullptr) *recorded = e.rec->intern(sb.finish());
}

task<void> chain_level(env& e, socket_pair& p, std::uint32_t level,
                       const traces::program** recorded) {
    if (level == 0) {
        co_await leaf(e, p, recorded);
        co_return;
    }
    const traces::program* sub = nullptr;
    co_await chain_level(e, p, level - 1, &sub);
    if (e.rec != nullptr) {
        *recorded = e.rec->intern({{traces::step_kind::call, 1, 0, sub, 0}});
    }
}

std::uint64_t thread_global_trips() {
    return thread_cache_seam{}.current().counters.global_trips;
}

task<void> fanout_job(env& e, std::vector<std::unique_ptr<socket_pair>>& pairs,
                      const traces::program** child_recorded) {
    const std::uint32_t width = e.opt.width;
    std::vector<const traces::program*> recorded(width, nullptr);
    std::vector<task<void>> kids;
    kids.reserve(width);
    const std::uint64_t before = thread_global_trips();
    if (e.private_stash) {
        pol::frame_stash stash(width, current_frame_resource());
        auto launch = when_all(stash);
        for (std::uint32_t i = 0; i < width; ++i) kids.push_back(leaf(e, *pairs[i], &recorded[i]));
        e.child_global_trips += thread_global_trips() - before;
        co_await launch(std::move(kids));
        const auto& c = stash.counters();
        e.stash_arenas += c.arena_allocations;
        e.stash_hits += c.hits;
        e.stash_overflows += c.overflows;
    } else {
        for (std::uint32_t i = 0; i < width; ++i) kids.push_back(leaf(e, *pairs[i], &recorded[i]));
        e.child_global_trips += thread_global_trips() - before;
        co_await when_all(std::move(kids));
    }
    // Every child has the same structure; the first one's demand stands for all of them.
    *child_recorded = recorded[0];
}

// A closed-loop client of the chain or fan-out workload.
task<void> local_driver(env& e, driver_tally& tally, bool fanout) {
    std::vector<std::unique_ptr<socket_pair>> pairs;
    const std::uint32_t n = fanout ? e.opt.width : 1;
    for (std::uint32_t i = 0; i < n; ++i) pairs.push_back(make_pair(e.ctx.io()));
    while (e.control.next()) {
        const std::uint64_t t0 = monotonic_ns();
        const traces::program* sub = nullptr;
        if (fanout) {
            co_await fanout_job(e, pairs, &sub);
        } else {
            co_await chain_level(e, *pairs[0], e.opt.depth - 1, &sub);
        }
        const std::uint64_t t1 = monotonic_ns();
        tally.latency_ns.push_back(t1 - t0);
        ++tally.completed;
        if (e.rec != nullptr) {
            std::vector<traces::step> steps;
            if (fanout) {
                steps.push_back({traces::step_kind::fanout, e.opt.width, 0, sub, 0});
            } else {
                steps.push_back({traces::step_kind::call, 1, 0, sub, 0});
            }
            e.rec->add_job(t0 - e.control.start_ns, std::move(steps));
        }
    }
}

// --- loopback TCP: ping-pong and HTTP --------------------------------------------------------

// Listens on 127.0.0.1 only; `port` 0 takes any free port and returns the one taken.
int listen_loopback(std::uint16_t& port, int backlog) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) sys_fail("socket");
    // A fixed port may still hold connections of a previous run in TIME_WAIT.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) sys_fail("bind");
    if (::listen(fd, backlog) < 0) sys_fail("listen");
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) sys_fail("getsockname");
    port = ntohs(addr.sin_port);
    return fd;
}

void set_nodelay(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// One loopback connection, established before the run starts: the client's end (blocking,
// as the operations pass MSG_DONTWAIT) and the server's end, accepted at once. Accepting each
// connection before the next connect keeps the listen backlog (capped by net.core.somaxconn)
// from filling up, which would leave a blocking connect retrying its SYN for minutes.
struct loopback_conn {
    int client = -1;
    int server = -1;
};

loopback_conn connect_loopback(int listen_fd, std::uint16_t port) {
    loopback_conn c;
    c.client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.client < 0) sys_fail("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(c.client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        const int err = errno;
        ::close(c.client);
        throw std::system_error(err, std::generic_category(), "connect");
    }
    set_nodelay(c.client);
    // The handshake's last ACK may still be on its way through the loopback device.
    pollfd pfd{listen_fd, POLLIN, 0};
    constexpr int accept_wait_ms = 5000;
    if (::poll(&pfd, 1, accept_wait_ms) != 1) {
        ::close(c.client);
        throw std::runtime_error("accept: a loopback connection did not arrive within 5 s");
    }
    c.server = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c.server < 0) {
        const int err = errno;
        ::close(c.client);
        throw std::system_error(err, std::generic_category(), "accept");
    }
    set_nodelay(c.server);
    return c;
}

// How a socket helper coroutine (send_all, recv_exactly, recv_head) records itself: as a
// program of its own, which the job then calls, because live it is a frame of its own too.
// That keeps the replay's frames and pump decisions per job equal to the live run's.
struct sub_record {
    demand_recorder* rec = nullptr;  // null: not recording
    // When set, an I/O wait is recorded as at most the time since the peer was about to send
    // what it waited for: the wait before that is the peer's own work (replayed as the peer's
    // steps) or idle time between jobs, not demand of this operation.
    const std::atomic<std::uint64_t>* peer_send_ns = nullptr;
    const traces::program* prog = nullptr;  // the recorded program, once the helper returns
    std::uint32_t ready_ops = 0;            // operations that were already complete
};

class sub_recorder {
public:
    explicit sub_recorder(sub_record& r) : r_(r), sb_(r.rec != nullptr) {}
    void before_await() noexcept { sb_.before_await(); }
    void after_io(io_result res) {
        if (res.was_ready) ++r_.ready_ops;
        if (!res.was_ready && r_.peer_send_ns != nullptr && sb_.enabled()) {
            const std::uint64_t now = monotonic_ns();
            const std::uint64_t sent = r_.peer_send_ns->load(std::memory_order_acquire);
            if (sent != 0 && now > sent) res.waited_ns = std::min(res.waited_ns, now - sent);
        }
        sb_.after_io(res);
    }
    void finish() {
        if (r_.rec != nullptr) r_.prog = r_.rec->intern(sb_.finish());
    }

private:
    sub_record& r_;
    step_builder sb_;
};

// Receives until `bytes` arrived or the peer closed. Returns the bytes received.
task<std::size_t> recv_exactly(env& e, int fd, char* buf, std::size_t bytes, sub_record& rec) {
    sub_recorder sb(rec);
    std::size_t got = 0;
    while (got < bytes) {
        sb.before_await();
        const io_result r = co_await async_recv(e.ctx, fd, buf + got, bytes - got);
        sb.after_io(r);
        if (r.value == 0) break;
        if (r.value < 0) check_io(r, 0, "recv");
        got += static_cast<std::size_t>(r.value);
    }
    sb.finish();
    co_return got;
}

task<void> send_all(env& e, int fd, const char* buf, std::size_t bytes, sub_record& rec) {
    sub_recorder sb(rec);
    std::size_t sent = 0;
    while (sent < bytes) {
        sb.before_await();
        const io_result r = co_await async_send(e.ctx, fd, buf + sent, bytes - sent);
        sb.after_io(r);
        if (r.value <= 0) check_io(r, static_cast<std::int64_t>(bytes - sent), "send");
        sent += static_cast<std::size_t>(r.value);
    }
    sb.finish();
}

constexpr std::string_view http_request = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
constexpr std::size_t http_body_bytes = 1024;

// Reads an HTTP/1.1 message head into buf (until CRLFCRLF). Returns the bytes read in total
// (head and whatever followed it), or 0 if the peer closed first.
task<std::size_t> recv_head(env& e, int fd, std::string& buf, std::size_t& head_end,
                            sub_record& rec) {
    sub_recorder sb(rec);
    buf.clear();
    char chunk[2048];
    for (;;) {
        sb.before_await();
        const io_result r = co_await async_recv(e.ctx, fd, chunk, sizeof chunk);
        sb.after_io(r);
        if (r.value == 0) break;
        if (r.value < 0) check_io(r, 0, "recv");
        buf.append(chunk, static_cast<std::size_t>(r.value));
        const auto pos = buf.find("\r\n\r\n");
        if (pos != std::string::npos) {
            head_end = pos + 4;
            sb.finish();
            co_return buf.size();
        }
        if (buf.size() > 65536) throw std::runtime_error("http: header too long");
    }
    sb.finish();
    co_return 0;
}

std::string http_response(std::string_view request_head) {
    const bool ok = request_head.substr(0, 16) == "GET /index.html ";
    const std::string body = ok ? std::string(http_body_bytes, 'a') : std::string("not found\n");
    std::string out = ok ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 404 Not Found\r\n";
    out += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
    return out;
}

// One client connection and its server side, joined so that a recorded job holds both halves
// of its request: the client's send, the server's receive, compute and send, the client's
// receive. Each side writes only its own vector; they are read after the run.
struct conn_link {
    std::atomic<std::uint64_t> request_send_ns{0};   // the client is about to send a request
    std::atomic<std::uint64_t> response_send_ns{0};  // the server is about to send a response
    struct server_part {
        const traces::program* recv;
        std::uint64_t compute_ns;
        const traces::program* send;
    };
    struct client_job {
        std::uint64_t arrival_ns;
        std::vector<traces::step> steps;  // the request frame's steps
        std::size_t server_at;            // where the server's part goes: after the send call
    };
    std::vector<server_part> server_parts;  // one per request served, in order
    std::vector<client_job> client_jobs;    // one per request completed, in order
};

task<void> tcp_server_conn(env& e, int fd, bool http, conn_link* link) {
    attached_fd conn(e.ctx.io(), fd);
    demand_recorder* rec = link != nullptr ? e.rec : nullptr;
    const std::atomic<std::uint64_t>* from_client =
        link != nullptr ? &link->request_send_ns : nullptr;
    std::string head;
    std::size_t head_end = 0;
    std::vector<char> buf(e.opt.message_bytes);
    for (;;) {
        sub_record in{rec, from_client};
        bool got = false;
        if (http) {
            got = co_await recv_head(e, conn.get(), head, head_end, in) > 0;
        } else {
            got = co_await recv_exactly(e, conn.get(), buf.data(), buf.size(), in) == buf.size();
        }
        if (!got) {
            // The client's half-close: not part of any job.
            e.ready_outside_jobs += in.ready_ops;
            break;
        }
        const std::uint64_t t0 = monotonic_ns();
        std::string resp;
        if (http) resp = http_response(std::string_view(head).substr(0, head_end));
        const char* out = http ? resp.data() : buf.data();
        const std::size_t out_bytes = http ? resp.size() : buf.size();
        sub_record reply{rec};
        const std::uint64_t compute_ns = monotonic_ns() - t0;
        if (link != nullptr) {
            link->response_send_ns.store(monotonic_ns(), std::memory_order_release);
        }
        co_await send_all(e, conn.get(), out, out_bytes, reply);
        if (rec != nullptr) {
            link->server_parts.push_back({in.prog, quantize_ns(compute_ns), reply.prog});
        }
    }
}

// One request and its response: a coroutine call per job, as a chain job is.
task<void> tcp_request(env& e, int fd, bool http, conn_link& link, std::vector<char>& msg,
                       std::vector<char>& echo, std::string& head) {
    step_builder sb(e.rec != nullptr);
    const std::uint64_t t0 = monotonic_ns();
    sb.before_await();
    sub_record out{e.rec};
    link.request_send_ns.store(monotonic_ns(), std::memory_order_release);
    if (http) {
        co_await send_all(e, fd, http_request.data(), http_request.size(), out);
    } else {
        co_await send_all(e, fd, msg.data(), msg.size(), out);
    }
    sb.add_call(out.prog);
    const std::size_t server_at = sb.size();
    sb.before_await();
    if (http) {
        std::size_t head_end = 0;
        sub_record in{e.rec, &link.response_send_ns};
        const std::size_t got = co_await recv_head(e, fd, head, head_end, in);
        sb.add_call(in.prog);
        if (got == 0) throw std::runtime_error("http: server closed the connection");
        const auto cl = head.find("Content-Length: ");
        if (cl == std::string::npos) throw std::runtime_error("http: no Content-Length");
        const std::size_t body = std::stoul(head.substr(cl + 16));
        const std::size_t have = got - head_end;
        if (have < body) {
            std::vector<char> rest(body - have);
            sb.before_await();
            sub_record more{e.rec, &link.response_send_ns};
            if (co_await recv_exactly(e, fd, rest.data(), rest.size(), more) != rest.size()) {
                throw std::runtime_error("http: short body");
            }
            sb.add_call(more.prog);
        }
        if (head.compare(0, 15, "HTTP/1.1 200 OK") != 0) {
            throw std::runtime_error("http: unexpected status");
        }
    } else {
        sub_record in{e.rec, &link.response_send_ns};
        if (co_await recv_exactly(e, fd, echo.data(), echo.size(), in) != echo.size()) {
            throw std::runtime_error("pingpong: server closed the connection");
        }
        sb.add_call(in.prog);
    }
    if (e.rec != nullptr) {
        link.client_jobs.push_back({t0 - e.control.start_ns, sb.finish(), server_at});
    }
}

task<void> tcp_client(env& e, driver_tally& tally, int raw_fd, bool http, conn_link& link) {
    attached_fd conn(e.ctx.io(), raw_fd);
    std::vector<char> msg(e.opt.message_bytes, 'p');
    std::vector<char> echo(e.opt.message_bytes);
    std::string head;
    while (e.control.next()) {
        const std::uint64_t t0 = monotonic_ns();
        co_await tcp_request(e, conn.get(), http, link, msg, echo, head);
        tally.latency_ns.push_back(monotonic_ns() - t0);
        ++tally.completed;
    }
    // Half-close and wait for the server to finish, so its coroutine ends before ours.
    ::shutdown(conn.get(), SHUT_WR);
    sub_record none;
    char c;
    while (co_await recv_exactly(e, conn.get(), &c, 1, none) == 1) {
    }
    e.ready_outside_jobs += none.ready_ops;
}

// A recorded job: the client's request frame with the server's half of the same request
// called after the client's send.
void add_tcp_jobs(demand_recorder& rec, const conn_link& link) {
    const std::size_t n = std::min(link.client_jobs.size(), link.server_parts.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto& c = link.client_jobs[i];
        const auto& s = link.server_parts[i];
        std::vector<traces::step> steps(c.steps.begin(),
                                        c.steps.begin() + static_cast<long>(c.server_at));
        steps.push_back({traces::step_kind::call, 1, 0, s.recv, 0});
        if (s.compute_ns > 0)
            steps.push_back({traces::step_kind::compute, 1, s.compute_ns, nullptr, 0});
        steps.push_back({traces::step_kind::call, 1, 0, s.send, 0});
        steps.insert(steps.end(), c.steps.begin() + static_cast<long>(c.server_at), c.steps.end());
        rec.add_job(c.arrival_ns, std::move(steps));
    }
}

// --- http --serve: connections from outside clients (wrk, curl) on 127.0.0.1 ---------------

// The server's open connections, so the end of the run can shut them down: without a load
// generator of its own, the server cannot know when its clients are done.
struct serve_state {
    std::mutex mu;
    bool closing = false;
    int listen_fd = -1;
    std::vector<int> conns;
    std::deque<driver_tally> tallies;  // one per connection
    std::uint64_t served = 0;
    std::uint64_t max_requests = 0;  // 0: until the duration ends
    std::uint64_t conn_errors = 0;   // connections that ended with a socket error (a reset)

    bool is_closing() {
        std::lock_guard lk(mu);
        return closing;
    }
    // Stops accepting and ends every connection: each waiting receive sees end of stream.
    void close_all() {
        std::lock_guard lk(mu);
        if (closing) return;
        closing = true;
        ::shutdown(listen_fd, SHUT_RDWR);
        for (int fd : conns) ::shutdown(fd, SHUT_RDWR);
    }
    driver_tally& add(int fd) {
        std::lock_guard lk(mu);
        if (closing) ::shutdown(fd, SHUT_RDWR);
        conns.push_back(fd);
        return tallies.emplace_back();
    }
    void remove(int fd) {
        std::lock_guard lk(mu);
        conns.erase(std::find(conns.begin(), conns.end(), fd));
    }
    // True once the request limit is reached.
    bool note_served() {
        std::lock_guard lk(mu);
        return ++served == max_requests;
    }
};

// Keeps a connection in serve_state while it is open; removed before the descriptor closes,
// so close_all never shuts down a number the kernel has handed out again.
class serve_registration {
public:
    serve_registration(serve_state& st, int fd) : tally(st.add(fd)), st_(st), fd_(fd) {}
    serve_registration(const serve_registration&) = delete;
    serve_registration& operator=(const serve_registration&) = delete;
    ~serve_registration() { st_.remove(fd_); }

    driver_tally& tally;  // this connection's requests

private:
    serve_state& st_;
    int fd_;
};

// One request at a time per connection (no pipelining). A job is one request: its latency is
// the server's service time, from the complete request head to the response sent.
task<void> serve_conn(env& e, serve_state& st, attached_fd conn) {
    serve_registration reg(st, conn.get());
    std::string head;
    std::size_t head_end = 0;
    bool limit_reached = false;
    try {
        for (;;) {
            sub_record in, out;
            if (co_await recv_head(e, conn.get(), head, head_end, in) == 0) break;
            const std::uint64_t t0 = monotonic_ns();
            const std::string resp = http_response(std::string_view(head).substr(0, head_end));
            co_await send_all(e, conn.get(), resp.data(), resp.size(), out);
            reg.tally.latency_ns.push_back(monotonic_ns() - t0);
            ++reg.tally.completed;
            if (st.note_served()) {
                limit_reached = true;
                break;
            }
        }
    } catch (const std::system_error&) {
        // A client that resets its connection ends only that connection.
        std::lock_guard lk(st.mu);
        ++st.conn_errors;
    }
    if (limit_reached) st.close_all();
}

task<void> serve_acceptor(env& e, serve_state& st) {
    for (;;) {
        const io_result r = co_await async_accept(e.ctx, st.listen_fd);
        if (r.value < 0) {
            if (st.is_closing()) co_return;  // close_all shut the listener down
            check_io(r, 0, "accept");
        }
        const int fd = static_cast<int>(r.value);
        set_nodelay(fd);
        e.ctx.spawn(serve_conn(e, st, attached_fd(e.ctx.io(), fd)));
    }
}

// Ends the run at the deadline. It sleeps in slices so that a run ended early by the request
// limit does not wait for the whole duration.
task<void> serve_deadline(env& e, serve_state& st) {
    constexpr std::uint64_t slice_ns = 10'000'000;
    for (;;) {
        if (st.is_closing()) co_return;
        const std::uint64_t now = monotonic_ns();
        if (now >= e.control.deadline_ns) break;
        co_await sleep_for(e.ctx, std::min(e.control.deadline_ns - now, slice_ns));
    }
    st.close_all();
}

// Descriptors a run holds at once beyond its sockets: the standard streams, the reactor's own
// (epoll or io_uring, eventfd, timerfd), the recorder's file and what libraries open.
constexpr std::uint64_t base_descriptors = 64;

// Checks that the run's sockets fit RLIMIT_NOFILE before any is opened: a run that ran out of
// descriptors halfway would end with an error after setting up part of its work. The soft
// limit is raised as far as the hard limit allows when the run needs more than it.
void reserve_descriptors(const live_options& o, std::uint32_t concurrency) {
    std::uint64_t sockets = 0;
    std::string what;
    std::string lower = "--concurrency";
    const std::string c = "--concurrency " + std::to_string(concurrency);
    if (o.workload == "chain") {
        sockets = 2ull * concurrency;  // a socket pair per client
        what = c;
    } else if (o.workload == "fanout") {
        sockets = 2ull * concurrency * o.width;  // a socket pair per child of every client
        what = c + " with --width " + std::to_string(o.width);
        lower = "--concurrency or --width";
    } else if (!o.serve) {
        sockets = 2ull * concurrency + 1;  // both ends of every connection, the listener
        what = c;
    }
    const std::uint64_t need = sockets + base_descriptors;
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) sys_fail("getrlimit");
    if (need <= lim.rlim_cur) return;
    if (need > lim.rlim_max) {
        throw std::invalid_argument("run: " + what + " needs " + std::to_string(need) +
                                    " file descriptors, more than the limit of " +
                                    std::to_string(lim.rlim_max) +
                                    " (RLIMIT_NOFILE's hard limit); lower " + lower);
    }
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) sys_fail("setrlimit");
}

// Every client connection takes a local port of its own from the system's ephemeral range.
void check_local_ports(std::uint32_t concurrency) {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    std::uint32_t low = 0, high = 0;
    if (!(range >> low >> high) || high < low) return;  // unknown: connect reports it
    const std::uint32_t ports = high - low + 1;
    if (concurrency > ports) {
        throw std::invalid_argument("run: --concurrency " + std::to_string(concurrency) +
                                    " needs a local port per connection, more than the " +
                                    std::to_string(ports) + " of net.ipv4.ip_local_port_range");
    }
}

std::unique_ptr<reactor> make_reactor(const std::string& name) {
    if (name == "epoll") return make_epoll_reactor();
    if (name == "io_uring") return make_uring_reactor();
    throw std::invalid_argument("run: --reactor '" + name +
                                "' cannot run this workload (expected epoll or io_uring)");
}

}  // namespace

sim::run_result run_live(const live_options& o, serving_fn on_serving) {
    if (o.serve && o.workload != "http") {
        throw std::invalid_argument("run: --serve is for the http workload only");
    }
    if (o.port != 0 && o.workload != "http" && o.workload != "pingpong") {
        throw std::invalid_argument("run: --port is for the http and pingpong workloads only");
    }
    if (o.serve && !o.record.empty()) {
        throw std::invalid_argument(
            "run: --record needs the built-in load generator (it is not supported with --serve)");
    }
    if (!o.pcap.empty() && o.workload != "pipeline") {
        throw std::invalid_argument("run: --pcap is for the pipeline workload only (given with " +
                                    o.workload + ")");
    }
    if (o.workload == "pipeline") return run_dpdk_pipeline(o);
    const bool chain = o.workload == "chain";
    const bool fanout = o.workload == "fanout";
    const bool pingpong = o.workload == "pingpong";
    const bool http = o.workload == "http";
    if (!chain && !fanout && !pingpong && !http) {
        throw std::invalid_argument("run: unknown workload '" + o.workload +
                                    "' (expected chain, fanout, pingpong, http or pipeline)");
    }
    if (o.reactor == "dpdk") {
        throw std::invalid_argument("run: --reactor dpdk runs the pipeline workload only");
    }
    if (o.threads == 0 || o.depth == 0 || o.width == 0 || o.ops == 0 || o.message_bytes == 0) {
        throw std::invalid_argument(
            "run: --threads, --depth, --width, --ops and --bytes must be "
            "at least 1");
    }
    if (!(o.duration_s > 0)) throw std::invalid_argument("run: --duration must be positive");

    context_options copt;
    copt.threads = o.threads;
    copt.pump = pol::pump_spec::parse(o.pump);
    copt.frames = pol::frames_spec::parse(o.frames);
    const auto wa = pol::parse_when_all(o.when_all);
    const std::uint32_t concurrency = o.concurrency == 0 ? 2 * o.threads : o.concurrency;
    if ((pingpong || http) && !o.serve) check_local_ports(concurrency);
    reserve_descriptors(o, concurrency);

    io_context ctx(make_reactor(o.reactor), copt);
    std::unique_ptr<demand_recorder> rec;
    if (!o.record.empty()) rec = std::make_unique<demand_recorder>(o.workload);
    run_control control;
    env e{ctx, control, o, rec.get()};
    e.private_stash = wa == pol::when_all_frames::private_;

    std::deque<driver_tally> tallies(o.serve ? 0 : concurrency);
    serve_state serving;
    std::deque<conn_link> links(o.serve || chain || fanout ? 0 : concurrency);
    std::unique_ptr<attached_fd> listener;
    std::vector<loopback_conn> conns;
    // Connections are set up before the clock starts, so they take none of the duration.
    if (!o.serve && (pingpong || http)) {
        std::uint16_t port = o.port;
        const int listen_fd = listen_loopback(port, SOMAXCONN);
        try {
            for (std::uint32_t i = 0; i < concurrency; ++i) {
                conns.push_back(connect_loopback(listen_fd, port));
            }
        } catch (...) {
            for (const auto& c : conns) {
                ::close(c.client);
                ::close(c.server);
            }
            ::close(listen_fd);
            throw;
        }
        ::close(listen_fd);
    }
    control.start_ns = monotonic_ns();
    control.deadline_ns = control.start_ns + static_cast<std::uint64_t>(o.duration_s * 1e9);
    control.max_jobs = o.jobs;
    // Every task is created on a context thread (spawn with a maker), so its frame comes from
    // the run's resource and is counted with the rest.
    if (chain || fanout) {
        for (auto& t : tallies) ctx.spawn([&e, &t, fanout] { return local_driver(e, t, fanout); });
    } else if (o.serve) {
        std::uint16_t port = o.port;
        serving.listen_fd = listen_loopback(port, 1024);
        serving.max_requests = o.jobs;
        listener = std::make_unique<attached_fd>(ctx.io(), serving.listen_fd);
        ctx.spawn([&e, &serving] { return serve_acceptor(e, serving); });
        ctx.spawn([&e, &serving] { return serve_deadline(e, serving); });
        if (on_serving != nullptr) on_serving(port, o.duration_s);
    } else {
        for (std::uint32_t i = 0; i < concurrency; ++i) {
            ctx.spawn([&e, fd = conns[i].server, http, &l = links[i]] {
                return tcp_server_conn(e, fd, http, &l);
            });
            ctx.spawn([&e, &t = tallies[i], fd = conns[i].client, http, &l = links[i]] {
                return tcp_client(e, t, fd, http, l);
            });
        }
    }
    ctx.run();
    const std::uint64_t end_ns = monotonic_ns();
    listener.reset();

    live_tallies lt;
    for (const auto& t : o.serve ? serving.tallies : tallies) {
        lt.latency_ns.insert(lt.latency_ns.end(), t.latency_ns.begin(), t.latency_ns.end());
        lt.completed += t.completed;
    }
    lt.elapsed_ns = end_ns - control.start_ns;
    lt.child_global_trips = e.child_global_trips.load();
    lt.stash_arenas = e.stash_arenas.load();
    lt.stash_hits = e.stash_hits.load();
    lt.stash_overflows = e.stash_overflows.load();
    sim::run_result r = make_live_result(o, ctx, lt);
    if (o.serve) {
        r.source_stats.emplace_back("connections", serving.tallies.size());
        r.source_stats.emplace_back("connection_errors", serving.conn_errors);
    }
    if (pingpong || http) {
        r.source_stats.emplace_back("ready_ops_outside_jobs", e.ready_outside_jobs.load());
    }
    if (rec) {
        for (const auto& l : links) add_tcp_jobs(*rec, l);
        rec->write(o.record, {{"source", "schedlab-run"},
                              {"workload", o.workload},
                              {"reactor", o.reactor},
                              {"threads", std::to_string(o.threads)},
                              {"pump", o.pump},
                              {"frames", o.frames},
                              {"when_all", o.when_all}});
        r.source_stats.emplace_back("recorded_jobs", rec->jobs());
    }
    return r;
}

}  // namespace schedlab::runtime
