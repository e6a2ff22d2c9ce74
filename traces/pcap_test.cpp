#include "traces/pcap.hpp"

#include <catch2/catch.hpp>
#include <cstring>

#include "traces/format.hpp"
#include "traces/random.hpp"
#include "traces/test_util.hpp"

using namespace schedlab::traces;
using namespace schedlab::traces::test;
using Catch::Matchers::Contains;

namespace {

const std::string data_dir = SCHEDLAB_DATA_DIR;

// Little byte writer for synthetic captures in either byte order.
class bytes {
public:
    explicit bytes(bool big_endian = false) : big_(big_endian) {}

    bytes& u8(std::uint8_t v) {
        out_ += static_cast<char>(v);
        return *this;
    }
    bytes& u16(std::uint16_t v) { return big_ ? u8(v >> 8).u8(v & 0xff) : u8(v & 0xff).u8(v >> 8); }
    bytes& u32(std::uint32_t v) {
        return big_ ? u16(v >> 16).u16(v & 0xffff) : u16(v & 0xffff).u16(v >> 16);
    }
    bytes& raw(const std::string& data) {
        out_ += data;
        return *this;
    }
    bytes& pad4() {
        while (out_.size() % 4 != 0) {
            u8(0);
        }
        return *this;
    }
    const std::string& str() const { return out_; }
    std::size_t size() const { return out_.size(); }

private:
    bool big_;
    std::string out_;
};

std::string be16(std::uint16_t v) {
    return bytes(true).u16(v).str();
}

// An Ethernet frame of `length` bytes (zero padded) carrying `ethertype` and `payload`.
std::string ethernet(std::uint16_t ethertype, const std::string& payload, std::size_t length) {
    std::string frame(12, '\0');
    frame += be16(ethertype) + payload;
    if (frame.size() < length) {
        frame.resize(length, '\0');
    }
    return frame;
}

std::string ipv4(std::uint8_t protocol) {
    std::string header(20, '\0');
    header[0] = 0x45;
    header[9] = static_cast<char>(protocol);
    return header;
}

std::string ipv6(std::uint8_t next_header) {
    std::string header(40, '\0');
    header[0] = 0x60;
    header[6] = static_cast<char>(next_header);
    return header;
}

std::string tcp_frame(std::size_t length = 60) {
    return ethernet(0x0800, ipv4(6), length);
}
std::string udp_frame(std::size_t length = 60) {
    return ethernet(0x0800, ipv4(17), length);
}

struct record {
    std::uint32_t seconds;
    std::uint32_t fraction;
    std::string data;
    std::uint32_t orig_len = 0;  // 0 means the captured length
};

std::string classic_pcap(bool big_endian, bool nanoseconds, std::uint32_t link_type,
                         const std::vector<record>& records) {
    bytes b(big_endian);
    b.u32(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535);
    b.u32(link_type);
    for (const auto& r : records) {
        const auto captured = static_cast<std::uint32_t>(r.data.size());
        b.u32(r.seconds).u32(r.fraction).u32(captured).u32(r.orig_len ? r.orig_len : captured);
        b.raw(r.data);
    }
    return b.str();
}

// pcapng blocks, each built with its total length at both ends.
std::string block(bool big, std::uint32_t type, const std::string& body) {
    bytes b(big);
    const auto length = static_cast<std::uint32_t>(12 + body.size());
    b.u32(type).u32(length).raw(body).u32(length);
    return b.str();
}

std::string shb(bool big) {
    bytes body(big);
    body.u32(0x1A2B3C4D).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
    return block(big, 0x0A0D0D0A, body.str());
}

std::string idb(bool big, std::uint16_t link_type, int tsresol = -1) {
    bytes body(big);
    body.u16(link_type).u16(0).u32(0);
    if (tsresol >= 0) {
        body.u16(9).u16(1).u8(static_cast<std::uint8_t>(tsresol)).pad4();
        body.u16(0).u16(0);
    }
    return block(big, 1, body.str());
}

std::string epb(bool big, std::uint32_t iface, std::uint64_t units, const std::string& data,
                std::uint32_t orig_len = 0) {
    bytes body(big);
    const auto captured = static_cast<std::uint32_t>(data.size());
    body.u32(iface).u32(static_cast<std::uint32_t>(units >> 32));
    body.u32(static_cast<std::uint32_t>(units)).u32(captured);
    body.u32(orig_len ? orig_len : captured).raw(data).pad4();
    return block(big, 6, body.str());
}

std::string spb(bool big, const std::string& data) {
    bytes body(big);
    body.u32(static_cast<std::uint32_t>(data.size())).raw(data).pad4();
    return block(big, 3, body.str());
}

std::string opb(bool big, std::uint16_t iface, std::uint64_t units, const std::string& data) {
    bytes body(big);
    const auto captured = static_cast<std::uint32_t>(data.size());
    body.u16(iface).u16(0).u32(static_cast<std::uint32_t>(units >> 32));
    body.u32(static_cast<std::uint32_t>(units)).u32(captured).u32(captured).raw(data).pad4();
    return block(big, 2, body.str());
}

struct imported {
    std::vector<job> jobs;
    std::unique_ptr<job_source> src;
};

imported import(const std::string& path, const pcap_options& options = {}) {
    imported result;
    result.src = open_capture(path, options);
    result.jobs = drain(*result.src);
    return result;
}

std::vector<std::uint64_t> arrivals(const std::vector<job>& jobs) {
    std::vector<std::uint64_t> out;
    for (const auto& j : jobs) {
        out.push_back(j.arrival_ns);
    }
    return out;
}

std::vector<std::uint32_t> classes(const std::vector<job>& jobs) {
    std::vector<std::uint32_t> out;
    for (const auto& j : jobs) {
        out.push_back(j.class_id);
    }
    return out;
}

input_error capture_error(const std::string& path) {
    try {
        import(path);
    } catch (const input_error& e) {
        return e;
    }
    FAIL("expected an input_error for " << path);
    throw std::logic_error("unreachable");
}

// What an independent walk over a whole capture file finds, for checking the streaming
// importer against: frame count, backwards steps and the span from first to latest stamp.
struct walk_result {
    std::uint64_t frames = 0;
    std::uint64_t backwards = 0;
    std::uint64_t span_ns = 0;
};

std::uint32_t le32(const std::string& d, std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, d.data() + at, 4);
    // The real captures are little-endian, and so is every machine this project targets.
    return v;
}

walk_result walk_real_capture(const std::string& path) {
    const std::string d = slurp(path);
    walk_result r;
    std::uint64_t first_ns = 0;
    std::uint64_t latest_ns = 0;
    auto see = [&](std::uint64_t t_ns) {
        if (r.frames == 0) {
            first_ns = latest_ns = t_ns;
        } else if (t_ns < latest_ns) {
            ++r.backwards;
        } else {
            latest_ns = t_ns;
        }
        ++r.frames;
    };
    if (le32(d, 0) == 0x0A0D0D0A) {
        for (std::size_t at = 0; at + 12 <= d.size(); at += le32(d, at + 4)) {
            if (le32(d, at) == 6) {
                const std::uint64_t units =
                    (static_cast<std::uint64_t>(le32(d, at + 12)) << 32) | le32(d, at + 16);
                // The one real pcapng file stamps microseconds.
                see(units * 1000);
            }
        }
    } else {
        for (std::size_t at = 24; at + 16 <= d.size(); at += 16 + le32(d, at + 8)) {
            see(std::uint64_t{le32(d, at)} * 1'000'000'000 + std::uint64_t{le32(d, at + 4)} * 1000);
        }
    }
    r.span_ns = latest_ns - first_ns;
    return r;
}

void check_real_capture(const std::string& name, std::uint64_t frames, std::uint64_t backwards) {
    const std::string path = data_dir + "/" + name;
    const walk_result walked = walk_real_capture(path);
    const auto got = import(path);
    CHECK(walked.frames == frames);
    CHECK(got.jobs.size() == frames);
    CHECK(stat(*got.src, "frames") == frames);
    CHECK(walked.backwards == backwards);
    CHECK(stat(*got.src, "backwards_timestamps") == backwards);
    CHECK(got.jobs.front().arrival_ns == 0);
    CHECK(got.jobs.back().arrival_ns == walked.span_ns);
    CHECK(std::is_sorted(got.jobs.begin(), got.jobs.end(),
                         [](const job& a, const job& b) { return a.arrival_ns < b.arrival_ns; }));
    CHECK(meta_value(got.src->header(), "source") == name);
    CHECK(meta_value(got.src->header(), "link_type") == "1");
}

}  // namespace

TEST_CASE("http_dns_browsing.pcap imports 4631 frames") {
    check_real_capture("http_dns_browsing.pcap", 4631, 0);
}

TEST_CASE("modbus_polling.pcap imports 13622 frames") {
    check_real_capture("modbus_polling.pcap", 13622, 0);
}

TEST_CASE("http_1000_requests.pcap imports 4102 frames") {
    check_real_capture("http_1000_requests.pcap", 4102, 0);
}

TEST_CASE("smb2_line_rate_burst.pcap imports 3138 frames") {
    check_real_capture("smb2_line_rate_burst.pcap", 3138, 0);
}

TEST_CASE("tls_browsing.pcap imports 7451 frames with 4 backwards timestamps") {
    check_real_capture("tls_browsing.pcap", 7451, 4);
    const auto got = import(data_dir + "/tls_browsing.pcap");
    // The four steps back are 1, 1, 1 and 6 microseconds.
    CHECK(stat(*got.src, "max_backwards_ns") == 6000);
}

TEST_CASE("vnc_session.pcapng imports 4551 frames") {
    check_real_capture("vnc_session.pcapng", 4551, 0);
    const auto got = import(data_dir + "/vnc_session.pcapng");
    CHECK(meta_value(got.src->header(), "format") == "pcapng");
    CHECK(stat(*got.src, "frames_tcp") == 4551);
}

TEST_CASE("http_dns_browsing.pcap frames split into tcp and udp classes") {
    const auto got = import(data_dir + "/http_dns_browsing.pcap");
    CHECK(stat(*got.src, "frames_tcp") == 4492);
    CHECK(stat(*got.src, "frames_udp") == 139);
    CHECK(stat(*got.src, "frames_other") == 0);
    const auto& header = got.src->header();
    REQUIRE(header.classes.size() == 3);
    CHECK(header.find_class(0)->name == "tcp");
    CHECK(header.find_class(1)->name == "udp");
    CHECK(header.find_class(2)->name == "other");
}

TEST_CASE("a real capture converts to a text trace and back") {
    temp_dir dir;
    auto capture = open_capture(data_dir + "/smb2_line_rate_burst.pcap");
    write_trace(*capture, dir.file("smb2.trace"));
    auto reread = open_trace(dir.file("smb2.trace"));
    CHECK(describe_all(drain(*reread)) ==
          describe_all(import(data_dir + "/smb2_line_rate_burst.pcap").jobs));
    CHECK(drain(*open_input(dir.file("smb2.trace"))).size() == 3138);
}

TEST_CASE("a big-endian microsecond pcap gives arrivals relative to the first frame") {
    temp_dir dir;
    const std::string path =
        dir.write("be.pcap", classic_pcap(true, false, 1,
                                          {{1000, 500, tcp_frame()},
                                           {1000, 750, udp_frame()},
                                           {1001, 0, ethernet(0x0806, "", 42)}}));
    CHECK(is_capture(path));
    const auto got = import(path);
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 250'000, 999'500'000});
    CHECK(classes(got.jobs) == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(meta_value(got.src->header(), "format") == "pcap-us");
}

TEST_CASE("a little-endian nanosecond pcap keeps nanosecond arrivals") {
    temp_dir dir;
    const std::string path = dir.write(
        "ns.pcap",
        classic_pcap(false, true, 1, {{7, 999'999'999, tcp_frame()}, {8, 3, tcp_frame()}}));
    const auto got = import(path);
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 4});
    CHECK(meta_value(got.src->header(), "format") == "pcap-ns");
}

TEST_CASE("a big-endian nanosecond pcap is recognised") {
    temp_dir dir;
    const std::string path = dir.write(
        "bens.pcap", classic_pcap(true, true, 1, {{1, 10, tcp_frame()}, {1, 15, tcp_frame()}}));
    CHECK(arrivals(import(path).jobs) == std::vector<std::uint64_t>{0, 5});
}

TEST_CASE("backwards timestamps are clamped to the latest time and counted") {
    temp_dir dir;
    const std::string path = dir.write("back.pcap", classic_pcap(false, false, 1,
                                                                 {{100, 0, tcp_frame()},
                                                                  {100, 10, tcp_frame()},
                                                                  {100, 5, tcp_frame()},
                                                                  {100, 20, tcp_frame()},
                                                                  {99, 0, tcp_frame()}}));
    const auto got = import(path);
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 10'000, 10'000, 20'000, 20'000});
    CHECK(stat(*got.src, "backwards_timestamps") == 2);
    CHECK(stat(*got.src, "max_backwards_ns") == 1'000'020'000);
}

TEST_CASE("pcapng with if_tsresol 9 reads nanosecond timestamps") {
    temp_dir dir;
    const std::uint64_t base_units = 1'600'000'000'123'456'789ULL;
    const std::string path = dir.write(
        "ns.pcapng", shb(false) + idb(false, 1, 9) + epb(false, 0, base_units, tcp_frame()) +
                         epb(false, 0, base_units + 250, udp_frame()));
    CHECK(is_capture(path));
    const auto got = import(path);
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 250});
    CHECK(classes(got.jobs) == std::vector<std::uint32_t>{0, 1});
    CHECK(meta_value(got.src->header(), "format") == "pcapng");
    CHECK(meta_value(got.src->header(), "link_type") == "1");
}

TEST_CASE("pcapng with a power-of-two if_tsresol divides by that power") {
    temp_dir dir;
    // 0x8a is 2^-10 seconds: 1024 units are one second.
    const std::string path = dir.write(
        "p2.pcapng", shb(false) + idb(false, 1, 0x8a) + epb(false, 0, 1024, tcp_frame()) +
                         epb(false, 0, 1025, tcp_frame()) + epb(false, 0, 2048, tcp_frame()));
    CHECK(arrivals(import(path).jobs) == std::vector<std::uint64_t>{0, 976'562, 1'000'000'000});
}

TEST_CASE("pcapng without if_tsresol uses microseconds") {
    temp_dir dir;
    const std::string path =
        dir.write("us.pcapng", shb(true) + idb(true, 1) + epb(true, 0, 5, tcp_frame()) +
                                   epb(true, 0, 7, tcp_frame()));
    CHECK(arrivals(import(path).jobs) == std::vector<std::uint64_t>{0, 2000});
}

TEST_CASE("pcapng simple, obsolete and unknown blocks are handled") {
    temp_dir dir;
    const std::string path =
        dir.write("mixed.pcapng",
                  shb(false) + idb(false, 1, 9) + epb(false, 0, 1000, tcp_frame()) +
                      block(false, 0x00000BAD, std::string(20, 'x')) + spb(false, udp_frame(61)) +
                      opb(false, 0, 1500, tcp_frame(62)) + block(false, 5, std::string(8, '\0')));
    const auto got = import(path);
    // The simple packet block has no timestamp and arrives with the frame before it.
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 0, 500});
    CHECK(classes(got.jobs) == std::vector<std::uint32_t>{0, 1, 0});
    CHECK(got.jobs[1].prog->name == "frame_61");
}

TEST_CASE("a new pcapng section may switch byte order and renumbers interfaces") {
    temp_dir dir;
    const std::string path =
        dir.write("two.pcapng", shb(false) + idb(false, 1, 9) + epb(false, 0, 100, tcp_frame()) +
                                    shb(true) + idb(true, 113, 9) + epb(true, 0, 400, tcp_frame()));
    const auto got = import(path);
    CHECK(arrivals(got.jobs) == std::vector<std::uint64_t>{0, 300});
    // The second section's interface has link type 113, which the importer does not parse.
    CHECK(classes(got.jobs) == std::vector<std::uint32_t>{0, 2});
}

TEST_CASE("frames of an unsupported link type become class other") {
    temp_dir dir;
    const std::string path =
        dir.write("sll.pcap", classic_pcap(false, false, 113, {{1, 0, tcp_frame()}}));
    const auto got = import(path);
    CHECK(classes(got.jobs) == std::vector<std::uint32_t>{2});
    CHECK(meta_value(got.src->header(), "link_type") == "113");
}

TEST_CASE("VLAN tags and IPv6 extension headers are walked to the transport") {
    temp_dir dir;
    std::string hop_by_hop(8, '\0');
    hop_by_hop[0] = 6;  // next header TCP, header length 0 (8 bytes)
    std::string fragment(8, '\0');
    fragment[0] = 17;
    const std::string qinq = ethernet(
        0x88a8, be16(1) + be16(0x8100) + be16(2) + be16(0x86dd) + ipv6(0) + hop_by_hop, 100);
    const std::string vlan_udp = ethernet(0x8100, be16(5) + be16(0x0800) + ipv4(17), 64);
    const std::string v6_fragment_udp = ethernet(0x86dd, ipv6(44) + fragment, 80);
    const std::string icmp = ethernet(0x0800, ipv4(1), 60);
    const std::string runt = std::string(10, '\0');
    const std::string path = dir.write(
        "l3.pcap",
        classic_pcap(
            false, false, 1,
            {{0, 0, qinq}, {0, 1, vlan_udp}, {0, 2, v6_fragment_udp}, {0, 3, icmp}, {0, 4, runt}}));
    CHECK(classes(import(path).jobs) == std::vector<std::uint32_t>{0, 1, 1, 2, 2});
}

TEST_CASE("each distinct original length gets one shared pipeline program") {
    temp_dir dir;
    const std::string path = dir.write(
        "len.pcap",
        classic_pcap(false, false, 1,
                     {{0, 0, tcp_frame(60)}, {0, 1, tcp_frame(64), 1514}, {0, 2, tcp_frame(60)}}));
    const auto got = import(path);
    CHECK(got.jobs[0].prog == got.jobs[2].prog);
    CHECK(stat(*got.src, "named_programs") == 2);
    CHECK(describe(*got.jobs[0].prog) ==
          "frame_60{compute 1120;send #0;compute 1120;send #1;compute 1120;}");
    // Programs follow the original length, not the captured one.
    CHECK(describe(*got.jobs[1].prog) ==
          "frame_1514{compute 4028;send #0;compute 4028;send #1;compute 4028;}");
    const auto& channels = got.src->header().channels;
    REQUIRE(channels.size() == 2);
    CHECK(channels[0].name == "s1");
    CHECK(channels[1].name == "s2");
    CHECK(channels[1].capacity == 64);
}

TEST_CASE("capture options shape the channels and round the per-byte compute") {
    temp_dir dir;
    const std::string path = dir.write(
        "opt.pcap",
        classic_pcap(false, false, 1, {{0, 0, std::string(1, 'a')}, {0, 0, std::string(2, 'b')}}));
    pcap_options options;
    options.stages = 2;
    options.base_compute_ns = 10;
    options.per_byte_compute_ps = 1250;
    options.capacity = 5;
    options.consumers = 3;
    const auto got = import(path, options);
    // 1 byte is 1.25 ns and rounds down; 2 bytes are 2.5 ns and round up.
    CHECK(describe(*got.jobs[0].prog) == "frame_1{compute 11;send #0;compute 11;}");
    CHECK(describe(*got.jobs[1].prog) == "frame_2{compute 13;send #0;compute 13;}");
    const auto& channels = got.src->header().channels;
    REQUIRE(channels.size() == 1);
    CHECK(channels[0].capacity == 5);
    CHECK(channels[0].consumers == 3);
    CHECK(meta_value(got.src->header(), "per_byte_compute_ps") == "1250");

    options.stages = 0;
    CHECK_THROWS_AS(open_capture(path, options), std::invalid_argument);
}

TEST_CASE("a capture with a header and no frames is an empty workload") {
    temp_dir dir;
    const auto classic = import(dir.write("empty.pcap", classic_pcap(false, false, 1, {})));
    CHECK(classic.jobs.empty());
    CHECK(stat(*classic.src, "frames") == 0);
    CHECK(import(dir.write("empty.pcapng", shb(false) + idb(false, 1))).jobs.empty());
    CHECK(import(dir.write("bare.pcapng", shb(false))).jobs.empty());
}

TEST_CASE("an unknown magic number is an input_error at byte 0") {
    temp_dir dir;
    const auto e = capture_error(dir.write("bad.pcap", "GIF89a and more"));
    CHECK(e.where() == "byte 0");
    CHECK(e.field() == "magic");
    CHECK_THAT(std::string(e.what()), Contains("got '47494638'"));
}

TEST_CASE("a captured length above 256 KiB is an input_error at its field") {
    temp_dir dir;
    bytes b;
    b.u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
    b.u32(0).u32(0).u32(262145).u32(262145);
    const auto e = capture_error(dir.write("huge.pcap", b.str()));
    CHECK(e.where() == "byte 32");
    CHECK(e.field() == "incl_len");
}

TEST_CASE("a pcapng block length that is not a multiple of 4 is an input_error") {
    temp_dir dir;
    std::string data = shb(false) + idb(false, 1) + epb(false, 0, 1, tcp_frame());
    const std::size_t epb_at = shb(false).size() + idb(false, 1).size();
    data[epb_at + 4] = static_cast<char>(data[epb_at + 4] + 1);
    const auto e = capture_error(dir.write("odd.pcapng", data));
    CHECK(e.where() == "byte " + std::to_string(epb_at + 4));
    CHECK(e.field() == "block_total_length");
    CHECK_THAT(std::string(e.what()), Contains("multiple of 4"));
}

TEST_CASE("a pcapng block length below the minimum is an input_error") {
    temp_dir dir;
    const std::string data = shb(false) + bytes().u32(1).u32(8).str();
    const auto e = capture_error(dir.write("small.pcapng", data));
    CHECK(e.where() == "byte 32");
    CHECK(e.field() == "block_total_length");
}

TEST_CASE("a pcapng trailing length that differs is an input_error at the trailer") {
    temp_dir dir;
    std::string data = shb(false) + idb(false, 1);
    data[data.size() - 4] = 0x7c;
    const auto e = capture_error(dir.write("trail.pcapng", data));
    CHECK(e.where() == "byte " + std::to_string(data.size() - 4));
    CHECK(e.field() == "block_total_length");
}

TEST_CASE("a pcapng packet on an undescribed interface is an input_error") {
    temp_dir dir;
    const std::string data = shb(false) + idb(false, 1) + epb(false, 1, 1, tcp_frame());
    const auto e = capture_error(dir.write("iface.pcapng", data));
    CHECK(e.field() == "interface_id");
    CHECK(e.where() == "byte " + std::to_string(shb(false).size() + idb(false, 1).size() + 8));
}

TEST_CASE("a classic pcap truncated anywhere reads the whole records or fails at their offset") {
    temp_dir dir;
    const std::string full = classic_pcap(
        false, false, 1, {{0, 0, tcp_frame(60)}, {0, 1, udp_frame(70)}, {0, 2, tcp_frame(80)}});
    const std::vector<std::size_t> records = {24, 24 + 76, 24 + 76 + 86, full.size()};
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        INFO("cut at " << cut);
        const std::string path = dir.write("cut.pcap", full.substr(0, cut));
        const auto boundary = std::find(records.begin(), records.end(), cut);
        if (boundary != records.end()) {
            CHECK(import(path).jobs.size() == static_cast<std::size_t>(boundary - records.begin()));
            continue;
        }
        const input_error e = capture_error(path);
        if (cut < 4) {
            CHECK(e.field() == "magic");
            CHECK(e.where() == "byte 0");
        } else if (cut < 24) {
            CHECK(e.field() == "global header");
            CHECK(e.where() == "byte 0");
        } else {
            const std::size_t start = *(std::upper_bound(records.begin(), records.end(), cut) - 1);
            if (cut < start + 16) {
                CHECK(e.field() == "record header");
                CHECK(e.where() == "byte " + std::to_string(start));
            } else {
                CHECK(e.field() == "frame data");
                CHECK(e.where() == "byte " + std::to_string(start + 16));
            }
        }
    }
}

TEST_CASE("a pcapng truncated anywhere reads the whole blocks or fails at their offset") {
    temp_dir dir;
    const std::vector<std::string> blocks = {shb(false),
                                             idb(false, 1, 9),
                                             epb(false, 0, 10, tcp_frame()),
                                             block(false, 0x00000BAD, std::string(16, 'z')),
                                             spb(false, udp_frame(61)),
                                             epb(false, 0, 20, tcp_frame(90))};
    const std::vector<std::size_t> frames_after = {0, 0, 1, 1, 2, 3};
    std::string full;
    std::vector<std::size_t> starts;
    for (const auto& b : blocks) {
        starts.push_back(full.size());
        full += b;
    }
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        INFO("cut at " << cut);
        const std::string path = dir.write("cut.pcapng", full.substr(0, cut));
        const auto index = static_cast<std::size_t>(
            std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin() - 1);
        const std::size_t start = starts[index];
        if (cut == start && index > 0) {
            CHECK(import(path).jobs.size() == frames_after[index - 1]);
            continue;
        }
        const input_error e = capture_error(path);
        CHECK(e.where() == "byte " + std::to_string(start));
        if (cut < 4) {
            CHECK(e.field() == "magic");
        } else if (cut - start < 8) {
            CHECK(e.field() == "block header");
        } else if (index == 0 && cut < 12) {
            CHECK(e.field() == "section header");
        } else {
            CHECK(e.field() == "block");
        }
    }
    CHECK(import(dir.write("whole.pcapng", full)).jobs.size() == 3);
}

TEST_CASE("random corruption of captures gives jobs or input_error, never a crash") {
    temp_dir dir;
    const std::vector<std::string> samples = {
        classic_pcap(false, false, 1, {{0, 0, tcp_frame()}, {0, 9, udp_frame(300)}}),
        classic_pcap(true, true, 1, {{5, 0, tcp_frame()}, {4, 9, udp_frame(90)}}),
        shb(false) + idb(false, 1, 9) + epb(false, 0, 10, tcp_frame()) + spb(false, udp_frame(61)) +
            opb(false, 0, 30, tcp_frame()),
    };
    seeded_rng rng(99);
    for (int round = 0; round < 3000; ++round) {
        std::string data = samples[rng.below(samples.size())];
        const auto flips = 1 + rng.below(6);
        for (std::uint64_t i = 0; i < flips; ++i) {
            data[rng.below(data.size())] = static_cast<char>(rng.below(256));
        }
        if (rng.below(4) == 0) {
            data.resize(rng.below(data.size()));
        }
        const std::string path = dir.write("fuzz.cap", data);
        try {
            auto src = open_input(path);
            drain(*src);
        } catch (const input_error&) {
            // Reporting the damage is the expected outcome.
        }
    }
    SUCCEED("no crash and no other exception type");
}
