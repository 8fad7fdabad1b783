// Scenario files: every shipped scenario validates; bad files give the documented errors (file,
// key, reason); the rate schedule, rate split, node assignment and account slices; and the
// per-beacon run config parses as the beacon's own RunConfig.
#include "broker/scenario.hpp"

#ifdef BTS_HAVE_BEACON
#include "actors/beacon/run_config.hpp"
#endif

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace bts::broker {
namespace {

using namespace std::chrono_literals;

std::string scenario_dir() { return std::string(BTS_SOURCE_ROOT) + "/config/scenarios"; }

constexpr std::string_view kMinimal = R"(
[scenario]
name = "t"
rate = 100
duration = "10s"
[target]
nodes = ["ws://127.0.0.1:8090"]
)";

// The error text for `text` (which must be invalid).
std::string error_of(std::string_view text) {
    try {
        (void)Scenario::parse(text, "bad.toml");
    } catch (const util::ConfigError& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(Scenario, EveryShippedScenarioValidates) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(scenario_dir())) {
        if (e.path().extension() != ".toml") continue;
        SCOPED_TRACE(e.path().string());
        Scenario s;
        ASSERT_NO_THROW(s = Scenario::load(e.path().string()));
        EXPECT_EQ(s.name + ".toml", e.path().filename().string()) << "file name = scenario name";
        EXPECT_FALSE(s.description.empty());
        EXPECT_GT(s.total_duration(), 0s);
        ++n;
    }
    // real-user, max-transfer, max-limit-order, max-transfer-one-node, max-many-transfers,
    // p2p-limit
    EXPECT_EQ(n, 6u);
}

TEST(Scenario, ShippedScenariosHaveTheirDefiningShape) {
    auto load = [](const char* name) { return Scenario::load(scenario_dir() + "/" + name + ".toml"); };
    auto real = load("real-user");
    EXPECT_EQ(real.tx.at("ops_per_tx"), "1");
    EXPECT_EQ(real.assignment, Assignment::kSpread);
    EXPECT_GT(real.mix.at("transfer"), real.mix.at("limit_order_cancel"));
    EXPECT_GT(real.mix.at("limit_order_create"), 0);
    EXPECT_EQ(real.total_duration(), 30s);
    EXPECT_EQ(load("max-transfer-one-node").assignment, Assignment::kOneNode);
    EXPECT_EQ(load("max-transfer").assignment, Assignment::kSpread);
    EXPECT_EQ(load("max-limit-order").mix.size(), 1u);
    EXPECT_EQ(load("max-many-transfers").tx.at("ops_per_tx"), "40");
    EXPECT_EQ(load("p2p-limit").tx.at("target_size"), "\"1000KiB\"");
}

TEST(Scenario, DocumentedErrors) {
    EXPECT_EQ(error_of("[scenario]\nrate = 1\n"), "bad.toml: scenario.name: missing (required)");
    EXPECT_EQ(error_of("[scenario]\nname = \"x\"\nrate = 5\nduration = \"10s\"\n"),
              "bad.toml: target.nodes: at least one node URL is needed (or give --nodes to bts-ctl start)");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[mix]\ntransfr = 1\n"),
              "bad.toml: mix.transfr: unknown key (did you mean \"transfer\"?)");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[[phase]]\nkind = \"jump\"\nduration = \"1s\"\n"),
              "bad.toml: phase[0].kind: expected \"hold\", \"ramp\" or \"step\", got \"jump\"");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[[phase]]\nkind = \"ramp\"\nfrom = 1\nduration = \"5s\"\n"),
              "bad.toml: phase[0].to: missing (required)");
    EXPECT_EQ(error_of("[scenario]\nname = \"x\"\nduration = \"10s\"\n[[phase]]\nkind = \"hold\"\nrate = 5\nduration = \"5s\"\n"
                       "[target]\nnodes = [\"ws://a:1\"]\n"),
              "bad.toml: scenario.duration: 10s does not match the phases' total 5s (leave it out, or fix the phases)");
    EXPECT_EQ(error_of("[scenario]\nname = \"x\"\nrate = 0\nduration = \"10s\"\n"),
              "bad.toml: scenario.rate: must be positive (write \"unlimited\" for no limit)");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[[phase]]\nkind = \"ramp\"\nfrom = 0\nto = \"unlimited\"\nduration = \"5s\"\n"),
              "bad.toml: phase[0].to: \"unlimited\" is allowed only in hold phases");
    EXPECT_EQ(error_of(std::string(kMinimal).substr(0, std::string(kMinimal).find("[target]")) +
                       "[target]\nnodes = [\"http://x\"]\n"),
              "bad.toml: target.nodes: \"http://x\": must start with ws:// or wss://");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[tx]\nops_per_tx = \"5..2\"\n"),
              "bad.toml: tx.ops_per_tx: expected N or MIN..MAX within 1..1000, got \"5..2\"");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[accounts]\nsource = \"inline\"\n"),
              "bad.toml: accounts.source: expected \"devnet:NAME-A..NAME-B\" or \"file:PATH\", got \"inline\"");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[target2]\n"),
              "bad.toml: target2: unknown key (did you mean \"target\"?)");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[[phase]]\nkind = \"step\"\nfrom = 10\nto = 5\nstep = 1\nstep_duration = \"1s\"\n"),
              "bad.toml: phase[0].to: must not be below from");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[beacons]\ncount = 2\nmin = 3\n"),
              "bad.toml: beacons.count: must be 0 (all) or at least beacons.min");
    EXPECT_EQ(error_of("[scenario\nname = 1"), error_of("[scenario\nname = 1"));  // parse errors: stable
    EXPECT_NE(error_of("[scenario\nname = 1").find("bad.toml: line 1"), std::string::npos)
        << error_of("[scenario\nname = 1");
}

TEST(Scenario, TxIsCheckedWithTheBeaconsParsers) {
    // issue 17: bts-ctl validate accepted [tx] order_price = "-5s"; every beacon then refused it.
    std::string e = error_of(std::string(kMinimal) + "[tx]\norder_price = \"-5s\"\n");
    EXPECT_TRUE(e.starts_with("bad.toml: tx.order_price: ")) << e;
    e = error_of(std::string(kMinimal) + "[tx]\norder_price = -5\n");
    EXPECT_TRUE(e.starts_with("bad.toml: tx.order_price: ")) << e;
    e = error_of(std::string(kMinimal) + "[tx]\norder_price = \"2..1\"\n");
    EXPECT_TRUE(e.starts_with("bad.toml: tx.order_price: ")) << e;
    e = error_of(std::string(kMinimal) + "[mix]\nlimit_order_create = 1\n[tx]\nsell_asset = \"1.3.0\"\nreceive_asset = \"1.3.0\"\n");
    EXPECT_TRUE(e.starts_with("bad.toml: tx.receive_asset: ")) << e;
    // What the beacon accepts passes.
    EXPECT_EQ(error_of(std::string(kMinimal) + "[tx]\norder_price = \"0.5..2\"\n"), "<no error>");
    EXPECT_EQ(error_of(std::string(kMinimal) + "[tx]\norder_price = 1.5\nops_per_tx = \"1..3\"\n"), "<no error>");
}

TEST(Scenario, SegmentsOfRampHoldAndStep) {
    auto s = Scenario::parse(R"(
[scenario]
name = "phases"
[target]
nodes = ["ws://n:1"]
[[phase]]
kind = "ramp"
from = 0
to = 100
duration = "4s"
[[phase]]
kind = "hold"
rate = 100
duration = "10s"
[[phase]]
kind = "step"
from = 200
to = 450
step = 100
step_duration = "5s"
)", "p.toml");
    EXPECT_EQ(s.total_duration(), 4s + 10s + 15s);  // steps 200, 300, 400
    auto seg = s.segments();
    ASSERT_EQ(seg.size(), 4u + 1u + 3u);
    EXPECT_DOUBLE_EQ(seg[0].rate, 25);  // a ramp never sits at `from` (0 = unlimited)
    EXPECT_DOUBLE_EQ(seg[3].rate, 100);
    EXPECT_EQ(seg[3].start, 3s);
    EXPECT_DOUBLE_EQ(seg[4].rate, 100);
    EXPECT_EQ(seg[4].length, 10s);
    EXPECT_DOUBLE_EQ(seg[5].rate, 200);
    EXPECT_DOUBLE_EQ(seg[7].rate, 400);
    EXPECT_EQ(seg[7].start, 24s);
    EXPECT_DOUBLE_EQ(s.rate_at(0s), 25);
    EXPECT_DOUBLE_EQ(s.rate_at(1500ms), 50);
    EXPECT_DOUBLE_EQ(s.rate_at(20s), 300);
    EXPECT_DOUBLE_EQ(s.rate_at(1h), 400);
    EXPECT_NEAR(*s.planned_transactions(), 25 + 50 + 75 + 100 + 1000 + 5 * (200 + 300 + 400), 1e-6);
    EXPECT_TRUE(s.has_rate_changes());

    s.override_duration(58s);  // double: phases scale in proportion
    EXPECT_EQ(s.total_duration(), 58s);
    EXPECT_EQ(s.segments().size(), 8u + 1u + 3u);  // the ramp now has 8 one-second steps
}

TEST(Scenario, OverridesAreCheckedAndNamed) {
    auto s = Scenario::parse(kMinimal, "m.toml");
    s.override_nodes({"ws://a:1", "wss://b:2"});
    EXPECT_EQ(s.nodes.size(), 2u);
    try {
        s.override_nodes({"tcp://c:3"});
        FAIL();
    } catch (const util::ConfigError& e) {
        EXPECT_STREQ(e.what(), "--nodes: target.nodes: \"tcp://c:3\": must start with ws:// or wss://");
    }
    EXPECT_THROW(s.override_duration(1ms), util::ConfigError);
    s.override_duration(30s);
    EXPECT_EQ(s.total_duration(), 30s);
    EXPECT_FALSE(s.has_rate_changes());
}

TEST(Scenario, SplitRateGivesTheRemainderToTheFirstBeacons) {
    EXPECT_EQ(split_rate(100, 3), (std::vector<double>{33.334, 33.333, 33.333}));
    EXPECT_EQ(split_rate(90, 3), (std::vector<double>{30, 30, 30}));
    EXPECT_EQ(split_rate(0.002, 3), (std::vector<double>{0.001, 0.001, 0.001}));  // never 0
    EXPECT_EQ(split_rate(0, 2), (std::vector<double>{0, 0}));  // unlimited stays unlimited
    EXPECT_TRUE(split_rate(10, 0).empty());
    double sum = 0;
    for (double r : split_rate(1234.567, 7)) sum += r;
    EXPECT_NEAR(sum, 1234.567, 1e-9);
}

TEST(Scenario, NodesAreSpreadEvenlyOrAllOnOne) {
    std::vector<std::size_t> load(3, 0);
    std::vector<std::size_t> picks;
    for (int i = 0; i < 7; ++i) {
        auto n = pick_node(Assignment::kSpread, load);
        ++load[n];
        picks.push_back(n);
    }
    EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
    EXPECT_EQ(pick_node(Assignment::kOneNode, load), 0u);
}

TEST(Scenario, AccountSlices) {
    const std::string src = "devnet:stress-0..stress-199";
    EXPECT_EQ(account_slice(src, true, 0, 3), "devnet:stress-0..stress-66");
    EXPECT_EQ(account_slice(src, true, 1, 3), "devnet:stress-67..stress-133");
    EXPECT_EQ(account_slice(src, true, 2, 3), "devnet:stress-134..stress-199");
    EXPECT_EQ(account_slice("devnet:s-0..s-1", true, 3, 5), "devnet:s-1");  // wraps: shared
    EXPECT_EQ(account_slice(src, false, 1, 3), src);
    EXPECT_EQ(account_slice("file:/etc/keys", true, 1, 3), "file:/etc/keys");
}

TEST(Scenario, TomlQuoting) {
    EXPECT_EQ(toml_quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    EXPECT_EQ(rate_text(0), "\"unlimited\"");
    EXPECT_EQ(rate_text(33.334), "33.334");
    EXPECT_EQ(rate_text(30), "30.0");
}

#ifdef BTS_HAVE_BEACON
// The payload is the beacon's own config format: it must parse and validate there, for every
// shipped scenario.
TEST(Scenario, BeaconRunConfigParsesAsTheBeaconsRunConfig) {
    for (const auto& e : std::filesystem::directory_iterator(scenario_dir())) {
        if (e.path().extension() != ".toml") continue;
        SCOPED_TRACE(e.path().string());
        auto s = Scenario::load(e.path().string());
        BeaconAssignment a;
        a.beacon_id = "b\"1";
        a.run_id = "run-1";
        a.node = s.nodes.front();
        a.rate = split_rate(s.rate_at(0s), 3)[0];
        a.duration = s.total_duration() + 1s;
        a.budget = 1000;
        a.accounts = account_slice(s.accounts, s.split_accounts, 1, 3);
        a.seed = 7;
        a.stats_sinks = {"stdout", "tcp://127.0.0.1:5601"};
        std::string text = beacon_run_config(s, a);
        beacon::RunConfig rc;
        ASSERT_NO_THROW(rc = beacon::RunConfig::from_toml_text(text, "payload")) << text;
        EXPECT_EQ(rc.beacon_id, "b\"1");
        EXPECT_EQ(rc.run_id, "run-1");
        EXPECT_EQ(rc.nodes, std::vector<std::string>{s.nodes.front()});
        EXPECT_DOUBLE_EQ(rc.rate.per_second, a.rate);
        EXPECT_EQ(rc.budget, 1000u);
        EXPECT_EQ(rc.accounts, a.accounts);
        EXPECT_EQ(rc.seed, 7u);
        EXPECT_EQ(rc.stats_sinks.size(), 2u);
    }
}
#endif

}  // namespace
}  // namespace bts::broker
