#include "traces/format.hpp"

#include <catch2/catch.hpp>

#include "traces/random.hpp"
#include "traces/test_util.hpp"

using namespace schedlab::traces;
using namespace schedlab::traces::test;
using Catch::Matchers::Contains;

namespace {

const std::string magic_line = "schedlab-trace 1\n";

input_error read_error(const std::string& text) {
    temp_dir dir;
    const std::string path = dir.write("bad.trace", text);
    try {
        auto src = open_trace(path);
        drain(*src);
    } catch (const input_error& e) {
        return e;
    }
    FAIL("expected an input_error for:\n" << text);
    throw std::logic_error("unreachable");
}

// Checks that `text` fails on `line` naming `field`, both in the accessors and in the message.
input_error check_error(const std::string& text, int line, const std::string& field) {
    const input_error e = read_error(text);
    const std::string where = "line " + std::to_string(line);
    CHECK(e.where() == where);
    CHECK(e.field() == field);
    CHECK_THAT(std::string(e.what()), Contains("bad.trace:" + where + ": field '" + field + "'"));
    return e;
}

std::vector<job> read_text(const std::string& text) {
    temp_dir dir;
    auto src = open_trace(dir.write("good.trace", text));
    return drain(*src);
}

const std::string full_trace = magic_line +
                               "# a workload that uses every directive and step kind\n"
                               "meta source hand written, with spaces; and semicolons\n"
                               "meta empty\n"
                               "class 0 request\n"
                               "class 7 stream\n"
                               "channel s1 capacity=8 consumers=2\n"
                               "channel s2\n"
                               "program leaf\n"
                               "  compute 100\n"
                               "end\n"
                               "program mid\n"
                               "  io 2000\n"
                               "  ready 3 40\n"
                               "  fanout 4 leaf\n"
                               "  yield\n"
                               "end\n"
                               "program top\n"
                               "  call mid\n"
                               "  send s1\n"
                               "  compute 5\n"
                               "  send s2\n"
                               "  ready 2\n"
                               "end\n"
                               "job 0 0 top\n"
                               "job 10 7 : compute 1 ; call mid ; send s2 ; io 3\n"
                               "program late\n"
                               "  compute 9\n"
                               "end\n"
                               "job 10 0 late\n"
                               "job 25 7 top\n";

}  // namespace

TEST_CASE("reading a trace yields its header, programs and jobs") {
    temp_dir dir;
    auto src = open_trace(dir.write("full.trace", full_trace));
    const workload_header& header = src->header();
    REQUIRE(header.meta.size() == 2);
    CHECK(header.meta[0].first == "source");
    CHECK(header.meta[0].second == "hand written, with spaces; and semicolons");
    CHECK(header.meta[1] == std::pair<std::string, std::string>("empty", ""));
    REQUIRE(header.classes.size() == 2);
    CHECK(header.find_class(7)->name == "stream");
    CHECK(header.find_class(3) == nullptr);
    REQUIRE(header.channels.size() == 2);
    CHECK(header.channels[0].name == "s1");
    CHECK(header.channels[0].capacity == 8);
    CHECK(header.channels[0].consumers == 2);
    CHECK(header.channels[1].capacity == 64);
    CHECK(header.channels[1].consumers == 1);

    const auto jobs = drain(*src);
    REQUIRE(jobs.size() == 4);
    const std::string mid = "mid{io 2000;ready 3 40;fanout 4 leaf{compute 100;};yield;}";
    CHECK(describe(jobs[0]) == "0 c0 top{call " + mid + ";send #0;compute 5;send #1;ready 2 0;}");
    CHECK(describe(jobs[1]) == "10 c7 <inline>{compute 1;call " + mid + ";send #1;io 3;}");
    CHECK(describe(jobs[2]) == "10 c0 late{compute 9;}");
    CHECK(jobs[3].prog == jobs[0].prog);
}

TEST_CASE("writing a trace emits a fixed canonical text") {
    temp_dir dir;
    auto src = open_trace(dir.write("full.trace", full_trace));
    const std::string out = dir.file("out.trace");
    write_trace(*src, out);
    const std::string expected = magic_line +
                                 "meta source hand written, with spaces; and semicolons\n"
                                 "meta empty\n"
                                 "class 0 request\n"
                                 "class 7 stream\n"
                                 "channel s1 capacity=8 consumers=2\n"
                                 "channel s2 capacity=64 consumers=1\n"
                                 "program leaf\n"
                                 "  compute 100\n"
                                 "end\n"
                                 "program mid\n"
                                 "  io 2000\n"
                                 "  ready 3 40\n"
                                 "  fanout 4 leaf\n"
                                 "  yield\n"
                                 "end\n"
                                 "program top\n"
                                 "  call mid\n"
                                 "  send s1\n"
                                 "  compute 5\n"
                                 "  send s2\n"
                                 "  ready 2 0\n"
                                 "end\n"
                                 "job 0 0 top\n"
                                 "job 10 7 : compute 1 ; call mid ; send s2 ; io 3\n"
                                 "program late\n"
                                 "  compute 9\n"
                                 "end\n"
                                 "job 10 0 late\n"
                                 "job 25 7 top\n";
    CHECK(slurp(out) == expected);
}

TEST_CASE("a written trace reads back to the same jobs and rewrites to the same bytes") {
    temp_dir dir;
    auto original = open_trace(dir.write("full.trace", full_trace));
    const std::string first = dir.file("first.trace");
    write_trace(*original, first);

    auto reread = open_trace(first);
    CHECK(reread->header().meta == open_trace(dir.file("full.trace"))->header().meta);
    const std::string second = dir.file("second.trace");
    write_trace(*reread, second);
    CHECK(slurp(first) == slurp(second));

    auto a = open_trace(dir.file("full.trace"));
    auto b = open_trace(second);
    CHECK(describe_all(drain(*a)) == describe_all(drain(*b)));
}

TEST_CASE("a trace without class declarations gets class 0 named default") {
    temp_dir dir;
    auto src = open_trace(dir.write("t.trace", magic_line + "job 5 0 : yield\n"));
    REQUIRE(src->header().classes.size() == 1);
    CHECK(src->header().classes[0].id == 0);
    CHECK(src->header().classes[0].name == "default");
    CHECK(drain(*src).size() == 1);
}

TEST_CASE("a trace with a header and no jobs is an empty workload") {
    CHECK(read_text(magic_line + "class 1 only\nchannel c\n").empty());
    CHECK(read_text(magic_line).empty());
}

TEST_CASE("CRLF line endings are accepted") {
    const auto jobs =
        read_text("schedlab-trace 1\r\nprogram p\r\n  compute 3\r\nend\r\njob 1 0 p\r\n");
    REQUIRE(jobs.size() == 1);
    CHECK(describe(jobs[0]) == "1 c0 p{compute 3;}");
}

TEST_CASE("comments, blank lines and tabs are allowed anywhere after the first line") {
    const auto jobs = read_text(magic_line +
                                "\n# header comment\n"
                                "program p\n"
                                "# inside a program\n"
                                "\n"
                                "\t compute 3\n"
                                "   # indented comment\n"
                                "end\n"
                                "\t\n"
                                "job\t1\t0\tp\n"
                                "# between jobs\n"
                                "job 2 0 : compute 1;yield\n");
    REQUIRE(jobs.size() == 2);
    CHECK(describe(jobs[1]) == "2 c0 <inline>{compute 1;yield;}");
}

TEST_CASE("the header is complete before the first job is read") {
    temp_dir dir;
    auto src = open_trace(dir.write("t.trace", magic_line + "class 3 c\n"
                                                            "job 0 3 : compute 1\n"
                                                            "job 0 3 : compute 2\n"));
    CHECK(src->header().classes.size() == 1);
    CHECK(src->header().find_class(3) != nullptr);
}

TEST_CASE("sub-programs stay valid after the source that defined them is gone") {
    std::optional<job> kept;
    {
        temp_dir dir;
        auto src = open_trace(dir.write("t.trace", magic_line + "program leaf\n  compute 77\nend\n"
                                                                "job 0 0 : call leaf\n"));
        kept = src->next();
    }
    REQUIRE(kept);
    CHECK(describe(*kept) == "0 c0 <inline>{call leaf{compute 77;};}");
}

TEST_CASE("the largest allowed values are accepted") {
    // Each field at its own limit, in jobs whose totals stay within the per-job bounds.
    const auto jobs = read_text(magic_line +
                                "class 65535 top\n"
                                "program long\n  compute 1000000000000000\nend\n"
                                "program many\n  ready 1048576 0\nend\n"
                                "program leaf\n  compute 1\nend\n"
                                "program wide\n  fanout 65536 leaf\nend\n"
                                "job 0 65535 long\n"
                                "job 0 65535 many\n"
                                "job 4611686018427387904 65535 wide\n");
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[0].prog->steps[0].duration_ns == 1'000'000'000'000'000ULL);
    CHECK(jobs[1].prog->steps[0].count == 1048576);
    CHECK(jobs[2].arrival_ns == (std::uint64_t{1} << 62));
    CHECK(jobs[2].prog->steps[0].count == 65536);
}

TEST_CASE("a job whose summed demand passes 10^15 ns is an error naming demand_ns") {
    const auto e = check_error(magic_line +
                                   "program deep\n"
                                   "  compute 1000000000000000\n"
                                   "  ready 1 1\n"
                                   "end\n",
                               4, "demand_ns");
    CHECK_THAT(std::string(e.what()), Contains("10^15"));
}

TEST_CASE("a job whose fan-outs multiply past 2^20 frames is an error naming frames") {
    const auto e = check_error(magic_line +
                                   "program leaf\n  compute 1\nend\n"
                                   "program mid\n  fanout 1024 leaf\nend\n"
                                   "program top\n  fanout 1024 mid\nend\n",
                               9, "frames");
    CHECK_THAT(std::string(e.what()), Contains("2^20"));
}

TEST_CASE("a job of 2^24 operations is accepted and one more is an error naming operations") {
    std::string text = magic_line + "program busy\n";
    for (int i = 0; i < 16; ++i) {
        text += "  ready 1048576 0\n";
    }
    const auto jobs = read_text(text + "end\njob 0 0 busy\n");
    REQUIRE(jobs.size() == 1);
    // The 17th ready line is line 19: the magic line, 'program busy', then 16 accepted steps.
    const auto e = check_error(text + "  yield\nend\n", 19, "operations");
    CHECK_THAT(std::string(e.what()), Contains("2^24") && Contains("got 'yield'"));
}

TEST_CASE("a job that would outlast the simulator's stall bound is refused on its job line") {
    // 2000 ready steps of 2^20 operations each: valid step by step, but about 2*10^9
    // operations for one job, which the simulator would report as a stall.
    std::string text = magic_line + "job 0 0 : ready 1048576 0";
    for (int i = 1; i < 2000; ++i) {
        text += " ; ready 1048576 0";
    }
    check_error(text + "\n", 2, "operations");
}

TEST_CASE("operations multiply through fan-outs like frames") {
    const auto e = check_error(magic_line +
                                   "program leaf\n  ready 1024 0\nend\n"
                                   "program mid\n  fanout 128 leaf\nend\n"
                                   "program top\n  fanout 128 mid\nend\n",
                               9, "operations");
    CHECK_THAT(std::string(e.what()), Contains("got 'fanout'"));
}

TEST_CASE("call chains of 64 frames are accepted") {
    std::string text = magic_line + "program p0\n  compute 1\nend\n";
    for (int i = 1; i < 64; ++i) {
        text += "program p" + std::to_string(i) + "\n  call p" + std::to_string(i - 1) + "\nend\n";
    }
    text += "job 0 0 p63\n";
    const auto jobs = read_text(text);
    REQUIRE(jobs.size() == 1);
    CHECK(frame_depth(*jobs[0].prog) == 64);
}

TEST_CASE("a missing first line is an error naming the magic") {
    const auto e = check_error("hello world\njob 0 0 : yield\n", 1, "magic");
    CHECK_THAT(std::string(e.what()), Contains("schedlab-trace 1"));
}

TEST_CASE("an unsupported version is an error naming the supported one") {
    const auto e = check_error("schedlab-trace 2\n", 1, "version");
    CHECK_THAT(std::string(e.what()), Contains("version 1"));
    CHECK_THAT(std::string(e.what()), Contains("got '2'"));
}

TEST_CASE("a first line without a version is an error") {
    check_error("schedlab-trace\n", 1, "version");
}

TEST_CASE("an empty file is an error") {
    const auto e = check_error("", 1, "magic");
    CHECK_THAT(std::string(e.what()), Contains("empty"));
}

TEST_CASE("an unknown directive is an error") {
    const auto e = check_error(magic_line + "class 0 a\nbogus 1 2\n", 3, "directive");
    CHECK_THAT(std::string(e.what()), Contains("got 'bogus'"));
}

TEST_CASE("a step outside a program is an unknown directive") {
    check_error(magic_line + "compute 5\n", 2, "directive");
}

TEST_CASE("an unknown step kind in a program is an error") {
    const auto e = check_error(magic_line + "program p\n  compute 1\n  sleep 4\nend\n", 4, "step");
    CHECK_THAT(std::string(e.what()), Contains("got 'sleep'"));
}

TEST_CASE("an unknown step kind in an inline program is an error") {
    check_error(magic_line + "job 0 0 : compute 1 ; jump 3\n", 2, "step");
}

TEST_CASE("a missing step field is an error naming that field") {
    check_error(magic_line + "program p\n  compute\nend\n", 3, "duration_ns");
    check_error(magic_line + "program p\n  fanout 3\nend\n", 3, "program");
    check_error(magic_line + "program p\n  ready\nend\n", 3, "count");
    check_error(magic_line + "job 0 0 : send\n", 2, "channel");
}

TEST_CASE("a missing directive field is an error naming that field") {
    check_error(magic_line + "class 3\n", 2, "name");
    check_error(magic_line + "meta\n", 2, "key");
    check_error(magic_line + "channel\n", 2, "channel");
    check_error(magic_line + "program\n", 2, "program");
    check_error(magic_line + "job 5\n", 2, "class_id");
    check_error(magic_line + "job 5 0\n", 2, "program");
}

TEST_CASE("an extra field is an error") {
    const auto e = check_error(magic_line + "program p\n  compute 5 6\nend\n", 3, "compute");
    CHECK_THAT(std::string(e.what()), Contains("got '6'"));
    check_error(magic_line + "program p\n  yield now\nend\n", 3, "yield");
    check_error(magic_line + "program p\n  ready 1 2 3\nend\n", 3, "ready");
    check_error(magic_line + "class 1 a b\n", 2, "class");
    check_error(magic_line + "program p\n  yield\nend extra\n", 4, "end");
    check_error(magic_line + "program p\n  yield\nend\njob 0 0 p q\n", 5, "job");
}

TEST_CASE("numbers must be plain non-negative decimal integers") {
    for (const std::string bad : {"-3", "1e5", "+3", "0x10", "12abc", "1.5", "", "٣"}) {
        INFO("number: '" << bad << "'");
        const std::string text = magic_line + "program p\n  io " + bad + " \nend\n";
        if (bad.empty()) {
            check_error(text, 3, "duration_ns");
            continue;
        }
        const auto e = check_error(text, 3, "duration_ns");
        CHECK_THAT(std::string(e.what()), Contains("non-negative decimal integer"));
    }
}

TEST_CASE("a number that overflows 64 bits is an error") {
    const auto e =
        check_error(magic_line + "job 18446744073709551616 0 : yield\n", 2, "arrival_ns");
    CHECK_THAT(std::string(e.what()), Contains("64 bits"));
}

TEST_CASE("a duration above 10^15 ns is an error") {
    check_error(magic_line + "job 0 0 : io 1000000000000001\n", 2, "duration_ns");
    check_error(magic_line + "job 0 0 : ready 1 1000000000000001\n", 2, "duration_ns");
}

TEST_CASE("an arrival above 2^62 ns is an error") {
    check_error(magic_line + "job 4611686018427387905 0 : yield\n", 2, "arrival_ns");
}

TEST_CASE("a ready count outside 1..1048576 is an error") {
    check_error(magic_line + "job 0 0 : ready 0\n", 2, "count");
    check_error(magic_line + "job 0 0 : ready 1048577 3\n", 2, "count");
}

TEST_CASE("a fanout width outside 1..65536 is an error") {
    const std::string leaf = "program leaf\n  yield\nend\n";
    check_error(magic_line + leaf + "job 0 0 : fanout 0 leaf\n", 5, "width");
    check_error(magic_line + leaf + "job 0 0 : fanout 65537 leaf\n", 5, "width");
}

TEST_CASE("decreasing arrivals are an error") {
    const auto e = check_error(magic_line +
                                   "job 5 0 : yield\n"
                                   "job 5 0 : yield\n"
                                   "# the next one goes back in time\n"
                                   "job 4 0 : yield\n",
                               5, "arrival_ns");
    CHECK_THAT(std::string(e.what()), Contains("arrivals must be non-decreasing"));
}

TEST_CASE("an undefined program is an error") {
    check_error(magic_line + "job 0 0 nothing\n", 2, "program");
    check_error(magic_line + "program p\n  call q\nend\n", 3, "program");
    check_error(magic_line + "job 0 0 : fanout 2 q\n", 2, "program");
}

TEST_CASE("a program is defined only at its end, so it cannot call itself") {
    const auto e = check_error(magic_line + "program p\n  call p\nend\n", 3, "program");
    CHECK_THAT(std::string(e.what()), Contains("cannot call itself"));
}

TEST_CASE("a program used before its definition is an error") {
    check_error(magic_line + "job 0 0 later\nprogram later\n  yield\nend\n", 2, "program");
}

TEST_CASE("a duplicate program name is an error") {
    const auto e = check_error(
        magic_line + "program p\n  yield\nend\njob 0 0 p\nprogram p\n  yield\nend\n", 6, "program");
    CHECK_THAT(std::string(e.what()), Contains("line 2"));
}

TEST_CASE("a duplicate class id is an error") {
    check_error(magic_line + "class 4 a\nclass 4 b\n", 3, "class_id");
}

TEST_CASE("a duplicate channel is an error") {
    check_error(magic_line + "channel c\nchannel c capacity=2\n", 3, "channel");
}

TEST_CASE("a class id above 65535 is an error") {
    check_error(magic_line + "class 65536 big\n", 2, "class_id");
}

TEST_CASE("an undeclared class id is an error") {
    check_error(magic_line + "class 1 one\njob 0 2 : yield\n", 3, "class_id");
    // Declaring any class removes the implicit class 0.
    check_error(magic_line + "class 1 one\njob 0 0 : yield\n", 3, "class_id");
}

TEST_CASE("an undeclared channel is an error") {
    check_error(magic_line + "channel a\nprogram p\n  send b\nend\n", 4, "channel");
}

TEST_CASE("bad channel options are errors") {
    check_error(magic_line + "channel c capacity=0\n", 2, "capacity");
    check_error(magic_line + "channel c consumers=x\n", 2, "consumers");
    check_error(magic_line + "channel c capacity=1 capacity=2\n", 2, "capacity");
    check_error(magic_line + "channel c depth=3\n", 2, "option");
    check_error(magic_line + "channel c capacity=1 consumers=1 more=1\n", 2, "channel");
}

TEST_CASE("calling a program that sends is an error at the call") {
    const std::string stage = "channel s\nprogram stage\n  compute 1\n  send s\nend\n";
    const auto e =
        check_error(magic_line + stage + "program outer\n  call stage\nend\n", 8, "program");
    CHECK_THAT(std::string(e.what()), Contains("send is only allowed"));
    check_error(magic_line + stage + "job 0 0 : fanout 2 stage\n", 7, "program");
}

TEST_CASE("a program that sends may be a job's own program") {
    const auto jobs =
        read_text(magic_line + "channel s\nprogram stage\n  send s\nend\njob 0 0 stage\n");
    CHECK(jobs.size() == 1);
}

TEST_CASE("end without program is an error") {
    check_error(magic_line + "end\n", 2, "directive");
}

TEST_CASE("a program not closed before the end of the file is an error at its start") {
    const auto e = check_error(magic_line + "job 0 0 : yield\nprogram open\n  yield\n", 3, "end");
    CHECK_THAT(std::string(e.what()), Contains("open"));
    check_error(magic_line + "program open\n  yield\n", 2, "end");
}

TEST_CASE("a program directive inside an open program is an error") {
    check_error(magic_line + "program a\n  yield\nprogram b\n", 4, "directive");
}

TEST_CASE("a job inside an open program is an error") {
    check_error(magic_line + "program a\n  yield\njob 0 0 a\n", 4, "step");
}

TEST_CASE("nesting deeper than 64 frames is an error at the call that exceeds it") {
    std::string text = magic_line + "program p0\n  compute 1\nend\n";
    for (int i = 1; i <= 64; ++i) {
        text += "program p" + std::to_string(i) + "\n  call p" + std::to_string(i - 1) + "\nend\n";
    }
    // p64 starts on line 194; its call on line 195 would make 65 frames.
    const auto e = check_error(text, 2 + 3 * 64 + 1, "program");
    CHECK_THAT(std::string(e.what()), Contains("64"));
}

TEST_CASE("a program with no steps is an error at its end") {
    check_error(magic_line + "program empty\n# nothing here\nend\n", 4, "program");
}

TEST_CASE("an inline program with no steps is an error") {
    check_error(magic_line + "job 0 0 :\n", 2, "program");
    check_error(magic_line + "job 0 0 : yield ; ; yield\n", 2, "step");
    check_error(magic_line + "job 0 0 : yield ;\n", 2, "step");
}

TEST_CASE("header directives after the first job are errors") {
    check_error(magic_line + "job 0 0 : yield\nclass 1 late\n", 3, "directive");
    check_error(magic_line + "job 0 0 : yield\nmeta k v\n", 3, "directive");
    check_error(magic_line + "job 0 0 : yield\nchannel late\n", 3, "directive");
}

TEST_CASE("names with characters outside the name alphabet are errors") {
    check_error(magic_line + "program a/b\n", 2, "program");
    check_error(magic_line + "class 0 a:b\n", 2, "name");
    check_error(magic_line + "channel a,b\n", 2, "channel");
}

TEST_CASE("a line longer than the limit is an error, not an allocation without bound") {
    const std::string text = magic_line + "meta k " + std::string(max_line_bytes + 10, 'x');
    check_error(text, 2, "line");
}

TEST_CASE("a missing file is an input_error naming the file") {
    temp_dir dir;
    const std::string path = dir.file("does-not-exist.trace");
    try {
        open_trace(path);
        FAIL("no error");
    } catch (const input_error& e) {
        CHECK(e.file() == path);
        CHECK(e.field() == "file");
        CHECK_THAT(std::string(e.what()), Contains("does-not-exist.trace"));
    }
    CHECK_THROWS_AS(open_input(path), input_error);
}

TEST_CASE("a directory is an input_error, not a crash") {
    temp_dir dir;
    CHECK_THROWS_AS(drain(*open_trace(dir.path().string())), input_error);
}

TEST_CASE("binary garbage is an input_error with printable text") {
    std::string garbage = "schedlab-trace 1\n";
    seeded_rng rng(11);
    for (int i = 0; i < 4096; ++i) {
        garbage += static_cast<char>(rng.below(256));
    }
    const auto e = read_error(garbage);
    for (const char ch : std::string(e.what())) {
        const auto byte = static_cast<unsigned char>(ch);
        CHECK((byte >= 0x20 && byte < 0x7f));
    }
}

TEST_CASE("random mutations of a valid trace either read or raise input_error") {
    temp_dir dir;
    seeded_rng rng(2024);
    const std::string alphabet = "0123456789 ;:#\n\r\t-+ex\x01\xff";
    for (int round = 0; round < 2000; ++round) {
        std::string text = full_trace;
        const auto edits = 1 + rng.below(4);
        for (std::uint64_t i = 0; i < edits; ++i) {
            const auto at = rng.below(text.size());
            switch (rng.below(3)) {
                case 0:
                    text[at] = alphabet[rng.below(alphabet.size())];
                    break;
                case 1:
                    text.erase(at, 1 + rng.below(8));
                    break;
                default:
                    text.insert(at, 1, alphabet[rng.below(alphabet.size())]);
                    break;
            }
        }
        const std::string path = dir.write("m.trace", text);
        try {
            auto src = open_trace(path);
            drain(*src);
        } catch (const input_error&) {
            // A clear error is the expected outcome for most mutations.
        }
    }
    SUCCEED("no crash and no other exception type");
}

namespace {

// Yields a few jobs and then fails, like a source whose input breaks half way.
class failing_source final : public job_source {
public:
    failing_source() {
        header_.classes.push_back({0, "default"});
        prog_ = std::make_shared<program>(program{"p", {step{}}});
    }
    const workload_header& header() const override { return header_; }
    std::optional<job> next() override {
        if (count_ == 3) {
            throw input_error("upstream", "line 9", "field", "something");
        }
        return job{count_++, 0, prog_};
    }

private:
    workload_header header_;
    std::shared_ptr<const program> prog_;
    std::uint64_t count_ = 0;
};

// Hands out whatever jobs a test gives it, to feed the writer data the reader never makes.
class list_source final : public job_source {
public:
    list_source(workload_header header, std::vector<job> jobs)
        : header_(std::move(header)), jobs_(std::move(jobs)) {}
    const workload_header& header() const override { return header_; }
    std::optional<job> next() override {
        if (at_ == jobs_.size()) {
            return std::nullopt;
        }
        return jobs_[at_++];
    }

private:
    workload_header header_;
    std::vector<job> jobs_;
    std::size_t at_ = 0;
};

workload_header one_class_header() {
    workload_header header;
    header.classes.push_back({0, "default"});
    header.channels.push_back({"c", 64, 1});
    return header;
}

std::shared_ptr<program> named(std::string name, std::vector<step> steps) {
    return std::make_shared<program>(program{std::move(name), std::move(steps)});
}

step call_of(const program& sub) {
    step s;
    s.kind = step_kind::call;
    s.sub = &sub;
    return s;
}

step send_on(std::uint32_t channel) {
    step s;
    s.kind = step_kind::send;
    s.channel = channel;
    return s;
}

}  // namespace

TEST_CASE("a source that throws mid-way leaves no file and no temporary behind") {
    temp_dir dir;
    const std::string path = dir.file("out.trace");
    failing_source src;
    CHECK_THROWS_AS(write_trace(src, path), input_error);
    CHECK(dir.entries().empty());
}

TEST_CASE("a failed write leaves an existing file untouched") {
    temp_dir dir;
    const std::string path = dir.write("out.trace", "previous content\n");
    failing_source src;
    CHECK_THROWS_AS(write_trace(src, path), input_error);
    CHECK(slurp(path) == "previous content\n");
    CHECK(dir.entries() == std::vector<std::string>{"out.trace"});
}

TEST_CASE("writing into a missing directory is a system_error") {
    temp_dir dir;
    failing_source src;
    CHECK_THROWS_AS(write_trace(src, dir.file("no/such/dir.trace")), std::system_error);
}

TEST_CASE("measure_program counts what the reader counts") {
    auto leaf = named("leaf", {step{step_kind::ready, 4, 10, nullptr, 0}});
    auto top = named("top", {step{step_kind::fanout, 3, 0, leaf.get(), 0},
                             step{step_kind::compute, 1, 7, nullptr, 0}, call_of(*leaf)});
    job_totals totals;
    REQUIRE(measure_program(*top, totals) == job_bound::none);
    CHECK(totals.frames == 5);              // top, three fan-out children, one call
    CHECK(totals.demand_ns == 4 * 40 + 7);  // four runs of leaf and the compute
    CHECK(totals.operations == 1 + 3 * 4 + 1 + 1 + 4);
    auto heavy = named("heavy", {step{step_kind::ready, 1048576, 0, nullptr, 0}});
    auto over = named("over", {step{step_kind::fanout, 17, 0, heavy.get(), 0}});
    CHECK(measure_program(*over, totals) == job_bound::operations);
    CHECK(std::string(job_bound_field(job_bound::operations)) == "operations");
}

TEST_CASE("the writer emits sub-programs before the programs that call them") {
    auto leaf = named("leaf", {step{}});
    auto mid = named("mid", {call_of(*leaf)});
    auto top = named("top", {call_of(*mid), call_of(*leaf)});
    list_source src(one_class_header(), {job{0, 0, top}, job{1, 0, mid}});
    temp_dir dir;
    write_trace(src, dir.file("t.trace"));
    const std::string text = slurp(dir.file("t.trace"));
    CHECK(text.find("program leaf") < text.find("program mid"));
    CHECK(text.find("program mid") < text.find("program top"));
    CHECK(text.find("program top") < text.find("job 0 0 top"));
    // Each program is written once, however many jobs use it.
    CHECK(text.find("program mid", text.find("program mid") + 1) == std::string::npos);
}

TEST_CASE("the writer accepts equal copies of a program under one name") {
    auto a = named("same", {step{}});
    auto b = named("same", {step{}});
    list_source src(one_class_header(), {job{0, 0, a}, job{1, 0, b}});
    temp_dir dir;
    write_trace(src, dir.file("t.trace"));
    const auto jobs = drain(*open_trace(dir.file("t.trace")));
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].prog == jobs[1].prog);
}

TEST_CASE("the writer rejects data the reader would reject") {
    temp_dir dir;
    const std::string path = dir.file("t.trace");
    auto leaf = named("leaf", {step{}});
    auto sender = named("sender", {send_on(0)});

    SECTION("decreasing arrivals") {
        list_source src(one_class_header(), {job{5, 0, leaf}, job{4, 0, leaf}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("an undeclared class") {
        list_source src(one_class_header(), {job{0, 9, leaf}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a send inside a called program") {
        auto caller = named("caller", {call_of(*sender)});
        list_source src(one_class_header(), {job{0, 0, caller}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a send to an undeclared channel") {
        auto far = named("far", {send_on(3)});
        list_source src(one_class_header(), {job{0, 0, far}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("an unnamed sub-program") {
        auto anonymous = named("", {step{}});
        auto caller = named("caller", {call_of(*anonymous)});
        list_source src(one_class_header(), {job{0, 0, caller}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("two different programs with one name") {
        auto other = named("leaf", {send_on(0)});
        list_source src(one_class_header(), {job{0, 0, leaf}, job{1, 0, other}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a name with a space") {
        auto spaced = named("has space", {step{}});
        list_source src(one_class_header(), {job{0, 0, spaced}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a program with no steps") {
        auto empty = named("empty", {});
        list_source src(one_class_header(), {job{0, 0, empty}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a call cycle") {
        auto loop = named("loop", {step{}});
        loop->steps[0] = call_of(*loop);
        list_source src(one_class_header(), {job{0, 0, loop}});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    SECTION("a job over the per-job operations bound") {
        auto heavy = named("heavy", {step{step_kind::ready, 1048576, 0, nullptr, 0}});
        auto over = named("over", {step{step_kind::fanout, 17, 0, heavy.get(), 0}});
        list_source src(one_class_header(), {job{0, 0, over}});
        CHECK_THROWS_WITH(write_trace(src, path), Contains("program over") && Contains("2^24"));
    }
    SECTION("a meta value with a line break") {
        workload_header header = one_class_header();
        header.meta.emplace_back("k", "two\nlines");
        list_source src(header, {});
        CHECK_THROWS_AS(write_trace(src, path), std::invalid_argument);
    }
    CHECK(dir.entries().empty());
}

TEST_CASE("trace_writer writes jobs incrementally and commits atomically") {
    temp_dir dir;
    const std::string path = dir.file("live.trace");
    auto leaf = named("leaf", {step{}});
    trace_writer writer(path);
    writer.write_header(one_class_header());
    writer.add_job(job{0, 0, leaf});
    writer.add_job(job{3, 0, leaf});
    CHECK(writer.jobs_written() == 2);
    CHECK_FALSE(std::filesystem::exists(path));
    writer.commit();
    CHECK(std::filesystem::exists(path));
    CHECK(drain(*open_trace(path)).size() == 2);
    CHECK(dir.entries() == std::vector<std::string>{"live.trace"});
}

TEST_CASE("trace_writer abort removes the temporary file") {
    temp_dir dir;
    {
        trace_writer writer(dir.file("live.trace"));
        writer.write_header(one_class_header());
        writer.abort();
        CHECK_THROWS_AS(writer.commit(), std::logic_error);
    }
    {
        trace_writer dropped(dir.file("dropped.trace"));
        dropped.write_header(one_class_header());
    }
    CHECK(dir.entries().empty());
}

TEST_CASE("open_input reads a text trace and is_capture tells it from a capture") {
    temp_dir dir;
    const std::string text = dir.write("t.trace", magic_line + "job 0 0 : yield\n");
    CHECK_FALSE(is_capture(text));
    CHECK_FALSE(is_capture(dir.file("missing")));
    CHECK(drain(*open_input(text)).size() == 1);
    const std::string capture = std::string(SCHEDLAB_DATA_DIR) + "/modbus_polling.pcap";
    CHECK(is_capture(capture));
    CHECK(meta_value(open_input(capture)->header(), "format") == "pcap-us");
}
