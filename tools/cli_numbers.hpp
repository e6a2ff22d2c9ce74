// Strict unsigned options for the command line. CLI11 reads an unsigned option with strtoull
// in base 0, so "-1" wraps to the type's maximum, a value past it saturates and "010" is octal;
// every unsigned numeric option goes through unsigned_in() instead.
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace schedlab::tools {

// Accepts only plain decimal digits naming a value in [min, max] and hands CLI11 the value in
// canonical decimal, so that its own conversion reads exactly that. A rejected value is a
// CLI::ValidationError, which names the option and ends the command with exit status 2.
inline CLI::Validator unsigned_in(std::uint64_t min, std::uint64_t max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    return CLI::Validator(
        [min, max, range](std::string& text) -> std::string {
            std::uint64_t value = 0;
            const bool digits =
                !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (!digits || ec != std::errc{} || ptr != text.data() + text.size() || value < min ||
                value > max) {
                return "expected a decimal integer in " + range + ", got '" + text + "'";
            }
            text = std::to_string(value);
            return {};
        },
        "in " + range);
}

// The whole range of the option's own type; its help shows only the type, as the range is
// the type's.
template <class T>
CLI::Validator unsigned_of() {
    static_assert(std::is_unsigned_v<T>);
    CLI::Validator validator = unsigned_in(0, std::numeric_limits<T>::max());
    validator.description("");
    return validator;
}

}  // namespace schedlab::tools
