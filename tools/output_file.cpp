#include "tools/output_file.hpp"

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "traces/temp_cleanup.hpp"

namespace schedlab::tools {

void write_file_atomically(const std::string& path, std::string_view contents) {
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
