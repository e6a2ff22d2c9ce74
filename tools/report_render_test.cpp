// report.html opened in a real browser: headless Chromium loads the file offline, the page's
// own script measures every chart's marks and listens for script errors, and the DOM it leaves
// says what happened. Two damaged copies show that the check can fail.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tools/test_support.hpp"

namespace fs = std::filesystem;

namespace {

using schedlab::test_support::outcome;
using schedlab::test_support::slurp;

using schedlab::test_support::scratch;

int run(const std::string& cmd) {
    const int raw = std::system(cmd.c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

const char* chromium_path() {
    for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return nullptr;
}

// The DOM after the page's scripts ran, as headless Chromium serialises it.
std::string rendered_dom(const fs::path& html, const scratch& s) {
    const char* chromium = chromium_path();
    REQUIRE(chromium != nullptr);  // tools/setup.sh installs Debian's chromium package
    const fs::path dom = s.dir / "dom.html";
    // A private profile per call, so that concurrent test processes share nothing; the page is
    // a file, so the browser needs no network.
    const std::string cmd = "timeout 120 " + std::string(chromium) +
                            " --headless --no-sandbox --disable-gpu --no-first-run"
                            " --user-data-dir=" +
                            (s.dir / "profile").string() + " --dump-dom file://" + html.string() +
                            " >" + dom.string() + " 2>" + (s.dir / "chromium.log").string() +
                            " </dev/null";
    INFO(slurp(s.dir / "chromium.log"));
    REQUIRE(run(cmd) == 0);
    return slurp(dom);
}

// The page's verdict: data-state and text of #render-status.
std::pair<std::string, std::string> verdict(const std::string& dom) {
    static const std::regex status(R"re(<p id="render-status" data-state="([a-z]+)">([^<]*)<)re");
    std::smatch m;
    if (!std::regex_search(dom, m, status)) return {"missing", ""};
    return {m[1].str(), m[2].str()};
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("report.html draws every chart in headless Chromium without a script error") {
    scratch s;
    const std::string compare =
        std::string(SCHEDLAB_BINARY) + " compare --inputs " + SCHEDLAB_DATA_DIR +
        "/smb2_line_rate_burst.pcap gen:mixed:jobs=300 --policies disabled adaptive stash "
        "--seeds 3 -q --no-timelines --check-runs 2 -o " +
        (s.dir / "out").string() + " >/dev/null 2>&1";
    REQUIRE(run(compare) == 0);
    const fs::path html = s.dir / "out" / "report.html";
    const std::string page = slurp(html);
    const std::size_t charts = count_of(page, "<svg class=\"chart\"");
    // Per input: the throughput/p99 scatter, the pool bars and one CDF per class (all, and the
    // capture's tcp class or mixed's request and stream classes).
    REQUIRE(charts >= 6);

    const auto [state, text] = verdict(rendered_dom(html, s));
    INFO(text);
    CHECK(state == "ok");
    CHECK(text == "charts-ok " + std::to_string(charts));
}

TEST_CASE("the render check fails on a chart that drew less than it should") {
    scratch s;
    const std::string compare = std::string(SCHEDLAB_BINARY) +
                                " compare --inputs gen:fanout:width=8,jobs=50 --policies adaptive "
                                "stash --seeds 2 -q --no-timelines --check-runs 0 -o " +
                                (s.dir / "out").string() + " >/dev/null 2>&1";
    REQUIRE(run(compare) == 0);
    std::string page = slurp(s.dir / "out" / "report.html");
    // Claim one more mark than the first chart has.
    static const std::regex marks(R"re(data-marks="([0-9]+)")re");
    std::smatch m;
    REQUIRE(std::regex_search(page, m, marks));
    const std::string more = "data-marks=\"" + std::to_string(std::stoul(m[1].str()) + 1) + "\"";
    page.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)),
                 more);
    const fs::path damaged = s.dir / "damaged.html";
    std::ofstream(damaged, std::ios::binary) << page;

    const auto [state, text] = verdict(rendered_dom(damaged, s));
    CHECK(state == "failed");
    CHECK(text.rfind("charts-failed", 0) == 0);
}

TEST_CASE("the render check reports a script error") {
    scratch s;
    const std::string compare = std::string(SCHEDLAB_BINARY) +
                                " compare --inputs gen:chain:depth=4,jobs=50 --policies adaptive "
                                "--seeds 2 -q --no-timelines --check-runs 0 -o " +
                                (s.dir / "out").string() + " >/dev/null 2>&1";
    REQUIRE(run(compare) == 0);
    std::string page = slurp(s.dir / "out" / "report.html");
    const auto end = page.rfind("</body>");
    REQUIRE(end != std::string::npos);
    page.insert(end, "<script>undefined_function_of_the_test();</script>\n");
    const fs::path damaged = s.dir / "damaged.html";
    std::ofstream(damaged, std::ios::binary) << page;

    const auto [state, text] = verdict(rendered_dom(damaged, s));
    CHECK(state == "error");
    CHECK(text.find("undefined_function_of_the_test") != std::string::npos);
}
