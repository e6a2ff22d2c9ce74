// Ownership of the named programs a source defines. Internal to the traces library.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "traces/trace.hpp"

namespace schedlab::traces::detail {

// Named programs point at each other through raw `sub` pointers, so they must stay at fixed
// addresses and live as long as any job that can reach them. Every handle given out is an
// aliasing shared_ptr that owns the whole store: a job that outlives its source still sees
// valid sub-programs, and copying a handle costs one reference count, never an allocation.
class program_store {
public:
    program_store() : programs_(std::make_shared<std::deque<program>>()) {}

    std::shared_ptr<const program> add(program prog) {
        programs_->push_back(std::move(prog));
        return {programs_, &programs_->back()};
    }

    std::size_t size() const { return programs_->size(); }

    // An inline program is owned by its job but may call named programs, so it keeps the
    // store alive too. One allocation holds both the program and that reference.
    std::shared_ptr<const program> make_inline(std::vector<step> steps) const {
        auto holder = std::make_shared<inline_holder>();
        holder->prog.steps = std::move(steps);
        holder->keep = programs_;
        return {holder, &holder->prog};
    }

private:
    struct inline_holder {
        program prog;
        std::shared_ptr<const void> keep;
    };
    std::shared_ptr<std::deque<program>> programs_;
};

}  // namespace schedlab::traces::detail
