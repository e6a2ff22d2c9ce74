// A single-threaded FIFO executor for the core's unit tests: work is posted to a queue and
// run when the test drains it, so the order of events is the test's to see.
#pragma once

#include <coroutine>
#include <deque>

#include "runtime/executor.hpp"

namespace schedlab::runtime::testing {

class fifo_executor final : public executor {
public:
    fifo_executor() { set_current_executor(this); }
    fifo_executor(const fifo_executor&) = delete;
    fifo_executor& operator=(const fifo_executor&) = delete;
    ~fifo_executor() { set_current_executor(nullptr); }

    void post(std::coroutine_handle<> h) noexcept override { queue_.push_back(h); }

    // Runs queued work until none is left; returns how many items ran.
    int drain() {
        int ran = 0;
        while (!queue_.empty()) {
            auto h = queue_.front();
            queue_.pop_front();
            h.resume();
            ++ran;
        }
        return ran;
    }

private:
    std::deque<std::coroutine_handle<>> queue_;
};

}  // namespace schedlab::runtime::testing
