// What the command-line tests share: a scratch directory removed at the end of a test case, a
// whole file read into a string, and the outcome of running a command.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace schedlab::test_support {

struct outcome {
    int status = -1;
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A fresh directory under /tmp, named after what uses it, removed with everything in it.
struct scratch {
    std::filesystem::path dir;
    explicit scratch(const std::string& prefix = "schedlab-test") {
        std::string name = "/tmp/" + prefix + "-XXXXXX";
        if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = name;
    }
    ~scratch() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return dir / name; }
};

// Runs `command` through the shell with no input, its stdout and stderr kept in files of the
// scratch directory; a death by signal is status 128 + the signal, as the shell reports it.
inline outcome run_shell(const std::string& command, const scratch& s) {
    const auto out = s / "stdout", err = s / "stderr";
    const std::string full =
        "(" + command + ") >" + out.string() + " 2>" + err.string() + " </dev/null";
    const int raw = std::system(full.c_str());
    outcome o;
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    o.out = slurp(out);
    o.err = slurp(err);
    return o;
}

}  // namespace schedlab::test_support
