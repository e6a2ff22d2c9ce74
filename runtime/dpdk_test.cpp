// The DPDK pipeline fed by a real capture through the pcap PMD. The EAL can be initialised
// once per process, so this binary holds one run; its --file-prefix carries the process id so
// parallel test runs do not share EAL files.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "runtime/dpdk_pipeline.hpp"

namespace rt = schedlab::runtime;

namespace {
std::uint64_t stat(const schedlab::sim::run_result& r, const std::string& key) {
    for (const auto& [k, v] : r.source_stats) {
        if (k == key) return v;
    }
    FAIL("no source stat " << key);
    return 0;
}
}  // namespace

TEST_CASE("the pcap PMD feeds every packet of a real capture through all stages") {
    rt::live_options o;
    o.workload = "pipeline";
    o.reactor = "dpdk";
    o.threads = 2;
    o.duration_s = 120;  // the capture ends long before: the run stops at its last packet
    o.pcap = std::string(SCHEDLAB_DATA_DIR) + "/http_dns_browsing.pcap";
    o.dpdk_prefix = "schedlab_dpdk_test_" + std::to_string(::getpid());
    const auto r = rt::run_dpdk_pipeline(o);

    CHECK(r.jobs_arrived == 4631);
    CHECK(r.jobs_completed == 4631);
    CHECK(stat(r, "rx_packets") == 4631);
    CHECK(stat(r, "stage0_parse_packets") == 4631);
    CHECK(stat(r, "stage1_classify_packets") == 4631);
    CHECK(stat(r, "stage2_emit_packets") == 4631);
    CHECK(stat(r, "tx_packets") + stat(r, "tx_dropped") == 4631);
    std::uint64_t classified = 0;
    for (const char* c : {"dns", "http", "tls", "other_tcp", "other_udp", "other"}) {
        classified += stat(r, std::string("traffic_") + c);
    }
    CHECK(classified == 4631);
    CHECK(stat(r, "traffic_dns") > 0);
    CHECK(stat(r, "traffic_http") > 0);
    CHECK(r.latency.count == 4631);
    CHECK(r.latency.p50_ns <= r.latency.p99_ns);
    CHECK(stat(r, "stage0_parse_p50_ns") <= stat(r, "stage0_parse_p99_ns"));
    CHECK(r.frames_result.outstanding_at_end == 0);
    CHECK_THROWS_WITH(rt::run_dpdk_pipeline(o),
                      "dpdk: the EAL can be initialised only once per process");
}
