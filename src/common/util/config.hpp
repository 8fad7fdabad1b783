// Configuration for every program: TOML files read through typed getters whose errors name
// file, key and reason; command-line overrides; and CommandLine, the argument parser that gives
// every program the same --help, --version, --config, --set and --log-level.
//
// The usual main() (exceptions at start-up, conventions habit 6):
//
//   int main(int argc, char** argv) {
//       bts::util::CommandLine cli("bts-devnet", "In-process BitShares test node");
//       cli.default_config("config/devnet.toml");
//       cli.option("port", "PORT", "websocket port", "8090", "devnet.port");
//       if (!cli.parse(argc, argv)) return cli.exit_code();
//       try {
//           bts::util::TomlDoc doc = cli.load_config();      // file, then overrides
//           auto log = bts::util::setup_logging("bts-devnet", doc.get_string("log.level", "info"));
//           auto cfg = bts::util::build_config<DevnetConfig>(doc);
//           ...
//       } catch (const bts::util::ConfigError& e) {
//           return cli.fail(e.what());                        // "bts-devnet: devnet.toml: ..."
//       }
//   }
//
// A config struct (defaults live in the struct and are commented in config/*.toml):
//
//   struct DevnetConfig {
//       std::uint16_t port = 8090;
//       bts::util::Duration block_interval = std::chrono::seconds(3);
//       static DevnetConfig from_toml(const bts::util::TomlDoc& doc) {
//           doc.reject_unknown_keys({"devnet", "log"});
//           bts::util::TomlTable t = doc.table("devnet");
//           t.reject_unknown_keys({"port", "block_interval"});
//           DevnetConfig c;
//           c.port = static_cast<std::uint16_t>(t.get_int("port", c.port, 1, 65535));
//           c.block_interval = t.get_duration("block_interval", c.block_interval);
//           return c;
//       }
//       // Cross-field rules; keys are full paths. build_config() adds the file name.
//       void validate() const {
//           bts::util::check_config(block_interval >= std::chrono::milliseconds(100),
//                                   "devnet.block_interval", "must be at least 100ms");
//       }
//   };
//
// Keys are dotted paths relative to the table they are asked of ("beacon.node"); elements of
// arrays of tables are named "endpoints[2]" in messages. Keys that themselves contain '.' are
// not addressable. Durations accept "500ms" or a number of seconds, sizes "2k"/"2MiB" or an
// integer, rates "unlimited"/"2k" or a number (see units.hpp).
#pragma once

#include "common/util/units.hpp"

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <iosfwd>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bts::util {

// A bad setting. what() is "<source>: <key>: <reason>", empty parts left out. source is the
// file name, or the command-line argument that set the key (e.g. "--set beacon.rate=2x").
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string source, std::string key, std::string reason);

    const std::string& source() const { return source_; }
    const std::string& key() const { return key_; }
    const std::string& reason() const { return reason_; }
    // The same error attributed to `source` (validate() does not know the file name).
    ConfigError with_source(std::string source) const { return {std::move(source), key_, reason_}; }

  private:
    std::string source_;
    std::string key_;
    std::string reason_;
};

// For validate(): throws ConfigError({}, key, reason) unless ok.
inline void check_config(bool ok, std::string_view key, std::string_view reason) {
    if (!ok) throw ConfigError({}, std::string(key), std::string(reason));
}

namespace detail {
struct TomlState;  // the parsed document; defined in config.cpp so toml++ stays out of here
}

// A view of one table of a TomlDoc. Cheap to copy; shares ownership of the document, so views
// stay valid after the TomlDoc is gone. Every getter returns `fallback` when the key is absent
// and throws ConfigError when it is present but of the wrong type or out of range.
class TomlTable {
  public:
    TomlTable();  // an empty table

    // File name (or "<defaults>") for messages.
    const std::string& source() const;
    // Full key path of this table: "" for the root, "beacon", "endpoints[2]".
    const std::string& path() const { return path_; }
    // path() + "." + key, without a leading dot at the root.
    std::string key_path(std::string_view key) const;
    // Where key's value came from: the file, or the command-line argument that overrode it.
    std::string source_of(std::string_view key) const;

    bool exists() const;  // false for a view of a table the file does not have
    bool contains(std::string_view key) const;
    std::vector<std::string> keys() const;  // this table's keys, sorted

    std::string get_string(std::string_view key, std::string_view fallback) const;
    std::string require_string(std::string_view key) const;  // throws if absent
    std::int64_t get_int(std::string_view key, std::int64_t fallback,
                         std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
    // Integers are accepted as doubles.
    double get_double(std::string_view key, double fallback,
                      double min = -std::numeric_limits<double>::infinity(),
                      double max = std::numeric_limits<double>::infinity()) const;
    bool get_bool(std::string_view key, bool fallback) const;
    Duration get_duration(std::string_view key, Duration fallback, Duration min = Duration::zero(),
                          Duration max = Duration::max()) const;
    std::uint64_t get_size(std::string_view key, std::uint64_t fallback, std::uint64_t min = 0,
                           std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const;
    Rate get_rate(std::string_view key, Rate fallback) const;
    std::vector<std::string> get_string_array(std::string_view key,
                                              std::vector<std::string> fallback = {}) const;

    // A sub-table; absent → an empty view (exists() false) whose getters return fallbacks.
    TomlTable table(std::string_view key) const;
    // [[key]] entries in order; absent → empty.
    std::vector<TomlTable> get_table_array(std::string_view key) const;

    // Throws ConfigError for the first key of this table (or of the sub-table at table_path)
    // not in `allowed`, suggesting the closest allowed key: catches typos, which would
    // otherwise silently leave a default in place.
    void reject_unknown_keys(std::initializer_list<std::string_view> allowed) const;
    void reject_unknown_keys(std::string_view table_path,
                             std::initializer_list<std::string_view> allowed) const;

    // Throws ConfigError(source_of(key), key_path(key), reason).
    [[noreturn]] void fail(std::string_view key, std::string_view reason) const;

  protected:
    TomlTable(std::shared_ptr<detail::TomlState> state, std::string path);

    std::shared_ptr<detail::TomlState> state_;
    std::string path_;
};

// A whole TOML document, the root table. Load with load_toml(); CommandLine::load_config()
// also applies command-line overrides.
class TomlDoc : public TomlTable {
  public:
    TomlDoc();  // empty document, source "<defaults>"

    // Parses text; `source` names it in messages. Throws ConfigError
    // ("<source>: line L, column C: <reason>") on syntax errors.
    [[nodiscard]] static TomlDoc parse(std::string_view text, std::string source);

    // Sets key_path (from the root) to value_text read as a TOML value (8090, true, 1.5,
    // "text", [1, 2]) — or, if it is not valid TOML, as a plain string (ws://host:8090, 2k).
    // Because the command line carries no types, get_string() of an overridden key returns the
    // text as given even when it read as a number ("--set run.id=42"). Creates missing tables.
    // `origin` (e.g. "--set beacon.rate=2k") replaces the file name in errors about this key.
    // Copies of a TomlDoc share one document: apply overrides before handing it out. Throws
    // ConfigError if a prefix of the path is a value, not a table.
    void set(std::string_view key_path, std::string_view value_text, std::string origin);

  private:
    explicit TomlDoc(std::shared_ptr<detail::TomlState> state);
};

// Reads and parses a file. Throws ConfigError ("<file>: cannot read: <why>" or a parse error).
[[nodiscard]] TomlDoc load_toml(const std::filesystem::path& path);

// Config::from_toml(doc) then validate(); a ConfigError without a source gets the doc's
// source for its key (the file, or the overriding argument).
template <class Config>
[[nodiscard]] Config build_config(const TomlDoc& doc) {
    try {
        Config config = Config::from_toml(doc);
        config.validate();
        return config;
    } catch (const ConfigError& e) {
        if (!e.source().empty()) throw;
        throw e.with_source(doc.source_of(e.key()));
    }
}

// Command-line parsing with generated usage text. Options are long only (--name VALUE or
// --name=VALUE), plus -h; "--" ends options. Built in: --help/-h, --version, --config FILE,
// --set KEY=VALUE (repeatable), --log-level LEVEL (sets log.level).
// A usage error prints one line to stderr and makes exit_code() 2.
class CommandLine {
  public:
    enum class Arity { kRequired, kOptional, kZeroOrMore, kOneOrMore };

    CommandLine(std::string program, std::string description);

    // --name VALUE. default_value is shown in --help and returned by get() when the option is
    // absent. With config_key, a given value also overrides that config key in load_config()
    // (so the config file's value wins over default_value, and the command line over both).
    // May be given several times: get() returns the last, values() all.
    CommandLine& option(std::string name, std::string metavar, std::string help,
                        std::optional<std::string> default_value = std::nullopt,
                        std::string config_key = {});
    // --name, no value. With config_key, giving it sets that key to true.
    CommandLine& flag(std::string name, std::string help, std::string config_key = {});
    // Positional arguments, in declaration order; at most one kZeroOrMore/kOneOrMore, last.
    CommandLine& positional(std::string name, std::string help, Arity arity = Arity::kRequired);
    // File read by load_config() when --config is not given; skipped if it does not exist.
    CommandLine& default_config(std::string path);
    // Extra text at the end of --help (examples).
    CommandLine& epilog(std::string text);

    // False when the program should exit now with exit_code(): after --help or --version
    // (0, text on stdout) or a usage error (2, one line on stderr).
    [[nodiscard]] bool parse(int argc, const char* const* argv);
    [[nodiscard]] bool parse(int argc, char** argv) {
        return parse(argc, const_cast<const char* const*>(argv));
    }
    // Without argv[0], printing to the given streams (tests).
    [[nodiscard]] bool parse(const std::vector<std::string>& args, std::ostream& out,
                             std::ostream& err);
    int exit_code() const { return exit_code_; }

    bool has(std::string_view name) const;  // given on the command line
    // Last given value, else the default, else "". Flags: "true" if given, else "".
    std::string get(std::string_view name) const;
    std::optional<std::string> value(std::string_view name) const;
    std::vector<std::string> values(std::string_view name) const;  // every occurrence
    // Typed access to get(name); throws ConfigError("--name", ...) on bad text.
    std::int64_t get_int(std::string_view name,
                         std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
    Duration get_duration(std::string_view name) const;
    std::uint64_t get_size(std::string_view name) const;
    // Positional arguments as given; positional(name) for a single named one ("" if absent).
    const std::vector<std::string>& positionals() const { return positional_values_; }
    std::string positional(std::string_view name) const;

    std::optional<std::string> config_path() const;  // --config, else the default if it exists
    // Loads config_path() (empty document if none) and applies --set, --log-level and mapped
    // options in command-line order. Throws ConfigError.
    [[nodiscard]] TomlDoc load_config() const;

    std::string usage() const;
    std::string version_text() const;  // "<program> <version>"
    // Prints "<program>: <message>" to stderr and returns 2, for `return cli.fail(e.what());`.
    int fail(std::string_view message) const;

    const std::string& program() const { return program_; }

  private:
    struct Option {
        std::string name;
        std::string metavar;  // empty for flags
        std::string help;
        std::optional<std::string> default_value;
        std::string config_key;
    };
    struct Positional {
        std::string name;
        std::string help;
        Arity arity;
    };
    struct Given {
        std::string name;
        std::string value;
    };

    const Option* find(std::string_view name) const;
    const Option& declared(std::string_view name) const;  // throws std::logic_error if not
    bool usage_error(std::ostream& err, std::string_view message);
    bool assign_positionals(std::ostream& err);

    std::string program_;
    std::string description_;
    std::string epilog_;
    std::string default_config_;
    std::vector<Option> options_;
    std::vector<Positional> positional_specs_;
    std::vector<Given> given_;  // in command-line order
    std::vector<std::string> positional_values_;
    std::vector<std::pair<std::size_t, std::size_t>> positional_ranges_;  // per spec: first, count
    int exit_code_ = 0;
};

}  // namespace bts::util
