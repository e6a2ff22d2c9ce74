// A bounded multi-producer, multi-consumer channel between coroutines of one io_context, the
// joint between pipeline stages. A receive that finds a value, or a send that finds room or a
// waiting receiver, is an already-complete operation: it is awaited through the core's
// completed_operation<io_context>, so the running thread's pump decides whether the coroutine
// continues inline or is posted. Otherwise the coroutine waits in the
// channel and is posted when its partner arrives.
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/io_context.hpp"

namespace schedlab::runtime {

template <class T>
class channel {
    struct receiver {
        std::optional<T>* slot;
        std::coroutine_handle<> h;
    };
    struct sender {
        T* value;
        std::coroutine_handle<> h;
    };

public:
    channel(io_context& ctx, std::size_t capacity) : ctx_(ctx), capacity_(capacity) {}
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    // Yields the next value, or nullopt once the channel is closed and drained.
    class recv_awaitable {
    public:
        explicit recv_awaitable(channel& c) noexcept : c_(c), step_(c.ctx_) {}
        bool await_ready() {
            std::unique_lock lk(c_.mu_);
            if (!c_.take_locked(value_)) return false;
            lk.unlock();
            ready_ = true;
            return step_.await_ready();
        }
        bool await_suspend(std::coroutine_handle<> h) {
            if (ready_) {
                step_.await_suspend(h);
                return true;
            }
            std::unique_lock lk(c_.mu_);
            // Between await_ready and here a sender may have come: take its value now.
            if (c_.take_locked(value_)) return false;
            c_.receivers_.push_back({&value_, h});
            return true;
        }
        std::optional<T> await_resume() { return std::move(value_); }

    private:
        channel& c_;
        completed_operation<io_context> step_;
        std::optional<T> value_;
        bool ready_ = false;
    };

    class send_awaitable {
    public:
        send_awaitable(channel& c, T v) : c_(c), step_(c.ctx_), value_(std::move(v)) {}
        bool await_ready() {
            std::coroutine_handle<> woken;
            {
                std::lock_guard lk(c_.mu_);
                if (!c_.give_locked(value_, woken)) return false;
            }
            if (woken) c_.ctx_.post(woken);
            ready_ = true;
            return step_.await_ready();
        }
        bool await_suspend(std::coroutine_handle<> h) {
            if (ready_) {
                step_.await_suspend(h);
                return true;
            }
            std::coroutine_handle<> woken;
            std::unique_lock lk(c_.mu_);
            if (c_.give_locked(value_, woken)) {
                lk.unlock();
                if (woken) c_.ctx_.post(woken);
                return false;
            }
            c_.senders_.push_back({&value_, h});
            return true;
        }
        void await_resume() const noexcept {}

    private:
        channel& c_;
        completed_operation<io_context> step_;
        T value_;
        bool ready_ = false;
    };

    recv_awaitable receive() noexcept { return recv_awaitable(*this); }
    send_awaitable send(T v) { return send_awaitable(*this, std::move(v)); }

    // For a producer that is not a coroutine (a reactor turn): false when the channel is full.
    // A woken receiver is appended to `ready`.
    bool try_send(T& v, std::vector<std::coroutine_handle<>>& ready) {
        std::coroutine_handle<> woken;
        std::lock_guard lk(mu_);
        if (!give_locked(v, woken)) return false;
        if (woken) ready.push_back(woken);
        return true;
    }

    // Receivers still waiting get nullopt; values already queued are still delivered.
    void close(std::vector<std::coroutine_handle<>>& ready) {
        std::lock_guard lk(mu_);
        closed_ = true;
        for (auto& r : receivers_) ready.push_back(r.h);
        receivers_.clear();
    }
    void close() {
        std::vector<std::coroutine_handle<>> ready;
        close(ready);
        for (auto h : ready) ctx_.post(h);
    }

    std::size_t size() const {
        std::lock_guard lk(mu_);
        return items_.size();
    }

private:
    // A value for a receiver, or (closed and empty) the end. False: the receiver must wait.
    bool take_locked(std::optional<T>& out) {
        if (!items_.empty()) {
            out.emplace(std::move(items_.front()));
            items_.pop_front();
            if (!senders_.empty()) {
                // Room was made: the oldest blocked sender's value joins the queue.
                items_.push_back(std::move(*senders_.front().value));
                ctx_.post(senders_.front().h);
                senders_.pop_front();
            }
            return true;
        }
        return closed_;
    }

    // Hands `v` to a waiting receiver or queues it. False: the channel is full.
    bool give_locked(T& v, std::coroutine_handle<>& woken) {
        if (!receivers_.empty()) {
            receiver r = receivers_.front();
            receivers_.pop_front();
            r.slot->emplace(std::move(v));
            woken = r.h;
            return true;
        }
        if (items_.size() >= capacity_) return false;
        items_.push_back(std::move(v));
        return true;
    }

    io_context& ctx_;
    std::size_t capacity_;
    mutable std::mutex mu_;
    std::deque<T> items_;
    std::deque<receiver> receivers_;
    std::deque<sender> senders_;
    bool closed_ = false;
};

}  // namespace schedlab::runtime
