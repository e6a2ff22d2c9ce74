// The live runtime against Boost.Asio, in one process on one machine, doing identical work:
// a post chain, a chain of already-complete operations, when_all fan-out, loopback TCP
// ping-pong and HTTP/1.1 on loopback. Every figure is the median of several runs; ratios are
// Asio's time over ours (above 1: we are faster). Run by hand; see BENCHMARKS.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/version.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "policies/frame_stash.hpp"
#include "runtime/io_context.hpp"
#include "runtime/live_ops.hpp"
#include "runtime/when_all.hpp"

namespace asio = boost::asio;
namespace rt = schedlab::runtime;
namespace pol = schedlab::policies;
using rt::task;

namespace {

int repeats = 5;

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Median over `repeats` runs of fn(), which returns seconds for `ops` operations: ns per op.
double median_ns(std::uint64_t ops, const std::function<double()>& fn) {
    std::vector<double> v;
    for (int i = 0; i < repeats; ++i) v.push_back(fn() * 1e9 / static_cast<double>(ops));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

rt::context_options one_thread(const char* pump) {
    rt::context_options o;
    o.threads = 1;
    o.pump = pol::pump_spec::parse(pump);
    return o;
}

// --- post chain: every step goes through the run queue ------------------------------------

struct post_self {
    rt::io_context& ctx;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { ctx.post(h); }
    void await_resume() const noexcept {}
};

task<void> post_chain(rt::io_context& ctx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) co_await post_self{ctx};
}

double ours_post_chain(std::uint64_t n) {
    rt::io_context ctx(rt::make_epoll_reactor(), one_thread("disabled"));
    ctx.spawn(post_chain(ctx, n));
    const double t0 = now_s();
    ctx.run();
    return now_s() - t0;
}

// A 16-byte handler that posts a copy of itself. Asio recycles the memory of a small handler's
// operation, so no step allocates; a std::function that refers to itself would be copied into
// every post and allocate once per step, which is a cost of the benchmark, not of Asio.
struct asio_post_step {
    asio::io_context* io;
    std::uint64_t* left;
    void operator()() const {
        if (--*left > 0) asio::post(*io, *this);
    }
};

double asio_cb_post_chain(std::uint64_t n) {
    asio::io_context io(1);
    std::uint64_t left = n;
    asio::post(io, asio_post_step{&io, &left});
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

asio::awaitable<void> asio_aw_chain(std::uint64_t n) {
    auto ex = co_await asio::this_coro::executor;
    for (std::uint64_t i = 0; i < n; ++i) co_await asio::post(ex, asio::use_awaitable);
}

double asio_aw_post_chain(std::uint64_t n) {
    asio::io_context io(1);
    asio::co_spawn(io, asio_aw_chain(n), asio::detached);
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

// --- a chain of already-complete operations: the pump's case ------------------------------
// Ours: a zero timer, complete when awaited, so the pump may resume inline. Asio's contract
// is that a completion handler never runs inside the initiating call, so an operation that is
// already complete is posted: asio::post is exactly that path.

task<void> ready_chain(rt::io_context& ctx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) co_await rt::sleep_for(ctx, 0);
}

double ours_ready_chain(std::uint64_t n, const char* pump) {
    rt::io_context ctx(rt::make_epoll_reactor(), one_thread(pump));
    ctx.spawn(ready_chain(ctx, n));
    const double t0 = now_s();
    ctx.run();
    return now_s() - t0;
}

// The same with a real socket: one byte already waiting in a socket pair, read by the
// speculative recv (ours) or async_read_some (Asio, which also tries the call first).
task<void> ready_recv_chain(rt::io_context& ctx, int wfd, int rfd, std::uint64_t n) {
    char c = 'x';
    for (std::uint64_t i = 0; i < n; ++i) {
        co_await rt::async_send(ctx, wfd, &c, 1);
        co_await rt::async_recv(ctx, rfd, &c, 1);
    }
}

double ours_ready_recv(std::uint64_t n, const char* pump) {
    rt::io_context ctx(rt::make_epoll_reactor(), one_thread(pump));
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        throw std::runtime_error("sp");
    ctx.io().attach(fds[0]);
    ctx.io().attach(fds[1]);
    ctx.spawn(ready_recv_chain(ctx, fds[0], fds[1], n));
    const double t0 = now_s();
    ctx.run();
    const double t = now_s() - t0;
    ctx.io().detach(fds[0]);
    ctx.io().detach(fds[1]);
    ::close(fds[0]);
    ::close(fds[1]);
    return t;
}

asio::awaitable<void> asio_ready_recv_chain(asio::local::stream_protocol::socket& w,
                                            asio::local::stream_protocol::socket& r,
                                            std::uint64_t n) {
    char c = 'x';
    for (std::uint64_t i = 0; i < n; ++i) {
        co_await w.async_write_some(asio::buffer(&c, 1), asio::use_awaitable);
        co_await r.async_read_some(asio::buffer(&c, 1), asio::use_awaitable);
    }
}

double asio_aw_ready_recv(std::uint64_t n) {
    asio::io_context io(1);
    asio::local::stream_protocol::socket a(io), b(io);
    asio::local::connect_pair(a, b);
    asio::co_spawn(io, asio_ready_recv_chain(a, b, n), asio::detached);
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

double asio_cb_ready_recv(std::uint64_t n) {
    asio::io_context io(1);
    asio::local::stream_protocol::socket a(io), b(io);
    asio::local::connect_pair(a, b);
    char c = 'x';
    std::uint64_t left = n;
    std::function<void()> step;
    step = [&] {
        a.async_write_some(asio::buffer(&c, 1), [&](boost::system::error_code, std::size_t) {
            b.async_read_some(asio::buffer(&c, 1), [&](boost::system::error_code, std::size_t) {
                if (--left > 0) step();
            });
        });
    };
    step();
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

// --- when_all fan-out --------------------------------------------------------------------

task<void> child() {
    co_return;
}

std::uint64_t fanout_global_trips = 0;

task<void> fanouts(std::uint32_t width, std::uint64_t rounds, bool private_stash) {
    auto& cache = rt::thread_cache_seam{}.current();
    for (std::uint64_t r = 0; r < rounds; ++r) {
        std::vector<task<void>> kids;
        kids.reserve(width);
        const std::uint64_t before = cache.counters.global_trips;
        if (private_stash) {
            pol::frame_stash stash(width, rt::current_frame_resource());
            auto launch = rt::when_all(stash);
            for (std::uint32_t i = 0; i < width; ++i) kids.push_back(child());
            fanout_global_trips += cache.counters.global_trips - before;
            co_await launch(std::move(kids));
        } else {
            for (std::uint32_t i = 0; i < width; ++i) kids.push_back(child());
            fanout_global_trips += cache.counters.global_trips - before;
            co_await rt::when_all(std::move(kids));
        }
    }
}

double ours_fanout(std::uint32_t width, std::uint64_t rounds, bool private_stash) {
    rt::io_context ctx(rt::make_epoll_reactor(), one_thread("disabled"));
    ctx.spawn(fanouts(width, rounds, private_stash));
    const double t0 = now_s();
    ctx.run();
    return now_s() - t0;
}

double asio_cb_fanout(std::uint32_t width, std::uint64_t rounds) {
    asio::io_context io(1);
    std::uint64_t left_rounds = rounds;
    std::uint32_t pending = 0;
    std::function<void()> round;
    round = [&] {
        pending = width;
        for (std::uint32_t i = 0; i < width; ++i) {
            asio::post(io, [&] {
                if (--pending == 0 && --left_rounds > 0) round();
            });
        }
    };
    asio::post(io, round);
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

asio::awaitable<void> asio_child() {
    co_return;
}

asio::awaitable<void> asio_fanouts(std::uint32_t width, std::uint64_t rounds) {
    auto ex = co_await asio::this_coro::executor;
    using op_type = decltype(asio::co_spawn(ex, asio_child(), asio::deferred));
    for (std::uint64_t r = 0; r < rounds; ++r) {
        std::vector<op_type> ops;
        ops.reserve(width);
        for (std::uint32_t i = 0; i < width; ++i) {
            ops.push_back(asio::co_spawn(ex, asio_child(), asio::deferred));
        }
        co_await asio::experimental::make_parallel_group(std::move(ops))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    }
}

double asio_aw_fanout(std::uint32_t width, std::uint64_t rounds) {
    asio::io_context io(1);
    asio::co_spawn(io, asio_fanouts(width, rounds), asio::detached);
    const double t0 = now_s();
    io.run();
    return now_s() - t0;
}

// --- loopback TCP ping-pong and HTTP ------------------------------------------------------

struct tcp_pair {
    int server = -1, client = -1;
};

// A connected loopback TCP pair (127.0.0.1 only), Nagle off on both ends.
tcp_pair loopback_tcp() {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l, 1) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error("loopback listen failed");
    }
    tcp_pair p;
    p.client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(p.client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("loopback connect failed");
    }
    p.server = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(l);
    const int one = 1;
    ::setsockopt(p.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(p.server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return p;
}

constexpr std::size_t ping_bytes = 64;

struct latency_result {
    double p50_ns = 0, p99_ns = 0, mean_ns = 0;
};

latency_result summarize(std::vector<std::uint64_t>& v) {
    std::sort(v.begin(), v.end());
    latency_result r;
    r.p50_ns = static_cast<double>(v[v.size() / 2]);
    r.p99_ns = static_cast<double>(v[v.size() * 99 / 100]);
    double sum = 0;
    for (auto x : v) sum += static_cast<double>(x);
    r.mean_ns = sum / static_cast<double>(v.size());
    return r;
}

task<std::size_t> recv_n(rt::io_context& ctx, int fd, char* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        const auto r = co_await rt::async_recv(ctx, fd, buf + got, n - got);
        if (r.value <= 0) break;
        got += static_cast<std::size_t>(r.value);
    }
    co_return got;
}

task<void> send_n(rt::io_context& ctx, int fd, const char* buf, std::size_t n) {
    std::size_t sent = 0;
    while (sent < n) {
        const auto r = co_await rt::async_send(ctx, fd, buf + sent, n - sent);
        if (r.value <= 0) throw std::runtime_error("send failed");
        sent += static_cast<std::size_t>(r.value);
    }
}

task<void> ours_echo(rt::io_context& ctx, int fd) {
    char buf[ping_bytes];
    while (co_await recv_n(ctx, fd, buf, ping_bytes) == ping_bytes) {
        co_await send_n(ctx, fd, buf, ping_bytes);
    }
}

task<void> ours_pinger(rt::io_context& ctx, int fd, std::uint64_t rounds,
                       std::vector<std::uint64_t>& lat) {
    char buf[ping_bytes] = {};
    for (std::uint64_t i = 0; i < rounds; ++i) {
        const std::uint64_t t0 = rt::monotonic_ns();
        co_await send_n(ctx, fd, buf, ping_bytes);
        co_await recv_n(ctx, fd, buf, ping_bytes);
        lat.push_back(rt::monotonic_ns() - t0);
    }
    ::shutdown(fd, SHUT_WR);
}

latency_result ours_pingpong(const char* reactor, std::uint64_t rounds) {
    auto r = std::string(reactor) == "epoll" ? rt::make_epoll_reactor() : rt::make_uring_reactor();
    rt::io_context ctx(std::move(r), one_thread("adaptive"));
    tcp_pair p = loopback_tcp();
    ctx.io().attach(p.server);
    ctx.io().attach(p.client);
    std::vector<std::uint64_t> lat;
    lat.reserve(rounds);
    ctx.spawn(ours_echo(ctx, p.server));
    ctx.spawn(ours_pinger(ctx, p.client, rounds, lat));
    ctx.run();
    ctx.io().detach(p.server);
    ctx.io().detach(p.client);
    ::close(p.server);
    ::close(p.client);
    return summarize(lat);
}

asio::awaitable<void> asio_echo(asio::ip::tcp::socket& s) {
    char buf[ping_bytes];
    for (;;) {
        auto [ec, n] =
            co_await asio::async_read(s, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        co_await asio::async_write(s, asio::buffer(buf, n), asio::use_awaitable);
    }
}

asio::awaitable<void> asio_pinger(asio::ip::tcp::socket& s, std::uint64_t rounds,
                                  std::vector<std::uint64_t>& lat) {
    char buf[ping_bytes] = {};
    for (std::uint64_t i = 0; i < rounds; ++i) {
        const std::uint64_t t0 = rt::monotonic_ns();
        co_await asio::async_write(s, asio::buffer(buf), asio::use_awaitable);
        co_await asio::async_read(s, asio::buffer(buf), asio::use_awaitable);
        lat.push_back(rt::monotonic_ns() - t0);
    }
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
}

latency_result asio_aw_pingpong(std::uint64_t rounds) {
    asio::io_context io(1);
    tcp_pair p = loopback_tcp();
    asio::ip::tcp::socket server(io, asio::ip::tcp::v4(), p.server);
    asio::ip::tcp::socket client(io, asio::ip::tcp::v4(), p.client);
    std::vector<std::uint64_t> lat;
    lat.reserve(rounds);
    asio::co_spawn(io, asio_echo(server), asio::detached);
    asio::co_spawn(io, asio_pinger(client, rounds, lat), asio::detached);
    io.run();
    return summarize(lat);
}

latency_result asio_cb_pingpong(std::uint64_t rounds) {
    asio::io_context io(1);
    tcp_pair p = loopback_tcp();
    asio::ip::tcp::socket server(io, asio::ip::tcp::v4(), p.server);
    asio::ip::tcp::socket client(io, asio::ip::tcp::v4(), p.client);
    std::vector<std::uint64_t> lat;
    lat.reserve(rounds);
    char sbuf[ping_bytes], cbuf[ping_bytes] = {};
    std::function<void()> serve = [&] {
        asio::async_read(
            server, asio::buffer(sbuf), [&](boost::system::error_code ec, std::size_t) {
                if (ec) return;
                asio::async_write(server, asio::buffer(sbuf),
                                  [&](boost::system::error_code, std::size_t) { serve(); });
            });
    };
    std::uint64_t left = rounds;
    std::uint64_t t0 = 0;
    std::function<void()> ping = [&] {
        t0 = rt::monotonic_ns();
        asio::async_write(client, asio::buffer(cbuf), [&](boost::system::error_code, std::size_t) {
            asio::async_read(client, asio::buffer(cbuf),
                             [&](boost::system::error_code, std::size_t) {
                                 lat.push_back(rt::monotonic_ns() - t0);
                                 if (--left > 0) {
                                     ping();
                                 } else {
                                     client.shutdown(asio::ip::tcp::socket::shutdown_send);
                                 }
                             });
        });
    };
    serve();
    ping();
    io.run();
    return summarize(lat);
}

// HTTP/1.1 keep-alive on loopback: a fixed GET, a 200 with a 1024-byte body.
constexpr std::string_view http_request = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const std::string http_response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    "Content-Length: 1024\r\n\r\n" +
    std::string(1024, 'a');

task<bool> ours_read_head(rt::io_context& ctx, int fd, std::string& buf, std::size_t& end) {
    buf.clear();
    char chunk[2048];
    for (;;) {
        const auto r = co_await rt::async_recv(ctx, fd, chunk, sizeof chunk);
        if (r.value <= 0) co_return false;
        buf.append(chunk, static_cast<std::size_t>(r.value));
        end = buf.find("\r\n\r\n");
        if (end != std::string::npos) {
            end += 4;
            co_return true;
        }
    }
}

task<void> ours_http_server(rt::io_context& ctx, int fd) {
    std::string buf;
    std::size_t end = 0;
    while (co_await ours_read_head(ctx, fd, buf, end)) {
        co_await send_n(ctx, fd, http_response.data(), http_response.size());
    }
}

std::size_t content_length(const std::string& head) {
    const auto pos = head.find("Content-Length: ");
    if (pos == std::string::npos) throw std::runtime_error("no Content-Length");
    return std::stoul(head.substr(pos + 16));
}

task<void> ours_http_client(rt::io_context& ctx, int fd, std::uint64_t rounds,
                            std::vector<std::uint64_t>& lat) {
    std::string buf;
    std::vector<char> body(4096);
    for (std::uint64_t i = 0; i < rounds; ++i) {
        const std::uint64_t t0 = rt::monotonic_ns();
        co_await send_n(ctx, fd, http_request.data(), http_request.size());
        std::size_t end = 0;
        if (!co_await ours_read_head(ctx, fd, buf, end)) throw std::runtime_error("closed");
        const std::size_t want = content_length(buf) - (buf.size() - end);
        co_await recv_n(ctx, fd, body.data(), want);
        lat.push_back(rt::monotonic_ns() - t0);
    }
    ::shutdown(fd, SHUT_WR);
}

latency_result ours_http(std::uint64_t rounds) {
    rt::io_context ctx(rt::make_epoll_reactor(), one_thread("adaptive"));
    tcp_pair p = loopback_tcp();
    ctx.io().attach(p.server);
    ctx.io().attach(p.client);
    std::vector<std::uint64_t> lat;
    ctx.spawn(ours_http_server(ctx, p.server));
    ctx.spawn(ours_http_client(ctx, p.client, rounds, lat));
    ctx.run();
    ctx.io().detach(p.server);
    ctx.io().detach(p.client);
    ::close(p.server);
    ::close(p.client);
    return summarize(lat);
}

asio::awaitable<void> asio_http_server(asio::ip::tcp::socket& s) {
    std::string buf;
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n",
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        buf.erase(0, n);
        co_await asio::async_write(s, asio::buffer(http_response), asio::use_awaitable);
    }
}

asio::awaitable<void> asio_http_client(asio::ip::tcp::socket& s, std::uint64_t rounds,
                                       std::vector<std::uint64_t>& lat) {
    std::string buf;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        const std::uint64_t t0 = rt::monotonic_ns();
        co_await asio::async_write(s, asio::buffer(http_request), asio::use_awaitable);
        const std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf),
                                                              "\r\n\r\n", asio::use_awaitable);
        const std::size_t body = content_length(buf.substr(0, n));
        if (buf.size() - n < body) {
            co_await asio::async_read(s, asio::dynamic_buffer(buf),
                                      asio::transfer_exactly(body - (buf.size() - n)),
                                      asio::use_awaitable);
        }
        buf.clear();
        lat.push_back(rt::monotonic_ns() - t0);
    }
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
}

latency_result asio_aw_http(std::uint64_t rounds) {
    asio::io_context io(1);
    tcp_pair p = loopback_tcp();
    asio::ip::tcp::socket server(io, asio::ip::tcp::v4(), p.server);
    asio::ip::tcp::socket client(io, asio::ip::tcp::v4(), p.client);
    std::vector<std::uint64_t> lat;
    asio::co_spawn(io, asio_http_server(server), asio::detached);
    asio::co_spawn(io, asio_http_client(client, rounds, lat), asio::detached);
    io.run();
    return summarize(lat);
}

// Median of `repeats` latency runs, by p99.
template <class F>
latency_result median_latency(F fn) {
    std::vector<latency_result> v;
    for (int i = 0; i < repeats; ++i) v.push_back(fn());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.p99_ns < b.p99_ns; });
    return v[v.size() / 2];
}

void row(const char* name, double ours, double asio_cb, double asio_aw) {
    std::printf("%-34s %10.1f %10.1f %10.1f %8.2fx %8.2fx\n", name, ours, asio_cb, asio_aw,
                asio_cb / ours, asio_aw / ours);
}

void lat_row(const char* name, const latency_result& ours, const latency_result& cb,
             const latency_result& aw) {
    std::printf(
        "%-34s p50 %8.0f %8.0f %8.0f  %6.2fx %6.2fx | p99 %8.0f %8.0f %8.0f  %6.2fx "
        "%6.2fx\n",
        name, ours.p50_ns, cb.p50_ns, aw.p50_ns, cb.p50_ns / ours.p50_ns, aw.p50_ns / ours.p50_ns,
        ours.p99_ns, cb.p99_ns, aw.p99_ns, cb.p99_ns / ours.p99_ns, aw.p99_ns / ours.p99_ns);
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t scale = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            repeats = 3;
            scale = 10;
        }
    }
    const std::uint64_t n = 2'000'000 / scale;
    std::printf(
        "schedlab live runtime vs Boost %s (Asio %d.%d.%d), one thread each, median of "
        "%d\n",
        BOOST_LIB_VERSION, BOOST_ASIO_VERSION / 100000, BOOST_ASIO_VERSION / 100 % 1000,
        BOOST_ASIO_VERSION % 100, repeats);
    std::printf("%-34s %10s %10s %10s %9s %9s\n", "ns per operation", "schedlab", "asio-cb",
                "asio-coro", "cb/ours", "coro/ours");
    row("post chain (queued resume)", median_ns(n, [&] { return ours_post_chain(n); }),
        median_ns(n, [&] { return asio_cb_post_chain(n); }),
        median_ns(n, [&] { return asio_aw_post_chain(n); }));
    const double asio_cb_post = median_ns(n, [&] { return asio_cb_post_chain(n); });
    const double asio_aw_post = median_ns(n, [&] { return asio_aw_post_chain(n); });
    row("complete-op chain, pump adaptive",
        median_ns(n, [&] { return ours_ready_chain(n, "adaptive"); }), asio_cb_post, asio_aw_post);
    row("complete-op chain, pump fixed:64",
        median_ns(n, [&] { return ours_ready_chain(n, "fixed:64"); }), asio_cb_post, asio_aw_post);
    row("complete-op chain, pump disabled",
        median_ns(n, [&] { return ours_ready_chain(n, "disabled"); }), asio_cb_post, asio_aw_post);
    const std::uint64_t m = 200'000 / scale;
    row("ready socket send+recv, adaptive",
        median_ns(m, [&] { return ours_ready_recv(m, "adaptive"); }),
        median_ns(m, [&] { return asio_cb_ready_recv(m); }),
        median_ns(m, [&] { return asio_aw_ready_recv(m); }));
    row("ready socket send+recv, disabled",
        median_ns(m, [&] { return ours_ready_recv(m, "disabled"); }),
        median_ns(m, [&] { return asio_cb_ready_recv(m); }),
        median_ns(m, [&] { return asio_aw_ready_recv(m); }));

    std::printf("\n%-34s %10s %10s %10s %9s %9s\n", "when_all fan-out, ns per child", "schedlab",
                "asio-cb", "asio-coro", "cb/ours", "coro/ours");
    for (std::uint32_t width : {1u, 4u, 16u, 64u}) {
        const std::uint64_t rounds = std::max<std::uint64_t>(1, 1'000'000 / scale / width);
        const std::uint64_t kids = rounds * width;
        char name[64];
        std::snprintf(name, sizeof name, "width %u, shared frames", width);
        row(name, median_ns(kids, [&] { return ours_fanout(width, rounds, false); }),
            median_ns(kids, [&] { return asio_cb_fanout(width, rounds); }),
            median_ns(kids, [&] { return asio_aw_fanout(width, rounds); }));
        fanout_global_trips = 0;
        const double priv = median_ns(kids, [&] { return ours_fanout(width, rounds, true); });
        const std::uint64_t trips = fanout_global_trips;
        std::snprintf(name, sizeof name, "width %u, private stash", width);
        row(name, priv, median_ns(kids, [&] { return asio_cb_fanout(width, rounds); }),
            median_ns(kids, [&] { return asio_aw_fanout(width, rounds); }));
        std::printf("%-34s %llu global-pool trips while creating children over %d runs\n", "",
                    static_cast<unsigned long long>(trips), repeats);
    }

    const std::uint64_t rounds = 20'000 / scale;
    std::printf(
        "\nloopback TCP, ns per round trip: schedlab, asio-cb, asio-coro, then asio/ours\n");
    lat_row("ping-pong 64 B, epoll", median_latency([&] { return ours_pingpong("epoll", rounds); }),
            median_latency([&] { return asio_cb_pingpong(rounds); }),
            median_latency([&] { return asio_aw_pingpong(rounds); }));
    lat_row("ping-pong 64 B, io_uring",
            median_latency([&] { return ours_pingpong("io_uring", rounds); }),
            median_latency([&] { return asio_cb_pingpong(rounds); }),
            median_latency([&] { return asio_aw_pingpong(rounds); }));
    const auto aw_http = median_latency([&] { return asio_aw_http(rounds); });
    lat_row("http GET 1 KiB, epoll (cb: coro)", median_latency([&] { return ours_http(rounds); }),
            aw_http, aw_http);
    return 0;
}
