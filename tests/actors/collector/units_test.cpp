// Unit tests of the collector's parts: documents, JSON writer, aggregator, spool, store, config.
#include "actors/collector/aggregator.hpp"
#include "actors/collector/config.hpp"
#include "actors/collector/documents.hpp"
#include "actors/collector/es_sink.hpp"
#include "actors/collector/json_writer.hpp"
#include "actors/collector/spool.hpp"
#include "actors/collector/sqlite_store.hpp"
#include "fake_beacon.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace bc = bts::collector;
namespace bw = bts::wire;
using bts::test::make_interval;
using bts::test::TempDir;
using nlohmann::json;

// ---- documents ------------------------------------------------------------------------------

TEST(Documents, IdsAreDeterministicAndUnambiguous) {
    auto s = make_interval("run-1", "b1", 7, 1'700'000'000'000, 1000, 1);
    EXPECT_EQ(bc::doc_id(s), "run-1/b1/7");
    bw::ClusterTotals t;
    t.run_id = "run-1";
    t.second_unix = 1'700'000'000;
    EXPECT_EQ(bc::doc_id(t), "run-1/1700000000");
    bw::RunEvent e{"run-1", "bts-devnet", 1'700'000'000'123, "info", "node_restart", "restarted"};
    EXPECT_EQ(bc::doc_id(e), bc::doc_id(e));
    EXPECT_EQ(bc::doc_id(e).rfind("run-1/bts-devnet/1700000000123/", 0), 0u);
    bw::RunEvent e2 = e;
    e2.text = "restarted!";
    EXPECT_NE(bc::doc_id(e), bc::doc_id(e2));
    bw::UptimeResult u;
    u.endpoint = "main node";
    u.unix_ms = 5;
    EXPECT_EQ(bc::doc_id(u), "main node/5");
}

TEST(Documents, ValidatesIds) {
    EXPECT_TRUE(bc::valid_id("run-2024.05_01:a@b"));
    EXPECT_FALSE(bc::valid_id(""));
    EXPECT_FALSE(bc::valid_id("a/b"));
    EXPECT_FALSE(bc::valid_id("a b"));
    EXPECT_FALSE(bc::valid_id(std::string(129, 'a')));
    EXPECT_FALSE(bc::valid_id("caf\xc3\xa9"));
    EXPECT_TRUE(bc::valid_name("Main node (EU)"));
    EXPECT_FALSE(bc::valid_name("bad\nname"));

    bw::Message ok = make_interval("r", "b", 0, 1000, 1000, 1);
    EXPECT_FALSE(bc::check_storable(ok));
    auto bad = make_interval("r/x", "b", 0, 1000, 1000, 1);
    EXPECT_TRUE(bc::check_storable(bw::Message{bad}));
    bad = make_interval("r", "b", 0, 1000, 0, 1);
    EXPECT_TRUE(bc::check_storable(bw::Message{bad})) << "0 ms is only for a final interval";
    // A run that ends right on an interval boundary sends a 0 ms final interval: it holds the
    // last replies and the cutoff, and must be stored ("finished 2 of 3" otherwise).
    auto last = make_interval("r", "b", 7, 1000, 0, 1);
    last.final = true;
    EXPECT_FALSE(bc::check_storable(bw::Message{last}));
    EXPECT_TRUE(bc::check_storable(bw::Message{bw::Heartbeat{}}));
    bw::RunEvent e{"", "uptime", 1, "info", "k", "t"};
    EXPECT_FALSE(bc::check_storable(bw::Message{e}));  // events without a run are fine
}

TEST(Documents, SparsePercentileEqualsHistogramPercentile) {
    std::mt19937_64 rng(42);
    for (int round = 0; round < 50; ++round) {
        bts::util::Histogram h;
        int n = 1 + static_cast<int>(rng() % 2000);
        for (int i = 0; i < n; ++i) h.record(rng() % (1u << (rng() % 30)));
        auto sparse = h.to_sparse();
        for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0})
            ASSERT_EQ(bc::sparse_percentile(sparse, p), h.percentile(p)) << "p=" << p << " n=" << n;
    }
    EXPECT_EQ(bc::sparse_percentile({}, 50), 0u);
}

TEST(Documents, OnePassSummaryEqualsPercentiles) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 30; ++round) {
        bts::util::Histogram h;
        int n = static_cast<int>(rng() % 500);
        for (int i = 0; i < n; ++i) h.record(rng() % 1'000'000);
        auto l = bc::summarize(h.to_sparse());
        EXPECT_EQ(l.count, h.count());
        EXPECT_EQ(l.p50, h.percentile(50));
        EXPECT_EQ(l.p90, h.percentile(90));
        EXPECT_EQ(l.p99, h.percentile(99));
        EXPECT_EQ(l.max, h.max());
    }
}

TEST(Documents, Iso8601) {
    EXPECT_EQ(bc::iso8601_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(bc::iso8601_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(bc::iso8601_ms(951'782'400'000), "2000-02-29T00:00:00.000Z");
    EXPECT_EQ(bc::iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Documents, BulkItemsAreTwoLinesOfValidJson) {
    bc::EsIndices ix("bts");
    std::string out;
    auto s = make_interval("run-1", "b1", 3, 1'700'000'000'000, 1000, 9);
    s.rejected_by_class["odd.class \"x\""] = 2;
    bc::append_bulk_item(out, ix, s);
    auto nl = out.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(out.back(), '\n');
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
    json action = json::parse(out.substr(0, nl));
    json doc = json::parse(out.substr(nl + 1));
    EXPECT_EQ(action["create"]["_index"], "bts-intervals");
    EXPECT_EQ(action["create"]["_id"], "run-1/b1/3");
    EXPECT_EQ(doc["@timestamp"], "2023-11-14T22:13:20.000Z");
    EXPECT_EQ(doc["run"]["id"], "run-1");
    EXPECT_EQ(doc["tx"]["sent"], s.sent);
    EXPECT_EQ(doc["tx"]["accepted"], s.accepted);
    EXPECT_EQ(doc["rejected_by_class"]["odd_class \"x\""], 2);
    EXPECT_EQ(doc["latency"]["acceptance"]["count"], s.acceptance_from_intended.count());
    EXPECT_EQ(doc["latency"]["acceptance"]["p99_us"], bc::sparse_percentile(s.acceptance_from_intended, 99));
    EXPECT_EQ(doc["latency"]["inclusion"]["p90_us"], bc::sparse_percentile(s.inclusion, 90));
    EXPECT_EQ(doc["wire"]["frame"], bc::base64(bw::encode(s)));  // exact histograms, decodable

    out.clear();
    bw::UptimeResult u;
    u.endpoint = "node";
    u.url = "wss://node.example:443/ws";
    u.kind = "wss";
    u.status = std::string(bw::uptime_status::kStale);
    u.unix_ms = 1'700'000'000'000;
    u.duration_us = 1234;
    u.cert_not_after_unix = 1'800'000'000;
    u.cert_issuer = "CN=R3";
    u.error = "head block 90 s old";
    bc::append_bulk_item(out, ix, u);
    nl = out.find('\n');
    doc = json::parse(out.substr(nl + 1));
    EXPECT_EQ(doc["monitor"]["status"], "down");
    EXPECT_EQ(doc["monitor"]["duration"]["us"], 1234);
    EXPECT_EQ(doc["tls"]["server"]["x509"]["not_after"], "2027-01-15T08:00:00.000Z");
    EXPECT_EQ(doc["bts"]["uptime"]["status"], "STALE");
    EXPECT_EQ(doc["error"]["message"], "head block 90 s old");

    out.clear();
    bw::ClusterTotals t;
    t.run_id = "r";
    t.second_unix = 10;
    bc::append_bulk_item(out, ix, t, 7);
    action = json::parse(out.substr(0, out.find('\n')));
    EXPECT_EQ(action["index"]["version"], 7);
    EXPECT_EQ(action["index"]["version_type"], "external");
}

TEST(Documents, TemplatesAreValidJson) {
    auto t = bc::index_templates("bts");
    ASSERT_EQ(t.size(), 4u);
    for (const auto& [name, body] : t) {
        json j = json::parse(body);
        EXPECT_EQ(j["index_patterns"][0], name + "*");
        EXPECT_TRUE(j["template"]["mappings"]["properties"].contains("@timestamp"));
    }
    json up = json::parse(t[3].second);
    EXPECT_EQ(up["template"]["mappings"]["properties"]["monitor"]["properties"]["status"]["type"], "keyword");
}

TEST(JsonWriter, EscapesAndReplacesInvalidUtf8) {
    std::string out;
    bc::JsonWriter::escape_to(out, std::string("a\"b\\c\n\x01 \xc3\xa9 \xff end", 16));
    json j = json::parse(out);
    EXPECT_EQ(j.get<std::string>(), "a\"b\\c\n\x01 \xc3\xa9 \xef\xbf\xbd end");
    out.clear();
    bc::JsonWriter w(out);
    w.begin_object().kv("a", std::uint64_t{1}).kv("b", 1.5).kv("c", true).key("d").begin_array().u64(1).u64(2);
    w.end_array().kv("e", std::numeric_limits<double>::infinity()).end_object();
    EXPECT_EQ(out, R"({"a":1,"b":1.5,"c":true,"d":[1,2],"e":null})");
}

TEST(Base64, KnownAnswers) {
    EXPECT_EQ(bc::base64(""), "");
    EXPECT_EQ(bc::base64("\xff\xfe"), "//4=");
    EXPECT_EQ(bc::base64("f"), "Zg==");
    EXPECT_EQ(bc::base64("fo"), "Zm8=");
    EXPECT_EQ(bc::base64("foobar"), "Zm9vYmFy");
    bc::EsConfig c;
    c.username = "elastic";
    c.password = "changeme";
    EXPECT_EQ(bc::es_authorization(c), "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
    c.username.clear();
    c.password.clear();
    c.api_key = "id:key";
    EXPECT_EQ(bc::es_authorization(c), "ApiKey aWQ6a2V5");
    c.api_key = "aWQ6a2V5";
    EXPECT_EQ(bc::es_authorization(c), "ApiKey aWQ6a2V5");
}

// ---- aggregator -----------------------------------------------------------------------------

TEST(Aggregator, MergesBeaconsPerSecondExactly) {
    bc::Aggregator agg(std::chrono::seconds(2), std::chrono::seconds(10));
    std::int64_t t0 = 1'700'000'000'000;
    bts::util::Histogram acc;
    std::uint64_t sent = 0;
    for (int b = 0; b < 3; ++b) {
        auto s = make_interval("r", "b" + std::to_string(b), 0, t0 + 100 * b, 1000, b + 1);
        acc.merge(s.acceptance_from_intended);
        sent += s.sent;
        agg.add(s);
    }
    EXPECT_TRUE(agg.due(t0 + 2999).empty());  // second ends at t0+1000, delay 2 s
    auto out = agg.due(t0 + 3000);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].version, 3u);
    EXPECT_EQ(out[0].totals.beacons, 3u);
    EXPECT_EQ(out[0].totals.sent, sent);
    EXPECT_EQ(out[0].totals.configured_rate, 300.0);
    EXPECT_EQ(out[0].totals.acceptance_p99_us, acc.percentile(99));
    EXPECT_EQ(out[0].totals.acceptance_max_us, acc.max());
    EXPECT_TRUE(agg.due(t0 + 3100).empty());  // not changed since
    // A late interval revises the second with a higher version.
    agg.add(make_interval("r", "b9", 0, t0 + 500, 1000, 9));
    out = agg.due(t0 + 3200);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].version, 4u);
    EXPECT_EQ(out[0].totals.beacons, 4u);
    // After linger the second is dropped.
    agg.due(t0 + 11'001);
    EXPECT_EQ(agg.open_seconds(), 0u);
}

TEST(Aggregator, RebuildsADroppedSecondFromTheLoader) {
    std::int64_t t0 = 1'700'000'000'000;
    std::vector<std::string> stored;
    bc::Aggregator agg(std::chrono::seconds(1), std::chrono::seconds(2),
                       [&](const std::string&, std::int64_t, std::int64_t) { return stored; });
    for (int b = 0; b < 2; ++b) {
        auto s = make_interval("r", "b" + std::to_string(b), 0, t0, 1000, b);
        stored.push_back(bw::encode(s));
        agg.add(s);
    }
    auto out = agg.due(t0 + 2000);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].version, 2u);
    agg.due(t0 + 10'000);
    EXPECT_EQ(agg.open_seconds(), 0u);
    auto late = make_interval("r", "b7", 0, t0 + 10, 1000, 7);
    stored.push_back(bw::encode(late));
    agg.add(late);
    out = agg.due(t0 + 10'100);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].version, 3u);  // all three, not just the late one
    EXPECT_EQ(out[0].totals.beacons, 3u);
    EXPECT_EQ(agg.rebuilt_seconds(), 1u);
}

// ---- spool ----------------------------------------------------------------------------------

namespace {
std::string item(int i) {
    return "{\"create\":{\"_index\":\"x\",\"_id\":\"" + std::to_string(i) + "\"}}\n{\"n\":" + std::to_string(i) + "}\n";
}
}  // namespace

TEST(Spool, AppendReadCommitAcrossSegmentsAndRestart) {
    TempDir dir;
    bc::Spool::Options opt{dir.file("spool"), 1 << 20, 256};
    {
        bc::Spool spool(opt);
        for (int i = 0; i < 20; ++i) ASSERT_EQ(spool.append(item(i), 1), bc::Spool::AppendResult::kOk);
        EXPECT_EQ(spool.pending_items(), 20u);
        int next = 0;
        auto pos = spool.cursor();
        for (int round = 0; round < 3; ++round) {
            auto b = spool.read(pos, 3, 1 << 20);
            ASSERT_GT(b.items, 0u);
            for (std::size_t k = 0; k < b.items; ++k) {
                auto at = b.bytes.find(item(next));
                EXPECT_NE(at, std::string::npos) << next;
                ++next;
            }
            spool.commit(b.end, b.items);
            pos = b.end;
        }
        EXPECT_EQ(spool.pending_items(), 20u - next);
    }
    // Reopen: continues where the cursor was; finished segments are gone.
    bc::Spool spool(opt);
    auto pos = spool.cursor();
    std::string all;
    std::size_t items = 0;
    for (;;) {
        auto b = spool.read(pos, 100, 1 << 20);
        if (b.items == 0 && b.end == pos) break;
        all += b.bytes;
        items += b.items;
        spool.commit(b.end, b.items);
        pos = b.end;
    }
    EXPECT_EQ(spool.pending_items(), 0u);
    EXPECT_EQ(spool.pending_bytes(), 0u);
    EXPECT_GT(items, 0u);
    EXPECT_EQ(all.find(item(19)) != std::string::npos, true);
    EXPECT_EQ(all.find(item(0)), std::string::npos);
}

TEST(Spool, CutsATornItemOnOpen) {
    TempDir dir;
    bc::Spool::Options opt{dir.file("spool"), 1 << 20, 1 << 20};
    {
        bc::Spool spool(opt);
        ASSERT_EQ(spool.append(item(1) + item(2), 2), bc::Spool::AppendResult::kOk);
    }
    std::string seg;
    for (auto& e : std::filesystem::directory_iterator(opt.dir))
        if (e.path().extension() == ".ndjson") seg = e.path();
    {
        std::ofstream f(seg, std::ios::app);
        f << "{\"create\":{\"_index\":\"x\",\"_id\":\"3\"}}\n{\"n\":";  // died mid-write
    }
    bc::Spool spool(opt);
    EXPECT_EQ(spool.pending_items(), 2u);
    auto b = spool.read(spool.cursor(), 10, 1 << 20);
    EXPECT_EQ(b.items, 2u);
    EXPECT_EQ(b.bytes, item(1) + item(2));
    ASSERT_EQ(spool.append(item(4), 1), bc::Spool::AppendResult::kOk);
    b = spool.read(b.end, 10, 1 << 20);
    EXPECT_EQ(b.bytes, item(4));
}

TEST(Spool, RefusesBeyondItsBound) {
    TempDir dir;
    bc::Spool spool({dir.file("spool"), 200, 100});
    EXPECT_EQ(spool.append(item(1), 1), bc::Spool::AppendResult::kOk);
    EXPECT_EQ(spool.append(item(2), 1), bc::Spool::AppendResult::kOk);
    EXPECT_EQ(spool.append(item(3) + item(4) + item(5), 3), bc::Spool::AppendResult::kFull);
    auto b = spool.read(spool.cursor(), 10, 1 << 20);
    spool.commit(b.end, b.items);
    EXPECT_EQ(spool.append(item(3), 1), bc::Spool::AppendResult::kOk);
}

TEST(Spool, ReadsOneItemLargerThanTheByteLimit) {
    TempDir dir;
    bc::Spool spool({dir.file("spool"), 1 << 24, 1 << 24});
    std::string big = "{\"create\":{}}\n{\"x\":\"" + std::string(100'000, 'a') + "\"}\n";
    ASSERT_EQ(spool.append(big + item(1), 2), bc::Spool::AppendResult::kOk);
    auto b = spool.read(spool.cursor(), 10, 1000);
    EXPECT_EQ(b.items, 1u);
    EXPECT_EQ(b.bytes, big);
}

// ---- store ----------------------------------------------------------------------------------

TEST(SqliteStore, StoresEachIntervalOnceAndSummarises) {
    TempDir dir;
    bc::StoreConfig cfg;
    cfg.path = dir.file("s.sqlite");
    {
        bc::SqliteStore store(cfg);
        for (int round = 0; round < 2; ++round)
            for (std::uint64_t seq = 0; seq < 5; ++seq) {
                auto s = make_interval("r1", "b1", seq, 1'700'000'000'000 + 1000 * static_cast<std::int64_t>(seq), 1000, 3);
                s.unknown_outcome = seq;
                s.expired_unincluded = 1;
                if (seq == 4) s.pending_at_cutoff = 2;
                auto r = store.add_interval(s, bw::encode(s), 1);
                EXPECT_EQ(r, round == 0 ? bc::AddResult::kNew : bc::AddResult::kDuplicate);
            }
        EXPECT_TRUE(store.commit());
        auto frames = store.interval_frames("r1", 1'700'000'000'000, 1'700'000'002'000);
        EXPECT_EQ(frames.size(), 2u);
        bw::RunEvent e{"r1", "src", 5, "info", "k", "t"};
        EXPECT_EQ(store.add_event(e, bc::doc_id(e)), bc::AddResult::kNew);
        EXPECT_EQ(store.add_event(e, bc::doc_id(e)), bc::AddResult::kDuplicate);
        bw::ClusterTotals t;
        t.run_id = "r1";
        t.second_unix = 1;
        t.sent = 5;
        EXPECT_TRUE(store.put_totals(t, 1));
        t.sent = 6;
        EXPECT_TRUE(store.put_totals(t, 2));
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(cfg.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    auto scalar = [&](const char* sql) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
        std::int64_t v = -1;
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    };
    EXPECT_EQ(scalar("SELECT count(*) FROM intervals"), 5);
    EXPECT_EQ(scalar("SELECT intervals FROM run_beacons WHERE run_id='r1'"), 5);
    EXPECT_EQ(scalar("SELECT sum(sent) FROM intervals"), scalar("SELECT sent FROM run_beacons"));
    EXPECT_EQ(scalar("SELECT sum(unknown_outcome) FROM intervals"), 10);
    EXPECT_EQ(scalar("SELECT unknown_outcome FROM run_beacons"), 10);
    EXPECT_EQ(scalar("SELECT expired_unincluded FROM run_beacons"), 5);
    EXPECT_EQ(scalar("SELECT pending_at_cutoff FROM run_beacons"), 2);
    EXPECT_EQ(scalar("SELECT intervals FROM runs"), 5);
    EXPECT_EQ(scalar("SELECT events FROM runs"), 1);
    EXPECT_EQ(scalar("SELECT sent FROM cluster_totals"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM cluster_totals"), 1);
    EXPECT_EQ(scalar("SELECT value FROM meta WHERE key='schema_version'"), 1);
    sqlite3_close(db);
}

TEST(SqliteStore, AStoreWrittenBeforeTheAccountingColumnsGetsThem) {
    // A version-1 store from before unknown_outcome/pending_at_cutoff: opened, the columns are
    // added in place (default 0) and new intervals carry them.
    TempDir dir;
    bc::StoreConfig cfg;
    cfg.path = dir.file("old.sqlite");
    {
        bc::SqliteStore store(cfg);
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(cfg.path.c_str(), &db), SQLITE_OK);
    // Make it look old: rebuild both tables without the appended columns.
    for (const char* sql : {"ALTER TABLE intervals DROP COLUMN unknown_outcome",
                            "ALTER TABLE intervals DROP COLUMN pending_at_cutoff",
                            "ALTER TABLE run_beacons DROP COLUMN unknown_outcome",
                            "ALTER TABLE run_beacons DROP COLUMN expired_unincluded",
                            "ALTER TABLE run_beacons DROP COLUMN pending_at_cutoff"})
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    {
        bc::SqliteStore store(cfg);
        auto s = make_interval("r1", "b1", 0, 1'700'000'000'000, 1000, 3);
        s.unknown_outcome = 4;
        ASSERT_EQ(store.add_interval(s, bw::encode(s), 1), bc::AddResult::kNew);
        EXPECT_TRUE(store.commit());
    }
    ASSERT_EQ(sqlite3_open(cfg.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT unknown_outcome FROM run_beacons", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(st, 0), 4);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST(SqliteStore, FindsSecondsWhoseTotalsAreMissingOrBehind) {
    TempDir dir;
    bc::StoreConfig cfg;
    cfg.path = dir.file("s.sqlite");
    bc::SqliteStore store(cfg);
    const std::int64_t t0 = 1'700'000'000'000;
    for (std::uint64_t seq = 0; seq < 6; ++seq) {  // two beacons, seconds t0 .. t0+2
        for (const char* b : {"b1", "b2"}) {
            auto s = make_interval("r", b, seq, t0 + 500 * static_cast<std::int64_t>(seq), 500, 1);
            ASSERT_EQ(store.add_interval(s, bw::encode(s), 1), bc::AddResult::kNew);
        }
    }
    bw::ClusterTotals t;
    t.run_id = "r";
    t.second_unix = t0 / 1000;
    store.put_totals(t, 4);  // complete
    t.second_unix = t0 / 1000 + 1;
    store.put_totals(t, 3);  // one interval behind
    ASSERT_TRUE(store.commit());
    auto stale = store.stale_seconds();
    ASSERT_EQ(stale.size(), 2u);
    EXPECT_EQ(stale[0], std::make_pair(std::string("r"), t0 / 1000 + 1));
    EXPECT_EQ(stale[1], std::make_pair(std::string("r"), t0 / 1000 + 2));

    bc::Aggregator agg(std::chrono::seconds(1), std::chrono::seconds(5),
                       [&](const std::string& run, std::int64_t from, std::int64_t to) {
                           return store.interval_frames(run, from, to);
                       });
    for (const auto& [run, second] : stale) agg.rebuild(run, second);
    auto out = agg.due(t0 + 10'000);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].version, 4u);
    EXPECT_EQ(out[0].totals.beacons, 2u);
}

// ---- config ---------------------------------------------------------------------------------

TEST(Config, RefusesPlainTcpOffLoopback) {
    auto doc = bts::util::TomlDoc::parse("[collector]\nlisten = \"tcp://0.0.0.0:5560\"\n", "c.toml");
    try {
        (void)bts::util::build_config<bc::CollectorConfig>(doc);
        FAIL() << "accepted plain TCP on all interfaces";
    } catch (const bts::util::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("collector.curve.secret_cert"), std::string::npos) << e.what();
    }
    doc = bts::util::TomlDoc::parse("[collector]\nlisten = \"tcp://0.0.0.0:5560\"\n[collector.curve]\ninsecure = true\n",
                                    "c.toml");
    EXPECT_NO_THROW((void)bts::util::build_config<bc::CollectorConfig>(doc));
    doc = bts::util::TomlDoc::parse("[collector]\nlisten = \"ipc:///tmp/c.sock\"\npublish = \"tcp://localhost:5602\"\n", "c.toml");
    EXPECT_NO_THROW((void)bts::util::build_config<bc::CollectorConfig>(doc));
}

TEST(Config, RejectsUnknownKeysAndBadCombinations) {
    auto bad = [](const std::string& text, const std::string& key) {
        auto doc = bts::util::TomlDoc::parse(text, "c.toml");
        try {
            (void)bts::util::build_config<bc::CollectorConfig>(doc);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const bts::util::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
    };
    bad("[store]\npth = \"x\"\n", "pth");
    bad("[store]\nenabled = false\n", "store.enabled");
    bad("[elasticsearch]\nenabled = true\nurl = \"ftp://x\"\n", "elasticsearch.url");
    bad("[elasticsearch]\nenabled = true\nurl = \"https://elastic:pw@es:9200\"\n", "elasticsearch.url");
    bad("[elasticsearch]\nenabled = true\nindex_prefix = \"BTS\"\n", "elasticsearch.index_prefix");
    bad("[elasticsearch]\nenabled = true\nusername = \"u\"\napi_key = \"k\"\n", "elasticsearch.api_key");
    // issue 17: each error names its own key (listen = "-5s" was blamed on collector.curve.secret_cert).
    bad("[collector]\nlisten = \"-5s\"\n", "collector.listen");
    bad("[collector]\npublish = \"tcp://127.0.0.1:99999\"\n", "collector.publish");
    bad("[collector]\ninstance = \"eu collector\"\n", "collector.instance");
    // Credentials given on the command line are not echoed in the error's source.
    {
        auto d = bts::util::TomlDoc::parse("[elasticsearch]\nenabled = true\n", "c.toml");
        d.set("elasticsearch.url", "https://elastic:pw-s3cret@es:9200", "--elasticsearch https://elastic:pw-s3cret@es:9200");
        try {
            (void)bts::util::build_config<bc::CollectorConfig>(d);
            ADD_FAILURE() << "accepted credentials in the URL";
        } catch (const bts::util::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("elasticsearch.url"), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
        }
    }
    auto doc = bts::util::TomlDoc::parse("[elasticsearch]\nenabled = true\nbulk_max_docs = \"2k\"\n", "c.toml");
    auto c = bts::util::build_config<bc::CollectorConfig>(doc);
    EXPECT_EQ(c.es.bulk_max_docs, 2000u);
}
