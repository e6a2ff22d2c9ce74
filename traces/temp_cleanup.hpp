// Temporary files that an interrupted command must not leave behind. A writer that builds its
// output in a temporary file and renames it into place registers the temporary here; on
// SIGINT or SIGTERM an async-signal-safe handler unlinks every registered path and re-raises
// the signal with its default action, so the process still ends as the signal says.
#pragma once

#include <string>

namespace schedlab::traces {

// Registers one path for removal on SIGINT or SIGTERM until release() or destruction. The
// handler is installed at a registration for each signal whose disposition is then the default
// (an ignored signal stays ignored, another handler stays in place). At most 256 paths, each
// shorter than 4096 bytes, are held at once; a path beyond that is not registered and is only
// removed by its writer's own error handling.
class temp_cleanup {
public:
    enum class kind { file, directory };

    temp_cleanup() = default;
    // Register before creating the file, so that no signal falls between creation and
    // registration. A directory is removed (rmdir) after every registered file, so a private
    // temporary directory goes once the files registered inside it are gone.
    explicit temp_cleanup(const std::string& path, kind what = kind::file) noexcept;
    ~temp_cleanup() { release(); }
    temp_cleanup(temp_cleanup&& other) noexcept : slot_(other.slot_) { other.slot_ = -1; }
    temp_cleanup& operator=(temp_cleanup&& other) noexcept;
    temp_cleanup(const temp_cleanup&) = delete;
    temp_cleanup& operator=(const temp_cleanup&) = delete;

    // Stops guarding the path (it was renamed or removed); safe to call more than once.
    void release() noexcept;
    bool registered() const { return slot_ >= 0; }

private:
    int slot_ = -1;
};

}  // namespace schedlab::traces
