// Output files are written whole or not at all: into a temporary beside the target, renamed
// over it only once every byte is out, and removed on an error, SIGINT or SIGTERM.
#pragma once

#include <string>
#include <string_view>

namespace schedlab::tools {

// Checks, before any work, that `path` can be written later: its directory exists and is
// writable and the path is not a directory. Throws std::invalid_argument naming `option` and
// the path, so a long run does not end in an output it cannot write.
void check_output_path(const std::string& option, const std::string& path);

// Throws std::runtime_error naming the file when it cannot be written.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace schedlab::tools
