#include "tools/output_file.hpp"

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "traces/temp_cleanup.hpp"
#include "traces/trace.hpp"

namespace schedlab::tools {

void check_output_path(const std::string& option, const std::string& path) {
    namespace fs = std::filesystem;
    const auto fail = [&](const std::string& why) {
        throw std::invalid_argument(option + " " + path + ": cannot write there: " + why);
    };
    if (path.empty()) fail("expected a file name");
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail("it is a directory");
    traces::check_replaceable(path);
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec)) fail("directory " + dir.string() + " does not exist");
    // The temporary file is created beside the output, so the directory must take new files.
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        fail("directory " + dir.string() + ": " + std::strerror(errno));
    }
}

void write_file_atomically(const std::string& path, std::string_view contents) {
    traces::check_replaceable(path);
    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    // Removed on SIGINT or SIGTERM too; registered before the file exists.
    traces::temp_cleanup cleanup(temp);
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (f == nullptr) {
        throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
    }
    const bool wrote = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
    const bool closed = std::fclose(f) == 0;
    if (!wrote || !closed || std::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(temp.c_str());
        throw std::runtime_error(path + ": cannot write: " + std::strerror(err));
    }
}

}  // namespace schedlab::tools
