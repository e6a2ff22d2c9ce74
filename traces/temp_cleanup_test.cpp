#include "traces/temp_cleanup.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "traces/test_util.hpp"

using namespace schedlab::traces;
using namespace schedlab::traces::test;

namespace {

// Runs `body` in a child process and returns its wait status.
template <class F>
int in_child(F&& body) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        body();
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    return status;
}

}  // namespace

TEST_CASE("SIGTERM removes registered temporaries and still ends the process by the signal") {
    temp_dir dir;
    const std::string kept = dir.file("kept.tmp");
    const std::string guarded = dir.file("guarded.tmp");
    const int status = in_child([&] {
        // The test runner's own handler would report the signal as a failure of this test.
        std::signal(SIGTERM, SIG_DFL);
        temp_cleanup released(kept);
        std::ofstream(kept) << "done";
        released.release();
        const temp_cleanup guard(guarded);
        std::ofstream(guarded) << "half";
        ::raise(SIGTERM);
    });
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK_FALSE(std::filesystem::exists(guarded));
    // A released path is the writer's again: renamed into place, it must survive.
    CHECK(std::filesystem::exists(kept));
}

TEST_CASE("SIGINT removes a registered directory after the files registered in it") {
    temp_dir dir;
    const std::string inner = dir.file("private");
    const int status = in_child([&] {
        std::signal(SIGINT, SIG_DFL);
        // The directory is registered first; its file must still go before it.
        const temp_cleanup directory(inner, temp_cleanup::kind::directory);
        std::filesystem::create_directory(inner);
        const temp_cleanup file(inner + "/input.trace");
        std::ofstream(inner + "/input.trace") << "half";
        ::raise(SIGINT);
    });
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGINT);
    CHECK(dir.entries().empty());
}
