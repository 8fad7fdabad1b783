// Unit tests of the beacon's small parts: run config, accounts/key files, pacer arithmetic,
// rejection classifier, statistics records and discovery parsers.
#include "actors/beacon/accounts.hpp"
#include "actors/beacon/discovery.hpp"
#include "actors/beacon/pacer.hpp"
#include "actors/beacon/run_config.hpp"
#include "actors/beacon/stats.hpp"

#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bts::beacon {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// RunConfig

TEST(RunConfig, DefaultsAreValid) {
    RunConfig c;
    EXPECT_NO_THROW(c.validate());
    EXPECT_EQ(c.effective_budget(), 1000u);  // 100/s x 10 s
}

TEST(RunConfig, ReadsEveryTable) {
    auto c = RunConfig::from_toml_text(R"(
[beacon]
id = "b1"
run_id = "r1"
nodes = ["ws://a:8090", "wss://b/ws"]
connections_per_node = 4
rate = "2k"
duration = "1m30s"
budget = "100k"
accounts = "devnet:stress-0..stress-19"
seed = 42
window = 64
late_threshold = "500us"
[beacon.mix]
transfer = 3
limit_order_create = 1
limit_order_cancel = 0.5
[beacon.tx]
ops_per_tx = "1..5"
target_size = "1Ki"
transfer_amount = "10..1k"
order_amount = 7
order_price = "0.5..1.5"
receive_asset = "USD"
order_lifetime = "1h"
[beacon.stats]
interval = "500ms"
sinks = ["stdout", "tcp://127.0.0.1:5601"]
)", "test.toml");
    EXPECT_EQ(c.beacon_id, "b1");
    EXPECT_EQ(c.nodes.size(), 2u);
    EXPECT_EQ(c.connection_count(), 8u);
    EXPECT_DOUBLE_EQ(c.rate.per_second, 2000);
    EXPECT_EQ(c.duration, 90s);
    EXPECT_EQ(c.budget, 100000u);
    EXPECT_EQ(c.seed, 42u);
    EXPECT_EQ(c.window, 64u);
    EXPECT_EQ(c.late_threshold, 500us);
    EXPECT_DOUBLE_EQ(c.mix.limit_order_cancel, 0.5);
    EXPECT_EQ(c.tx.ops_min, 1u);
    EXPECT_EQ(c.tx.ops_max, 5u);
    EXPECT_EQ(c.tx.target_size, 1024u);
    EXPECT_EQ(c.tx.transfer_amount, (Int64Range{10, 1000}));
    EXPECT_EQ(c.tx.order_amount, (Int64Range{7, 7}));
    EXPECT_DOUBLE_EQ(c.tx.price_max, 1.5);
    EXPECT_EQ(c.tx.receive_asset, "USD");
    ASSERT_TRUE(c.tx.order_lifetime);
    EXPECT_EQ(*c.tx.order_lifetime, 1h);
    EXPECT_EQ(c.stats_interval, 500ms);
    EXPECT_EQ(c.stats_sinks.size(), 2u);
    EXPECT_EQ(c.effective_budget(), 100000u);
}

TEST(RunConfig, UnlimitedAndNever) {
    auto c = RunConfig::from_toml_text("[beacon]\nrate = \"unlimited\"\n[beacon.tx]\norder_lifetime = \"never\"\n", "t");
    EXPECT_TRUE(c.rate.is_unlimited());
    EXPECT_FALSE(c.tx.order_lifetime);
    EXPECT_EQ(c.effective_budget(), 1'000'000u);
}

std::string config_error(std::string_view text) {
    try {
        (void)RunConfig::from_toml_text(text, "run.toml");
    } catch (const util::ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(RunConfig, ErrorsNameFileKeyAndReason) {
    EXPECT_EQ(config_error("[beacon]\nnodes = [\"http://x\"]\n"),
              "run.toml: beacon.nodes: \"http://x\": must start with ws:// or wss://");
    EXPECT_NE(config_error("[beacon]\nrate = \"2x\"\n").find("run.toml: beacon.rate: "), std::string::npos);
    EXPECT_NE(config_error("[beacon]\nrat = 5\n").find("beacon.rat"), std::string::npos);
    EXPECT_NE(config_error("[beacon.tx]\nops_per_tx = \"5..1\"\n").find("beacon.tx.ops_per_tx"), std::string::npos);
    EXPECT_NE(config_error("[beacon.mix]\ntransfer = 0\n").find("beacon.mix"), std::string::npos);
    EXPECT_NE(config_error("[beacon]\naccounts = \"keys.txt\"\n").find("beacon.accounts"), std::string::npos);
    EXPECT_NE(config_error("[beacon.stats]\nsinks = [\"stderr\"]\n").find("beacon.stats.sinks"), std::string::npos);
    EXPECT_NE(config_error("[beacon.mix]\nlimit_order_create = 1\n[beacon.tx]\nreceive_asset = \"1.3.0\"\n")
                  .find("beacon.tx.receive_asset"),
              std::string::npos);
}

TEST(RunConfig, InlineKeysInAWorldReadableFileAreRefused) {
    test::TempDir dir;
    std::string text = "[beacon]\n[[beacon.key]]\nname = \"stress-0\"\nwif = \"5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3\"\n";
    auto open = dir.write("open.toml", text, 0644);
    try {
        (void)RunConfig::from_file(open);
        FAIL() << "accepted";
    } catch (const util::ConfigError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("chmod 600"), std::string::npos);
        EXPECT_EQ(what.find("5KQwr"), std::string::npos) << "a secret in an error";
    }
    auto closed = dir.write("closed.toml", text, 0600);
    auto c = RunConfig::from_file(closed);
    EXPECT_EQ(c.accounts, "inline");
    ASSERT_EQ(c.inline_keys.size(), 1u);
}

TEST(RunConfig, Ranges) {
    EXPECT_EQ(*parse_int_range("3"), (Int64Range{3, 3}));
    EXPECT_EQ(*parse_int_range("1..5"), (Int64Range{1, 5}));
    EXPECT_EQ(*parse_int_range("1k..2k"), (Int64Range{1000, 2000}));
    EXPECT_FALSE(parse_int_range("5..1"));
    EXPECT_FALSE(parse_int_range("x"));
    EXPECT_EQ(parse_double_range("0.5..2")->second, 2.0);
    EXPECT_FALSE(parse_double_range("a..b"));
}

// ---------------------------------------------------------------------------------------------
// Accounts

TEST(Accounts, DevnetRangesDeriveDocumentedKeys) {
    crypto::Context ctx;
    auto a = devnet_accounts("stress-0..stress-2", ctx);
    ASSERT_TRUE(a) << a.error();
    ASSERT_EQ(a->size(), 3u);
    EXPECT_EQ((*a)[2].name, "stress-2");
    EXPECT_EQ((*a)[2].key.public_key(),
              crypto::PrivateKey::from_seed(ctx, "bts-stress-devnet:stress-2").public_key());
    EXPECT_EQ(devnet_accounts("stress-3..5", ctx)->size(), 3u);
    EXPECT_EQ(devnet_accounts("nathan, stress-1", ctx)->size(), 2u);
    EXPECT_FALSE(devnet_accounts("stress-5..stress-1", ctx));
    EXPECT_FALSE(devnet_accounts("stress-1,stress-1", ctx));
    EXPECT_FALSE(devnet_accounts("", ctx));
}

constexpr const char* kNathanWif = "5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3";

TEST(Accounts, KeyFileLinesAndErrorsWithoutSecrets) {
    crypto::Context ctx;
    auto ok = parse_key_lines(std::string("# keys\n\nnathan ") + kNathanWif + "  # the dev key\n", "keys", ctx);
    ASSERT_TRUE(ok) << ok.error();
    ASSERT_EQ(ok->size(), 1u);
    EXPECT_EQ((*ok)[0].key.public_key().to_string(), "BTS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV");

    std::string bad_wif = std::string(kNathanWif);
    bad_wif[10] = bad_wif[10] == 'a' ? 'b' : 'a';
    auto bad = parse_key_lines("nathan " + std::string(kNathanWif) + "\nalice " + bad_wif + "\n", "keys", ctx);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().rfind("keys: line 2: invalid WIF private key", 0), 0u) << bad.error();
    EXPECT_EQ(bad.error().find(bad_wif.substr(5, 20)), std::string::npos) << "a secret in an error";

    auto one_field = parse_key_lines(std::string(kNathanWif) + "\n", "keys", ctx);
    ASSERT_FALSE(one_field);
    EXPECT_EQ(one_field.error().find("5KQwr"), std::string::npos);
    EXPECT_FALSE(parse_key_lines(std::string("Bad_Name ") + kNathanWif, "keys", ctx));
    EXPECT_FALSE(parse_key_lines(std::string("a ") + kNathanWif + "\na " + kNathanWif, "keys", ctx));
}

TEST(Accounts, KeyFileModeIsChecked) {
    crypto::Context ctx;
    test::TempDir dir;
    auto open = dir.write("keys-open", std::string("nathan ") + kNathanWif + "\n", 0644);
    auto r = load_key_file(open, ctx);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("0644"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("chmod 600"), std::string::npos) << r.error();
    auto closed = dir.write("keys", std::string("nathan ") + kNathanWif + "\n", 0600);
    auto k = load_key_file(closed, ctx);
    ASSERT_TRUE(k) << k.error();
    EXPECT_EQ(k->size(), 1u);
    EXPECT_FALSE(load_key_file(dir.file("missing"), ctx));

    RunConfig c;
    c.accounts = "file:" + closed;
    EXPECT_TRUE(resolve_accounts(c, ctx));
    c.accounts = "inline";
    c.inline_keys.push_back({"nathan", kNathanWif});
    EXPECT_TRUE(resolve_accounts(c, ctx));
    c.inline_keys[0].wif = "5notakey";
    auto bad = resolve_accounts(c, ctx);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().find("5notakey"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Pacer (fake clock: times are plain numbers)

TEST(Pacer, IntendedTimesFollowTheRate) {
    const std::int64_t t0 = 1'000'000'000;
    Pacer p(util::Rate::every_second(200), t0, 1'000'000);
    EXPECT_EQ(p.intended(0), t0);
    EXPECT_EQ(p.intended(1), t0 + 5'000'000);
    EXPECT_EQ(p.intended(200), t0 + 1'000'000'000);
    EXPECT_EQ(p.due(t0 - 1), 0u);
    EXPECT_EQ(p.due(t0), 1u);
    EXPECT_EQ(p.due(t0 + 4'999'999), 1u);
    EXPECT_EQ(p.due(t0 + 5'000'000), 2u);
    // A 5 s run at 200/s is exactly 1000 sends.
    EXPECT_EQ(p.count_before(t0 + 5'000'000'000), 1000u);
}

TEST(Pacer, DueAgreesWithIntendedForAwkwardRates) {
    for (double rate : {3.0, 7.0, 333.3, 1000.0, 9999.0, 123457.0}) {
        Pacer p(util::Rate::every_second(rate), 17, 0);
        for (std::uint64_t n = 0; n < 5000; n += 7) {
            std::int64_t t = p.intended(n);
            EXPECT_EQ(p.due(t), n + 1) << rate << " " << n;
            EXPECT_EQ(p.due(t - 1), n) << rate << " " << n;
        }
    }
}

TEST(Pacer, LateSendsAreMeasuredFromTheIntendedTime) {
    const std::int64_t t0 = 0;
    Pacer p(util::Rate::every_second(1000), t0, 1'000'000);  // late = more than 1 ms
    // The sender oversleeps 10 ms: the ten due sends go out at once, each with its own lag.
    std::int64_t now = 10'000'000;
    ASSERT_EQ(p.due(now), 11u);
    for (std::uint64_t n = 0; n < p.due(now); ++n) p.record_send(p.intended(n), now);
    EXPECT_EQ(p.lag_histogram().count(), 11u);
    EXPECT_EQ(p.max_lag_ns(), 10'000'000);
    EXPECT_EQ(p.late(), 9u);  // lags 10..2 ms are late; 1 ms and 0 are not
    EXPECT_EQ(p.lag_histogram().min(), 0u);
}

TEST(Pacer, Unlimited) {
    Pacer p(util::Rate::unlimited(), 5, 0);
    EXPECT_TRUE(p.unlimited());
    EXPECT_EQ(p.intended(1000), 5);
    EXPECT_EQ(p.due(0), UINT64_MAX);
}

TEST(Pacer, RebaseStartsANewScheduleAndKeepsTheStatistics) {
    Pacer p(util::Rate::every_second(100), 0, 0);
    p.record_send(0, 3'000'000);
    p.rebase(util::Rate::every_second(400), 2'000'000'000);  // a broker rate change at t = 2 s
    EXPECT_EQ(p.start(), 0) << "the run's start is kept";
    EXPECT_EQ(p.t0(), 2'000'000'000);
    EXPECT_EQ(p.intended(4), 2'010'000'000);
    EXPECT_EQ(p.due(2'000'000'000), 1u);
    EXPECT_EQ(p.lag_histogram().count(), 1u);
    p.rebase(util::Rate::unlimited(), 3'000'000'000);
    EXPECT_TRUE(p.unlimited());
}

// ---------------------------------------------------------------------------------------------
// Rejection classes (graphene-protocol.md §12 texts)

TEST(Classifier, CodesAndMessages) {
    struct Case {
        std::int64_t code;
        const char* message;
        RejectClass expected;
    };
    const Case cases[] = {
        {3030001, "duplicate transaction: Transaction 'ab' is already in the database", RejectClass::duplicate},
        {10, "Assert Exception: now <= trx.expiration: ", RejectClass::expired},
        {10, "Assert Exception: trx.expiration <= now + chain_parameters.maximum_time_until_expiration: ",
         RejectClass::expiration_too_far},
        {10, "Assert Exception: trx.ref_block_prefix == tapos_block_summary.block_id._hash[1].value(): ",
         RejectClass::tapos},
        {4010001, "missing required active authority: Missing Active Authority 1.2.18", RejectClass::missing_authority},
        {4010007, "insufficient fee: Insufficient Fee Paid", RejectClass::insufficient_fee},
        {10, "Assert Exception: insufficient_balance: Insufficient Balance: 1 BTS, unable to transfer",
         RejectClass::insufficient_balance},
        {3050106, "Insufficient balance: insufficient balance", RejectClass::insufficient_balance},
        {10, "Assert Exception: trx.get_packed_size() <= chain_parameters.maximum_transaction_size: Transaction "
             "exceeds maximum transaction size.",
         RejectClass::too_large},
        {4990001, "pending pool full: 100000 transactions pending", RejectClass::pool_full},
        {10, "Assert Exception: is_canonical( c ): signature is not canonical", RejectClass::other},
        {3050201, "Order does not exist: Limit order 1.7.5 does not exist", RejectClass::other},
        {0, "", RejectClass::other},
    };
    for (const auto& c : cases) EXPECT_EQ(classify_rejection(c.code, c.message), c.expected) << c.message;
    for (std::size_t i = 0; i < kRejectClasses; ++i) EXPECT_NE(to_string(static_cast<RejectClass>(i)), "");
}

// ---------------------------------------------------------------------------------------------
// Statistics records

TEST(Stats, IntervalEncodesAndDecodes) {
    Counters c;
    c.sent = 200;
    c.accepted = 190;
    c.rejected[static_cast<std::size_t>(RejectClass::duplicate)] = 4;
    c.rejected[static_cast<std::size_t>(RejectClass::pool_full)] = 6;
    c.late_sends = 3;
    c.dropped_sends = 1;
    c.max_send_lag_us = 1500;
    c.included_txs = 150;
    c.included_ops = 300;
    c.disconnects = 1;
    c.bad_replies = 2;
    c.unexpected_replies = 1;
    Histograms h;
    for (int i = 1; i <= 190; ++i) h.acceptance_from_intended.record(1000 + i);
    h.acceptance_from_send.record(900);
    h.inclusion.record(2'000'000);
    ProcFigures proc{12.5, 40.0, 123456};
    auto s = make_stats_interval({"run", "b1", "host"}, 7, 1'700'000'000'000, 1000, 200, c, h, 5, proc, true);
    EXPECT_EQ(s.rejected_by_class.at("duplicate"), 4u);
    EXPECT_EQ(s.rejected_by_class.at("pool_full"), 6u);
    EXPECT_EQ(s.rejected_by_class.count("other"), 0u);
    EXPECT_EQ(s.bad_replies, 3u);
    EXPECT_TRUE(s.final);
    auto frame = wire::encode(s);
    auto back = wire::decode(frame);
    ASSERT_TRUE(back) << back.error();
    ASSERT_TRUE(std::holds_alternative<wire::StatsInterval>(*back));
    EXPECT_EQ(std::get<wire::StatsInterval>(*back), s);
    auto restored = util::Histogram::from_sparse(std::get<wire::StatsInterval>(*back).acceptance_from_intended);
    ASSERT_TRUE(restored);
    EXPECT_EQ(*restored, h.acceptance_from_intended);

    auto line = nlohmann::json::parse(stats_json_line(s, c, h));
    EXPECT_EQ(line["type"], "interval");
    EXPECT_EQ(line["sent"], 200);
    EXPECT_EQ(line["rejected"]["pool_full"], 6);
    EXPECT_EQ(line["acceptance_from_intended_us"]["count"], 190);
    EXPECT_DOUBLE_EQ(line["achieved_rate"].get<double>(), 200.0);
    EXPECT_EQ(line["final"], true);
}

TEST(Stats, CountersAdd) {
    Counters a, b;
    a.sent = 1;
    a.max_send_lag_us = 10;
    b.sent = 2;
    b.max_send_lag_us = 5;
    b.rejected[0] = 3;
    a.add(b);
    EXPECT_EQ(a.sent, 3u);
    EXPECT_EQ(a.max_send_lag_us, 10u);
    EXPECT_EQ(a.rejected_total(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Discovery parsers (canned replies in bitshares-core's shapes)

TEST(Discovery, ParsesChainFacts) {
    ChainInfo info;
    EXPECT_EQ(parse_chain_id(nlohmann::json(std::string(64, 'a')), info), "");
    EXPECT_EQ(info.chain_id[0], 0xaa);
    EXPECT_NE(parse_chain_id(nlohmann::json("xyz"), info), "");
    EXPECT_NE(parse_chain_id(nlohmann::json(5), info), "");

    EXPECT_EQ(parse_config(nlohmann::json::parse(R"({"GRAPHENE_ADDRESS_PREFIX":"TEST"})"), info), "");
    EXPECT_EQ(info.address_prefix, "TEST");

    auto gp = nlohmann::json::parse(R"({"id":"2.0.0","parameters":{
        "current_fees":{"parameters":[[0,{"fee":"2000000","price_per_kbyte":1000000}],[1,{"fee":500000}],
                                      [2,{"fee":0}],[5,{"basic_fee":1}]],"scale":20000},
        "block_interval":3,"maximum_transaction_size":4096,"maximum_time_until_expiration":3600}})");
    EXPECT_EQ(parse_global_properties(gp, info), "");
    EXPECT_EQ(info.max_transaction_size, 4096u);
    EXPECT_EQ(info.max_time_until_expiration, 3600u);
    EXPECT_EQ(info.block_interval, 3u);
    EXPECT_EQ(info.fees.transfer, 2000000);
    EXPECT_EQ(info.fees.transfer_per_kbyte, 1000000);
    EXPECT_EQ(info.fees.limit_order_create, 500000);
    EXPECT_EQ(info.fees.scale, 20000u);
    EXPECT_EQ(info.fees.fee(info.fees.transfer), 4000000);
    EXPECT_NE(parse_global_properties(nlohmann::json::parse(R"({"parameters":{}})"), info), "");

    auto dgp = nlohmann::json::parse(R"({"head_block_number":300,
        "head_block_id":"0000012c85abf4dc0000000000000000000000aa","time":"2024-01-02T03:04:05"})");
    EXPECT_EQ(parse_dynamic_global_properties(dgp, info), "");
    EXPECT_EQ(info.head_block_num, 300u);
    EXPECT_EQ(protocol::block_num_from_id(info.head_block_id), 300u);
    EXPECT_EQ(protocol::to_iso_string(protocol::TimePointSec{info.head_time}), "2024-01-02T03:04:05");
}

TEST(Discovery, AccountsAndKeyCheck) {
    crypto::Context ctx;
    auto k0 = crypto::PrivateKey::from_seed(ctx, "a").public_key();
    auto k1 = crypto::PrivateKey::from_seed(ctx, "b").public_key();
    auto make = [&](const crypto::PublicKey& k, const char* id) {
        return nlohmann::json{{"id", id},
                              {"name", "x"},
                              {"active", {{"weight_threshold", 1}, {"account_auths", nlohmann::json::array()},
                                          {"key_auths", nlohmann::json::array({nlohmann::json::array({k.to_string(), 1})})}}}};
    };
    ChainInfo info;
    nlohmann::json ok = nlohmann::json::array({make(k0, "1.2.18"), make(k1, "1.2.19")});
    EXPECT_EQ(parse_accounts(ok, {"a", "b"}, {k0, k1}, "BTS", info), "");
    ASSERT_EQ(info.account_ids.size(), 2u);
    EXPECT_EQ(info.account_ids[1].instance, 19u);
    auto wrong = parse_accounts(ok, {"a", "b"}, {k1, k0}, "BTS", info);
    EXPECT_NE(wrong.find("not in its active authority"), std::string::npos) << wrong;
    nlohmann::json missing = nlohmann::json::array({make(k0, "1.2.18"), nullptr});
    EXPECT_EQ(parse_accounts(missing, {"a", "b"}, {k0, k1}, "BTS", info), "account \"b\" does not exist on this chain");
    EXPECT_EQ(parse_asset_id("1.3.7")->instance, 7u);
    EXPECT_FALSE(parse_asset_id("USD"));
}

}  // namespace
}  // namespace bts::beacon
