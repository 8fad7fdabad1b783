// bts-ctl end to end: the real program against a real bts-broker process (beacons stand-ins in
// this process): help, scenarios, validate with the documented errors, keygen, and the exit
// codes — 0 success, 1 run failed / refused, 2 usage or bad scenario, 3 broker unreachable.
#include "fake_beacon.hpp"

#include "common/control/curve.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

namespace bts::test {
namespace {

using namespace std::chrono_literals;

std::string scenario_dir() { return std::string(BTS_SOURCE_ROOT) + "/config/scenarios"; }

RunResult ctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin() + (args.empty() ? 0 : 1), {"--config", "/dev/null"});
    return run_program(built_program("src/tools/bts-ctl/bts-ctl"), args, {}, timeout);
}

TEST(BtsCtl, HelpVersionAndUsageErrors) {
    auto r = ctl({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* word : {"start --scenario", "stop", "status", "beacons", "scenarios", "validate",
                             "keygen", "Exit codes", "--detach", "--duration", "--nodes"}) {
        EXPECT_NE(r.out.find(word), std::string::npos) << word;
    }
    r = ctl({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, std::string("bts-ctl ") + BTS_VERSION + "\n");
    r = ctl({"launch"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown command \"launch\""), std::string::npos) << r.err;
    r = ctl({"start"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("start needs --scenario"), std::string::npos) << r.err;
    r = ctl({"start", "--scenario", "no-such-scenario", "--scenario-dir", scenario_dir()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("no scenario \"no-such-scenario\""), std::string::npos) << r.err;
}

TEST(BtsCtl, ScenariosAndValidate) {
    auto r = ctl({"scenarios", "--scenario-dir", scenario_dir()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const char* name : {"real-user", "max-transfer", "max-limit-order", "max-transfer-one-node",
                             "max-many-transfers", "p2p-limit"}) {
        EXPECT_NE(r.out.find(name), std::string::npos) << name;
    }
    EXPECT_EQ(r.out.find("INVALID"), std::string::npos) << r.out;

    std::vector<std::string> args{"validate"};
    for (const auto& e : std::filesystem::directory_iterator(scenario_dir())) args.push_back(e.path().string());
    r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;

    TempDir dir;
    std::string bad = dir.write("bad.toml", "[scenario]\nname = \"bad\"\nrate = \"fast\"\nduration = \"10s\"\n");
    r = ctl({"validate", bad});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')).rfind(bad + ": scenario.rate: ", 0), 0u) << r.err;
    std::string typo = dir.write("typo.toml", "[scenario]\nname = \"t\"\nrate = 5\nduraton = \"10s\"\n");
    r = ctl({"validate", typo});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(typo + ": scenario.duraton: unknown key (did you mean \"duration\"?)"), std::string::npos)
        << r.err;
    // An invalid scenario never reaches a broker: exit 2 even with none running.
    r = ctl({"start", "--scenario", bad, "--broker", "tcp://127.0.0.1:1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = ctl({"start", "--scenario", scenario_dir() + "/real-user.toml", "--duration", "5x",
             "--broker", "tcp://127.0.0.1:1"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = ctl({"start", "--scenario", scenario_dir() + "/real-user.toml", "--nodes", "http://x",
             "--broker", "tcp://127.0.0.1:1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--nodes: target.nodes: \"http://x\": must start with ws:// or wss://"), std::string::npos)
        << r.err;
}

TEST(BtsCtl, KeygenWritesASecretOnlyTheOwnerCanRead) {
    TempDir dir;
    auto r = ctl({"keygen", "alice", "--dir", dir.path() + "/k"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() + "/k/alice.key_secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir.path() + "/k/alice.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    auto secret = control::Certificate::load(dir.path() + "/k/alice.key_secret");
    ASSERT_TRUE(secret);
    EXPECT_NE(r.out.find(secret->public_txt()), std::string::npos) << "prints the public key";
    // The secret key is not printed.
    std::string text = r.out + r.err;
    EXPECT_EQ(text.find("secret-key"), std::string::npos);
    r = ctl({"keygen", "alice", "--dir", dir.path() + "/k"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("refusing to overwrite"), std::string::npos) << r.err;
}

TEST(BtsCtl, UnreachableBrokerIsExitThree) {
    auto r = ctl({"status", "--broker", "tcp://127.0.0.1:" + std::to_string(free_port()), "--timeout", "300ms"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("cannot reach the broker"), std::string::npos) << r.err;
    r = ctl({"status", "--broker", "tcp://10.9.8.7:5560"});
    EXPECT_EQ(r.exit_code, 2) << "plain TCP to a remote broker is refused before trying";
    EXPECT_NE(r.err.find("plain TCP refused"), std::string::npos) << r.err;
}

// A real bts-broker process on fresh ports.
struct BrokerProcess {
    TempDir dir;
    Ports ports = Ports::fresh();
    ChildProcess proc{built_program("src/broker/bts-broker"),
                      {"--config", "/dev/null", "--router", ports.router, "--pub", ports.pub, "--set",
                       "broker.republish_interval=200ms"},
                      dir.file("broker.log")};
    BrokerProcess() { EXPECT_TRUE(proc.wait_for_log("listening", 10s)) << proc.log(); }
};

TEST(BtsCtl, RunsAgainstARealBroker) {
    BrokerProcess b;
    auto at = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--broker", b.ports.router, "--scenario-dir", scenario_dir()});
        return args;
    };
    auto r = ctl(at({"status"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("no run"), std::string::npos) << r.out;
    r = ctl(at({"beacons"}));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("BEACON"), std::string::npos);
    r = ctl(at({"stop"}));
    EXPECT_EQ(r.exit_code, 1) << "no run to stop";
    // No beacons: refused by the broker after the wait.
    r = ctl(at({"start", "--scenario", "real-user", "--wait", "500ms"}));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("needs at least 1 beacon(s), 0 alive"), std::string::npos) << r.err;

    // With beacons: live progress, then the summary, exit 0.
    FakeBeacon b1("b1", b.ports);
    FakeBeacon b2("b2", b.ports);
    r = ctl(at({"start", "--scenario", "real-user", "--duration", "3s", "--nodes", "ws://127.0.0.1:9", "--beacons", "2"}));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("on 2 beacon(s)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  0s   30.0/s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": completed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("included   "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("latency p50"), std::string::npos) << r.out;

    // --detach returns at once with the run id; a second start is refused while it runs.
    r = ctl(at({"start", "--scenario", "real-user", "--duration", "60s", "--nodes", "ws://127.0.0.1:9", "--detach"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("real-user-"), std::string::npos);
    r = ctl(at({"start", "--scenario", "real-user", "--nodes", "ws://127.0.0.1:9"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("stop it first"), std::string::npos) << r.err;
    r = ctl(at({"stop"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(BtsCtl, RunThatLosesAllItsBeaconsIsExitOne) {
    BrokerProcess b;
    auto beacon = std::make_unique<FakeBeacon>("only", b.ports);
    RunResult r;
    std::thread watcher([&] {
        r = ctl({"start", "--scenario", "real-user", "--duration", "60s", "--nodes", "ws://127.0.0.1:9",
                 "--broker", b.ports.router, "--scenario-dir", scenario_dir()},
                45s);
    });
    ASSERT_TRUE(wait_until([&] { return beacon->state() == "running"; }, 15s));
    beacon.reset();  // gone: the broker loses it after 3 s, and the run fails
    watcher.join();
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find(": failed (all beacons lost)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bts::test
