// Tests for CommandLine (src/common/util/config.hpp): built-in options, usage errors, values,
// positionals and config loading with overrides.
#include "common/util/config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bts::util {
namespace {

using namespace std::chrono_literals;

CommandLine devnet_cli() {
    CommandLine cli("bts-devnet", "In-process BitShares test node.");
    cli.option("port", "PORT", "websocket port", "8090", "devnet.port");
    cli.option("block-interval", "DURATION", "time between blocks", "3s");
    cli.option("peer", "URL", "peer to connect to (repeatable)");
    cli.flag("verbose", "log every block");
    cli.flag("dry-run", "check the config and exit", "devnet.dry_run");
    return cli;
}

struct Outcome {
    bool ok;
    int code;
    std::string out;
    std::string err;
};

Outcome run(CommandLine& cli, std::vector<std::string> args) {
    std::ostringstream out, err;
    bool ok = cli.parse(args, out, err);
    return Outcome{ok, cli.exit_code(), out.str(), err.str()};
}

TEST(CommandLine, HelpPrintsUsageAndExitsZero) {
    CommandLine cli = devnet_cli();
    cli.positional("genesis", "genesis file", CommandLine::Arity::kOptional);
    cli.epilog("Example: bts-devnet --port 9000");
    for (const char* h : {"--help", "-h"}) {
        Outcome r = run(cli, {"--port", "1", h});
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.code, 0);
        EXPECT_TRUE(r.err.empty());
        EXPECT_EQ(
            r.out.rfind(
                "Usage: bts-devnet [OPTIONS] [genesis]\n\nIn-process BitShares test node.\n", 0),
            0u)
            << r.out;
        for (const char* needle :
             {"--port PORT", "websocket port (default: 8090) [config: devnet.port]", "--verbose",
              "--config FILE", "--set KEY=VALUE", "--log-level LEVEL", "-h, --help", "--version",
              "Arguments:\n  genesis  genesis file", "Example: bts-devnet --port 9000"})
            EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
    }
}

TEST(CommandLine, Version) {
    CommandLine cli = devnet_cli();
    Outcome r = run(cli, {"--version"});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, "bts-devnet " BTS_VERSION "\n");
}

TEST(CommandLine, UsageErrorsAreOneLineAndExitTwo) {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"--prot", "1"},
         "bts-devnet: unknown option --prot (did you mean --port?) (see --help)\n"},
        {{"--frobnicate"}, "bts-devnet: unknown option --frobnicate (see --help)\n"},
        {{"-p"}, "bts-devnet: unknown option \"-p\" (see --help)\n"},
        {{"--port"}, "bts-devnet: --port needs a value (PORT) (see --help)\n"},
        {{"--verbose=yes"}, "bts-devnet: --verbose takes no value (see --help)\n"},
        {{"--set", "novalue"}, "bts-devnet: --set needs KEY=VALUE, got \"novalue\" (see --help)\n"},
        {{"--log-level", "loud"},
         "bts-devnet: unknown log level \"loud\" (use trace, debug, info, warn, error or off) (see "
         "--help)\n"},
        {{"extra"}, "bts-devnet: unexpected argument \"extra\" (see --help)\n"},
    };
    for (const Case& c : cases) {
        CommandLine cli = devnet_cli();
        Outcome r = run(cli, c.args);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.code, 2);
        EXPECT_EQ(r.err, c.message);
        EXPECT_TRUE(r.out.empty());
    }
}

TEST(CommandLine, OptionValuesBothSpellings) {
    CommandLine cli = devnet_cli();
    Outcome r = run(
        cli, {"--port", "9000", "--block-interval=500ms", "--verbose", "--peer", "a", "--peer=b"});
    ASSERT_TRUE(r.ok) << r.err;
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(cli.get("port"), "9000");
    EXPECT_EQ(cli.get_int("port", 1, 65535), 9000);
    EXPECT_EQ(cli.get_duration("block-interval"), 500ms);
    EXPECT_TRUE(cli.has("verbose"));
    EXPECT_FALSE(cli.has("dry-run"));
    EXPECT_EQ(cli.get("verbose"), "true");
    EXPECT_EQ(cli.get("dry-run"), "");
    EXPECT_EQ(cli.get("peer"), "b");
    EXPECT_EQ(cli.values("peer"), (std::vector<std::string>{"a", "b"}));
    EXPECT_THROW((void)cli.get("undeclared"), std::logic_error);
}

TEST(CommandLine, DefaultsAndTypedErrors) {
    CommandLine cli = devnet_cli();
    ASSERT_TRUE(run(cli, {"--port=http"}).ok);
    EXPECT_EQ(cli.get_duration("block-interval"), 3s);  // default
    EXPECT_EQ(cli.value("peer"), std::nullopt);
    try {
        (void)cli.get_int("port");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "command line: --port: expected an integer, got \"http\"");
    }
    ASSERT_TRUE(run(cli, {"--port=70000"}).ok);
    EXPECT_THROW((void)cli.get_int("port", 1, 65535), ConfigError);
}

TEST(CommandLine, Positionals) {
    CommandLine cli("bts-uptime", "probe endpoints");
    cli.positional("config-name", "name")
        .positional("endpoint", "URLs", CommandLine::Arity::kOneOrMore);
    Outcome r = run(cli, {"x", "wss://a", "--", "--not-an-option"});
    ASSERT_TRUE(r.ok) << r.err;
    EXPECT_EQ(cli.positional("config-name"), "x");
    EXPECT_EQ(cli.positional("endpoint"), "wss://a");
    EXPECT_EQ(cli.positionals(), (std::vector<std::string>{"x", "wss://a", "--not-an-option"}));
    r = run(cli, {"x"});
    EXPECT_EQ(r.err, "bts-uptime: missing <endpoint> (see --help)\n");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(cli.usage().find("Usage: bts-uptime [OPTIONS] <config-name> <endpoint>..."),
              std::string::npos);

    CommandLine opt("t", "d");
    opt.positional("a", "", CommandLine::Arity::kOptional).positional("b", "");
    ASSERT_TRUE(run(opt, {"only"}).ok);
    EXPECT_EQ(opt.positional("a"), "");  // the required one gets the only argument
    EXPECT_EQ(opt.positional("b"), "only");
    ASSERT_TRUE(run(opt, {"1", "2"}).ok);
    EXPECT_EQ(opt.positional("a"), "1");
    EXPECT_EQ(run(opt, {"1", "2", "3"}).code, 2);
    EXPECT_THROW(opt.option("port", "", "").option("port", "", ""), std::logic_error);
    EXPECT_THROW(opt.flag("help", ""), std::logic_error);
}

TEST(CommandLine, LoadConfigAppliesOverridesInOrder) {
    auto dir =
        std::filesystem::temp_directory_path() / ("bts_cli_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / "devnet.toml";
    std::ofstream(path) << "[devnet]\nport = 8095\nname = \"file\"\n[log]\nlevel = \"warn\"\n";

    CommandLine cli = devnet_cli();
    cli.default_config((dir / "absent.toml").string());
    ASSERT_TRUE(run(cli, {}).ok);
    EXPECT_EQ(cli.config_path(), std::nullopt);  // a missing default is skipped
    TomlDoc empty = cli.load_config();
    EXPECT_EQ(empty.get_int("devnet.port", 1), 1);

    cli.default_config(path.string());
    ASSERT_TRUE(run(cli, {}).ok);
    EXPECT_EQ(cli.config_path(), path.string());
    EXPECT_EQ(cli.load_config().get_int("devnet.port", 0), 8095);  // file beats option default

    ASSERT_TRUE(run(cli, {"--set", "devnet.port=1", "--port", "9000", "--set", "devnet.name=cli",
                          "--log-level", "debug", "--dry-run"})
                    .ok);
    TomlDoc doc = cli.load_config();
    EXPECT_EQ(doc.get_int("devnet.port", 0), 9000);  // later argument wins
    EXPECT_EQ(doc.get_string("devnet.name", ""), "cli");
    EXPECT_EQ(doc.get_string("log.level", ""), "debug");
    EXPECT_TRUE(doc.get_bool("devnet.dry_run", false));
    EXPECT_EQ(doc.source_of("devnet.port"), "--port 9000");

    ASSERT_TRUE(run(cli, {"--config", (dir / "nope.toml").string()}).ok);
    EXPECT_THROW((void)cli.load_config(), ConfigError);
    std::filesystem::remove_all(dir);
}

TEST(CommandLine, ConfigDirectoryIsRefused) {
    // A directory opens like an empty file: every program would run on its defaults without a
    // word (issue 17). Refused at parse time, and by load_toml() for paths from elsewhere.
    const auto dir = std::filesystem::temp_directory_path() / ("bts_cli_dir_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    CommandLine cli = devnet_cli();
    Outcome r = run(cli, {"--config", dir.string()});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "bts-devnet: --config \"" + dir.string() + "\": is a directory, not a TOML file (see --help)\n");
    r = run(cli, {"--config=" + dir.string()});
    EXPECT_EQ(r.code, 2);
    try {
        (void)load_toml(dir);
        ADD_FAILURE() << "load_toml accepted a directory";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
    }
    // A default config path that is a directory is refused when loaded, not silently empty.
    CommandLine cli2 = devnet_cli();
    cli2.default_config(dir.string());
    ASSERT_TRUE(run(cli2, {}).ok);
    EXPECT_THROW((void)cli2.load_config(), ConfigError);
    std::filesystem::remove_all(dir);
}

TEST(CommandLine, ParseFromArgv) {
    CommandLine cli = devnet_cli();
    const char* argv[] = {"bts-devnet", "--port=1234"};
    ASSERT_TRUE(cli.parse(2, argv));
    EXPECT_EQ(cli.get("port"), "1234");
    EXPECT_EQ(cli.program(), "bts-devnet");
}

}  // namespace
}  // namespace bts::util
