// The collector actor over real ZeroMQ sockets: fake beacons PUSH, a SUB watches the live
// stream, and the embedded store / emulator are checked against the beacons' own totals.
#include "actors/collector/collector.hpp"
#include "actors/collector/documents.hpp"
#include "common/util/log.hpp"
#include "es_emulator.hpp"
#include "fake_beacon.hpp"
#include "process.hpp"

#include <czmq.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <thread>

namespace bc = bts::collector;
namespace bw = bts::wire;
using bts::test::FakeBeacon;
using bts::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::int64_t scalar(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    std::int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

bc::CollectorConfig base_config(const TempDir& dir) {
    bc::CollectorConfig c;
    c.listen = "tcp://127.0.0.1:*";
    c.publish = "tcp://127.0.0.1:*";
    c.store.path = dir.file("store.sqlite");
    c.store.commit_interval = 50ms;
    c.totals_delay = 0ms;
    c.totals_linger = 60s;
    c.stats_interval = 1s;
    c.drain_on_stop = 100ms;
    c.validate();
    return c;
}

// Collects everything published until told to stop.
class Subscriber {
public:
    explicit Subscriber(const std::string& endpoint, const std::string& prefix = "") {
        sock_ = zsock_new_sub(endpoint.c_str(), prefix.c_str());
        zsock_set_rcvtimeo(sock_, 100);
    }
    ~Subscriber() { zsock_destroy(&sock_); }
    // Reads for `d`; returns (topic, payload) pairs.
    std::vector<std::pair<std::string, std::string>> read_for(std::chrono::milliseconds d) {
        std::vector<std::pair<std::string, std::string>> out;
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) {
            zmsg_t* m = zmsg_recv(sock_);
            if (!m) continue;
            char* topic = zmsg_popstr(m);
            zframe_t* f = zmsg_pop(m);
            if (topic && f)
                out.emplace_back(topic, std::string(reinterpret_cast<char*>(zframe_data(f)), zframe_size(f)));
            zstr_free(&topic);
            zframe_destroy(&f);
            zmsg_destroy(&m);
        }
        return out;
    }

private:
    zsock_t* sock_ = nullptr;
};

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = 20s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return p();
}

class CollectorTest : public ::testing::Test {
protected:
    void SetUp() override { log_ = bts::util::setup_logging("collector_test", "warn"); }
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

TEST_F(CollectorTest, StoresEachIntervalOnceAndStreamsIt) {
    TempDir dir;
    auto cfg = base_config(dir);
    bc::Collector collector(cfg, log_);
    Subscriber sub(collector.publish_endpoint());
    std::this_thread::sleep_for(200ms);  // SUB joins
    const std::int64_t t0 = 1'700'000'000'000;
    std::vector<std::unique_ptr<FakeBeacon>> beacons;
    for (int b = 0; b < 3; ++b)
        beacons.push_back(std::make_unique<FakeBeacon>(collector.endpoint(), "run-a", "b" + std::to_string(b), b + 1, 2));
    for (int i = 0; i < 10; ++i)
        for (auto& b : beacons) b->send_next(t0 + 1000 * i + 10, i == 9);
    for (auto& b : beacons) b->flush_window();
    ASSERT_TRUE(eventually([&] { return collector.stats().intervals + collector.stats().duplicates == 60; }));
    collector.flush();
    auto st = collector.stats();
    EXPECT_EQ(st.intervals, 30u);
    EXPECT_EQ(st.duplicates, 30u);  // every interval was sent twice
    EXPECT_EQ(st.malformed, 0u);
    const std::string db = cfg.store.path;
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM intervals"), 30);
    std::uint64_t sent = 0, accepted = 0, rejected = 0;
    for (auto& b : beacons) {
        sent += b->totals().sent;
        accepted += b->totals().accepted;
        rejected += b->totals().rejected;
        EXPECT_EQ(scalar(db, "SELECT sent FROM run_beacons WHERE beacon_id='" + b->id() + "'"),
                  static_cast<std::int64_t>(b->totals().sent));
        EXPECT_EQ(scalar(db, "SELECT final FROM run_beacons WHERE beacon_id='" + b->id() + "'"), 1);
    }
    EXPECT_EQ(scalar(db, "SELECT sum(sent) FROM intervals"), static_cast<std::int64_t>(sent));
    EXPECT_EQ(scalar(db, "SELECT sum(sent) FROM cluster_totals WHERE run_id='run-a'"), static_cast<std::int64_t>(sent));
    EXPECT_EQ(scalar(db, "SELECT sum(accepted) FROM cluster_totals"), static_cast<std::int64_t>(accepted));
    EXPECT_EQ(scalar(db, "SELECT sum(rejected) FROM cluster_totals"), static_cast<std::int64_t>(rejected));
    EXPECT_EQ(scalar(db, "SELECT count(*) FROM cluster_totals"), 10);
    EXPECT_EQ(scalar(db, "SELECT min(beacons) FROM cluster_totals"), 3);
    EXPECT_EQ(scalar(db, "SELECT intervals FROM runs WHERE run_id='run-a'"), 30);

    auto published = sub.read_for(500ms);
    std::map<std::string, int> by_kind;
    std::set<std::pair<std::string, std::uint64_t>> seen;
    for (const auto& [topic, payload] : published) {
        by_kind[topic.substr(0, topic.find('/'))]++;
        if (topic.rfind("interval/run-a/", 0) == 0) {
            auto m = bw::decode(payload);
            ASSERT_TRUE(m);
            auto& s = std::get<bw::StatsInterval>(*m);
            EXPECT_EQ(topic, "interval/run-a/" + s.beacon_id);
            EXPECT_TRUE(seen.emplace(s.beacon_id, s.seq).second) << "published twice";
        }
        if (topic.rfind("totals/run-a", 0) == 0) {
            ASSERT_TRUE(bw::decode(payload));
        }
    }
    EXPECT_EQ(by_kind["interval"], 30);
    EXPECT_GE(by_kind["totals"], 10);
}

TEST_F(CollectorTest, CountsAndDropsMalformedInput) {
    TempDir dir;
    auto cfg = base_config(dir);
    bc::Collector collector(cfg, log_);
    FakeBeacon b(collector.endpoint(), "run-m", "b1", 1);
    b.send_frame("garbage");
    b.send_frame("");
    std::string frame = bw::encode(bts::test::make_interval("run-m", "b1", 0, 1'700'000'000'000, 1000, 1));
    b.send_frame(frame.substr(0, frame.size() / 2));  // truncated
    zstr_sendm(b.socket(), "two");                     // multi-frame
    zstr_send(b.socket(), "frames");
    b.send_frame(bw::encode(bw::Heartbeat{"x", 1, 2, "idle", "", 0.0}));  // not for the collector
    b.send_frame(bw::encode(bts::test::make_interval("bad/run", "b1", 0, 1'700'000'000'000, 1000, 1)));
    b.send_next(1'700'000'000'000);  // one good one, after the bad ones
    ASSERT_TRUE(eventually([&] { return collector.stats().intervals == 1; }));
    auto st = collector.stats();
    EXPECT_EQ(st.malformed, 4u);
    EXPECT_EQ(st.invalid, 2u);
    EXPECT_EQ(st.received, 7u);  // messages, the two-frame one counted once
    collector.flush();
    EXPECT_EQ(scalar(cfg.store.path, "SELECT count(*) FROM intervals"), 1);
}

TEST_F(CollectorTest, DisconnectsSendersOfHugeFrames) {
    TempDir dir;
    auto cfg = base_config(dir);
    bc::Collector collector(cfg, log_);
    {
        FakeBeacon hostile(collector.endpoint(), "run-h", "b1", 1);
        hostile.send_frame(std::string(2 << 20, 'x'));
        std::this_thread::sleep_for(300ms);
    }
    FakeBeacon b(collector.endpoint(), "run-h", "b2", 1);
    b.send_next(1'700'000'000'000);
    ASSERT_TRUE(eventually([&] { return collector.stats().intervals == 1; }));
    EXPECT_EQ(collector.stats().received, 1u);  // the huge frame never reached the collector
}

TEST_F(CollectorTest, StoresEventsAndUptimeResultsOnce) {
    TempDir dir;
    auto cfg = base_config(dir);
    bc::Collector collector(cfg, log_);
    Subscriber sub(collector.publish_endpoint(), "uptime/");
    std::this_thread::sleep_for(200ms);
    FakeBeacon b(collector.endpoint(), "run-e", "b1", 1);
    bw::RunEvent e{"run-e", "bts-devnet", 1'700'000'000'500, "warn", "node_restart", "node restarted"};
    bw::UptimeResult u;
    u.endpoint = "node-1";
    u.url = "wss://node-1:443";
    u.kind = "wss";
    u.status = "UP";
    u.unix_ms = 1'700'000'000'000;
    for (int i = 0; i < 2; ++i) {
        b.send_frame(bw::encode(e));
        b.send_frame(bw::encode(u));
    }
    ASSERT_TRUE(eventually([&] { return collector.stats().duplicates == 2; }));
    collector.flush();
    EXPECT_EQ(scalar(cfg.store.path, "SELECT count(*) FROM events"), 1);
    EXPECT_EQ(scalar(cfg.store.path, "SELECT count(*) FROM uptime"), 1);
    EXPECT_EQ(scalar(cfg.store.path, "SELECT events FROM runs WHERE run_id='run-e'"), 1);
    auto got = sub.read_for(300ms);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].first, "uptime/node-1");
}

TEST_F(CollectorTest, FeedsElasticsearchAndTheStoreAlike) {
    bts::test::EsEmulator es({});
    TempDir dir;
    auto cfg = base_config(dir);
    cfg.es.enabled = true;
    cfg.es.url = es.url();
    cfg.es.spool_dir = dir.file("spool");
    cfg.es.dead_letter_file = dir.file("dead.ndjson");
    cfg.es.flush_interval = 100ms;
    cfg.es.backoff_init = 20ms;
    cfg.es.backoff_max = 100ms;
    es.set_faults({{"items_429", 0.3, 1000ms}});
    bc::Collector collector(cfg, log_);
    FakeBeacon b1(collector.endpoint(), "run-es", "b1", 1, 3);
    FakeBeacon b2(collector.endpoint(), "run-es", "b2", 2, 3);
    for (int i = 0; i < 20; ++i) {
        b1.send_next(1'700'000'000'000 + 1000 * i);
        b2.send_next(1'700'000'000'000 + 1000 * i + 300);
    }
    b1.flush_window();
    b2.flush_window();
    ASSERT_TRUE(eventually([&] { return collector.stats().intervals + collector.stats().duplicates == 80; }));
    collector.flush();
    ASSERT_TRUE(eventually([&] { return collector.stats().es.spool_items == 0; }));
    EXPECT_EQ(es.count("bts-intervals"), 40u);
    EXPECT_EQ(es.count("bts-totals"), 20u);
    std::uint64_t sent = 0;
    for (const auto& d : es.documents("bts-intervals")) sent += d["tx"]["sent"].get<std::uint64_t>();
    EXPECT_EQ(sent, b1.totals().sent + b2.totals().sent);
    std::uint64_t totals_sent = 0;
    for (const auto& d : es.documents("bts-totals")) totals_sent += d["tx"]["sent"].get<std::uint64_t>();
    EXPECT_EQ(totals_sent, sent);
    EXPECT_EQ(scalar(cfg.store.path, "SELECT sum(sent) FROM intervals"), static_cast<std::int64_t>(sent));
    auto st = collector.stats();
    EXPECT_TRUE(st.es_enabled);
    EXPECT_EQ(st.es.dead_letters, 0u);
}

TEST_F(CollectorTest, WorksWithoutTheEmbeddedStore) {
    bts::test::EsEmulator es({});
    TempDir dir;
    auto cfg = base_config(dir);
    cfg.store.enabled = false;
    cfg.es.enabled = true;
    cfg.es.url = es.url();
    cfg.es.spool_dir = dir.file("spool");
    cfg.es.flush_interval = 50ms;
    bc::Collector collector(cfg, log_);
    FakeBeacon b(collector.endpoint(), "run-ns", "b1", 1, 1);
    for (int i = 0; i < 10; ++i) b.send_next(1'700'000'000'000 + 1000 * i);
    b.flush_window();
    ASSERT_TRUE(eventually([&] { return collector.stats().duplicates == 10; }));
    collector.flush();
    ASSERT_TRUE(eventually([&] { return es.count("bts-intervals") == 10 && collector.stats().es.spool_items == 0; }));
    EXPECT_EQ(es.count("bts-totals"), 10u);
}

TEST_F(CollectorTest, CurveAdmitsOnlyAllowedClients) {
    TempDir dir;
    zcert_t* server = zcert_new();
    zcert_t* allowed = zcert_new();
    zcert_t* stranger = zcert_new();
    ASSERT_EQ(zcert_save(server, dir.file("server.key").c_str()), 0);
    std::filesystem::create_directories(dir.file("allow"));
    ASSERT_EQ(zcert_save_public(allowed, dir.file("allow/beacon.key").c_str()), 0);
    auto cfg = base_config(dir);
    cfg.curve.secret_cert = dir.file("server.key_secret");
    cfg.curve.allowed_clients = dir.file("allow");
    cfg.validate();
    {
        bc::Collector collector(cfg, log_);
        auto push = [&](zcert_t* client, const std::string& beacon) {
            zsock_t* s = zsock_new(ZMQ_PUSH);
            zsock_set_linger(s, 0);
            if (client) {
                zcert_apply(client, s);
                zsock_set_curve_serverkey(s, zcert_public_txt(server));
            }
            zsock_connect(s, "%s", collector.endpoint().c_str());
            std::string f = bw::encode(bts::test::make_interval("run-c", beacon, 0, 1'700'000'000'000, 1000, 1));
            zmq_send(zsock_resolve(s), f.data(), f.size(), ZMQ_DONTWAIT);
            return s;
        };
        zsock_t* a = push(allowed, "allowed");
        zsock_t* b = push(stranger, "stranger");
        zsock_t* c = push(nullptr, "plain");
        ASSERT_TRUE(eventually([&] { return collector.stats().intervals == 1; }));
        std::this_thread::sleep_for(500ms);
        collector.flush();
        EXPECT_EQ(collector.stats().intervals, 1u);
        EXPECT_EQ(scalar(cfg.store.path, "SELECT beacon_id = 'allowed' FROM intervals"), 1);
        zsock_destroy(&a);
        zsock_destroy(&b);
        zsock_destroy(&c);
    }
    zcert_destroy(&server);
    zcert_destroy(&allowed);
    zcert_destroy(&stranger);
}

TEST_F(CollectorTest, StartUpFailuresAreExceptions) {
    TempDir dir;
    auto cfg = base_config(dir);
    cfg.listen = "tcp://256.0.0.1:1";
    EXPECT_THROW(bc::Collector(cfg, log_), std::runtime_error);
    cfg = base_config(dir);
    cfg.store.path = dir.file("no/such/dir/x.sqlite");
    EXPECT_THROW(bc::Collector(cfg, log_), std::runtime_error);
}
