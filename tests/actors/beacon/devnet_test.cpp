// The real bts-beacon against the real bts-devnet on loopback (both as child processes, ports
// chosen at run time): every operation type accepted, an exact run at 200 tx/s, rejection
// classes injected with devnet settings and bad keys, failover when a node is killed, SIGINT,
// and the refusals (target size above the chain limit, a key file readable by others).
#include "chain.hpp"
#include "process.hpp"

#include "common/crypto/keys.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>
#include <thread>

namespace bts::beacon {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::ChildProcess;
using test::TempDir;

std::string beacon_program() { return test::built_program("src/actors/beacon/bts-beacon"); }
std::string devnet_program() { return test::built_program("src/actors/devnet/bts-devnet"); }

// A bts-devnet child on a free port.
class Devnet {
public:
    explicit Devnet(const TempDir& dir, std::vector<std::string> extra = {}, const std::string& name = "devnet") {
        std::vector<std::string> args{"--port", "0", "--block-interval", "200ms"};
        args.insert(args.end(), extra.begin(), extra.end());
        child_ = std::make_unique<ChildProcess>(devnet_program(), args, dir.file(name + ".log"));
        if (!child_->wait_for_log("listening on ws://", 20s)) {
            ADD_FAILURE() << "bts-devnet did not start:\n" << child_->log();
            return;
        }
        auto text = child_->log();
        auto at = text.find("listening on ws://") + std::string("listening on ").size();
        auto end = text.find_first_of(" \n\r)", at);
        url_ = text.substr(at, end - at);
        while (!url_.empty() && (url_.back() == '/' || url_.back() == ',')) url_.pop_back();
    }
    const std::string& url() const { return url_; }
    ChildProcess& process() { return *child_; }

private:
    std::unique_ptr<ChildProcess> child_;
    std::string url_;
};

struct BeaconRun {
    int exit_code = -1;
    std::vector<json> intervals;
    json summary;
    std::string log;  // stderr (and, for ChildProcess runs, stdout too)
};

BeaconRun parse_output(int code, const std::string& out, const std::string& err) {
    BeaconRun r;
    r.exit_code = code;
    r.log = err;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] != '{') continue;
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        if (j["type"] == "interval") r.intervals.push_back(j);
        if (j["type"] == "summary") r.summary = j;
    }
    return r;
}

std::vector<std::string> base_args(const std::string& node) {
    return {"--node", node, "--accounts", "devnet:stress-0..stress-3", "--stats", "stdout",
            "--set", "beacon.drain_timeout=10s", "--set", "beacon.stats.interval=500ms"};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::uint64_t u(const json& j, const char* key) { return j.contains(key) ? j[key].get<std::uint64_t>() : 0; }
std::uint64_t rejected(const json& s, const char* cls) {
    return s["rejected"].contains(cls) ? s["rejected"][cls].get<std::uint64_t>() : 0;
}

// The run's counts add up: sent = accepted + rejected + unknown, accepted = included + expired +
// pending (the beacon's summary line).
void expect_adds_up(const json& s) {
    std::uint64_t rej = 0;
    for (auto& [k, v] : s["rejected"].items()) rej += v.get<std::uint64_t>();
    EXPECT_EQ(u(s, "sent"), u(s, "accepted") + rej + u(s, "unknown_outcome")) << s.dump();
    EXPECT_EQ(u(s, "accepted"), u(s, "included_txs") + u(s, "expired_unincluded") + u(s, "pending_at_cutoff")) << s.dump();
}

// Each run reads an empty config file, so only defaults and the given flags apply.
class BeaconDevnet : public ::testing::Test {
protected:
    void SetUp() override { empty_config_ = dir_.write("empty.toml", ""); }
    BeaconRun run(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
        args.insert(args.begin(), {"--config", empty_config_});
        auto res = test::run_program(beacon_program(), args, {}, timeout);
        return parse_output(res.exit_code, res.out, res.err);
    }
    TempDir dir_;
    std::string empty_config_;
};

TEST_F(BeaconDevnet, EveryOperationTypeIsAccepted) {
    Devnet node(dir_);
    ASSERT_FALSE(node.url().empty());
    // Transfers, several operations per transaction.
    auto t = run(plus(base_args(node.url()), {"--rate", "40", "--duration", "1s", "--set", "beacon.tx.ops_per_tx=1..3"}));
    ASSERT_EQ(t.exit_code, 0) << t.log;
    EXPECT_EQ(u(t.summary, "sent"), 40u);
    EXPECT_EQ(u(t.summary, "accepted"), 40u) << t.summary.dump();
    EXPECT_EQ(u(t.summary, "included_txs"), 40u) << t.summary.dump();
    EXPECT_GT(u(t.summary, "included_ops"), 40u);
    expect_adds_up(t.summary);

    // Limit orders selling BTS for USD (they never match each other).
    auto c = run(plus(base_args(node.url()), {"--rate", "40", "--duration", "1s", "--set", "beacon.mix.transfer=0",
                                              "--set", "beacon.mix.limit_order_create=1", "--set",
                                              "beacon.tx.receive_asset=USD"}));
    ASSERT_EQ(c.exit_code, 0) << c.log;
    EXPECT_EQ(u(c.summary, "accepted"), 40u) << c.summary.dump();
    EXPECT_EQ(u(c.summary, "included_txs"), 40u) << c.summary.dump();

    // Cancels of the orders just created (10 per account), found at prepare.
    auto x = run(plus(base_args(node.url()), {"--rate", "40", "--duration", "1s", "--set", "beacon.mix.transfer=0",
                                              "--set", "beacon.mix.limit_order_cancel=1", "--set",
                                              "beacon.tx.receive_asset=USD"}));
    ASSERT_EQ(x.exit_code, 0) << x.log;
    EXPECT_EQ(u(x.summary, "accepted"), 40u) << x.summary.dump();
    EXPECT_EQ(u(x.summary, "included_txs"), 40u) << x.summary.dump();
    EXPECT_EQ(u(x.summary, "cancels_substituted"), 0u) << x.log;
}

TEST_F(BeaconDevnet, TwoHundredPerSecondForFiveSeconds) {
    Devnet node(dir_);
    ASSERT_FALSE(node.url().empty());
    const auto head = test::head_block(node.url());
    auto r = run(plus(base_args(node.url()), {"--rate", "200", "--duration", "5s", "--set", "beacon.stats.interval=1s"}));
    ASSERT_EQ(r.exit_code, 0) << r.log;
    auto sent = u(r.summary, "sent");
    EXPECT_EQ(sent, 1000u) << "exactly rate x duration";
    // The chain side, from the node's own blocks.
    EXPECT_EQ(test::count_chain_settled(node.url(), head + 1).txs, u(r.summary, "included_txs"));
    expect_adds_up(r.summary);
    EXPECT_EQ(u(r.summary, "accepted"), sent) << r.summary.dump();
    EXPECT_EQ(u(r.summary, "included_txs"), sent) << r.summary.dump();
    EXPECT_EQ(u(r.summary, "dropped_sends"), 0u);
    EXPECT_NEAR(r.summary["achieved_rate"].get<double>(), 200.0, 2.0);
    // One interval per second (+ the final one), adding up to the summary.
    EXPECT_GE(r.intervals.size(), 5u);
    std::uint64_t total = 0;
    for (const auto& i : r.intervals) total += u(i, "sent");
    EXPECT_EQ(total, sent);
    EXPECT_TRUE(r.intervals.back()["final"].get<bool>());
    EXPECT_GT(r.summary["inclusion_us"]["count"].get<std::uint64_t>(), 0u);
}

TEST_F(BeaconDevnet, RejectionClassesFromDevnetSettingsAndBadKeys) {
    // A small pending pool and slow blocks: everything beyond the pool is pool_full.
    {
        Devnet node(dir_, {"--max-pending", "50", "--block-interval", "30s"}, "pool");
        ASSERT_FALSE(node.url().empty());
        auto r = run(plus(base_args(node.url()), {"--rate", "200", "--duration", "1s", "--set", "beacon.drain_timeout=1s"}));
        ASSERT_EQ(r.exit_code, 0) << r.log;
        EXPECT_EQ(u(r.summary, "sent"), 200u);
        // 50 fit in the pool; blocks come on the wall clock's 30 s slots, so one may fall inside
        // the 1 s run and make room for up to 50 more (sent after it): never fewer than 50
        // accepted, never more than 100.
        const auto accepted = u(r.summary, "accepted");
        EXPECT_GE(accepted, 50u) << r.summary.dump();
        EXPECT_LE(accepted, 100u) << r.summary.dump();
        EXPECT_EQ(rejected(r.summary, "pool_full"), 200u - accepted) << r.summary.dump();
        expect_adds_up(r.summary);
    }
    Devnet node(dir_);
    ASSERT_FALSE(node.url().empty());
    // Amounts above every balance: insufficient_balance.
    {
        auto r = run(plus(base_args(node.url()),
                          {"--rate", "50", "--duration", "1s", "--set", "beacon.tx.transfer_amount=2000000000000..2000000100000"}));
        ASSERT_EQ(r.exit_code, 0) << r.log;
        EXPECT_EQ(rejected(r.summary, "insufficient_balance"), 50u) << r.summary.dump();
    }
    // Keys that do not belong to the accounts: missing_authority (key check off so they are sent).
    {
        std::string keys;
        crypto::Context ctx;
        for (int i = 0; i < 4; ++i)
            keys += "stress-" + std::to_string(i) + " " + crypto::PrivateKey::from_seed(ctx, "wrong-" + std::to_string(i)).to_wif() + "\n";
        auto file = dir_.write("bad-keys", keys, 0600);
        auto args = base_args(node.url());
        args[3] = file;  // --accounts FILE
        auto r = run(plus(args, {"--rate", "50", "--duration", "1s", "--set", "beacon.check_keys=false"}));
        ASSERT_EQ(r.exit_code, 0) << r.log;
        EXPECT_EQ(rejected(r.summary, "missing_authority"), 50u) << r.summary.dump();
        EXPECT_EQ(r.log.find(crypto::PrivateKey::from_seed(ctx, "wrong-0").to_wif()), std::string::npos) << "a key in the log";
        // With the check on (the default), the beacon refuses to start.
        auto refused = run(plus(args, {"--rate", "50", "--duration", "1s"}));
        EXPECT_EQ(refused.exit_code, 1);
        EXPECT_NE(refused.log.find("not in its active authority"), std::string::npos) << refused.log;
    }
}

TEST_F(BeaconDevnet, FailsOverWhenTheNodeIsKilled) {
    Devnet a(dir_, {}, "a"), b(dir_, {}, "b");
    ASSERT_FALSE(a.url().empty());
    ASSERT_FALSE(b.url().empty());
    // Connection 0 starts on A, connection 1 on B; when A is killed, connection 0 fails over to
    // B. (A and B are separate chains started from the same genesis; B may refuse a reference
    // block of A — any such answer is counted by class: what matters is that sending goes on.)
    ChildProcess beacon(beacon_program(),
                        {"--config", empty_config_, "--node", a.url(), "--node", b.url(), "--accounts",
                         "devnet:stress-0..stress-3", "--stats", "stdout", "--rate", "100", "--duration", "4s",
                         "--set", "beacon.drain_timeout=2s", "--set", "beacon.request_timeout=1s",
                         "--set", "beacon.stats.interval=500ms"},
                        dir_.file("beacon.log"));
    ASSERT_TRUE(beacon.wait_for_log("started", 30s)) << beacon.log();
    std::this_thread::sleep_for(1500ms);
    a.process().signal(SIGKILL);
    int code = beacon.wait(30s);
    auto r = parse_output(code, beacon.log(), beacon.log());
    ASSERT_EQ(code, 0) << r.log;
    EXPECT_EQ(u(r.summary, "sent") + u(r.summary, "dropped_sends"), 400u) << r.summary.dump();
    EXPECT_GE(u(r.summary, "disconnects"), 1u) << r.summary.dump();
    EXPECT_NE(r.log.find("failover"), std::string::npos) << r.log;
    // Replies kept coming after the kill: from B.
    std::uint64_t answered = u(r.summary, "accepted");
    for (auto& [k, v] : r.summary["rejected"].items()) answered += v.get<std::uint64_t>();
    EXPECT_GE(answered, 300u) << r.summary.dump();
    EXPECT_GT(u(r.summary, "accepted"), 100u) << "A accepted before it was killed";
    expect_adds_up(r.summary);
}

TEST_F(BeaconDevnet, SigintStopsSendingDrainsAndTheChainAgrees) {
    Devnet node(dir_);
    ASSERT_FALSE(node.url().empty());
    const auto head = test::head_block(node.url());
    ChildProcess beacon(beacon_program(),
                        plus({"--config", empty_config_}, plus(base_args(node.url()), {"--rate", "100", "--duration", "60s"})),
                        dir_.file("beacon.log"));
    ASSERT_TRUE(beacon.wait_for_log("started", 30s)) << beacon.log();
    std::this_thread::sleep_for(1s);
    auto t = std::chrono::steady_clock::now();
    beacon.signal(SIGINT);
    int code = beacon.wait(10s);
    EXPECT_LT(std::chrono::steady_clock::now() - t, 5s);
    auto r = parse_output(code, beacon.log(), beacon.log());
    EXPECT_EQ(code, 0) << r.log;
    EXPECT_EQ(r.summary["reason"], "stopped: SIGINT");
    ASSERT_FALSE(r.intervals.empty());
    EXPECT_TRUE(r.intervals.back()["final"].get<bool>());
    EXPECT_GE(u(r.summary, "sent"), 80u);
    EXPECT_LE(u(r.summary, "sent"), 200u);
    // Drained, not cut: every accepted transaction's fate is known, and the chain agrees.
    EXPECT_EQ(u(r.summary, "pending_at_cutoff"), 0u) << r.summary.dump();
    EXPECT_EQ(u(r.summary, "included_txs"), u(r.summary, "sent")) << r.summary.dump();
    EXPECT_EQ(test::count_chain_settled(node.url(), head + 1).txs, u(r.summary, "included_txs"));
    expect_adds_up(r.summary);
}

TEST_F(BeaconDevnet, SecondSigintAbortsTheDrainAndReportsTheRestAsPending) {
    // Slow blocks: after the first SIGINT the beacon waits for inclusion; the second ends it.
    Devnet node(dir_, {"--block-interval", "20s"}, "slow");
    ASSERT_FALSE(node.url().empty());
    ChildProcess beacon(beacon_program(),
                        plus({"--config", empty_config_}, plus(base_args(node.url()), {"--rate", "100", "--duration", "60s",
                                                                                       "--set", "beacon.drain_timeout=0s"})),
                        dir_.file("beacon-slow.log"));
    ASSERT_TRUE(beacon.wait_for_log("started", 30s)) << beacon.log();
    std::this_thread::sleep_for(1s);
    beacon.signal(SIGINT);
    ASSERT_TRUE(beacon.wait_for_log("draining", 10s)) << beacon.log();
    beacon.signal(SIGINT);
    int code = beacon.wait(10s);
    auto r = parse_output(code, beacon.log(), beacon.log());
    EXPECT_EQ(code, 0) << r.log;
    EXPECT_NE(r.summary["reason"].get<std::string>().find("drain aborted"), std::string::npos) << r.summary.dump();
    EXPECT_GT(u(r.summary, "pending_at_cutoff"), 0u) << r.summary.dump();
    expect_adds_up(r.summary);
}

TEST_F(BeaconDevnet, TargetSizeAboveTheChainLimitIsRefused) {
    Devnet node(dir_);
    ASSERT_FALSE(node.url().empty());
    auto r = run(plus(base_args(node.url()), {"--set", "beacon.tx.target_size=4096"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.log.find("target_size 4096 bytes exceeds the chain's maximum_transaction_size of 2048 bytes: the "
                         "committee must raise the chain parameter maximum_transaction_size"),
              std::string::npos)
        << r.log;
    // At the limit it runs, and every transaction is exactly that size.
    auto ok = run(plus(base_args(node.url()), {"--rate", "20", "--duration", "1s", "--set", "beacon.tx.target_size=2048",
                                               "--set", "beacon.tx.transfer_amount=1..1000"}));
    ASSERT_EQ(ok.exit_code, 0) << ok.log;
    EXPECT_EQ(u(ok.summary, "accepted"), 20u) << ok.summary.dump();
}

TEST(BeaconProgram, KeyFileReadableByOthersIsRefused) {
    TempDir dir;
    crypto::Context ctx;
    auto wif = crypto::PrivateKey::from_seed(ctx, "x").to_wif();
    auto file = dir.write("keys", "alice " + wif + "\n", 0644);
    auto res = test::run_program(beacon_program(), {"--config", dir.write("e.toml", ""), "--accounts", file}, {}, 20s);
    EXPECT_EQ(res.exit_code, 1);
    EXPECT_NE(res.err.find("chmod 600"), std::string::npos) << res.err;
    EXPECT_EQ(res.err.find(wif), std::string::npos) << "a key in the log";
    auto help = test::run_program(beacon_program(), {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--rate"), std::string::npos);
    auto bad = test::run_program(beacon_program(), {"--rate", "2x"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("beacon.rate"), std::string::npos);
}

TEST(BeaconProgram, IdsAndNodeCredentialsAreCheckedAtStart) {
    // issue 17: --id "eu/load 1" ran and exited 0 while the collector dropped every interval.
    TempDir dir;
    const std::string cfg = dir.write("e.toml", "");
    auto res = test::run_program(beacon_program(), {"--config", cfg, "--id", "eu/load 1", "--node", "ws://127.0.0.1:1"}, {}, 20s);
    EXPECT_EQ(res.exit_code, 2) << res.err;
    EXPECT_NE(res.err.find("beacon.id"), std::string::npos) << res.err;
    EXPECT_NE(res.err.find("contains '/'"), std::string::npos) << res.err;
    res = test::run_program(beacon_program(), {"--config", cfg, "--run-id", "run one", "--node", "ws://127.0.0.1:1"}, {}, 20s);
    EXPECT_EQ(res.exit_code, 2) << res.err;
    EXPECT_NE(res.err.find("beacon.run_id"), std::string::npos) << res.err;
    // Credentials in a node URL are refused without being echoed.
    res = test::run_program(beacon_program(), {"--config", cfg, "--node", "wss://alice:hunter2@127.0.0.1:1/ws"}, {}, 20s);
    EXPECT_NE(res.exit_code, 0);
    EXPECT_EQ(res.err.find("hunter2"), std::string::npos) << res.err;
    res = test::run_program(beacon_program(), {"--config", cfg, "--node", "https://alice:hunter2@127.0.0.1:1/ws"}, {}, 20s);
    EXPECT_EQ(res.exit_code, 2);
    EXPECT_EQ(res.err.find("hunter2"), std::string::npos) << res.err;
}

}  // namespace
}  // namespace bts::beacon
