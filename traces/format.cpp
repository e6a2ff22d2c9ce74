#include "traces/format.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include "traces/file_buffer.hpp"
#include "traces/program_store.hpp"
#include "traces/text_util.hpp"

namespace schedlab::traces {

namespace {
__extension__ using u128 = unsigned __int128;
}  // namespace

namespace {

using detail::number_status;
using detail::parse_u64;

bool is_name_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), is_name_char);
}

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

constexpr std::string_view name_rule = "a name of letters, digits, '_', '-' or '.'";
constexpr std::string_view step_kinds = "one of compute, io, ready, call, fanout, yield, send";

std::optional<step_kind> parse_step_kind(std::string_view word) {
    if (word == "compute") {
        return step_kind::compute;
    }
    if (word == "io") {
        return step_kind::io;
    }
    if (word == "ready") {
        return step_kind::ready;
    }
    if (word == "call") {
        return step_kind::call;
    }
    if (word == "fanout") {
        return step_kind::fanout;
    }
    if (word == "yield") {
        return step_kind::yield;
    }
    if (word == "send") {
        return step_kind::send;
    }
    return std::nullopt;
}

std::string plural_fields(std::size_t count) {
    return std::to_string(count) + (count == 1 ? " field" : " fields");
}

class text_reader final : public job_source {
public:
    explicit text_reader(const std::string& path);

    const workload_header& header() const override { return header_; }
    std::optional<job> next() override;
    std::vector<std::pair<std::string, std::uint64_t>> stats() const override {
        return {{"jobs", jobs_}, {"named_programs", programs_.size()}, {"lines", line_no_}};
    }

private:
    // What a program costs when it runs once: how deep its calls go, how many frames it
    // creates (every fan-out child counted), and its demand summed over every step it runs.
    // The last two bound what one job can make the simulator do.
    struct program_totals {
        int depth = 1;
        bool has_send = false;
        job_totals cost;
    };
    struct named_entry {
        std::shared_ptr<const program> handle;
        program_totals totals;
        std::uint64_t line = 0;
    };
    struct open_program {
        bool active = false;
        std::string name;
        std::vector<step> steps;
        std::uint64_t line = 0;
        program_totals totals;
    };
    using token_list = std::vector<std::string_view>;

    bool read_line();
    static void tokenize(std::string_view line, token_list& tokens);
    [[noreturn]] void fail(std::string field, std::string expected,
                           std::string_view got = {}) const {
        fail_at(cur_line_, std::move(field), std::move(expected), got);
    }
    [[noreturn]] void fail_at(std::uint64_t line, std::string field, std::string expected,
                              std::string_view got) const {
        throw input_error(path_, "line " + std::to_string(line), std::move(field),
                          std::move(expected), std::string(got));
    }

    std::uint64_t number(std::string_view text, const char* field, std::uint64_t min,
                         std::uint64_t max, const std::string& range) const;
    void check_arity(const token_list& tokens, std::size_t begin, std::size_t end,
                     std::size_t required, std::size_t optional,
                     std::initializer_list<const char*> fields, const char* what) const;

    void parse_magic();
    void parse_meta(const token_list& tokens);
    void parse_class(const token_list& tokens);
    void parse_channel(const token_list& tokens);
    void begin_program(const token_list& tokens);
    void end_program(const token_list& tokens);
    // Parses tokens[begin, end) as one step and adds it to its program's totals.
    step parse_step(const token_list& tokens, std::size_t begin, std::size_t end,
                    program_totals& totals) const;
    void add_to(program_totals& totals, const step& s, const job_totals& sub,
                std::string_view word) const;
    job parse_job(const token_list& tokens);
    // Handles a program, end or step line; false if the line is something else.
    bool handle_program_line(const token_list& tokens);

    std::string path_;
    detail::file_buffer in_;
    std::string_view line_;
    std::uint64_t line_no_ = 0;
    std::uint64_t cur_line_ = 0;
    bool eof_ = false;
    token_list tokens_;

    workload_header header_;
    std::vector<bool> class_declared_ = std::vector<bool>(max_class_id + 1, false);
    std::vector<std::uint64_t> class_line_ = std::vector<std::uint64_t>(max_class_id + 1, 0);
    std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> channels_;
    std::vector<std::uint64_t> channel_line_;

    detail::program_store store_;
    std::unordered_map<std::string, named_entry, string_hash, std::equal_to<>> programs_;
    open_program open_;

    // The first job line is seen while reading the header; it is kept as text so that its
    // errors surface from next(), after the header is complete.
    std::string pending_text_;
    std::uint64_t pending_line_ = 0;
    bool has_pending_ = false;

    std::uint64_t last_arrival_ns_ = 0;
    std::uint64_t jobs_ = 0;
};

text_reader::text_reader(const std::string& path) : path_(path), in_(path) {
    if (!read_line()) {
        fail_at(1, "magic", "'schedlab-trace 1' on the first line, but the file is empty", {});
    }
    parse_magic();
    while (read_line()) {
        tokenize(line_, tokens_);
        if (tokens_.empty()) {
            continue;
        }
        if (open_.active) {
            handle_program_line(tokens_);
            continue;
        }
        const std::string_view word = tokens_[0];
        if (word == "job") {
            pending_text_.assign(line_);
            pending_line_ = cur_line_;
            has_pending_ = true;
            break;
        }
        if (word == "meta") {
            parse_meta(tokens_);
        } else if (word == "class") {
            parse_class(tokens_);
        } else if (word == "channel") {
            parse_channel(tokens_);
        } else if (!handle_program_line(tokens_)) {
            fail("directive", "one of meta, class, channel, program, end, job", word);
        }
    }
    if (!has_pending_ && open_.active) {
        fail_at(open_.line, "end", "'end' closing program " + open_.name + " before end of file",
                {});
    }
    if (header_.classes.empty()) {
        // A trace that declares no classes still needs one for its jobs to belong to.
        header_.classes.push_back({0, "default"});
        class_declared_[0] = true;
    }
}

bool text_reader::read_line() {
    if (eof_) {
        return false;
    }
    std::size_t scanned = 0;
    for (;;) {
        const std::size_t have = in_.available();
        const auto* begin = reinterpret_cast<const char*>(in_.data());
        const void* newline = std::memchr(begin + scanned, '\n', have - scanned);
        std::size_t length = 0;
        std::size_t used = 0;
        if (newline != nullptr) {
            length = static_cast<std::size_t>(static_cast<const char*>(newline) - begin);
            used = length + 1;
        } else {
            scanned = have;
            if (have > max_line_bytes) {
                fail_at(line_no_ + 1, "line",
                        "a line of at most " + std::to_string(max_line_bytes) + " bytes", {});
            }
            if (in_.ensure(have + 1)) {
                continue;
            }
            if (have == 0) {
                eof_ = true;
                return false;
            }
            length = have;
            used = have;
        }
        if (length > max_line_bytes) {
            fail_at(line_no_ + 1, "line",
                    "a line of at most " + std::to_string(max_line_bytes) + " bytes", {});
        }
        // The buffer keeps consumed bytes until the next read, so the view stays valid until
        // read_line() is called again.
        const char* start = reinterpret_cast<const char*>(in_.data());
        in_.consume(used);
        if (length > 0 && start[length - 1] == '\r') {
            --length;
        }
        line_ = std::string_view(start, length);
        cur_line_ = ++line_no_;
        return true;
    }
}

void text_reader::tokenize(std::string_view line, token_list& tokens) {
    tokens.clear();
    std::size_t pos = 0;
    const std::size_t size = line.size();
    while (pos < size && (line[pos] == ' ' || line[pos] == '\t')) {
        ++pos;
    }
    if (pos < size && line[pos] == '#') {
        return;
    }
    while (pos < size) {
        const char ch = line[pos];
        if (ch == ' ' || ch == '\t') {
            ++pos;
            continue;
        }
        if (ch == ';') {
            tokens.push_back(line.substr(pos, 1));
            ++pos;
            continue;
        }
        const std::size_t start = pos;
        while (pos < size && line[pos] != ' ' && line[pos] != '\t' && line[pos] != ';') {
            ++pos;
        }
        tokens.push_back(line.substr(start, pos - start));
    }
}

std::uint64_t text_reader::number(std::string_view text, const char* field, std::uint64_t min,
                                  std::uint64_t max, const std::string& range) const {
    std::uint64_t value = 0;
    switch (parse_u64(text, value)) {
        case number_status::not_decimal:
            fail(field, "a non-negative decimal integer", text);
        case number_status::overflow:
            fail(field, "a decimal integer that fits in 64 bits (" + range + ")", text);
        case number_status::ok:
            break;
    }
    if (value < min || value > max) {
        fail(field, range, text);
    }
    return value;
}

void text_reader::check_arity(const token_list& tokens, std::size_t begin, std::size_t end,
                              std::size_t required, std::size_t optional,
                              std::initializer_list<const char*> fields, const char* what) const {
    const std::size_t given = end - begin - 1;
    if (given < required) {
        const char* missing = fields.begin()[given];
        fail(missing, std::string("a value for '") + missing + "' after '" +
                          std::string(tokens[begin]) + "', but the " + what + " ends here");
    }
    if (given > required + optional) {
        fail(std::string(tokens[begin]),
             "at most " + plural_fields(required + optional) + " after '" +
                 std::string(tokens[begin]) + "'",
             tokens[begin + required + optional + 1]);
    }
}

void text_reader::parse_magic() {
    tokenize(line_, tokens_);
    if (tokens_.empty() || tokens_[0] != format_magic) {
        fail("magic", "'schedlab-trace 1' on the first line", line_);
    }
    if (tokens_.size() < 2) {
        fail("version", "a format version after 'schedlab-trace' (this reader supports 1)");
    }
    if (tokens_[1] != std::to_string(format_version)) {
        fail("version", "version 1 (the only version this reader supports)", tokens_[1]);
    }
    if (tokens_.size() > 2) {
        fail("version", "nothing after the version", tokens_[2]);
    }
}

void text_reader::parse_meta(const token_list& tokens) {
    if (tokens.size() < 2) {
        fail("key", "a key after 'meta', but the line ends here");
    }
    if (!valid_name(tokens[1])) {
        fail("key", std::string(name_rule), tokens[1]);
    }
    // The value is the raw rest of the line, so that it may hold spaces and semicolons.
    const std::size_t key_end =
        static_cast<std::size_t>(tokens[1].data() + tokens[1].size() - line_.data());
    std::string_view value = line_.substr(key_end);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    header_.meta.emplace_back(std::string(tokens[1]), std::string(value));
}

void text_reader::parse_class(const token_list& tokens) {
    check_arity(tokens, 0, tokens.size(), 2, 0, {"class_id", "name"}, "line");
    const auto id = static_cast<std::uint32_t>(
        number(tokens[1], "class_id", 0, max_class_id, "a class id in 0..65535"));
    if (class_declared_[id]) {
        fail("class_id",
             "a class id not declared before (it was declared on line " +
                 std::to_string(class_line_[id]) + ")",
             tokens[1]);
    }
    if (!valid_name(tokens[2])) {
        fail("name", std::string(name_rule), tokens[2]);
    }
    class_declared_[id] = true;
    class_line_[id] = cur_line_;
    header_.classes.push_back({id, std::string(tokens[2])});
}

void text_reader::parse_channel(const token_list& tokens) {
    check_arity(tokens, 0, tokens.size(), 1, 2, {"channel"}, "line");
    const std::string_view name = tokens[1];
    if (!valid_name(name)) {
        fail("channel", std::string(name_rule), name);
    }
    if (const auto found = channels_.find(name); found != channels_.end()) {
        fail("channel",
             "a channel name not declared before (it was declared on line " +
                 std::to_string(channel_line_[found->second]) + ")",
             name);
    }
    if (header_.channels.size() >= max_channels) {
        fail("channel", "at most 4096 channels", name);
    }
    channel_decl decl;
    decl.name = std::string(name);
    bool seen_capacity = false;
    bool seen_consumers = false;
    for (std::size_t i = 2; i < tokens.size(); ++i) {
        const std::string_view option = tokens[i];
        const std::size_t eq = option.find('=');
        const std::string_view key = option.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : option.substr(eq + 1);
        const std::string range = "an integer in 1..4294967295";
        if (key == "capacity" && eq != std::string_view::npos) {
            if (seen_capacity) {
                fail("capacity", "capacity given at most once", option);
            }
            seen_capacity = true;
            decl.capacity =
                static_cast<std::uint32_t>(number(value, "capacity", 1, UINT32_MAX, range));
        } else if (key == "consumers" && eq != std::string_view::npos) {
            if (seen_consumers) {
                fail("consumers", "consumers given at most once", option);
            }
            seen_consumers = true;
            decl.consumers = static_cast<std::uint32_t>(
                number(value, "consumers", 1, max_channel_consumers, "a count in 1..1024"));
        } else {
            fail("option", "capacity=N or consumers=K", option);
        }
    }
    const auto index = static_cast<std::uint32_t>(header_.channels.size());
    channels_.emplace(decl.name, index);
    channel_line_.push_back(cur_line_);
    header_.channels.push_back(std::move(decl));
}

void text_reader::begin_program(const token_list& tokens) {
    check_arity(tokens, 0, tokens.size(), 1, 0, {"program"}, "line");
    const std::string_view name = tokens[1];
    if (!valid_name(name)) {
        fail("program", std::string(name_rule), name);
    }
    if (const auto found = programs_.find(name); found != programs_.end()) {
        fail("program",
             "a program name not defined before (it was defined on line " +
                 std::to_string(found->second.line) + ")",
             name);
    }
    open_.active = true;
    open_.name = std::string(name);
    open_.steps.clear();
    open_.line = cur_line_;
    open_.totals = {};
}

void text_reader::end_program(const token_list& tokens) {
    check_arity(tokens, 0, tokens.size(), 0, 0, {}, "line");
    if (open_.steps.empty()) {
        fail("program", "at least one step in program " + open_.name + " before 'end'");
    }
    named_entry entry;
    entry.totals = open_.totals;
    entry.line = open_.line;
    entry.handle = store_.add(program{open_.name, std::move(open_.steps)});
    programs_.emplace(open_.name, std::move(entry));
    open_.steps = {};
    open_.active = false;
}

bool text_reader::handle_program_line(const token_list& tokens) {
    const std::string_view word = tokens[0];
    if (word == "program") {
        if (open_.active) {
            fail("directive",
                 "'end' closing program " + open_.name + " (opened on line " +
                     std::to_string(open_.line) + ") before another 'program'",
                 word);
        }
        begin_program(tokens);
        return true;
    }
    if (word == "end") {
        if (!open_.active) {
            fail("directive", "'end' only after a 'program NAME' line", word);
        }
        end_program(tokens);
        return true;
    }
    if (!open_.active) {
        return false;
    }
    if (!parse_step_kind(word)) {
        fail("step", std::string(step_kinds) + ", or 'end' closing program " + open_.name, word);
    }
    open_.steps.push_back(parse_step(tokens, 0, tokens.size(), open_.totals));
    return true;
}

step text_reader::parse_step(const token_list& tokens, std::size_t begin, std::size_t end,
                             program_totals& totals) const {
    const std::string_view word = tokens[begin];
    const auto kind = parse_step_kind(word);
    if (!kind) {
        fail("step", std::string(step_kinds), word);
    }
    const std::string duration_range = "a duration of at most 10^15 ns";
    job_totals sub_cost;
    step result;
    result.kind = *kind;
    switch (*kind) {
        case step_kind::compute:
        case step_kind::io:
            check_arity(tokens, begin, end, 1, 0, {"duration_ns"}, "step");
            result.duration_ns =
                number(tokens[begin + 1], "duration_ns", 0, max_duration_ns, duration_range);
            break;
        case step_kind::ready:
            check_arity(tokens, begin, end, 1, 1, {"count", "duration_ns"}, "step");
            result.count = static_cast<std::uint32_t>(
                number(tokens[begin + 1], "count", 1, max_ready_count, "a count in 1..1048576"));
            if (end - begin > 2) {
                result.duration_ns =
                    number(tokens[begin + 2], "duration_ns", 0, max_duration_ns, duration_range);
            }
            break;
        case step_kind::call:
        case step_kind::fanout: {
            std::size_t name_at = begin + 1;
            if (*kind == step_kind::call) {
                check_arity(tokens, begin, end, 1, 0, {"program"}, "step");
            } else {
                check_arity(tokens, begin, end, 2, 0, {"width", "program"}, "step");
                result.count = static_cast<std::uint32_t>(
                    number(tokens[begin + 1], "width", 1, max_fanout_width, "a width in 1..65536"));
                name_at = begin + 2;
            }
            const std::string_view name = tokens[name_at];
            const auto found = programs_.find(name);
            if (found == programs_.end()) {
                if (open_.active && name == open_.name) {
                    fail("program", "a program defined earlier (a program cannot call itself)",
                         name);
                }
                fail("program", "a program defined before this line", name);
            }
            const program_totals& sub = found->second.totals;
            if (sub.has_send) {
                fail("program",
                     "a program without send steps (send is only allowed in a job's top-level "
                     "program)",
                     name);
            }
            if (sub.depth + 1 > max_nesting_depth) {
                fail("program", "call/fanout nesting at most 64 frames deep", name);
            }
            totals.depth = std::max(totals.depth, sub.depth + 1);
            sub_cost = sub.cost;
            result.sub = found->second.handle.get();
            break;
        }
        case step_kind::yield:
            check_arity(tokens, begin, end, 0, 0, {}, "step");
            break;
        case step_kind::send: {
            check_arity(tokens, begin, end, 1, 0, {"channel"}, "step");
            const auto found = channels_.find(tokens[begin + 1]);
            if (found == channels_.end()) {
                fail("channel", "a channel declared in the header", tokens[begin + 1]);
            }
            result.channel = found->second;
            totals.has_send = true;
            break;
        }
    }
    add_to(totals, result, sub_cost, word);
    return result;
}

void text_reader::add_to(program_totals& totals, const step& s, const job_totals& sub,
                         std::string_view word) const {
    const job_bound bound = add_step_totals(totals.cost, s, sub);
    if (bound != job_bound::none) {
        fail(job_bound_field(bound), job_bound_rule(bound), word);
    }
}

job text_reader::parse_job(const token_list& tokens) {
    if (tokens.size() < 4) {
        static constexpr const char* fields[] = {"job", "arrival_ns", "class_id", "program"};
        const char* missing = fields[tokens.size()];
        fail(missing, std::string("a value for '") + missing +
                          "' in 'job ARRIVAL_NS CLASS_ID PROGRAM', but the line ends here");
    }
    job result;
    result.arrival_ns = number(tokens[1], "arrival_ns", 0, max_arrival_ns,
                               "an arrival of at most 2^62 ns (4611686018427387904)");
    if (result.arrival_ns < last_arrival_ns_) {
        fail("arrival_ns",
             "an arrival at or after " + std::to_string(last_arrival_ns_) +
                 " ns (arrivals must be non-decreasing)",
             tokens[1]);
    }
    const std::uint64_t class_id =
        number(tokens[2], "class_id", 0, max_class_id, "a class id in 0..65535");
    if (!class_declared_[class_id]) {
        fail("class_id", "a class id declared in the header", tokens[2]);
    }
    result.class_id = static_cast<std::uint32_t>(class_id);

    if (tokens[3] != ":") {
        if (tokens.size() > 4) {
            fail("job", "at most 3 fields after 'job' when it names a program", tokens[4]);
        }
        const auto found = programs_.find(tokens[3]);
        if (found == programs_.end()) {
            fail("program", "a program defined before this line", tokens[3]);
        }
        result.prog = found->second.handle;
    } else {
        if (tokens.size() == 4) {
            fail("program", "at least one step after ':'");
        }
        std::vector<step> steps;
        steps.reserve(static_cast<std::size_t>(
            std::count(tokens.begin() + 4, tokens.end(), std::string_view(";")) + 1));
        program_totals totals;
        std::size_t begin = 4;
        while (begin <= tokens.size()) {
            std::size_t end = begin;
            while (end < tokens.size() && tokens[end] != ";") {
                ++end;
            }
            if (end == begin) {
                fail("step", "a step between ';' separators");
            }
            steps.push_back(parse_step(tokens, begin, end, totals));
            begin = end + 1;
        }
        result.prog = store_.make_inline(std::move(steps));
    }
    last_arrival_ns_ = result.arrival_ns;
    ++jobs_;
    return result;
}

std::optional<job> text_reader::next() {
    if (has_pending_) {
        has_pending_ = false;
        cur_line_ = pending_line_;
        tokenize(pending_text_, tokens_);
        return parse_job(tokens_);
    }
    while (read_line()) {
        tokenize(line_, tokens_);
        if (tokens_.empty()) {
            continue;
        }
        if (open_.active) {
            handle_program_line(tokens_);
            continue;
        }
        const std::string_view word = tokens_[0];
        if (word == "job") {
            return parse_job(tokens_);
        }
        if (handle_program_line(tokens_)) {
            continue;
        }
        if (word == "meta" || word == "class" || word == "channel") {
            fail("directive",
                 "program, end or job (meta, class and channel belong before the first job)", word);
        }
        fail("directive", "one of meta, class, channel, program, end, job", word);
    }
    if (open_.active) {
        fail_at(open_.line, "end", "'end' closing program " + open_.name + " before end of file",
                {});
    }
    return std::nullopt;
}

// The writer formats numbers with std::to_chars, which never allocates, unlike
// std::to_string.
void append_decimal(std::string& out, std::uint64_t value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, result.ptr);
}

std::atomic<std::uint64_t> temp_counter{0};

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

bool same_steps(const program& a, const program& b) {
    if (a.steps.size() != b.steps.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        const step& x = a.steps[i];
        const step& y = b.steps[i];
        if (x.kind != y.kind) {
            return false;
        }
        switch (x.kind) {
            case step_kind::compute:
            case step_kind::io:
                if (x.duration_ns != y.duration_ns) {
                    return false;
                }
                break;
            case step_kind::ready:
                if (x.count != y.count || x.duration_ns != y.duration_ns) {
                    return false;
                }
                break;
            case step_kind::fanout:
            case step_kind::call:
                // Sub-programs are written before their callers, and a name is written once,
                // so equal names here mean equal sub-programs.
                if ((x.kind == step_kind::fanout && x.count != y.count) ||
                    x.sub->name != y.sub->name) {
                    return false;
                }
                break;
            case step_kind::yield:
                break;
            case step_kind::send:
                if (x.channel != y.channel) {
                    return false;
                }
                break;
        }
    }
    return true;
}

job_bound measure_into(const program& prog, job_totals& totals, int depth,
                       std::unordered_map<const program*, job_totals>& measured) {
    if (depth > max_nesting_depth) {
        // A cycle or a runaway chain in memory ends here instead of exhausting the stack.
        throw std::invalid_argument("program " + prog.name + " is nested deeper than 64 frames");
    }
    job_totals own;
    for (const step& s : prog.steps) {
        job_totals sub;
        if ((s.kind == step_kind::call || s.kind == step_kind::fanout) && s.sub != nullptr) {
            if (const auto found = measured.find(s.sub); found != measured.end()) {
                sub = found->second;
            } else if (const job_bound bound = measure_into(*s.sub, sub, depth + 1, measured);
                       bound != job_bound::none) {
                return bound;
            } else {
                measured.emplace(s.sub, sub);
            }
        }
        if (const job_bound bound = add_step_totals(own, s, sub); bound != job_bound::none) {
            return bound;
        }
    }
    totals = own;
    return job_bound::none;
}

}  // namespace

job_bound add_step_totals(job_totals& totals, const step& s, const job_totals& sub) {
    // In 128 bits: every part is below 2^64, so no sum or product wraps on the way.
    auto frames = static_cast<u128>(totals.frames);
    auto demand_ns = static_cast<u128>(totals.demand_ns);
    auto operations = static_cast<u128>(totals.operations);
    switch (s.kind) {
        case step_kind::compute:
        case step_kind::io:
            demand_ns += s.duration_ns;
            operations += 1;
            break;
        case step_kind::ready:
            demand_ns += static_cast<u128>(s.duration_ns) * s.count;
            operations += s.count;
            break;
        case step_kind::call:
        case step_kind::fanout: {
            const std::uint64_t times = s.kind == step_kind::call ? 1 : s.count;
            frames += static_cast<u128>(sub.frames) * times;
            demand_ns += static_cast<u128>(sub.demand_ns) * times;
            operations += 1 + static_cast<u128>(sub.operations) * times;
            break;
        }
        case step_kind::yield:
        case step_kind::send:
            operations += 1;
            break;
    }
    if (frames > max_job_frames) {
        return job_bound::frames;
    }
    if (demand_ns > max_job_demand_ns) {
        return job_bound::demand_ns;
    }
    if (operations > max_job_operations) {
        return job_bound::operations;
    }
    totals.frames = static_cast<std::uint64_t>(frames);
    totals.demand_ns = static_cast<std::uint64_t>(demand_ns);
    totals.operations = static_cast<std::uint64_t>(operations);
    return job_bound::none;
}

job_bound measure_program(const program& prog, job_totals& totals) {
    std::unordered_map<const program*, job_totals> measured;
    return measure_into(prog, totals, 1, measured);
}

const char* job_bound_field(job_bound bound) {
    switch (bound) {
        case job_bound::frames:
            return "frames";
        case job_bound::demand_ns:
            return "demand_ns";
        case job_bound::operations:
            return "operations";
        case job_bound::none:
            break;
    }
    return "none";
}

std::string job_bound_rule(job_bound bound) {
    switch (bound) {
        case job_bound::frames:
            return "at most 2^20 coroutine frames per job (fan-out widths multiply)";
        case job_bound::demand_ns:
            return "at most 10^15 ns of demand per job, summed over its steps";
        case job_bound::operations:
            return "at most 2^24 (16777216) operations per job (every step and every ready "
                   "operation once; calls and fan-out widths multiply)";
        case job_bound::none:
            break;
    }
    return "no bound exceeded";
}

bool is_valid_name(const std::string& name) {
    return valid_name(name);
}

std::unique_ptr<job_source> open_trace(const std::string& path) {
    return std::make_unique<text_reader>(path);
}

trace_writer::trace_writer(const std::string& path) : path_(path) {
    check_replaceable(path_);
    // The temporary lives beside the target so that the final rename stays on one file
    // system and is atomic.
    for (int attempt = 0; attempt < 100; ++attempt) {
        temp_path_ = path_ + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(temp_counter.fetch_add(1));
        // Registered before the file exists, so that no signal falls between the two.
        cleanup_ = temp_cleanup(temp_path_);
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ >= 0) {
            break;
        }
        if (errno != EEXIST) {
            const int error = errno;
            cleanup_.release();
            temp_path_.clear();
            errno = error;
            throw_errno("cannot create a temporary file beside " + path_);
        }
    }
    if (fd_ < 0) {
        cleanup_.release();
        temp_path_.clear();
        throw std::system_error(EEXIST, std::generic_category(),
                                "cannot create a temporary file beside " + path_);
    }
    buffer_.reserve(1 << 17);
}

trace_writer::~trace_writer() {
    if (!committed_) {
        abort();
    }
}

void trace_writer::abort() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_path_.empty()) {
        ::unlink(temp_path_.c_str());
        temp_path_.clear();
    }
    cleanup_.release();
    broken_ = true;
}

void trace_writer::fail_if_broken() const {
    if (broken_ || committed_) {
        throw std::logic_error("trace_writer for " + path_ +
                               " used after an error, abort() or commit()");
    }
}

void trace_writer::flush_buffer() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
        const ssize_t wrote = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (wrote < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("cannot write " + temp_path_);
        }
        done += static_cast<std::size_t>(wrote);
    }
    buffer_.clear();
}

void trace_writer::append_u64(std::uint64_t value) {
    append_decimal(buffer_, value);
}

void trace_writer::write_header(const workload_header& header) {
    fail_if_broken();
    if (header_written_) {
        throw std::logic_error("trace_writer::write_header called twice for " + path_);
    }
    try {
        buffer_ += format_magic;
        buffer_ += ' ';
        append_u64(format_version);
        buffer_ += '\n';
        for (const auto& [key, value] : header.meta) {
            if (!valid_name(key)) {
                throw std::invalid_argument("meta key '" + key + "' is not " +
                                            std::string(name_rule));
            }
            const bool has_break = value.find_first_of("\r\n") != std::string::npos;
            const bool padded = !value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                                                   value.back() == ' ' || value.back() == '\t');
            if (has_break || padded) {
                throw std::invalid_argument(
                    "meta value of '" + key +
                    "' must not hold line breaks or leading or trailing blanks");
            }
            buffer_ += "meta ";
            buffer_ += key;
            if (!value.empty()) {
                buffer_ += ' ';
                buffer_ += value;
            }
            buffer_ += '\n';
        }
        for (const auto& decl : header.classes) {
            if (decl.id > max_class_id) {
                throw std::invalid_argument("class id " + std::to_string(decl.id) +
                                            " is above 65535");
            }
            if (std::find(class_ids_.begin(), class_ids_.end(), decl.id) != class_ids_.end()) {
                throw std::invalid_argument("class id " + std::to_string(decl.id) +
                                            " is declared twice");
            }
            if (!valid_name(decl.name)) {
                throw std::invalid_argument("class name '" + decl.name + "' is not " +
                                            std::string(name_rule));
            }
            class_ids_.push_back(decl.id);
            buffer_ += "class ";
            append_u64(decl.id);
            buffer_ += ' ';
            buffer_ += decl.name;
            buffer_ += '\n';
        }
        if (header.classes.empty()) {
            // The reader declares class 0 itself when the header names none.
            class_ids_.push_back(0);
        }
        for (const auto& decl : header.channels) {
            if (!valid_name(decl.name)) {
                throw std::invalid_argument("channel name '" + decl.name + "' is not " +
                                            std::string(name_rule));
            }
            if (std::find(channel_names_.begin(), channel_names_.end(), decl.name) !=
                channel_names_.end()) {
                throw std::invalid_argument("channel " + decl.name + " is declared twice");
            }
            if (decl.capacity < 1 || decl.consumers < 1) {
                throw std::invalid_argument("channel " + decl.name +
                                            " needs capacity and consumers of at least 1");
            }
            channel_names_.push_back(decl.name);
            buffer_ += "channel ";
            buffer_ += decl.name;
            buffer_ += " capacity=";
            append_u64(decl.capacity);
            buffer_ += " consumers=";
            append_u64(decl.consumers);
            buffer_ += '\n';
        }
        header_written_ = true;
    } catch (...) {
        broken_ = true;
        throw;
    }
}

void trace_writer::append_step(const step& s) {
    buffer_ += to_string(s.kind);
    switch (s.kind) {
        case step_kind::compute:
        case step_kind::io:
            buffer_ += ' ';
            append_u64(s.duration_ns);
            break;
        case step_kind::ready:
            buffer_ += ' ';
            append_u64(s.count);
            buffer_ += ' ';
            append_u64(s.duration_ns);
            break;
        case step_kind::call:
            buffer_ += ' ';
            buffer_ += s.sub->name;
            break;
        case step_kind::fanout:
            buffer_ += ' ';
            append_u64(s.count);
            buffer_ += ' ';
            buffer_ += s.sub->name;
            break;
        case step_kind::yield:
            break;
        case step_kind::send:
            buffer_ += ' ';
            buffer_ += channel_names_[s.channel];
            break;
    }
}

trace_writer::program_info trace_writer::check_steps(const program& prog, int depth_so_far) {
    const std::string label =
        prog.name.empty() ? std::string("an inline program") : "program " + prog.name;
    if (depth_so_far >= max_nesting_depth) {
        // Checked before descending, so that a cycle or a runaway chain in memory ends with an
        // error instead of exhausting the stack.
        throw std::invalid_argument(label + " is nested deeper than 64 frames");
    }
    if (prog.steps.empty()) {
        throw std::invalid_argument(label + " has no steps");
    }
    program_info info;
    for (const step& s : prog.steps) {
        job_totals sub_cost;
        switch (s.kind) {
            case step_kind::compute:
            case step_kind::io:
                if (s.duration_ns > max_duration_ns) {
                    throw std::invalid_argument(label + ": duration above 10^15 ns");
                }
                break;
            case step_kind::ready:
                if (s.count < 1 || s.count > max_ready_count) {
                    throw std::invalid_argument(label + ": ready count outside 1..1048576");
                }
                if (s.duration_ns > max_duration_ns) {
                    throw std::invalid_argument(label + ": duration above 10^15 ns");
                }
                break;
            case step_kind::call:
            case step_kind::fanout: {
                if (s.kind == step_kind::fanout && (s.count < 1 || s.count > max_fanout_width)) {
                    throw std::invalid_argument(label + ": fanout width outside 1..65536");
                }
                if (s.sub == nullptr || s.sub->name.empty()) {
                    throw std::invalid_argument(
                        label +
                        ": call and fanout need a named sub-program (the text format "
                        "cannot write an unnamed one)");
                }
                const program_info sub = emit_named(*s.sub, depth_so_far + 1);
                if (sub.has_send) {
                    throw std::invalid_argument(label + " calls " + s.sub->name +
                                                ", which sends: send is only allowed in a job's "
                                                "top-level program");
                }
                if (sub.depth + 1 > max_nesting_depth) {
                    throw std::invalid_argument(label + " is nested deeper than 64 frames");
                }
                info.depth = std::max(info.depth, sub.depth + 1);
                sub_cost = sub.cost;
                break;
            }
            case step_kind::yield:
                break;
            case step_kind::send:
                if (s.channel >= channel_names_.size()) {
                    throw std::invalid_argument(label + ": send to channel index " +
                                                std::to_string(s.channel) +
                                                ", which the header does not declare");
                }
                info.has_send = true;
                break;
            default:
                throw std::invalid_argument(label + ": step of unknown kind");
        }
        // The reader's per-job bounds, counted the same way, so that what is written reads
        // back.
        if (const job_bound bound = add_step_totals(info.cost, s, sub_cost);
            bound != job_bound::none) {
            throw std::invalid_argument(label + ": " + job_bound_rule(bound));
        }
    }
    return info;
}

const trace_writer::program_info& trace_writer::emit_named(const program& prog, int depth_so_far) {
    if (const auto found = emitted_.find(&prog); found != emitted_.end()) {
        return found->second;
    }
    if (!valid_name(prog.name)) {
        throw std::invalid_argument("program name '" + prog.name + "' is not " +
                                    std::string(name_rule));
    }
    const program_info info = check_steps(prog, depth_so_far);
    if (const auto same_name = names_.find(prog.name); same_name != names_.end()) {
        // A source may hand out equal copies of one program; only different contents under
        // one name would make the written trace ambiguous.
        if (!same_steps(*same_name->second, prog)) {
            throw std::invalid_argument("two different programs are both named " + prog.name);
        }
        return emitted_.emplace(&prog, emitted_.at(same_name->second)).first->second;
    }
    buffer_ += "program ";
    buffer_ += prog.name;
    buffer_ += '\n';
    for (const step& s : prog.steps) {
        buffer_ += "  ";
        append_step(s);
        buffer_ += '\n';
    }
    buffer_ += "end\n";
    names_.emplace(prog.name, &prog);
    return emitted_.emplace(&prog, info).first->second;
}

void trace_writer::add_job(const job& j) {
    fail_if_broken();
    if (!header_written_) {
        throw std::logic_error("trace_writer::add_job before write_header for " + path_);
    }
    try {
        if (!j.prog) {
            throw std::invalid_argument("job " + std::to_string(jobs_) + " has no program");
        }
        if (j.arrival_ns > max_arrival_ns) {
            throw std::invalid_argument("job arrival above 2^62 ns");
        }
        if (j.arrival_ns < last_arrival_ns_) {
            throw std::invalid_argument("job arrivals must be non-decreasing (" +
                                        std::to_string(j.arrival_ns) + " after " +
                                        std::to_string(last_arrival_ns_) + ")");
        }
        if (std::find(class_ids_.begin(), class_ids_.end(), j.class_id) == class_ids_.end()) {
            throw std::invalid_argument("job class " + std::to_string(j.class_id) +
                                        " is not declared in the header");
        }
        if (j.prog->name.empty()) {
            check_steps(*j.prog, 0);
            buffer_ += "job ";
            append_u64(j.arrival_ns);
            buffer_ += ' ';
            append_u64(j.class_id);
            buffer_ += " :";
            bool first = true;
            for (const step& s : j.prog->steps) {
                buffer_ += first ? " " : " ; ";
                first = false;
                append_step(s);
            }
            buffer_ += '\n';
        } else {
            emit_named(*j.prog, 0);
            buffer_ += "job ";
            append_u64(j.arrival_ns);
            buffer_ += ' ';
            append_u64(j.class_id);
            buffer_ += ' ';
            buffer_ += j.prog->name;
            buffer_ += '\n';
        }
        last_arrival_ns_ = j.arrival_ns;
        ++jobs_;
        if (buffer_.size() >= (1 << 16)) {
            flush_buffer();
        }
    } catch (...) {
        broken_ = true;
        throw;
    }
}

void trace_writer::commit() {
    fail_if_broken();
    if (!header_written_) {
        throw std::logic_error("trace_writer::commit before write_header for " + path_);
    }
    try {
        flush_buffer();
        if (::fsync(fd_) != 0) {
            throw_errno("cannot sync " + temp_path_);
        }
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) {
            throw_errno("cannot close " + temp_path_);
        }
        if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
            throw_errno("cannot rename " + temp_path_ + " to " + path_);
        }
        cleanup_.release();
        temp_path_.clear();
        committed_ = true;
    } catch (...) {
        abort();
        throw;
    }
}

void write_trace(job_source& src, const std::string& path) {
    trace_writer writer(path);
    writer.write_header(src.header());
    while (auto next = src.next()) {
        writer.add_job(*next);
    }
    writer.commit();
}

std::unique_ptr<job_source> open_input(const std::string& path, const pcap_options& options) {
    if (is_capture(path)) {
        return open_capture(path, options);
    }
    return open_trace(path);
}

}  // namespace schedlab::traces
