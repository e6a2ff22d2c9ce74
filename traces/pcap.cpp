#include "traces/pcap.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include "traces/file_buffer.hpp"
#include "traces/format.hpp"
#include "traces/program_store.hpp"
#include "traces/text_util.hpp"

namespace schedlab::traces {

namespace {

using detail::numbered;

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

constexpr unsigned char magic_pcap_us_le[4] = {0xd4, 0xc3, 0xb2, 0xa1};
constexpr unsigned char magic_pcap_us_be[4] = {0xa1, 0xb2, 0xc3, 0xd4};
constexpr unsigned char magic_pcap_ns_le[4] = {0x4d, 0x3c, 0xb2, 0xa1};
constexpr unsigned char magic_pcap_ns_be[4] = {0xa1, 0xb2, 0x3c, 0x4d};
constexpr unsigned char magic_pcapng[4] = {0x0a, 0x0d, 0x0d, 0x0a};

constexpr std::uint32_t block_shb = 0x0A0D0D0A;
constexpr std::uint32_t block_idb = 1;
constexpr std::uint32_t block_opb = 2;
constexpr std::uint32_t block_spb = 3;
constexpr std::uint32_t block_epb = 6;

// Blocks the importer parses are read whole; real ones are a few hundred bytes, and the
// bound stops a corrupt length from asking for gigabytes.
constexpr std::uint32_t max_parsed_block_bytes = max_capture_frame_bytes + (1U << 16);

constexpr std::uint32_t linktype_ethernet = 1;
constexpr std::uint32_t class_tcp = 0;
constexpr std::uint32_t class_udp = 1;
constexpr std::uint32_t class_other = 2;

bool starts_with(const unsigned char* data, const unsigned char (&magic)[4]) {
    return std::memcmp(data, magic, 4) == 0;
}

std::uint16_t be16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::string hex_bytes(const unsigned char* data, std::size_t count) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0xf];
    }
    return out;
}

std::string bytes_left(std::size_t count) {
    return std::to_string(count) + (count == 1 ? " byte" : " bytes") + " before end of file";
}

// Walks Ethernet, VLAN tags and the IP header far enough to name the transport. Anything the
// bytes do not show (truncated headers, non-IP payloads) is "other" rather than an error,
// because a capture is allowed to hold any traffic.
std::uint32_t classify_ethernet(const unsigned char* p, std::size_t n) {
    if (n < 14) {
        return class_other;
    }
    std::uint16_t type = be16(p + 12);
    std::size_t off = 14;
    for (int tags = 0; tags < 8 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); ++tags) {
        if (n < off + 4) {
            return class_other;
        }
        type = be16(p + off + 2);
        off += 4;
    }
    unsigned proto = 0;
    if (type == 0x0800) {
        if (n < off + 10 || (p[off] >> 4) != 4) {
            return class_other;
        }
        proto = p[off + 9];
    } else if (type == 0x86dd) {
        if (n < off + 7 || (p[off] >> 4) != 6) {
            return class_other;
        }
        proto = p[off + 6];
        off += 40;
        for (int hops = 0; hops < 8; ++hops) {
            std::size_t length = 0;
            if (proto == 0 || proto == 43 || proto == 60 || proto == 135) {
                length = n >= off + 2 ? (static_cast<std::size_t>(p[off + 1]) + 1) * 8 : 0;
            } else if (proto == 44) {
                length = 8;
            } else if (proto == 51) {
                length = n >= off + 2 ? (static_cast<std::size_t>(p[off + 1]) + 2) * 4 : 0;
            } else {
                break;
            }
            if (length == 0 || n < off + 1) {
                return class_other;
            }
            proto = p[off];
            off += length;
        }
    } else {
        return class_other;
    }
    if (proto == 6) {
        return class_tcp;
    }
    if (proto == 17) {
        return class_udp;
    }
    return class_other;
}

std::string basename_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class capture_source final : public job_source {
public:
    capture_source(const std::string& path, const pcap_options& options);

    const workload_header& header() const override { return header_; }
    std::optional<job> next() override;
    std::vector<std::pair<std::string, std::uint64_t>> stats() const override {
        return {{"frames", frames_},
                {"backwards_timestamps", backwards_},
                {"max_backwards_ns", max_backwards_ns_},
                {"frames_tcp", class_frames_[class_tcp]},
                {"frames_udp", class_frames_[class_udp]},
                {"frames_other", class_frames_[class_other]},
                {"named_programs", store_.size()}};
    }

private:
    enum class format { pcap_us, pcap_ns, pcapng };
    struct interface {
        std::uint32_t link_type = 0;
        std::uint32_t snaplen = 0;
        std::uint8_t tsresol = 6;
        std::int64_t tsoffset_s = 0;
    };
    struct frame {
        // Simple packet blocks carry no timestamp and leave this empty.
        std::optional<i128> time_ns;
        // Where the frame's record or block starts, for error messages.
        std::uint64_t offset = 0;
        std::uint32_t orig_len = 0;
        std::uint32_t link_type = 0;
        const unsigned char* data = nullptr;
        std::size_t captured = 0;
    };

    [[noreturn]] void fail(std::uint64_t byte, std::string field, std::string expected,
                           std::string got = {}) const {
        throw input_error(path_, "byte " + std::to_string(byte), std::move(field),
                          std::move(expected), std::move(got));
    }
    std::uint16_t u16(const unsigned char* p) const {
        return big_endian_ ? static_cast<std::uint16_t>((p[0] << 8) | p[1])
                           : static_cast<std::uint16_t>(p[0] | (p[1] << 8));
    }
    std::uint32_t u32(const unsigned char* p) const {
        const std::uint32_t b0 = p[0], b1 = p[1], b2 = p[2], b3 = p[3];
        return big_endian_ ? (b0 << 24) | (b1 << 16) | (b2 << 8) | b3
                           : b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    }

    void read_global_header();
    bool read_frame(frame& out);
    bool read_pcap_record(frame& out);
    bool read_pcapng_frame(frame& out);
    void parse_idb(const unsigned char* block, std::uint32_t length, std::uint64_t at);
    i128 pcapng_time_ns(const interface& iface, std::uint64_t units) const;
    job make_job(const frame& f);
    const std::shared_ptr<const program>& program_for(std::uint32_t orig_len);

    std::string path_;
    pcap_options options_;
    detail::file_buffer in_;
    workload_header header_;
    format format_ = format::pcap_us;
    bool big_endian_ = false;
    std::uint32_t link_type_ = 0;
    std::vector<interface> interfaces_;

    detail::program_store store_;
    std::unordered_map<std::uint32_t, std::shared_ptr<const program>> programs_;
    std::uint32_t last_len_ = 0;
    const std::shared_ptr<const program>* last_prog_ = nullptr;

    std::optional<job> pending_;
    bool have_origin_ = false;
    i128 origin_ns_ = 0;
    std::uint64_t latest_ns_ = 0;
    std::uint64_t frames_ = 0;
    std::uint64_t backwards_ = 0;
    std::uint64_t max_backwards_ns_ = 0;
    std::uint64_t class_frames_[3] = {0, 0, 0};
};

capture_source::capture_source(const std::string& path, const pcap_options& options)
    : path_(path), options_(options), in_(path, 1 << 18) {
    if (options_.stages < 1 || options_.stages > max_capture_stages) {
        throw std::invalid_argument("capture stages must be in 1..1024");
    }
    if (options_.capacity < 1 || options_.consumers < 1 ||
        options_.consumers > max_channel_consumers) {
        throw std::invalid_argument(
            "capture channel capacity must be at least 1 and consumers in 1..1024");
    }
    if (options_.base_compute_ns > max_duration_ns) {
        throw std::invalid_argument("capture base_compute_ns must be at most 10^15");
    }
    read_global_header();

    header_.classes = {{class_tcp, "tcp"}, {class_udp, "udp"}, {class_other, "other"}};
    for (std::uint32_t stage = 1; stage < options_.stages; ++stage) {
        header_.channels.push_back({numbered("s", stage), options_.capacity, options_.consumers});
    }

    // Reading the first frame now lets the header name the link types of a pcapng file,
    // which are only known once its interface blocks have been read.
    frame first;
    if (read_frame(first)) {
        pending_ = make_job(first);
    }

    header_.meta.emplace_back("source", basename_of(path_));
    const char* format_name = format_ == format::pcap_us   ? "pcap-us"
                              : format_ == format::pcap_ns ? "pcap-ns"
                                                           : "pcapng";
    header_.meta.emplace_back("format", format_name);
    std::string link_types;
    if (format_ == format::pcapng) {
        for (const auto& iface : interfaces_) {
            if (!link_types.empty()) {
                link_types += ',';
            }
            link_types += std::to_string(iface.link_type);
        }
    } else {
        link_types = std::to_string(link_type_);
    }
    header_.meta.emplace_back("link_type", link_types.empty() ? "none" : link_types);
    header_.meta.emplace_back("stages", std::to_string(options_.stages));
    header_.meta.emplace_back("base_compute_ns", std::to_string(options_.base_compute_ns));
    header_.meta.emplace_back("per_byte_compute_ps", std::to_string(options_.per_byte_compute_ps));
    header_.meta.emplace_back("capacity", std::to_string(options_.capacity));
    header_.meta.emplace_back("consumers", std::to_string(options_.consumers));
}

void capture_source::read_global_header() {
    if (!in_.ensure(4)) {
        fail(0, "magic", "a pcap or pcapng magic number", hex_bytes(in_.data(), in_.available()));
    }
    const unsigned char* p = in_.data();
    if (starts_with(p, magic_pcapng)) {
        // The section header block is read like any other block, so that later sections
        // (which may switch byte order) take the same path.
        format_ = format::pcapng;
        return;
    }
    if (starts_with(p, magic_pcap_us_le) || starts_with(p, magic_pcap_us_be)) {
        format_ = format::pcap_us;
    } else if (starts_with(p, magic_pcap_ns_le) || starts_with(p, magic_pcap_ns_be)) {
        format_ = format::pcap_ns;
    } else {
        fail(0, "magic", "a pcap or pcapng magic number", hex_bytes(p, 4));
    }
    big_endian_ = p[0] == 0xa1;
    if (!in_.ensure(24)) {
        fail(0, "global header", "a 24-byte pcap global header", bytes_left(in_.available()));
    }
    p = in_.data();
    // The upper bits of the link type field carry FCS information, not the link type.
    link_type_ = u32(p + 20) & 0xffff;
    in_.consume(24);
}

bool capture_source::read_frame(frame& out) {
    return format_ == format::pcapng ? read_pcapng_frame(out) : read_pcap_record(out);
}

bool capture_source::read_pcap_record(frame& out) {
    const std::uint64_t at = in_.offset();
    if (!in_.ensure(16)) {
        if (in_.available() == 0) {
            return false;
        }
        fail(at, "record header", "a 16-byte record header", bytes_left(in_.available()));
    }
    const unsigned char* p = in_.data();
    const std::uint32_t seconds = u32(p);
    const std::uint32_t fraction = u32(p + 4);
    const std::uint32_t incl_len = u32(p + 8);
    const std::uint32_t orig_len = u32(p + 12);
    if (incl_len > max_capture_frame_bytes) {
        fail(at + 8, "incl_len", "a captured length of at most 262144 bytes",
             std::to_string(incl_len));
    }
    if (!in_.ensure(16 + static_cast<std::size_t>(incl_len))) {
        fail(at + 16, "frame data", std::to_string(incl_len) + " bytes of frame data (incl_len)",
             bytes_left(in_.available() - 16));
    }
    p = in_.data();
    const i128 unit = format_ == format::pcap_us ? 1000 : 1;
    out.time_ns = static_cast<i128>(seconds) * 1'000'000'000 + static_cast<i128>(fraction) * unit;
    out.offset = at;
    out.orig_len = orig_len;
    out.link_type = link_type_;
    out.data = p + 16;
    out.captured = incl_len;
    in_.consume(16 + static_cast<std::size_t>(incl_len));
    return true;
}

i128 capture_source::pcapng_time_ns(const interface& iface, std::uint64_t units) const {
    const u128 value = units;
    u128 ns = 0;
    if ((iface.tsresol & 0x80) != 0) {
        // The resolution is 2^-exponent seconds.
        const unsigned exponent = iface.tsresol & 0x7f;
        ns = (value * 1'000'000'000U) >> exponent;
    } else {
        const unsigned exponent = iface.tsresol;
        if (exponent <= 9) {
            u128 scale = 1;
            for (unsigned i = exponent; i < 9; ++i) {
                scale *= 10;
            }
            ns = value * scale;
        } else {
            u128 divisor = 1;
            for (unsigned i = 9; i < exponent && divisor <= value; ++i) {
                divisor *= 10;
            }
            ns = value / divisor;
        }
    }
    return static_cast<i128>(ns) + static_cast<i128>(iface.tsoffset_s) * 1'000'000'000;
}

void capture_source::parse_idb(const unsigned char* block, std::uint32_t length, std::uint64_t at) {
    if (length < 20) {
        fail(at + 4, "block_total_length", "at least 20 for an interface description block",
             std::to_string(length));
    }
    interface iface;
    iface.link_type = u16(block + 8);
    iface.snaplen = u32(block + 12);
    // Options are optional metadata: a malformed list ends parsing instead of failing the
    // whole capture, and the defaults (microseconds, no offset) stay in force.
    std::size_t pos = 16;
    const std::size_t options_end = length - 4;
    while (pos + 4 <= options_end) {
        const std::uint16_t code = u16(block + pos);
        const std::uint16_t size = u16(block + pos + 2);
        if (code == 0 || pos + 4 + size > options_end) {
            break;
        }
        const unsigned char* value = block + pos + 4;
        if (code == 9 && size >= 1) {
            iface.tsresol = value[0];
        } else if (code == 14 && size == 8) {
            const std::uint64_t lo = u32(big_endian_ ? value + 4 : value);
            const std::uint64_t hi = u32(big_endian_ ? value : value + 4);
            iface.tsoffset_s = static_cast<std::int64_t>((hi << 32) | lo);
        }
        pos += 4 + ((static_cast<std::size_t>(size) + 3) & ~std::size_t{3});
    }
    interfaces_.push_back(iface);
}

bool capture_source::read_pcapng_frame(frame& out) {
    for (;;) {
        const std::uint64_t at = in_.offset();
        if (!in_.ensure(8)) {
            if (in_.available() == 0) {
                return false;
            }
            fail(at, "block header", "an 8-byte block header", bytes_left(in_.available()));
        }
        const unsigned char* p = in_.data();
        if (std::memcmp(p, magic_pcapng, 4) == 0) {
            if (!in_.ensure(12)) {
                fail(at, "section header", "a section header block with a byte-order magic",
                     bytes_left(in_.available()));
            }
            p = in_.data();
            if (p[8] == 0x1a && p[9] == 0x2b && p[10] == 0x3c && p[11] == 0x4d) {
                big_endian_ = true;
            } else if (p[8] == 0x4d && p[9] == 0x3c && p[10] == 0x2b && p[11] == 0x1a) {
                big_endian_ = false;
            } else {
                fail(at + 8, "byte_order_magic", "1a2b3c4d in either byte order",
                     hex_bytes(p + 8, 4));
            }
            // Interface ids are numbered per section.
            interfaces_.clear();
        }
        const std::uint32_t type = u32(p);
        const std::uint32_t length = u32(p + 4);
        const std::uint32_t minimum = type == block_shb ? 28 : 12;
        if (length % 4 != 0) {
            fail(at + 4, "block_total_length", "a multiple of 4", std::to_string(length));
        }
        if (length < minimum) {
            fail(at + 4, "block_total_length", "at least " + std::to_string(minimum),
                 std::to_string(length));
        }
        const bool parsed = type == block_shb || type == block_idb || type == block_epb ||
                            type == block_spb || type == block_opb;
        if (!parsed) {
            // Unknown blocks are skipped by their length without holding them in memory.
            in_.consume(8);
            const std::uint64_t body = length - 12;
            const std::uint64_t skipped = in_.skip(body);
            if (skipped < body || !in_.ensure(4)) {
                fail(at, "block", "a block of " + std::to_string(length) + " bytes",
                     bytes_left(static_cast<std::size_t>(8 + skipped + in_.available())));
            }
            const std::uint32_t trailing = u32(in_.data());
            if (trailing != length) {
                fail(at + length - 4, "block_total_length",
                     "the trailing length to repeat " + std::to_string(length),
                     std::to_string(trailing));
            }
            in_.consume(4);
            continue;
        }
        if (length > max_parsed_block_bytes) {
            fail(at + 4, "block_total_length",
                 "at most " + std::to_string(max_parsed_block_bytes) + " for this block type",
                 std::to_string(length));
        }
        if (!in_.ensure(length)) {
            fail(at, "block", "a block of " + std::to_string(length) + " bytes",
                 bytes_left(in_.available()));
        }
        p = in_.data();
        const std::uint32_t trailing = u32(p + length - 4);
        if (trailing != length) {
            fail(at + length - 4, "block_total_length",
                 "the trailing length to repeat " + std::to_string(length),
                 std::to_string(trailing));
        }
        bool got_frame = false;
        if (type == block_idb) {
            parse_idb(p, length, at);
        } else if (type == block_epb || type == block_opb) {
            if (length < 32) {
                fail(at + 4, "block_total_length", "at least 32 for a packet block",
                     std::to_string(length));
            }
            const std::uint32_t iface_id = type == block_epb ? u32(p + 8) : u16(p + 8);
            if (iface_id >= interfaces_.size()) {
                fail(at + 8, "interface_id", "an interface described earlier in the section",
                     std::to_string(iface_id));
            }
            const std::uint32_t captured = u32(p + 20);
            if (captured > max_capture_frame_bytes) {
                fail(at + 20, "captured_length", "a captured length of at most 262144 bytes",
                     std::to_string(captured));
            }
            if (captured > length - 32) {
                fail(at + 20, "captured_length",
                     "a captured length that fits in the block (at most " +
                         std::to_string(length - 32) + ")",
                     std::to_string(captured));
            }
            const interface& iface = interfaces_[iface_id];
            const std::uint64_t units =
                (static_cast<std::uint64_t>(u32(p + 12)) << 32) | u32(p + 16);
            out.time_ns = pcapng_time_ns(iface, units);
            out.orig_len = u32(p + 24);
            out.link_type = iface.link_type;
            out.data = p + 28;
            out.captured = captured;
            got_frame = true;
        } else if (type == block_spb) {
            if (length < 16) {
                fail(at + 4, "block_total_length", "at least 16 for a simple packet block",
                     std::to_string(length));
            }
            if (interfaces_.empty()) {
                fail(at, "interface_id",
                     "an interface description block before a simple packet block");
            }
            const interface& iface = interfaces_[0];
            out.time_ns.reset();
            out.orig_len = u32(p + 8);
            std::size_t captured = std::min<std::size_t>(out.orig_len, length - 16);
            if (iface.snaplen != 0) {
                captured = std::min<std::size_t>(captured, iface.snaplen);
            }
            out.link_type = iface.link_type;
            out.data = p + 12;
            out.captured = captured;
            got_frame = true;
        }
        // The view into the buffer stays valid until the next read, which is after the frame
        // has been turned into a job.
        in_.consume(length);
        if (got_frame) {
            out.offset = at;
            return true;
        }
    }
}

const std::shared_ptr<const program>& capture_source::program_for(std::uint32_t orig_len) {
    // Consecutive frames often share a length, so the last lookup is remembered.
    if (last_prog_ != nullptr && last_len_ == orig_len) {
        return *last_prog_;
    }
    auto found = programs_.find(orig_len);
    if (found == programs_.end()) {
        const u128 per_byte_ns =
            (static_cast<u128>(options_.per_byte_compute_ps) * orig_len + 500) / 1000;
        const u128 total_ns = per_byte_ns + options_.base_compute_ns;
        // A job's whole demand has the same bound as a trace's: the clock must not wrap.
        if (total_ns * options_.stages > max_job_demand_ns) {
            throw std::invalid_argument(
                "capture options ask for more than 10^15 ns of compute per frame (stages * "
                "(base_compute_ns + per_byte_compute_ps * length)); lower them");
        }
        const auto segment_ns = static_cast<std::uint64_t>(total_ns);
        program prog;
        prog.name = numbered("frame_", orig_len);
        prog.steps.reserve(2 * options_.stages - 1);
        for (std::uint32_t stage = 0; stage < options_.stages; ++stage) {
            if (stage > 0) {
                step send;
                send.kind = step_kind::send;
                send.channel = stage - 1;
                prog.steps.push_back(send);
            }
            step work;
            work.kind = step_kind::compute;
            work.duration_ns = segment_ns;
            prog.steps.push_back(work);
        }
        found = programs_.emplace(orig_len, store_.add(std::move(prog))).first;
    }
    last_len_ = orig_len;
    last_prog_ = &found->second;
    return found->second;
}

job capture_source::make_job(const frame& f) {
    ++frames_;
    const std::uint32_t class_id =
        f.link_type == linktype_ethernet ? classify_ethernet(f.data, f.captured) : class_other;
    ++class_frames_[class_id];

    job result;
    if (f.time_ns) {
        if (!have_origin_) {
            have_origin_ = true;
            // Arrivals are relative to the first timestamped frame; anything before it
            // (a simple packet block) arrived at 0.
            origin_ns_ = *f.time_ns - static_cast<i128>(latest_ns_);
        }
        const i128 relative_ns = *f.time_ns - origin_ns_;
        if (relative_ns > static_cast<i128>(max_arrival_ns)) {
            fail(f.offset, "timestamp", "a time within 2^62 ns of the first frame");
        }
        if (relative_ns < static_cast<i128>(latest_ns_)) {
            ++backwards_;
            const i128 gap_ns = static_cast<i128>(latest_ns_) - relative_ns;
            const auto clamped_gap_ns =
                gap_ns > static_cast<i128>(std::numeric_limits<std::uint64_t>::max())
                    ? std::numeric_limits<std::uint64_t>::max()
                    : static_cast<std::uint64_t>(gap_ns);
            max_backwards_ns_ = std::max(max_backwards_ns_, clamped_gap_ns);
        } else {
            latest_ns_ = static_cast<std::uint64_t>(relative_ns);
        }
    }
    result.arrival_ns = latest_ns_;
    result.class_id = class_id;
    result.prog = program_for(f.orig_len);
    return result;
}

std::optional<job> capture_source::next() {
    if (pending_) {
        std::optional<job> out = std::move(pending_);
        pending_.reset();
        return out;
    }
    frame f;
    if (!read_frame(f)) {
        return std::nullopt;
    }
    return make_job(f);
}

}  // namespace

bool is_capture(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    unsigned char head[4] = {0, 0, 0, 0};
    std::size_t have = 0;
    while (have < sizeof head) {
        const ssize_t got = ::read(fd, head + have, sizeof head - have);
        if (got <= 0) {
            break;
        }
        have += static_cast<std::size_t>(got);
    }
    ::close(fd);
    if (have < sizeof head) {
        return false;
    }
    return starts_with(head, magic_pcap_us_le) || starts_with(head, magic_pcap_us_be) ||
           starts_with(head, magic_pcap_ns_le) || starts_with(head, magic_pcap_ns_be) ||
           starts_with(head, magic_pcapng);
}

std::unique_ptr<job_source> open_capture(const std::string& path, const pcap_options& options) {
    return std::make_unique<capture_source>(path, options);
}

}  // namespace schedlab::traces
