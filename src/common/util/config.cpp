// TOML loading with typed, path-naming getters; command-line overrides; CommandLine.
#include "common/util/config.hpp"

#include "common/util/log.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#ifndef BTS_VERSION
#define BTS_VERSION "unknown"
#endif

namespace bts::util {

namespace detail {

struct Override {
    std::string origin;  // "--set beacon.rate=2k", "--rate 2k"
    std::string text;    // the value as typed
};

struct TomlState {
    toml::table root;
    std::string source = "<defaults>";
    std::map<std::string, Override, std::less<>> overrides;  // by full key path
};

}  // namespace detail

namespace {

using detail::TomlState;

std::string in_quotes(std::string_view s) {
    std::string out = "\"";
    out.append(s);
    out += '"';
    return out;
}

std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return n.is_array_of_tables() ? "an array of tables" : "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        default:
            return "nothing";
    }
}

std::string at_line(const toml::node& n) {
    // Values set from the command line were parsed without a path: their "line 1" means nothing.
    auto line = n.source().begin.line;
    if (line == 0 || !n.source().path) return {};
    return " (line " + std::to_string(line) + ")";
}

std::string wrong_type(std::string_view expected, const toml::node& n) {
    return "expected " + std::string(expected) + ", got " + std::string(type_name(n)) + at_line(n);
}

std::vector<std::string_view> split_dots(std::string_view path) {
    std::vector<std::string_view> parts;
    if (path.empty()) return parts;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = path.find('.', start);
        parts.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return parts;
}

std::string join_path(std::string_view base, std::string_view key) {
    if (base.empty()) return std::string(key);
    if (key.empty()) return std::string(base);
    std::string out(base);
    out += '.';
    out.append(key);
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1u : 0u)});
            diag = up;
        }
    }
    return row[b.size()];
}

// The closest candidate within a typo's distance, or "".
template <class Range>
std::string closest(std::string_view word, const Range& candidates) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = std::string(c);
        }
    }
    return best;
}

// Follows "a.b[2].c" from the root. nullptr if some part is absent; `blocked` is set to the
// prefix that exists but is not a table/array (so the path cannot exist).
const toml::node* walk(const toml::table& root, std::string_view path, std::string* blocked) {
    const toml::node* node = &root;
    std::string walked;
    for (std::string_view part : split_dots(path)) {
        std::string_view key = part.substr(0, part.find('['));
        const toml::table* t = node->as_table();
        if (t == nullptr) {
            if (blocked) *blocked = walked;
            return nullptr;
        }
        node = t->get(key);
        walked = join_path(walked, key);
        if (node == nullptr) return nullptr;
        std::string_view rest = part.substr(key.size());
        while (!rest.empty()) {  // [index] suffixes
            auto close = rest.find(']');
            if (rest[0] != '[' || close == std::string_view::npos) return nullptr;
            std::size_t index = 0;
            auto [p, ec] = std::from_chars(rest.data() + 1, rest.data() + close, index);
            if (ec != std::errc() || p != rest.data() + close) return nullptr;
            const toml::array* a = node->as_array();
            if (a == nullptr) {
                if (blocked) *blocked = walked;
                return nullptr;
            }
            node = a->get(index);
            walked += std::string(rest.substr(0, close + 1));
            if (node == nullptr) return nullptr;
            rest.remove_prefix(close + 1);
        }
    }
    return node;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

}  // namespace

// ---- ConfigError ----------------------------------------------------------------------------

namespace {
std::string config_message(const std::string& source, const std::string& key,
                           const std::string& reason) {
    std::string out;
    for (const std::string* part : {&source, &key, &reason}) {
        if (part->empty()) continue;
        if (!out.empty()) out += ": ";
        out += *part;
    }
    return out;
}
}  // namespace

ConfigError::ConfigError(std::string source, std::string key, std::string reason)
    : std::runtime_error(config_message(source, key, reason)),
      source_(std::move(source)),
      key_(std::move(key)),
      reason_(std::move(reason)) {}

// ---- TomlTable ------------------------------------------------------------------------------

TomlTable::TomlTable() : state_(std::make_shared<TomlState>()) {}

TomlTable::TomlTable(std::shared_ptr<detail::TomlState> state, std::string path)
    : state_(std::move(state)), path_(std::move(path)) {}

const std::string& TomlTable::source() const {
    return state_->source;
}

std::string TomlTable::key_path(std::string_view key) const {
    return join_path(path_, key);
}

namespace {
// Where the value at a full key path came from: the overriding argument for it or for a table
// above it, else the file.
std::string origin_of(const TomlState& state, std::string full) {
    while (true) {
        if (auto it = state.overrides.find(full); it != state.overrides.end())
            return it->second.origin;
        auto dot = full.rfind('.');
        if (dot == std::string::npos) break;
        full.resize(dot);
    }
    return state.source;
}
}  // namespace

std::string TomlTable::source_of(std::string_view key) const {
    return origin_of(*state_, key_path(key));
}

void TomlTable::fail(std::string_view key, std::string_view reason) const {
    throw ConfigError(source_of(key), key_path(key), std::string(reason));
}

namespace {
// The node at `key` under `table`, or nullptr; throws if the path runs through a value
// ("beacon.node" when beacon = 5), naming that value.
const toml::node* lookup(const TomlTable& table, const TomlState& state, std::string_view key) {
    std::string blocked;
    const toml::node* n = walk(state.root, table.key_path(key), &blocked);
    if (n == nullptr && !blocked.empty()) {
        const toml::node* b = walk(state.root, blocked, nullptr);
        throw ConfigError(origin_of(state, blocked), blocked,
                          b ? wrong_type("a table", *b) : std::string("expected a table"));
    }
    return n;
}
}  // namespace

bool TomlTable::exists() const {
    const toml::node* n = walk(state_->root, path_, nullptr);
    return n != nullptr && n->is_table();
}

bool TomlTable::contains(std::string_view key) const {
    return walk(state_->root, key_path(key), nullptr) != nullptr;
}

std::vector<std::string> TomlTable::keys() const {
    std::vector<std::string> out;
    const toml::node* n = walk(state_->root, path_, nullptr);
    if (const toml::table* t = n ? n->as_table() : nullptr) {
        for (auto&& [k, v] : *t) out.emplace_back(k.str());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string TomlTable::get_string(std::string_view key, std::string_view fallback) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return std::string(fallback);
    if (const auto* s = n->as_string()) return s->get();
    // A command-line value that happened to read as a number is still the text typed.
    if (auto it = state_->overrides.find(key_path(key)); it != state_->overrides.end())
        if (!n->is_table() && !n->is_array()) return it->second.text;
    fail(key, wrong_type("a string", *n));
}

std::string TomlTable::require_string(std::string_view key) const {
    if (!contains(key)) fail(key, "missing (required)");
    return get_string(key, {});
}

std::int64_t TomlTable::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    const auto* i = n->as_integer();
    if (i == nullptr) fail(key, wrong_type("an integer", *n));
    std::int64_t v = i->get();
    if (v < min || v > max)
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      " (got " + std::to_string(v) + ")" + at_line(*n));
    return v;
}

double TomlTable::get_double(std::string_view key, double fallback, double min, double max) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    double v = 0;
    if (const auto* f = n->as_floating_point()) {
        v = f->get();
    } else if (const auto* i = n->as_integer()) {
        v = static_cast<double>(i->get());
    } else {
        fail(key, wrong_type("a number", *n));
    }
    if (!(v >= min && v <= max)) {
        std::ostringstream msg;
        msg << "must be between " << min << " and " << max << " (got " << v << ")" << at_line(*n);
        fail(key, msg.str());
    }
    return v;
}

bool TomlTable::get_bool(std::string_view key, bool fallback) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    if (const auto* b = n->as_boolean()) return b->get();
    fail(key, wrong_type("true or false", *n));
}

Duration TomlTable::get_duration(std::string_view key, Duration fallback, Duration min,
                                 Duration max) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    Duration d{};
    if (const auto* s = n->as_string()) {
        auto r = parse_duration(s->get());
        if (!r) fail(key, r.error() + at_line(*n));
        d = *r;
    } else if (const auto* i = n->as_integer()) {
        if (i->get() < 0) fail(key, "must not be negative" + at_line(*n));
        if (i->get() > std::chrono::duration_cast<std::chrono::seconds>(Duration::max()).count())
            fail(key, "too large" + at_line(*n));
        d = std::chrono::seconds(i->get());
    } else if (const auto* f = n->as_floating_point()) {
        double secs = f->get();
        if (!(secs >= 0 && secs < 9e9))
            fail(key, "must be a non-negative number of seconds" + at_line(*n));
        d = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(secs));
    } else {
        fail(key, wrong_type("a duration like \"500ms\" or a number of seconds", *n));
    }
    if (d < min || d > max) {
        std::string range = max == Duration::max() ? "at least " + format_duration(min)
                                                   : "between " + format_duration(min) + " and " +
                                                         format_duration(max);
        fail(key, "must be " + range + " (got " + format_duration(d) + ")" + at_line(*n));
    }
    return d;
}

std::uint64_t TomlTable::get_size(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                  std::uint64_t max) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    std::uint64_t v = 0;
    if (const auto* s = n->as_string()) {
        auto r = parse_size(s->get());
        if (!r) fail(key, r.error() + at_line(*n));
        v = *r;
    } else if (const auto* i = n->as_integer()) {
        if (i->get() < 0) fail(key, "must not be negative" + at_line(*n));
        v = static_cast<std::uint64_t>(i->get());
    } else {
        fail(key, wrong_type("a size like \"2k\" or an integer", *n));
    }
    if (v < min || v > max)
        fail(key, "must be between " + format_count(min) + " and " + format_count(max) + " (got " +
                      format_count(v) + ")" + at_line(*n));
    return v;
}

Rate TomlTable::get_rate(std::string_view key, Rate fallback) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    if (const auto* s = n->as_string()) {
        auto r = parse_rate(s->get());
        if (!r) fail(key, r.error() + at_line(*n));
        return *r;
    }
    double v = 0;
    if (const auto* i = n->as_integer()) {
        v = static_cast<double>(i->get());
    } else if (const auto* f = n->as_floating_point()) {
        v = f->get();
    } else {
        fail(key, wrong_type("a rate like \"2k\" or \"unlimited\"", *n));
    }
    if (!(v > 0 && std::isfinite(v)))
        fail(key, "rate must be > 0 (write \"unlimited\" for no limit)" + at_line(*n));
    return Rate::every_second(v);
}

std::vector<std::string> TomlTable::get_string_array(std::string_view key,
                                                     std::vector<std::string> fallback) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n == nullptr) return fallback;
    const toml::array* a = n->as_array();
    if (a == nullptr) fail(key, wrong_type("an array of strings", *n));
    std::vector<std::string> out;
    out.reserve(a->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& e = *a->get(i);
        const auto* s = e.as_string();
        if (s == nullptr)
            fail(key, "element " + std::to_string(i) + ": " + wrong_type("a string", e));
        out.push_back(s->get());
    }
    return out;
}

TomlTable TomlTable::table(std::string_view key) const {
    const toml::node* n = lookup(*this, *state_, key);
    if (n != nullptr && !n->is_table()) fail(key, wrong_type("a table", *n));
    return TomlTable(state_, key_path(key));
}

std::vector<TomlTable> TomlTable::get_table_array(std::string_view key) const {
    const toml::node* n = lookup(*this, *state_, key);
    std::vector<TomlTable> out;
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr || (!a->empty() && !a->is_array_of_tables()))
        fail(key, wrong_type("an array of tables ([[" + key_path(key) + "]])", *n));
    for (std::size_t i = 0; i < a->size(); ++i)
        out.push_back(TomlTable(state_, key_path(key) + "[" + std::to_string(i) + "]"));
    return out;
}

void TomlTable::reject_unknown_keys(std::initializer_list<std::string_view> allowed) const {
    for (const std::string& k : keys()) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        std::string hint = closest(k, allowed);
        if (!hint.empty()) fail(k, "unknown key (did you mean " + in_quotes(hint) + "?)");
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(k, "unknown key (allowed: " + list + ")");
    }
}

void TomlTable::reject_unknown_keys(std::string_view table_path,
                                    std::initializer_list<std::string_view> allowed) const {
    table(table_path).reject_unknown_keys(allowed);
}

// ---- TomlDoc --------------------------------------------------------------------------------

TomlDoc::TomlDoc() : TomlTable() {}

TomlDoc::TomlDoc(std::shared_ptr<detail::TomlState> state) : TomlTable(std::move(state), {}) {}

TomlDoc TomlDoc::parse(std::string_view text, std::string source) {
    auto state = std::make_shared<TomlState>();
    state->source = source;
    try {
        state->root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw ConfigError(
            std::move(source),
            "line " + std::to_string(at.line) + ", column " + std::to_string(at.column),
            std::string(e.description()));
    }
    return TomlDoc(std::move(state));
}

void TomlDoc::set(std::string_view key_path, std::string_view value_text, std::string origin) {
    std::vector<std::string_view> parts = split_dots(key_path);
    bool valid = !parts.empty();
    for (std::string_view p : parts)
        valid = valid && !p.empty() && p.find_first_of("[]\"' =") == std::string_view::npos;
    if (!valid) throw ConfigError(redact(origin), std::string(key_path), "invalid key");

    toml::table* t = &state_->root;
    std::string walked;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        walked = join_path(walked, parts[i]);
        toml::node* n = t->get(parts[i]);
        if (n == nullptr) {
            n = &t->insert_or_assign(parts[i], toml::table{}).first->second;
        } else if (!n->is_table()) {
            throw ConfigError(redact(origin), std::string(key_path),
                              "cannot set: " + in_quotes(walked) + " is " +
                                  std::string(type_name(*n)) + ", not a table");
        }
        t = n->as_table();
    }
    // Read as TOML if it is exactly one value; otherwise it is a bare string like ws://h:1.
    toml::table parsed;
    bool is_toml = false;
    try {
        parsed = toml::parse("v = " + std::string(value_text));
        is_toml = parsed.size() == 1 && parsed.contains("v");
    } catch (const toml::parse_error&) {
    }
    std::string_view last = parts.back();
    if (is_toml) {
        parsed.get("v")->visit([&](auto& n) { t->insert_or_assign(last, std::move(n)); });
    } else {
        t->insert_or_assign(last, std::string(value_text));
    }
    // The origin ("--elasticsearch https://user:pass@…") is quoted in errors: no credentials.
    state_->overrides[std::string(key_path)] =
        detail::Override{redact(origin), std::string(value_text)};
}

TomlDoc load_toml(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw ConfigError(path.string(), {}, "is a directory, not a TOML file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path.string(), {}, std::string("cannot read: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(path.string(), {}, "cannot read: I/O error");
    return TomlDoc::parse(text.str(), path.string());
}

// ---- CommandLine ----------------------------------------------------------------------------

namespace {
constexpr std::string_view kConfig = "config";
constexpr std::string_view kSet = "set";
constexpr std::string_view kLogLevel = "log-level";
}  // namespace

CommandLine::CommandLine(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {
    option(std::string(kConfig), "FILE", "read settings from FILE");
    option(std::string(kSet), "KEY=VALUE",
           "override a config setting, e.g. --set beacon.rate=2k (repeatable)");
    option(std::string(kLogLevel), "LEVEL", "trace, debug, info, warn, error or off", std::nullopt,
           "log.level");
}

CommandLine& CommandLine::option(std::string name, std::string metavar, std::string help,
                                 std::optional<std::string> default_value, std::string config_key) {
    if (name.empty() || name == "help" || name == "version" || find(name) != nullptr)
        throw std::logic_error("CommandLine: option --" + name + " declared twice or reserved");
    if (metavar.empty()) metavar = "VALUE";
    options_.push_back(Option{std::move(name), std::move(metavar), std::move(help),
                              std::move(default_value), std::move(config_key)});
    return *this;
}

CommandLine& CommandLine::flag(std::string name, std::string help, std::string config_key) {
    if (name.empty() || name == "help" || name == "version" || find(name) != nullptr)
        throw std::logic_error("CommandLine: flag --" + name + " declared twice or reserved");
    options_.push_back(
        Option{std::move(name), {}, std::move(help), std::nullopt, std::move(config_key)});
    return *this;
}

CommandLine& CommandLine::positional(std::string name, std::string help, Arity arity) {
    if (!positional_specs_.empty()) {
        Arity last = positional_specs_.back().arity;
        if (last == Arity::kZeroOrMore || last == Arity::kOneOrMore)
            throw std::logic_error("CommandLine: a repeated positional must be the last one");
    }
    positional_specs_.push_back(Positional{std::move(name), std::move(help), arity});
    return *this;
}

CommandLine& CommandLine::default_config(std::string path) {
    default_config_ = std::move(path);
    options_[0].default_value = default_config_;  // shown in --help
    return *this;
}

CommandLine& CommandLine::epilog(std::string text) {
    epilog_ = std::move(text);
    return *this;
}

const CommandLine::Option* CommandLine::find(std::string_view name) const {
    for (const Option& o : options_)
        if (o.name == name) return &o;
    return nullptr;
}

const CommandLine::Option& CommandLine::declared(std::string_view name) const {
    const Option* o = find(name);
    if (o == nullptr) throw std::logic_error("CommandLine: no option --" + std::string(name));
    return *o;
}

bool CommandLine::usage_error(std::ostream& err, std::string_view message) {
    err << program_ << ": " << message << " (see --help)\n";
    exit_code_ = 2;
    return false;
}

bool CommandLine::parse(int argc, const char* const* argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return parse(args, std::cout, std::cerr);
}

bool CommandLine::parse(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
    given_.clear();
    positional_values_.clear();
    positional_ranges_.clear();
    exit_code_ = 0;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
            positional_values_.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            out << usage();
            return false;
        }
        if (arg == "--version") {
            out << version_text() << '\n';
            return false;
        }
        if (arg[1] != '-') return usage_error(err, "unknown option " + in_quotes(arg));
        std::string_view body = std::string_view(arg).substr(2);
        auto eq = body.find('=');
        std::string name(body.substr(0, eq));
        const Option* opt = find(name);
        if (opt == nullptr) {
            std::vector<std::string> names{"help", "version"};
            for (const Option& o : options_) names.push_back(o.name);
            std::string hint = closest(name, names);
            return usage_error(err, "unknown option --" + name +
                                        (hint.empty() ? "" : " (did you mean --" + hint + "?)"));
        }
        if (opt->metavar.empty()) {
            if (eq != std::string_view::npos)
                return usage_error(err, "--" + name + " takes no value");
            given_.push_back(Given{name, "true"});
            continue;
        }
        std::string value;
        if (eq != std::string_view::npos) {
            value = std::string(body.substr(eq + 1));
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return usage_error(err, "--" + name + " needs a value (" + opt->metavar + ")");
        }
        if (name == kSet) {
            auto set_eq = value.find('=');
            if (set_eq == std::string::npos || set_eq == 0)
                return usage_error(err, "--set needs KEY=VALUE, got " + in_quotes(value));
        } else if (name == kConfig) {
            // A directory opens like a file and reads as empty: the program would run on its
            // defaults without a word. Refused here, for every program.
            std::error_code ec;
            if (std::filesystem::is_directory(value, ec))
                return usage_error(err, "--config " + in_quotes(value) + ": is a directory, not a TOML file");
        } else if (name == kLogLevel && !parse_log_level(value)) {
            return usage_error(err, "unknown log level " + in_quotes(value) +
                                        " (use trace, debug, info, warn, error or off)");
        }
        given_.push_back(Given{name, std::move(value)});
    }
    return assign_positionals(err);
}

bool CommandLine::assign_positionals(std::ostream& err) {
    const std::size_t n = positional_values_.size();
    std::size_t next = 0;
    for (std::size_t s = 0; s < positional_specs_.size(); ++s) {
        const Positional& spec = positional_specs_[s];
        // Arguments the specs after this one still need.
        std::size_t needed_later = 0;
        for (std::size_t t = s + 1; t < positional_specs_.size(); ++t) {
            Arity a = positional_specs_[t].arity;
            if (a == Arity::kRequired || a == Arity::kOneOrMore) ++needed_later;
        }
        // Required ones fill first, in order; optional and repeated ones get what is spare.
        std::size_t spare = n - next > needed_later ? n - next - needed_later : 0;
        std::size_t take = 0;
        switch (spec.arity) {
            case Arity::kRequired:
                take = next < n ? 1 : 0;
                break;
            case Arity::kOptional:
                take = std::min<std::size_t>(spare, 1);
                break;
            case Arity::kZeroOrMore:
            case Arity::kOneOrMore:
                take = spare;
                break;
        }
        if (take == 0 && (spec.arity == Arity::kRequired || spec.arity == Arity::kOneOrMore))
            return usage_error(err, "missing <" + spec.name + ">");
        positional_ranges_.emplace_back(next, take);
        next += take;
    }
    if (next < n)
        return usage_error(err, "unexpected argument " + in_quotes(positional_values_[next]));
    return true;
}

bool CommandLine::has(std::string_view name) const {
    declared(name);
    return std::any_of(given_.begin(), given_.end(),
                       [&](const Given& g) { return g.name == name; });
}

std::optional<std::string> CommandLine::value(std::string_view name) const {
    const Option& opt = declared(name);
    for (auto it = given_.rbegin(); it != given_.rend(); ++it)
        if (it->name == name) return it->value;
    return opt.default_value;
}

std::string CommandLine::get(std::string_view name) const {
    return value(name).value_or("");
}

std::vector<std::string> CommandLine::values(std::string_view name) const {
    declared(name);
    std::vector<std::string> out;
    for (const Given& g : given_)
        if (g.name == name) out.push_back(g.value);
    return out;
}

std::int64_t CommandLine::get_int(std::string_view name, std::int64_t min, std::int64_t max) const {
    std::string text = get(name);
    auto v = parse_int(text);
    std::string flag = "--" + std::string(name);
    if (!v) throw ConfigError("command line", flag, "expected an integer, got " + in_quotes(text));
    if (*v < min || *v > max)
        throw ConfigError("command line", flag,
                          "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                              " (got " + text + ")");
    return *v;
}

Duration CommandLine::get_duration(std::string_view name) const {
    auto r = parse_duration(get(name));
    if (!r) throw ConfigError("command line", "--" + std::string(name), r.error());
    return *r;
}

std::uint64_t CommandLine::get_size(std::string_view name) const {
    auto r = parse_size(get(name));
    if (!r) throw ConfigError("command line", "--" + std::string(name), r.error());
    return *r;
}

std::string CommandLine::positional(std::string_view name) const {
    for (std::size_t s = 0; s < positional_specs_.size() && s < positional_ranges_.size(); ++s) {
        if (positional_specs_[s].name != name) continue;
        auto [first, count] = positional_ranges_[s];
        return count > 0 ? positional_values_[first] : std::string();
    }
    return {};
}

std::optional<std::string> CommandLine::config_path() const {
    for (auto it = given_.rbegin(); it != given_.rend(); ++it)
        if (it->name == kConfig) return it->value;
    std::error_code ec;
    if (!default_config_.empty() && std::filesystem::exists(default_config_, ec))
        return default_config_;
    return std::nullopt;
}

TomlDoc CommandLine::load_config() const {
    auto path = config_path();
    TomlDoc doc = path ? load_toml(*path) : TomlDoc();
    for (const Given& g : given_) {
        if (g.name == kSet) {
            auto eq = g.value.find('=');
            doc.set(std::string_view(g.value).substr(0, eq),
                    std::string_view(g.value).substr(eq + 1), "--set " + g.value);
            continue;
        }
        const Option& opt = declared(g.name);
        if (opt.config_key.empty()) continue;
        std::string origin = "--" + g.name;
        if (!opt.metavar.empty()) origin += " " + g.value;
        doc.set(opt.config_key, g.value, std::move(origin));
    }
    return doc;
}

std::string CommandLine::usage() const {
    std::ostringstream u;
    u << "Usage: " << program_ << " [OPTIONS]";
    for (const Positional& p : positional_specs_) {
        switch (p.arity) {
            case Arity::kRequired:
                u << " <" << p.name << ">";
                break;
            case Arity::kOptional:
                u << " [" << p.name << "]";
                break;
            case Arity::kZeroOrMore:
                u << " [" << p.name << "...]";
                break;
            case Arity::kOneOrMore:
                u << " <" << p.name << ">...";
                break;
        }
    }
    u << "\n\n" << description_ << "\n";

    struct Row {
        std::string left;
        std::string right;
    };
    std::vector<Row> rows;
    // Program options first, then the built-ins every program shares.
    auto add = [&](const Option& o) {
        std::string left = "--" + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
        std::string right = o.help;
        if (o.default_value && !o.default_value->empty())
            right += " (default: " + *o.default_value + ")";
        if (!o.config_key.empty() && o.name != kLogLevel)
            right += " [config: " + o.config_key + "]";
        rows.push_back(Row{std::move(left), std::move(right)});
    };
    for (const Option& o : options_)
        if (o.name != kConfig && o.name != kSet && o.name != kLogLevel) add(o);
    for (const Option& o : options_)
        if (o.name == kConfig || o.name == kSet || o.name == kLogLevel) add(o);
    rows.push_back(Row{"-h, --help", "show this help and exit"});
    rows.push_back(Row{"--version", "show the version and exit"});

    std::size_t width = 0;
    for (const Row& r : rows) width = std::max(width, r.left.size());
    width = std::min<std::size_t>(width, 28);
    u << "\nOptions:\n";
    for (const Row& r : rows) {
        u << "  " << r.left;
        if (r.left.size() > width) {
            u << "\n  " << std::string(width, ' ');
        } else {
            u << std::string(width - r.left.size(), ' ');
        }
        u << "  " << r.right << "\n";
    }
    if (!positional_specs_.empty()) {
        std::size_t pw = 0;
        for (const Positional& p : positional_specs_) pw = std::max(pw, p.name.size());
        u << "\nArguments:\n";
        for (const Positional& p : positional_specs_)
            u << "  " << p.name << std::string(pw - p.name.size(), ' ') << "  " << p.help << "\n";
    }
    if (!epilog_.empty()) u << "\n" << epilog_ << (epilog_.back() == '\n' ? "" : "\n");
    return u.str();
}

std::string CommandLine::version_text() const {
    return program_ + " " + BTS_VERSION;
}

int CommandLine::fail(std::string_view message) const {
    std::cerr << program_ << ": " << message << "\n";
    return 2;
}

}  // namespace bts::util
