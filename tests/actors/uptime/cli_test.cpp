// The bts-uptime program's command line: --help, --version, --check and start-up errors that
// name file, key and reason.
#include "process.hpp"

#include <gtest/gtest.h>

namespace {

const std::string& program() {
    static const std::string p = bts::test::built_program("src/actors/uptime/bts-uptime");
    return p;
}

TEST(UptimeCli, HelpAndVersion) {
    auto r = bts::test::run_program(program(), {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--config"), std::string::npos);
    EXPECT_NE(r.out.find("[[endpoint]]"), std::string::npos);
    r = bts::test::run_program(program(), {"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("bts-uptime"), std::string::npos);
    r = bts::test::run_program(program(), {"--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
}

TEST(UptimeCli, CheckNamesFileKeyAndReason) {
    bts::test::TempDir dir;
    const auto good = dir.write("good.toml", "[[endpoint]]\nname = \"a\"\nurl = \"ws://127.0.0.1:1/\"\n");
    auto r = bts::test::run_program(program(), {"--config", good, "--check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("1 endpoints"), std::string::npos);

    const auto bad = dir.write("bad.toml", "[[endpoint]]\nname = \"a\"\nurl = \"ws://127.0.0.1:1/\"\ntimeout = \"1m\"\n");
    r = bts::test::run_program(program(), {"--config", bad, "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad.toml"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("endpoint[0].timeout"), std::string::npos) << r.err;

    // Command-line overrides reach the config.
    r = bts::test::run_program(program(), {"--config", good, "--timeout", "20s", "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;

    // A CA file that cannot be read stops start-up with its name.
    const auto ca = dir.write("ca.toml", "[uptime]\npub = \"\"\npush = \"tcp://127.0.0.1:1\"\n[[endpoint]]\nname = \"a\"\n"
                                         "url = \"wss://127.0.0.1:1/\"\nca_file = \"/nonexistent/ca.pem\"\n");
    r = bts::test::run_program(program(), {"--config", ca});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("/nonexistent/ca.pem"), std::string::npos) << r.err;
}

TEST(UptimeCli, CheckCatchesBadEndpointsCredentialsAndDirectories) {
    // issue 17: pub = "-5s" passed --check, then failed at start with "Invalid argument".
    bts::test::TempDir dir;
    const std::string ep = "[[endpoint]]\nname = \"a\"\nurl = \"ws://127.0.0.1:1/\"\n";
    auto r = bts::test::run_program(program(), {"--config", dir.write("pub.toml", "[uptime]\npub = \"-5s\"\n" + ep), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("uptime.pub"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not a ZeroMQ endpoint"), std::string::npos) << r.err;
    r = bts::test::run_program(program(), {"--config", dir.write("push.toml", "[uptime]\npush = \"tcp://h:99999\"\n" + ep), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("uptime.push"), std::string::npos) << r.err;
    // Credentials in an endpoint URL are refused without being echoed.
    r = bts::test::run_program(program(), {"--config", dir.write("cred.toml", "[[endpoint]]\nname = \"a\"\nurl = \"wss://bob:hunter2@node.example/ws\"\n"), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("endpoint[0].url"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    // --config DIR is refused, not run on defaults.
    r = bts::test::run_program(program(), {"--config", dir.path(), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

}  // namespace
