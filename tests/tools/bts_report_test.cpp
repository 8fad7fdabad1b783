// bts-report over a store written by the real collector (in-process, fed by fake beacons over
// ZeroMQ): the report's numbers equal the beacons' own totals and the merged histograms.
#include "actors/collector/collector.hpp"
#include "common/util/log.hpp"
#include "fake_beacon.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace bc = bts::collector;
namespace bw = bts::wire;
using bts::test::built_program;
using bts::test::FakeBeacon;
using bts::test::run_program;
using bts::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::string commas(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

std::string lat(std::uint64_t us) {
    char buf[32];
    if (us < 1000) return std::to_string(us) + " us";
    if (us < 1'000'000) std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(us) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(us) / 1e6);
    return buf;
}

struct Fixture {
    TempDir dir;
    std::string store;
    std::vector<bts::test::BeaconTotals> totals;
    bts::util::Histogram acceptance;
    std::map<std::string, std::uint64_t> classes;

    Fixture() {
        store = dir.file("store.sqlite");
        auto log = bts::util::setup_logging("bts_report_test", "warn");
        bc::CollectorConfig cfg;
        cfg.listen = "tcp://127.0.0.1:*";
        cfg.publish = "";
        cfg.store.path = store;
        cfg.totals_delay = 0ms;
        bc::Collector collector(cfg, log);
        const std::int64_t t0 = 1'700'000'000'000;
        std::vector<std::unique_ptr<FakeBeacon>> beacons;
        for (int b = 0; b < 3; ++b)
            beacons.push_back(std::make_unique<FakeBeacon>(collector.endpoint(), "run-rep", "b" + std::to_string(b), b + 11));
        // An older run, so "the most recent" has to be chosen.
        FakeBeacon old(collector.endpoint(), "run-old", "b0", 99);
        old.send_next(t0 - 86'400'000);
        for (int i = 0; i < 12; ++i)
            for (auto& b : beacons) {
                if (b->id() == "b2" && i == 5) {  // a lost interval: seq 5 of b2 never arrives
                    b->send_next(0);
                    continue;
                }
                b->send_next(t0 + 1000 * i, i == 11);
            }
        FakeBeacon events(collector.endpoint(), "run-rep", "x", 1);
        events.send_frame(bw::encode(bw::RunEvent{"run-rep", "bts-devnet", t0 + 3000, "warn", "node_restart", "restarted | ok"}));
        for (int tries = 0; tries < 200 && collector.stats().intervals < 36 + 1 - 1; ++tries) std::this_thread::sleep_for(20ms);
        collector.flush();
        for (auto& b : beacons) {
            auto t = b->totals();
            if (b->id() == "b2") {  // remove the one that was "lost"
                auto s = bts::test::make_interval("run-rep", "b2", 5, 0, 1000, 13);
                t.intervals -= 1;
                t.sent -= s.sent;
                t.accepted -= s.accepted;
                for (const auto& [k, n] : s.rejected_by_class) {
                    t.rejected -= n;
                    t.rejected_by_class[k] -= n;
                }
            }
            totals.push_back(t);
            for (const auto& [k, n] : t.rejected_by_class) classes[k] += n;
            for (std::uint64_t seq = 0; seq < 12; ++seq) {
                if (b->id() == "b2" && seq == 5) continue;
                acceptance.merge(bts::test::make_interval("run-rep", b->id(), seq, 0, 1000, b->id() == "b0" ? 11 : b->id() == "b1" ? 12 : 13)
                                     .acceptance_from_intended);
            }
        }
    }
};

}  // namespace

TEST(BtsReport, MarkdownReportOfTheMostRecentRun) {
    Fixture f;
    auto r = run_program(built_program("src/tools/bts-report/bts-report"), {"--store", f.store});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string& md = r.out;
    EXPECT_NE(md.find("# Run run-rep"), std::string::npos) << md;
    std::uint64_t sent = 0, accepted = 0, rejected = 0;
    for (const auto& t : f.totals) {
        sent += t.sent;
        accepted += t.accepted;
        rejected += t.rejected;
    }
    EXPECT_NE(md.find("- **Sent:** " + commas(sent) + "\n"), std::string::npos) << md;
    EXPECT_NE(md.find("- **Accepted:** " + commas(accepted) + " ("), std::string::npos) << md;
    EXPECT_NE(md.find("- **Rejected:** " + commas(rejected) + " ("), std::string::npos) << md;
    EXPECT_NE(md.find("- **Intervals stored:** 35 (1 missing: sequence gaps)"), std::string::npos) << md;
    EXPECT_NE(md.find("- **Beacons (finished):** 3 (3)"), std::string::npos) << md;
    // Whole-run percentiles from the merged histograms.
    EXPECT_NE(md.find("| acceptance (from intended send) | " + commas(f.acceptance.count())), std::string::npos) << md;
    EXPECT_NE(md.find(lat(f.acceptance.percentile(99))), std::string::npos) << md;
    for (const auto& [k, n] : f.classes) EXPECT_NE(md.find("| " + k), std::string::npos) << k;
    EXPECT_NE(md.find("## Per-second totals"), std::string::npos);
    EXPECT_NE(md.find("| 22:13:20 "), std::string::npos) << md;  // the first second, t0
    EXPECT_NE(md.find("node_restart"), std::string::npos);
    EXPECT_NE(md.find("restarted / ok"), std::string::npos);  // '|' cannot break the table
    EXPECT_NE(md.find("| b2 "), std::string::npos);
    if (std::getenv("BTS_SHOW_REPORT")) std::cout << md;
}

TEST(BtsReport, TextFormatListAndErrors) {
    Fixture f;
    const auto prog = built_program("src/tools/bts-report/bts-report");
    auto r = run_program(prog, {"--store", f.store, "--run", "run-old", "--format", "text", "--no-seconds"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Run run-old\n==========="), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Per-second totals"), std::string::npos);
    EXPECT_EQ(r.out.find('|'), std::string::npos);
    r = run_program(prog, {"--store", f.store, "--list"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_LT(r.out.find("run-rep"), r.out.find("run-old"));  // newest first
    r = run_program(prog, {"--store", f.store, "--run", "nope"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no run \"nope\""), std::string::npos);
    r = run_program(prog, {"--store", f.dir.file("missing.sqlite")});
    EXPECT_EQ(r.exit_code, 1);
    r = run_program(prog, {"--format", "pdf"});
    EXPECT_EQ(r.exit_code, 2);
    r = run_program(prog, {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--store"), std::string::npos);
}

namespace {

// The JSON block bts-report --format html embeds (script#report-data).
nlohmann::json report_data(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"report-data\">";
    const auto a = html.find(open);
    const auto b = html.find("</script>", a);
    if (a == std::string::npos || b == std::string::npos) return nullptr;
    return nlohmann::json::parse(html.substr(a + open.size(), b - a - open.size()), nullptr, false);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST(BtsReport, HtmlReportWithoutChainObserver) {
    Fixture f;
    const auto out = f.dir.file("r.html");
    auto r = run_program(built_program("src/tools/bts-report/bts-report"),
                         {"--store", f.store, "--format", "html", "--output", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = slurp(out);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("No chain observer data in this store"), std::string::npos);
    EXPECT_EQ(html.find("data-plot=\"block-ops\""), std::string::npos);
    EXPECT_NE(html.find("node_restart"), std::string::npos);
    EXPECT_NE(html.find("restarted | ok"), std::string::npos);  // HTML-escaped, not mangled
    const auto data = report_data(html);
    ASSERT_TRUE(data.is_object());
    EXPECT_EQ(data["run_id"], "run-rep");
    std::uint64_t sent = 0, accepted = 0, rejected = 0;
    for (const auto& t : f.totals) {
        sent += t.sent;
        accepted += t.accepted;
        rejected += t.rejected;
    }
    EXPECT_EQ(data["totals"]["sent"].get<std::uint64_t>(), sent);
    EXPECT_EQ(data["totals"]["accepted"].get<std::uint64_t>(), accepted);
    EXPECT_EQ(data["totals"]["rejected"].get<std::uint64_t>(), rejected);
    EXPECT_EQ(data["totals"]["intervals"].get<std::uint64_t>(), 35u);
    EXPECT_EQ(data["totals"]["acc_p99"].get<std::uint64_t>(), f.acceptance.percentile(99));
    EXPECT_EQ(data["bin_s"].get<double>(), 1.0);
    // Every bin's p99 is its merged histogram's (the fixture's seconds are known).
    const std::int64_t t0 = 1'700'000'000'000;
    EXPECT_EQ(data["t0_ms"].get<std::int64_t>(), t0);
    for (std::uint64_t i = 0; i < 12; ++i) {
        bts::util::Histogram h;
        for (const auto& [id, seed] : {std::pair{"b0", 11}, std::pair{"b1", 12}, std::pair{"b2", 13}}) {
            if (std::string(id) == "b2" && i == 5) continue;
            h.merge(bts::test::make_interval("run-rep", id, i, 0, 1000, static_cast<std::uint64_t>(seed)).acceptance_from_intended);
        }
        EXPECT_EQ(data["bins"]["acc_p99"][i].get<double>(), static_cast<double>(h.percentile(99))) << "second " << i;
    }
    // The verdict names the lost interval.
    EXPECT_NE(html.find("Verdict: CHECK"), std::string::npos);
    EXPECT_NE(html.find("1 intervals missing"), std::string::npos);
    // A store without the run: one line, exit 1.
    r = run_program(built_program("src/tools/bts-report/bts-report"),
                    {"--store", f.store, "--run", "nope", "--format", "html"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no run \"nope\""), std::string::npos);
}

TEST(BtsReport, HtmlReportDrawsTheChainObserversBlocks) {
    Fixture f;
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(f.store.c_str(), &db), SQLITE_OK);
        std::string sql =
            "CREATE TABLE blocks (run_id TEXT, node TEXT, block_num INTEGER, timestamp_ms INTEGER, witness TEXT, "
            "tx_count INTEGER, op_count INTEGER, bytes INTEGER, missed_slots INTEGER, observed_ms INTEGER, "
            "PRIMARY KEY(run_id, node, block_num));";
        for (int k = 0; k < 4; ++k) {
            const std::string ts = std::to_string(1'700'000'000'000 + 3000LL * k);
            sql += "INSERT INTO blocks VALUES ('run-rep', 'ws://a:8090', " + std::to_string(100 + k) + ", " + ts +
                   ", '1.6.1', " + std::to_string(10 + k) + ", " + std::to_string(20 + k) + ", " +
                   std::to_string(1000 * (k + 1)) + ", " + std::to_string(k == 2 ? 1 : 0) + ", " + ts + ");";
            sql += "INSERT INTO blocks VALUES ('run-rep', 'ws://b:8090', " + std::to_string(100 + k) + ", " + ts +
                   ", '1.6.1', 1, 1, 100, 0, " + ts + ");";
        }
        sql += "INSERT INTO blocks VALUES ('run-old', 'ws://a:8090', 1, 0, 'x', 99, 99, 99, 99, 0);";
        // Hostile text from the network ends up as text, never as markup or a way out of the JSON.
        sql += "INSERT INTO events (id, run_id, source, unix_ms, level, kind, text) VALUES ('x1', 'run-rep', "
               "'<b>beacon</b>', 1700000004000, 'error', 'evil', '</script><script>alert(1)</script>&amp;');";
        char* err = nullptr;
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
        sqlite3_close(db);
    }
    const auto out = f.dir.file("r.html");
    auto r = run_program(built_program("src/tools/bts-report/bts-report"),
                         {"--store", f.store, "--format", "html", "--output", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = slurp(out);
    EXPECT_EQ(html.find("No chain observer data"), std::string::npos);
    for (const char* id : {"block-ops", "block-bytes", "missed-slots", "node-tx"})
        EXPECT_NE(html.find("data-plot=\"" + std::string(id) + "\""), std::string::npos) << id;
    const auto data = report_data(html);
    ASSERT_TRUE(data.is_object());
    // The node with the most blocks (a tie here: the first by name) is the one drawn; only this run's rows.
    EXPECT_EQ(data["blocks"]["node"], "ws://a:8090");
    EXPECT_EQ(data["blocks"]["count"].get<int>(), 4);
    EXPECT_EQ(data["blocks"]["tx"].get<int>(), 10 + 11 + 12 + 13);
    EXPECT_EQ(data["blocks"]["ops"].get<int>(), 20 + 21 + 22 + 23);
    EXPECT_EQ(data["blocks"]["missed"].get<int>(), 1);
    const auto& ops = data["plots"]["block-ops"]["series"][0]["y"];
    ASSERT_EQ(ops.size(), 4u);
    EXPECT_EQ(ops[3].get<double>(), 23.0);
    const auto& rate = data["plots"]["rate"]["series"];
    EXPECT_EQ(rate.back()["name"], "included (chain)");
    EXPECT_NE(html.find("ws://b:8090"), std::string::npos);  // per-node table
    EXPECT_EQ(html.find("<script>alert"), std::string::npos);
    EXPECT_EQ(html.find("<b>beacon"), std::string::npos);
    EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"), std::string::npos);
    EXPECT_EQ(html.find("</script><script>alert"), std::string::npos);
}

TEST(BtsReport, HtmlReportOfARunWithoutIntervals) {
    Fixture f;
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(f.store.c_str(), &db), SQLITE_OK);
        const char* sql =
            "INSERT INTO runs (run_id, first_ms, last_ms, intervals, events) VALUES ('empty', 1700000100000, "
            "1700000100000, 0, 1);"
            "INSERT INTO events (id, run_id, source, unix_ms, level, kind, text) VALUES ('e-empty', 'empty', 'broker', "
            "1700000100000, 'warn', 'no_beacons', 'nobody answered');";
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    const auto out = f.dir.file("empty.html");
    auto r = run_program(built_program("src/tools/bts-report/bts-report"),
                         {"--store", f.store, "--run", "empty", "--format", "html", "--output", out}, {}, 20s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = slurp(out);
    EXPECT_NE(html.find(">no data</text>"), std::string::npos);
    EXPECT_NE(html.find("Verdict: CHECK"), std::string::npos);
    EXPECT_NE(html.find("nobody answered"), std::string::npos);
    const auto data = report_data(html);
    ASSERT_TRUE(data.is_object());
    EXPECT_EQ(data["totals"]["sent"], 0);
}
