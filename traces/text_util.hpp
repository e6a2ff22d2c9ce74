// Strict number parsing and small string helpers shared by the readers and the generators.
// Internal to the traces library.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace schedlab::traces::detail {

enum class number_status { ok, not_decimal, overflow };

// Only plain decimal digits are numbers: signs, exponents, hex prefixes and trailing letters
// would otherwise be read by some parsers and silently mean something else.
inline number_status parse_u64(std::string_view text, std::uint64_t& value) {
    if (text.empty()) {
        return number_status::not_decimal;
    }
    for (const char ch : text) {
        if (ch < '0' || ch > '9') {
            return number_status::not_decimal;
        }
    }
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
        return number_status::overflow;
    }
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        return number_status::not_decimal;
    }
    return number_status::ok;
}

// Builds "prefix" followed by a number. Appending to a named string sidesteps a false
// -Wrestrict alarm that GCC 12 raises for a literal plus a temporary string.
inline std::string numbered(const char* prefix, std::uint64_t number) {
    std::string out(prefix);
    out += std::to_string(number);
    return out;
}

}  // namespace schedlab::traces::detail
