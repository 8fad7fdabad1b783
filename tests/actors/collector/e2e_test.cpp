// End to end with the real programs: bts-collector and bts-es-emulator as processes, beacons
// pushing over TCP. The acceptance test of issue #6: Elasticsearch refuses everything for a
// while, then answers 429 to a third of the items, and the collector is killed and restarted
// once — afterwards both stores hold exactly the beacons' own totals, nothing lost, nothing twice.
//
// Phase length: BTS_E2E_PHASE_SECONDS (default 5, so the suite stays fast; 30 is the issue's
// full-length run). Beacons are in-process fakes (tests/actors/collector/fake_beacon.hpp) with
// the resend window docs/collector.md asks of beacons; the run with the real bts-devnet and
// bts-beacon programs is RealProgramsE2E below.
#include "actors/collector/documents.hpp"
#include "es_emulator.hpp"
#include "fake_beacon.hpp"
#include "http_sync.hpp"
#include "chain.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using bts::test::built_program;
using bts::test::count_chain_settled;
using bts::test::head_block;
using bts::test::ChildProcess;
using bts::test::FakeBeacon;
using bts::test::free_port;
using bts::test::http_json;
using bts::test::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Sums {
    std::int64_t count = -1, sent = -1, accepted = -1, rejected = -1, included_ops = -1, included = -1;
};

Sums sqlite_sums(const std::string& path, const std::string& table) {
    Sums s;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return s;
    sqlite3_busy_timeout(db, 2000);
    std::string sql = "SELECT count(*), sum(sent), sum(accepted), sum(rejected), sum(included_ops), sum(included_txs) FROM " + table;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        s.count = sqlite3_column_int64(st, 0);
        s.sent = sqlite3_column_int64(st, 1);
        s.accepted = sqlite3_column_int64(st, 2);
        s.rejected = sqlite3_column_int64(st, 3);
        s.included_ops = sqlite3_column_int64(st, 4);
        s.included = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return s;
}

Sums es_sums(const std::string& url, const std::string& index) {
    json q = {{"size", 0},
              {"aggs",
               {{"sent", {{"sum", {{"field", "tx.sent"}}}}},
                {"accepted", {{"sum", {{"field", "tx.accepted"}}}}},
                {"rejected", {{"sum", {{"field", "tx.rejected"}}}}},
                {"ops", {{"sum", {{"field", "ops.included"}}}}},
                {"included", {{"sum", {{"field", "tx.included"}}}}}}}};
    auto r = http_json("POST", url + "/" + index + "/_search", q.dump());
    Sums s;
    if (!r.contains("hits")) return s;
    s.count = r["hits"]["total"]["value"].get<std::int64_t>();
    s.sent = static_cast<std::int64_t>(r["aggregations"]["sent"]["value"].get<double>());
    s.accepted = static_cast<std::int64_t>(r["aggregations"]["accepted"]["value"].get<double>());
    s.rejected = static_cast<std::int64_t>(r["aggregations"]["rejected"]["value"].get<double>());
    s.included_ops = static_cast<std::int64_t>(r["aggregations"]["ops"]["value"].get<double>());
    s.included = static_cast<std::int64_t>(r["aggregations"]["included"]["value"].get<double>());
    return s;
}

std::string collector_config(const TempDir& dir, std::uint16_t pull, std::uint16_t pub, const std::string& es_url) {
    return "[log]\nlevel = \"info\"\n"
           "[collector]\nlisten = \"tcp://127.0.0.1:" + std::to_string(pull) + "\"\n"
           "publish = \"tcp://127.0.0.1:" + std::to_string(pub) + "\"\n"
           "totals_delay = \"1s\"\ntotals_linger = \"10s\"\nstats_interval = \"2s\"\ndrain_on_stop = \"200ms\"\n"
           "[store]\npath = \"" + dir.file("store.sqlite") + "\"\ncommit_interval = \"100ms\"\n"
           "[elasticsearch]\nenabled = true\nurl = \"" + es_url + "\"\nspool_dir = \"" + dir.file("spool") + "\"\n"
           "dead_letter_file = \"" + dir.file("dead.ndjson") + "\"\nflush_interval = \"200ms\"\n"
           "backoff_init = \"100ms\"\nbackoff_max = \"1s\"\nrequest_timeout = \"5s\"\n";
}

int phase_seconds() {
    const char* v = std::getenv("BTS_E2E_PHASE_SECONDS");
    int s = v ? std::atoi(v) : 5;
    return s > 0 ? s : 5;
}

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return p();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST(CollectorProgram, HelpVersionAndBadConfig) {
    auto collector = built_program("src/actors/collector/bts-collector");
    auto help = bts::test::run_program(collector, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--listen"), std::string::npos);
    EXPECT_NE(help.out.find("--elasticsearch"), std::string::npos);
    auto version = bts::test::run_program(collector, {"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.out.find("bts-collector"), std::string::npos);
    TempDir dir;
    auto cfg = dir.write("c.toml", "[collector]\nlisten = \"tcp://0.0.0.0:5560\"\n");
    auto bad = bts::test::run_program(collector, {"--config", cfg});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("collector.curve.secret_cert"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("c.toml"), std::string::npos) << bad.err;
    // The shipped config file is valid: the collector starts with it and stops cleanly.
    auto shipped = std::string(std::getenv("BTS_TEST_DATA") ? std::getenv("BTS_TEST_DATA") : "") + "/../../config/collector.toml";
    ASSERT_TRUE(std::filesystem::exists(shipped)) << shipped;
    ChildProcess p(collector, {"--config", shipped, "--store", dir.file("x.sqlite"), "--listen",
                               "tcp://127.0.0.1:" + std::to_string(free_port()), "--publish", ""},
                   dir.file("shipped.log"));
    ASSERT_TRUE(p.wait_for_log("ready")) << p.log();
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(10s), 0) << p.log();
}

TEST(CollectorE2E, NothingLostNothingTwiceThroughOutagesThrottlingAndARestart) {
    const int phase = phase_seconds();
    TempDir dir;
    const std::uint16_t es_port = free_port();
    ChildProcess es(built_program("tests/actors/collector/bts-es-emulator"), {"--port", std::to_string(es_port), "--seed", "7"},
                    dir.file("es.log"));
    ASSERT_TRUE(es.wait_for_log("listening on")) << es.log();
    const std::string es_url = "http://127.0.0.1:" + std::to_string(es_port);

    const std::uint16_t pull = free_port(), pub = free_port();
    const std::string cfg = dir.write("collector.toml", collector_config(dir, pull, pub, es_url));
    const std::string collector_bin = built_program("src/actors/collector/bts-collector");
    auto collector = std::make_unique<ChildProcess>(collector_bin, std::vector<std::string>{"--config", cfg},
                                                    dir.file("collector-1.log"));
    ASSERT_TRUE(collector->wait_for_log("ready")) << collector->log();

    // Elasticsearch refuses every connection for one phase, then answers 429 to a third of
    // the items for another.
    json faults = {{"phases", {{{"mode", "refuse"}, {"duration_ms", phase * 1000}},
                               {{"mode", "items_429"}, {"fraction", 1.0 / 3.0}, {"duration_ms", phase * 1000}}}}};
    ASSERT_EQ(http_json("POST", es_url + "/_emulator/faults", faults.dump())["acknowledged"], true);

    // Four beacons, one interval every 200 ms each, each interval re-sent 2 s later.
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(pull);
    const std::string run = "e2e-" + std::to_string(now_ms());
    std::vector<std::unique_ptr<FakeBeacon>> beacons;
    for (int b = 0; b < 4; ++b)
        beacons.push_back(std::make_unique<FakeBeacon>(endpoint, run, "beacon-" + std::to_string(b), 100 + b, 10, 200));
    std::atomic<bool> sending{true};
    std::thread loop([&] {
        auto next = std::chrono::steady_clock::now();
        while (sending) {
            std::int64_t start = now_ms() / 200 * 200;
            for (auto& b : beacons) b->send_next(start);
            next += 200ms;
            std::this_thread::sleep_until(next);
        }
        for (auto& b : beacons) b->send_next(now_ms() / 200 * 200, true);
        for (int i = 0; i < 10; ++i) {  // keep the resend window flowing, then empty it
            std::this_thread::sleep_for(200ms);
        }
        for (auto& b : beacons) b->flush_window();
    });

    // Kill the collector (no chance to drain or commit) halfway through the 429 phase, restart it.
    std::this_thread::sleep_for(std::chrono::milliseconds(phase * 1500));
    collector->signal(SIGKILL);
    collector->wait(5s);
    collector = std::make_unique<ChildProcess>(collector_bin, std::vector<std::string>{"--config", cfg},
                                               dir.file("collector-2.log"));
    ASSERT_TRUE(collector->wait_for_log("ready")) << collector->log();
    std::this_thread::sleep_for(std::chrono::milliseconds(phase * 500 + 2000));
    sending = false;
    loop.join();

    // Ground truth: the beacons' own totals.
    Sums want;
    want.count = want.sent = want.accepted = want.rejected = want.included_ops = 0;
    std::set<std::string> want_ids;
    for (auto& b : beacons) {
        want.count += static_cast<std::int64_t>(b->totals().intervals);
        want.sent += static_cast<std::int64_t>(b->totals().sent);
        want.accepted += static_cast<std::int64_t>(b->totals().accepted);
        want.rejected += static_cast<std::int64_t>(b->totals().rejected);
        want.included_ops += static_cast<std::int64_t>(b->totals().included_ops);
        for (std::uint64_t s = 0; s < b->next_seq(); ++s) want_ids.insert(run + "/" + b->id() + "/" + std::to_string(s));
    }
    auto same = [](const Sums& a, const Sums& b) {
        return a.count == b.count && a.sent == b.sent && a.accepted == b.accepted && a.rejected == b.rejected &&
               a.included_ops == b.included_ops;
    };
    auto totals_match = [&](const Sums& t) {
        return t.sent == want.sent && t.accepted == want.accepted && t.rejected == want.rejected &&
               t.included_ops == want.included_ops;
    };
    const std::string db = dir.file("store.sqlite");
    bool es_done = eventually([&] { return same(es_sums(es_url, "bts-intervals"), want) && totals_match(es_sums(es_url, "bts-totals")); }, 90s);
    bool store_done = eventually([&] { return same(sqlite_sums(db, "intervals"), want) && totals_match(sqlite_sums(db, "cluster_totals")); }, 30s);

    auto got_es = es_sums(es_url, "bts-intervals");
    auto got_db = sqlite_sums(db, "intervals");
    auto got_es_totals = es_sums(es_url, "bts-totals");
    auto got_db_totals = sqlite_sums(db, "cluster_totals");
    EXPECT_TRUE(es_done) << "ES intervals " << got_es.count << "/" << want.count << " sent " << got_es.sent << "/"
                         << want.sent << "; ES totals sent " << got_es_totals.sent;
    EXPECT_TRUE(store_done) << "store intervals " << got_db.count << "/" << want.count << " sent " << got_db.sent << "/"
                            << want.sent << "; store totals sent " << got_db_totals.sent;
    EXPECT_EQ(got_es.count, want.count);
    EXPECT_EQ(got_es.sent, want.sent);
    EXPECT_EQ(got_es.accepted, want.accepted);
    EXPECT_EQ(got_es.rejected, want.rejected);
    EXPECT_EQ(got_db.count, want.count);
    EXPECT_EQ(got_db.sent, want.sent);
    EXPECT_EQ(got_db.accepted, want.accepted);
    EXPECT_EQ(got_db_totals.sent, want.sent);
    EXPECT_EQ(got_es_totals.sent, want.sent);

    // Exactly the beacons' intervals, each once (ids are unique per index, so equal counts and
    // an equal id set mean nothing is missing and nothing is extra).
    auto hits = http_json("POST", es_url + "/bts-intervals/_search", json{{"size", 10000}}.dump());
    std::set<std::string> got_ids;
    for (const auto& h : hits["hits"]["hits"]) got_ids.insert(h["_id"].get<std::string>());
    EXPECT_EQ(got_ids, want_ids);

    // The faults really happened, and nothing was dead-lettered.
    auto stats = http_json("GET", es_url + "/_emulator/stats");
    EXPECT_GT(stats["refused_connections"].get<int>(), 0) << stats.dump();
    EXPECT_GT(stats["items_429"].get<int>(), 0) << stats.dump();
    EXPECT_FALSE(std::filesystem::exists(dir.file("dead.ndjson")));
    collector->signal(SIGTERM);
    EXPECT_EQ(collector->wait(10s), 0) << collector->log();
    EXPECT_NE(collector->log().find("collector stopped"), std::string::npos);
}

// The acceptance run with the real programs: bts-devnet as the node, bts-beacon processes
// pushing to a bts-collector process that feeds the store and the emulator, while the emulator
// refuses everything for a phase, then answers 429 to a third of the items, and the collector
// is restarted. The beacons' own totals (their summary lines) must equal both stores.
//
// The collector is killed (-9) mid-run and restarted on the same store: bts-beacon pushes every
// interval a second time 5 s later, and the store dedupes, so nothing is lost and nothing
// doubles. The chain side is counted from the devnet's own blocks.
TEST(CollectorE2E, RealProgramsE2E) {
    const std::string devnet_bin = built_program("src/actors/devnet/bts-devnet");
    const std::string beacon_bin = built_program("src/actors/beacon/bts-beacon");
    if (!std::filesystem::exists(devnet_bin) || !std::filesystem::exists(beacon_bin))
        GTEST_SKIP() << "bts-devnet and/or bts-beacon are not built (" << devnet_bin << ", " << beacon_bin
                     << "); the fake-beacon run above covers the collector side";
    const int phase = phase_seconds();
    TempDir dir;
    const std::uint16_t node_port = free_port();
    ChildProcess devnet(devnet_bin, {"--port", std::to_string(node_port), "--block-interval", "1s"}, dir.file("devnet.log"));
    ASSERT_TRUE(devnet.wait_for_log("listening on", 20s)) << devnet.log();
    const std::string node_url = "ws://127.0.0.1:" + std::to_string(node_port);
    const auto head = head_block(node_url);

    const std::uint16_t es_port = free_port();
    ChildProcess es(built_program("tests/actors/collector/bts-es-emulator"), {"--port", std::to_string(es_port)},
                    dir.file("es.log"));
    ASSERT_TRUE(es.wait_for_log("listening on")) << es.log();
    const std::string es_url = "http://127.0.0.1:" + std::to_string(es_port);
    const std::uint16_t pull = free_port(), pub = free_port();
    const std::string cfg = dir.write("collector.toml", collector_config(dir, pull, pub, es_url));
    const std::string collector_bin = built_program("src/actors/collector/bts-collector");
    auto collector = std::make_unique<ChildProcess>(collector_bin, std::vector<std::string>{"--config", cfg},
                                                    dir.file("collector-1.log"));
    ASSERT_TRUE(collector->wait_for_log("ready")) << collector->log();
    json faults = {{"phases", {{{"mode", "refuse"}, {"duration_ms", phase * 1000}},
                               {{"mode", "items_429"}, {"fraction", 1.0 / 3.0}, {"duration_ms", phase * 1000}}}}};
    ASSERT_EQ(http_json("POST", es_url + "/_emulator/faults", faults.dump())["acknowledged"], true);

    const std::string run = "real-" + std::to_string(now_ms());
    const int n_beacons = 3;
    std::vector<std::unique_ptr<ChildProcess>> beacons;
    for (int i = 0; i < n_beacons; ++i) {
        std::string accounts = "devnet:stress-" + std::to_string(10 * i) + "..stress-" + std::to_string(10 * i + 9);
        beacons.push_back(std::make_unique<ChildProcess>(
            beacon_bin,
            std::vector<std::string>{"--node", "ws://127.0.0.1:" + std::to_string(node_port), "--accounts", accounts,
                                     "--rate", "20", "--duration", std::to_string(2 * phase + 3) + "s", "--stats",
                                     "stdout", "--stats", "tcp://127.0.0.1:" + std::to_string(pull), "--run-id", run,
                                     "--id", "beacon-" + std::to_string(i), "--seed", std::to_string(i + 1), "--set",
                                     "beacon.drain_timeout=3s"},
            dir.file("beacon-" + std::to_string(i) + ".log")));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(phase * 1500));
    collector->signal(SIGKILL);
    collector->wait(10s);
    collector = std::make_unique<ChildProcess>(collector_bin, std::vector<std::string>{"--config", cfg},
                                               dir.file("collector-2.log"));
    ASSERT_TRUE(collector->wait_for_log("ready")) << collector->log();
    for (auto& b : beacons) ASSERT_EQ(b->wait(std::chrono::seconds(2 * phase + 60)), 0) << b->log();

    // The beacons' own figures: their interval lines and their summary.
    Sums want;
    want.count = want.sent = want.accepted = want.rejected = want.included_ops = want.included = 0;
    for (auto& b : beacons) {
        std::istringstream in(b->log());
        std::string line;
        bool summary = false;
        std::int64_t intervals = 0;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] != '{') continue;
            auto j = json::parse(line, nullptr, false);
            if (!j.is_object()) continue;
            if (j.value("type", "") == "interval") ++intervals;
            if (j.value("type", "") != "summary") continue;
            summary = true;
            want.sent += j["sent"].get<std::int64_t>();
            want.accepted += j["accepted"].get<std::int64_t>();
            for (const auto& [k, v] : j["rejected"].items()) want.rejected += v.get<std::int64_t>();
            want.included_ops += j["included_ops"].get<std::int64_t>();
            want.included += j["included_txs"].get<std::int64_t>();
            // The beacon's counts add up.
            std::int64_t rej = 0;
            for (const auto& [k, v] : j["rejected"].items()) rej += v.get<std::int64_t>();
            EXPECT_EQ(j["sent"].get<std::int64_t>(),
                      j["accepted"].get<std::int64_t>() + rej + j["unknown_outcome"].get<std::int64_t>());
            EXPECT_EQ(j["accepted"].get<std::int64_t>(), j["included_txs"].get<std::int64_t>() +
                                                             j["expired_unincluded"].get<std::int64_t>() +
                                                             j["pending_at_cutoff"].get<std::int64_t>());
            EXPECT_EQ(j["intervals"].get<std::int64_t>(), intervals);
            EXPECT_EQ(j["stats_push_failures"].get<std::int64_t>(), 0);
        }
        ASSERT_TRUE(summary) << b->log();
        want.count += intervals;
    }
    ASSERT_GT(want.sent, 0);
    EXPECT_GT(want.accepted, 0);  // the node really took transactions
    std::printf("beacons' own totals: %lld intervals, sent %lld, accepted %lld, rejected %lld, included ops %lld\n",
                static_cast<long long>(want.count), static_cast<long long>(want.sent),
                static_cast<long long>(want.accepted), static_cast<long long>(want.rejected),
                static_cast<long long>(want.included_ops));
    const std::string db = dir.file("store.sqlite");
    // The chain's count, from the node's blocks: what the beacons say was included.
    EXPECT_EQ(count_chain_settled(node_url, head + 1).txs, static_cast<std::uint64_t>(want.included));
    auto same = [&](const Sums& a) {
        return a.count == want.count && a.sent == want.sent && a.accepted == want.accepted &&
               a.rejected == want.rejected && a.included_ops == want.included_ops && a.included == want.included;
    };
    EXPECT_TRUE(eventually([&] { return same(es_sums(es_url, "bts-intervals")); }, 90s));
    EXPECT_TRUE(eventually([&] { return same(sqlite_sums(db, "intervals")); }, 30s));
    auto got_es = es_sums(es_url, "bts-intervals");
    auto got_db = sqlite_sums(db, "intervals");
    EXPECT_EQ(got_es.count, want.count);
    EXPECT_EQ(got_es.sent, want.sent);
    EXPECT_EQ(got_es.accepted, want.accepted);
    EXPECT_EQ(got_es.included_ops, want.included_ops);
    EXPECT_EQ(got_db.count, want.count);
    EXPECT_EQ(got_db.sent, want.sent);
    EXPECT_EQ(got_db.accepted, want.accepted);
    EXPECT_EQ(got_db.rejected, want.rejected);
    EXPECT_EQ(got_db.included, want.included);
    EXPECT_EQ(got_es.included, want.included);
    auto stats = http_json("GET", es_url + "/_emulator/stats");
    EXPECT_GT(stats["refused_connections"].get<int>(), 0) << stats.dump();
}
