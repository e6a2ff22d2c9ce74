// Chrome Trace Event Format recordings (the JSON of chrome://tracing and Perfetto) as
// workloads. Mapping, and what it cannot carry:
//   - Every recorded thread (pid, tid) becomes a pipeline stage: a channel `pPID-tTID` with one
//     consumer, because a Chrome thread runs one task at a time.
//   - A top-level slice (B/E pair or X event; nested slices are part of their parent's time)
//     becomes a compute step of its duration on its thread's stage.
//   - A flow (s, then the next f with the same category, name and id; t steps are skipped)
//     from the slice enclosing the s to the slice the f binds to (the enclosing one with
//     "bp":"e", otherwise the next one to begin on that thread) links two slices into one job.
//     A job is a chain of linked slices: send to the first slice's stage, compute, then for
//     each link either yield (same thread: back through that thread's queue) or send to the
//     next thread's stage, then compute.
//   - A slice's first outgoing flow continues its job; a further flow from the same slice
//     starts a new job at the target slice (the model has no general fork). A slice reached by
//     several flows keeps the first; the others are dropped and counted.
//   - The job arrives when its first slice began, relative to the earliest slice. The time
//     between a post and its run is schedule, not demand, and is not kept; neither are timer
//     delays, I/O, async (b/e) slices, instants and counters, which the format does not tie to
//     demand. Slices left open at the end of the recording are dropped and counted.
//   - Each job's class is the thread its first slice ran on.
#pragma once

#include <memory>
#include <string>

#include "traces/trace.hpp"

namespace schedlab::traces {

// Reads the whole file (a {"traceEvents": [...]} object or a bare array of events). Throws
// input_error naming the file, the event's index and the field for bad input.
std::unique_ptr<job_source> import_chrome_trace(const std::string& path);

}  // namespace schedlab::traces
