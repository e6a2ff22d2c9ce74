// Output files are written whole or not at all: into a temporary beside the target, renamed
// over it only once every byte is out, and removed on an error, SIGINT or SIGTERM.
#pragma once

#include <string>
#include <string_view>

namespace schedlab::tools {

// Throws std::runtime_error naming the file when it cannot be written.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace schedlab::tools
