#include "traces/temp_cleanup.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>

namespace schedlab::traces {

namespace {

constexpr std::size_t slot_count = 256;
constexpr std::size_t max_path_bytes = 4096;

// A slot's path is written only while the slot is claimed and read by the handler only once
// it is armed, so the handler never reads a path being written. Paths live in static storage:
// the handler may run on any thread at any time, so nothing it reads may ever be freed.
enum slot_state : int { slot_free, slot_claimed, slot_armed };

struct slot {
    std::atomic<int> state{slot_free};
    bool directory = false;
    std::array<char, max_path_bytes> path{};
};

std::array<slot, slot_count> slots;

extern "C" void remove_temporaries(int signal_number) {
    // Only unlink, rmdir and raise, all async-signal-safe. Files go first so that the
    // directories holding them are empty. SA_RESETHAND has already restored the default action
    // and SA_NODEFER leaves the signal unblocked, so raise() ends the process as the signal
    // would have without this handler.
    for (const bool directories : {false, true}) {
        for (slot& s : slots) {
            if (s.state.load(std::memory_order_acquire) == slot_armed &&
                s.directory == directories) {
                if (directories) {
                    ::rmdir(s.path.data());
                } else {
                    ::unlink(s.path.data());
                }
            }
        }
    }
    ::raise(signal_number);
}

// Checked at every registration rather than once, so that a signal whose disposition was
// reset to the default since (a forked child, for one) is covered again.
void install_handlers() {
    static std::mutex installing;
    const std::lock_guard lock(installing);
    for (const int signal_number : {SIGINT, SIGTERM}) {
        struct sigaction current {};
        if (::sigaction(signal_number, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) {
            // An ignored signal (nohup, a background job) or a handler someone else installed
            // is left as it is.
            continue;
        }
        struct sigaction action {};
        action.sa_handler = remove_temporaries;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND | SA_NODEFER;
        ::sigaction(signal_number, &action, nullptr);
    }
}

}  // namespace

temp_cleanup::temp_cleanup(const std::string& path, kind what) noexcept {
    install_handlers();
    if (path.size() >= max_path_bytes) {
        return;
    }
    for (std::size_t i = 0; i < slot_count; ++i) {
        int expected = slot_free;
        if (slots[i].state.compare_exchange_strong(expected, slot_claimed,
                                                   std::memory_order_acq_rel)) {
            std::memcpy(slots[i].path.data(), path.c_str(), path.size() + 1);
            slots[i].directory = what == kind::directory;
            slots[i].state.store(slot_armed, std::memory_order_release);
            slot_ = static_cast<int>(i);
            return;
        }
    }
}

temp_cleanup& temp_cleanup::operator=(temp_cleanup&& other) noexcept {
    if (this != &other) {
        release();
        slot_ = other.slot_;
        other.slot_ = -1;
    }
    return *this;
}

void temp_cleanup::release() noexcept {
    if (slot_ >= 0) {
        slots[static_cast<std::size_t>(slot_)].state.store(slot_free, std::memory_order_release);
        slot_ = -1;
    }
}

}  // namespace schedlab::traces
