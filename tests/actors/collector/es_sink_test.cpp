// The Elasticsearch sink against the emulator over real HTTP: templates, batches, per-item
// retries, dead letters, spooling while unreachable, replays stored once.
#include "actors/collector/documents.hpp"
#include "actors/collector/es_sink.hpp"
#include "actors/collector/spool.hpp"
#include "common/util/log.hpp"
#include "es_emulator.hpp"
#include "fake_beacon.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

namespace bc = bts::collector;
using bts::test::EsEmulator;
using bts::test::TempDir;
using namespace std::chrono_literals;

namespace {

bc::EsConfig config(const EsEmulator& es, const TempDir& dir) {
    bc::EsConfig c;
    c.enabled = true;
    c.url = es.url();
    c.spool_dir = dir.file("spool");
    c.dead_letter_file = dir.file("dead.ndjson");
    c.flush_interval = 100ms;
    c.backoff_init = 20ms;
    c.backoff_max = 200ms;
    c.request_timeout = 2s;
    c.bulk_max_docs = 50;
    return c;
}

// Appends `n` interval documents for beacon b (seq from `first`), as the collector would.
std::size_t spool_intervals(bc::Spool& spool, const std::string& beacon, std::uint64_t first, std::size_t n) {
    bc::EsIndices ix("bts");
    std::string buf;
    for (std::uint64_t seq = first; seq < first + n; ++seq)
        bc::append_bulk_item(buf, ix, bts::test::make_interval("run", beacon, seq, 1'700'000'000'000 + 1000 * static_cast<std::int64_t>(seq), 1000, 5));
    EXPECT_EQ(spool.append(buf, n), bc::Spool::AppendResult::kOk);
    return n;
}

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return p();
}

class EsSinkTest : public ::testing::Test {
protected:
    void SetUp() override { log_ = bts::util::setup_logging("es_sink_test", "warn"); }
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

TEST_F(EsSinkTest, InstallsTemplatesAndShipsTheSpool) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    spool_intervals(spool, "b1", 0, 120);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 120u);
    for (const char* t : {"bts-intervals", "bts-totals", "bts-events", "bts-uptime"}) EXPECT_TRUE(es.has_template(t)) << t;
    auto st = sink.stats();
    EXPECT_EQ(st.stored, 120u);
    EXPECT_TRUE(st.available);
    EXPECT_TRUE(st.templates_installed);
    EXPECT_GE(st.requests, 3u + 4u);  // 120 / 50 → 3 bulks, plus 4 templates
    // Documents are in spool order.
    auto docs = es.documents("bts-intervals");
    for (std::size_t i = 0; i < docs.size(); ++i) ASSERT_EQ(docs[i]["beacon"]["seq"], i);
}

TEST_F(EsSinkTest, AReplayIsStoredOnce) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    spool_intervals(spool, "b1", 0, 60);
    spool_intervals(spool, "b1", 0, 60);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-*"), 60u);
    EXPECT_EQ(sink.stats().stored, 60u);
    EXPECT_EQ(sink.stats().duplicates, 60u);
}

TEST_F(EsSinkTest, RetriesOnlyTheItemsRejectedWith429) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    es.set_faults({{"items_429", 0.5, 1500ms}});
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    spool_intervals(spool, "b1", 0, 200);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 200u);
    auto st = sink.stats();
    EXPECT_GT(st.item_retries, 0u);
    EXPECT_EQ(st.stored, 200u);  // retried items were never stored before: no 409s
    EXPECT_EQ(st.duplicates, 0u);
    EXPECT_EQ(st.dead_letters, 0u);
    EXPECT_GE(es.stats()["items_429"].get<std::uint64_t>(), st.item_retries > 0 ? 1u : 0u);
}

TEST_F(EsSinkTest, SpoolsWhileUnreachableAndReplaysInOrder) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    es.set_faults(bts::test::parse_fault_schedule("refuse:800ms,unavailable:400ms,bulk_429:300ms"));
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    for (int i = 0; i < 10; ++i) {
        spool_intervals(spool, "b1", 20 * static_cast<std::uint64_t>(i), 20);
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_GT(spool.pending_items(), 0u);
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 200u);
    auto docs = es.documents("bts-intervals");
    for (std::size_t i = 0; i < docs.size(); ++i) ASSERT_EQ(docs[i]["beacon"]["seq"], i);
    auto st = sink.stats();
    EXPECT_GT(st.request_failures, 0u);
    EXPECT_TRUE(st.available);
    EXPECT_EQ(st.lag_ms, 0);
}

TEST_F(EsSinkTest, WritesRejectedDocumentsToTheDeadLetterFile) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    spool_intervals(spool, "b1", 0, 3);
    // A document whose field type contradicts the template: 400 mapper_parsing_exception.
    std::string bad = "{\"create\":{\"_index\":\"bts-intervals\",\"_id\":\"run/b1/99\"}}\n{\"tx\":{\"sent\":\"lots\"}}\n";
    ASSERT_EQ(spool.append(bad, 1), bc::Spool::AppendResult::kOk);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 3u);
    EXPECT_EQ(sink.stats().dead_letters, 1u);
    std::ifstream in(cfg.dead_letter_file);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["status"], 400);
    EXPECT_EQ(j["reason"]["type"], "mapper_parsing_exception");
    EXPECT_EQ(j["action"]["create"]["_id"], "run/b1/99");
    EXPECT_EQ(j["document"]["tx"]["sent"], "lots");
    EXPECT_FALSE(std::getline(in, line));
}

TEST_F(EsSinkTest, ResumesFromTheCursorAfterARestart) {
    EsEmulator es({});
    TempDir dir;
    auto cfg = config(es, dir);
    {
        bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
        spool_intervals(spool, "b1", 0, 100);
        bc::EsSink sink(cfg, spool, log_);
        sink.start();
        ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
        es.set_faults({{"stall", 1.0, 0ms}});  // the next bulk hangs: stop with it in flight
        spool_intervals(spool, "b1", 100, 50);
        std::this_thread::sleep_for(300ms);
    }  // sink stopped mid-request
    es.set_faults({});
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    EXPECT_EQ(spool.pending_items(), 50u);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 150u);
}

TEST_F(EsSinkTest, SendsCredentials) {
    EsEmulator::Options es_opt;
    es_opt.api_key = "aWQ6c2VjcmV0";
    EsEmulator es(es_opt);
    TempDir dir;
    auto cfg = config(es, dir);
    cfg.api_key = "id:secret";
    bc::Spool spool({cfg.spool_dir, cfg.spool_max_bytes, cfg.spool_segment_bytes});
    spool_intervals(spool, "b1", 0, 10);
    bc::EsSink sink(cfg, spool, log_);
    sink.start();
    ASSERT_TRUE(eventually([&] { return spool.pending_items() == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 10u);
    EXPECT_EQ(es.stats()["unauthorized"], 0);
}
