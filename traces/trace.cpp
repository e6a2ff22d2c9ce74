#include "traces/trace.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace schedlab::traces {

void check_replaceable(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(path, ec);
    if (ec || st.type() == fs::file_type::not_found || st.type() == fs::file_type::regular) {
        return;  // a new path, a regular file, or nothing that can be inspected (open says)
    }
    throw input_error(path, "", "output",
                      "a regular file or a new path (outputs are written to a temporary and "
                      "renamed into place, which would replace this " +
                          std::string(st.type() == fs::file_type::symlink     ? "symlink"
                                      : st.type() == fs::file_type::directory ? "directory"
                                                                              : "special file") +
                          ")");
}

const char* to_string(step_kind kind) {
    switch (kind) {
        case step_kind::compute:
            return "compute";
        case step_kind::io:
            return "io";
        case step_kind::ready:
            return "ready";
        case step_kind::call:
            return "call";
        case step_kind::fanout:
            return "fanout";
        case step_kind::yield:
            return "yield";
        case step_kind::send:
            return "send";
    }
    // A value outside the enumeration can only come from a cast; naming it keeps error
    // messages readable instead of crashing on a null pointer.
    return "unknown";
}

namespace {

// The offending text comes straight from untrusted input, which may be binary or megabytes
// long; escaping and truncating it keeps the message printable on any terminal.
std::string printable(const std::string& text) {
    constexpr std::size_t max_shown = 60;
    std::string out;
    out.reserve(text.size() < max_shown ? text.size() : max_shown + 3);
    std::size_t shown = 0;
    for (const char ch : text) {
        if (shown == max_shown) {
            out += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(ch);
        if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
            out += ch;
        } else {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        }
        ++shown;
    }
    return out;
}

std::string compose(const std::string& file, const std::string& where, const std::string& field,
                    const std::string& expected, const std::string& got) {
    std::string message = file + ":" + where + ": field '" + field + "': expected " + expected;
    if (!got.empty()) {
        message += ", got '" + printable(got) + "'";
    }
    return message;
}

}  // namespace

input_error::input_error(std::string file, std::string where, std::string field,
                         std::string expected, std::string got)
    : std::runtime_error(compose(file, where, field, expected, got)),
      file_(std::move(file)),
      where_(std::move(where)),
      field_(std::move(field)) {}

const class_decl* workload_header::find_class(std::uint32_t id) const {
    for (const auto& decl : classes) {
        if (decl.id == id) {
            return &decl;
        }
    }
    return nullptr;
}

}  // namespace schedlab::traces
