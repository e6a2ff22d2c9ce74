// Parsing helpers shared by the policy specs: `name[:key=value,key=value]` or `name:value`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace schedlab::policies::detail {

struct spec_parts {
    std::string_view name;
    std::string_view rest;  // everything after the first ':' (may be empty)
};

spec_parts split_spec(std::string_view text);

// Splits `a=1,b=2` into pairs; a bare token is returned with an empty key. A key given twice
// throws std::invalid_argument naming `what` and the key, since a later value would otherwise
// silently replace an earlier one.
std::vector<std::pair<std::string_view, std::string_view>> split_options(std::string_view rest,
                                                                         std::string_view what);

// Decimal unsigned integer in [lo, hi]; throws std::invalid_argument mentioning `what`.
std::uint64_t parse_uint(std::string_view value, std::string_view what, std::uint64_t lo,
                         std::uint64_t hi);

}  // namespace schedlab::policies::detail
