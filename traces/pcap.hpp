// Imports a packet capture (classic pcap or pcapng) as a workload: every frame becomes one job
// that passes through a pipeline of `stages` compute segments joined by channel hand-offs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "traces/trace.hpp"

namespace schedlab::traces {

struct pcap_options {
    std::uint32_t stages = 3;
    std::uint64_t base_compute_ns = 1000;
    std::uint64_t per_byte_compute_ps = 2000;  // picoseconds per byte of the original frame length
    std::uint32_t capacity = 64;
    std::uint32_t consumers = 1;
};

// Largest captured frame accepted; anything bigger is a corrupt length field, not a frame.
inline constexpr std::uint32_t max_capture_frame_bytes = 256 * 1024;
// Upper bound on pcap_options::stages, so that a program stays a reasonable size.
inline constexpr std::uint32_t max_capture_stages = 1024;

// True if the file starts with a pcap or pcapng magic number. Unreadable files are not
// captures (opening them then reports the error).
bool is_capture(const std::string& path);

// Frames arrive at their capture time relative to the first frame; a frame stamped earlier
// than the latest seen so far arrives at that latest time and is counted in stats(). Classes
// are 0 "tcp", 1 "udp", 2 "other". Channels are s1..s{stages-1}. Each distinct original frame
// length LEN gets one program `frame_LEN` whose segments each compute
// base_compute_ns + (per_byte_compute_ps * LEN + 500) / 1000 ns.
// Throws input_error (with a byte offset) for malformed captures and std::invalid_argument
// for bad options.
std::unique_ptr<job_source> open_capture(const std::string& path, const pcap_options& options = {});

}  // namespace schedlab::traces
