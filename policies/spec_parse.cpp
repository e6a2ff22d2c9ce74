#include "policies/spec_parse.hpp"

#include <charconv>
#include <stdexcept>

namespace schedlab::policies::detail {

spec_parts split_spec(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return {text, {}};
    return {text.substr(0, colon), text.substr(colon + 1)};
}

std::vector<std::pair<std::string_view, std::string_view>> split_options(std::string_view rest,
                                                                         std::string_view what) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto token = rest.substr(0, comma);
        const auto eq = token.find('=');
        if (eq == std::string_view::npos) {
            out.emplace_back(std::string_view{}, token);
        } else {
            const auto key = token.substr(0, eq);
            for (const auto& [seen, value] : out) {
                if (!key.empty() && seen == key) {
                    throw std::invalid_argument(std::string(what) + ": option '" +
                                                std::string(key) + "' given twice ('" +
                                                std::string(key) + "=" + std::string(value) +
                                                "' and '" + std::string(token) + "')");
                }
            }
            out.emplace_back(key, token.substr(eq + 1));
        }
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    return out;
}

std::uint64_t parse_uint(std::string_view value, std::string_view what, std::uint64_t lo,
                         std::uint64_t hi) {
    std::uint64_t out = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, out);
    if (value.empty() || ec != std::errc{} || ptr != end || out < lo || out > hi) {
        throw std::invalid_argument(std::string(what) + ": expected an integer in [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
                                    std::string(value) + "'");
    }
    return out;
}

}  // namespace schedlab::policies::detail
