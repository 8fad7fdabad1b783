// bts-stats as a program: fed over real ZeroMQ PUB sockets (standing in for bts-uptime and the
// collector), read over real HTTP: status and run JSON, history, server-sent events, feed loss,
// restart with the store, read-only rules and secret hygiene.
#include "common/wire.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <regex>
#include <thread>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct HttpReply {
    int status = 0;
    std::string headers;
    std::string body;
};

int connect_local(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

HttpReply http(std::uint16_t port, const std::string& path, const std::string& method = "GET") {
    HttpReply out;
    const int fd = connect_local(port);
    if (fd < 0) return out;
    const std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    std::string all;
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 5000) > 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto end = all.find("\r\n\r\n");
    if (all.size() < 12 || end == std::string::npos) return out;
    out.status = std::stoi(all.substr(9, 3));
    out.headers = all.substr(0, end);
    out.body = all.substr(end + 4);
    return out;
}

json get_json(std::uint16_t port, const std::string& path) {
    const HttpReply r = http(port, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
}

// Polls `fn` until true or the timeout passes.
bool eventually(const std::function<bool()>& fn, std::chrono::milliseconds timeout = 8s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fn()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return fn();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bts::wire::UptimeResult result(const std::string& name, const std::string& status, std::int64_t t) {
    bts::wire::UptimeResult r;
    r.endpoint = name;
    r.url = "wss://" + name + ".example/ws";
    r.kind = "wss";
    r.status = status;
    r.unix_ms = t;
    r.duration_us = 12'345;
    r.dns_us = 100;
    r.connect_us = 200;
    r.tls_us = 3000;
    r.ws_us = 400;
    r.rpc_us = 800;
    r.head_block_num = 4242;
    r.head_block_age_s = status == "STALE" ? 95.0 : 1.2;
    r.chain_id = std::string(64, 'c');
    r.participation = 100;
    r.cert_not_after_unix = t / 1000 + 40 * 86400;
    r.cert_days_left = 40;
    r.cert_issuer = "CN=Premium CA";
    r.cert_subject = "CN=" + name + ".example";
    r.cert_name_matches = true;
    if (status != "UP") r.error = "something is off";
    return r;
}

class StatsProgram : public ::testing::Test {
protected:
    void SetUp() override {
        uptime_pub_.bind("tcp://127.0.0.1:*");
        collector_pub_.bind("tcp://127.0.0.1:*");
        uptime_ep_ = uptime_pub_.get(zmq::sockopt::last_endpoint);
        collector_ep_ = collector_pub_.get(zmq::sockopt::last_endpoint);
    }

    void start(const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args = {"--config", dir_.write("stats.toml", "[stats]\nfeed_stale_after = \"2s\"\nuptime_refresh = \"1s\"\n"),
                                         "--port", "0", "--store", dir_.file("stats.sqlite"),
                                         "--uptime-feed", uptime_ep_, "--collector-feed", collector_ep_};
        args.insert(args.end(), extra.begin(), extra.end());
        proc_ = std::make_unique<bts::test::ChildProcess>(bts::test::built_program("src/tools/bts-stats/bts-stats"),
                                                          args, dir_.file("stats-" + std::to_string(++starts_) + ".log"));
        ASSERT_TRUE(proc_->wait_for_log("serving on http://127.0.0.1:")) << proc_->log();
        std::smatch m;
        const std::string log = proc_->log();
        ASSERT_TRUE(std::regex_search(log, m, std::regex("http://127\\.0\\.0\\.1:(\\d+)/")));
        port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    }

    void publish_uptime(const bts::wire::UptimeResult& r) {
        uptime_pub_.send(zmq::buffer(r.endpoint), zmq::send_flags::sndmore);
        uptime_pub_.send(zmq::buffer(bts::wire::encode(r)));
    }
    void publish_collector(const std::string& topic, const std::string& frame) {
        collector_pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
        collector_pub_.send(zmq::buffer(frame));
    }

    // Publishes until bts-stats shows the endpoint (ZeroMQ subscriptions take a moment).
    json publish_until_seen(const bts::wire::UptimeResult& r) {
        json found;
        EXPECT_TRUE(eventually([&] {
            publish_uptime(r);
            const json s = get_json(port_, "/api/status.json");
            for (const auto& e : s["endpoints"]) {
                if (e["name"] == r.endpoint && e["checked_ms"] == r.unix_ms) {
                    found = e;
                    return true;
                }
            }
            return false;
        })) << "endpoint " << r.endpoint << " never appeared";
        return found;
    }

    bts::test::TempDir dir_;
    zmq::context_t ctx_{1};
    zmq::socket_t uptime_pub_{ctx_, zmq::socket_type::pub};
    zmq::socket_t collector_pub_{ctx_, zmq::socket_type::pub};
    std::string uptime_ep_, collector_ep_;
    std::unique_ptr<bts::test::ChildProcess> proc_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
};

TEST(StatsCli, HelpVersionAndBadConfig) {
    const auto prog = bts::test::built_program("src/tools/bts-stats/bts-stats");
    auto r = bts::test::run_program(prog, {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("/api/status.json"), std::string::npos);
    r = bts::test::run_program(prog, {"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("bts-stats"), std::string::npos);
    const char* data = std::getenv("BTS_TEST_DATA");
    ASSERT_NE(data, nullptr);
    r = bts::test::run_program(prog, {"--config", std::string(data) + "/../../config/stats.toml", "--check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    bts::test::TempDir dir;
    r = bts::test::run_program(prog, {"--config", dir.write("bad.toml", "[stats]\nfeed_stale_after = \"0s\"\n"), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("stats.feed_stale_after"), std::string::npos) << r.err;
    r = bts::test::run_program(prog, {"--config", dir.write("typo.toml", "[stats]\nprot = 1\n"), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("port"), std::string::npos) << r.err;
}

TEST_F(StatsProgram, StatusJsonHistoryAndRestart) {
    start();
    const auto t = now_ms();
    json e = publish_until_seen(result("api-1", "UP", t));
    EXPECT_EQ(e["status"], "UP");
    EXPECT_EQ(e["kind"], "wss");
    EXPECT_EQ(e["head_block_num"], 4242);
    EXPECT_EQ(e["cert_days_left"], 40);
    EXPECT_NEAR(e["latency_ms"].get<double>(), 12.35, 0.01);
    EXPECT_EQ(e["uptime"]["24h"], 100.0);
    for (int i = 1; i <= 3; ++i) publish_uptime(result("api-1", "STALE", t + i * 1000));
    ASSERT_TRUE(eventually([&] {
        const json s = get_json(port_, "/api/status.json");  // a named value: range-for over a temporary's member dangles
        for (const auto& x : s["endpoints"]) {
            if (x["name"] == "api-1" && x["spark"].size() == 4u) return true;
        }
        return false;
    })) << get_json(port_, "/api/status.json").dump() << proc_->log();
    e = get_json(port_, "/api/status.json")["endpoints"][0];
    EXPECT_EQ(e["status"], "STALE");
    EXPECT_EQ(e["up"], false);
    EXPECT_EQ(e["error"], "something is off");
    EXPECT_EQ(e["spark"][0][2], "UP");
    EXPECT_EQ(e["spark"][3][2], "STALE");
    // The same result again (as through the collector) is not counted twice.
    publish_collector("uptime/api-1", bts::wire::encode(result("api-1", "STALE", t + 3000)));

    // Uptime % comes from the hourly roll-ups: 1 of 4 probes up.
    ASSERT_TRUE(eventually([&] {
        const json x = get_json(port_, "/api/status.json")["endpoints"][0];
        return x["uptime"]["24h"].is_number() && x["uptime"]["24h"].get<double>() < 100.0;
    }));  // refreshed every uptime_refresh (1 s here)

    const json h = get_json(port_, "/api/history/api-1.json?since=1h");
    ASSERT_EQ(h["documents"].size(), 4u);
    const json& d = h["documents"][0];  // newest first
    EXPECT_EQ(d["monitor.id"], "api-1");
    EXPECT_EQ(d["monitor.status"], "down");
    EXPECT_EQ(d["bitshares.status"], "STALE");
    EXPECT_EQ(d["monitor.duration.us"], 12345);
    EXPECT_EQ(d["tls.rtt.handshake.us"], 3000);
    EXPECT_EQ(d["url.full"], "wss://api-1.example/ws");
    EXPECT_TRUE(d.contains("tls.server.x509.not_after"));
    EXPECT_EQ(h["documents"][3]["monitor.status"], "up");
    EXPECT_EQ(get_json(port_, "/api/history/nobody.json")["documents"].size(), 0u);

    // A restart keeps the history and shows the last status at once.
    proc_.reset();
    start();
    e = get_json(port_, "/api/status.json")["endpoints"][0];
    EXPECT_EQ(e["name"], "api-1");
    EXPECT_EQ(e["status"], "STALE");
    EXPECT_EQ(e["spark"].size(), 4u);
    EXPECT_NEAR(e["uptime"]["24h"].get<double>(), 25.0, 0.01);
}

TEST_F(StatsProgram, RunDashboardDataAndEvents) {
    start();
    // Subscribe to the event stream first, then feed a run.
    const int sse = connect_local(port_);
    ASSERT_GE(sse, 0);
    const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::write(sse, req.data(), req.size()), static_cast<ssize_t>(req.size()));

    const std::int64_t s0 = now_ms() / 1000 - 10;
    ASSERT_TRUE(eventually([&] {
        for (int i = 0; i < 10; ++i) {
            bts::wire::ClusterTotals c;
            c.run_id = "run-7";
            c.second_unix = s0 + i;
            c.beacons = 2;
            c.configured_rate = 500;
            c.sent = 480 + static_cast<std::uint64_t>(i);
            c.accepted = 470;
            c.rejected_by_class = {{"insufficient_fee", 2}};
            c.acceptance_p50_us = 3000;
            c.acceptance_p90_us = 9000;
            c.acceptance_p99_us = 20'000;
            publish_collector("totals/run-7", bts::wire::encode(c));
        }
        return get_json(port_, "/api/run.json")["totals"].size() == 10u;
    }));
    bts::wire::StatsInterval si;
    si.run_id = "run-7";
    si.beacon_id = "beacon-a";
    si.host = "host-1";
    si.interval_start_ms = (s0 + 9) * 1000;
    si.interval_ms = 1000;
    si.configured_rate = 250;
    si.sent = 240;
    si.accepted = 235;
    si.rejected_by_class = {{"duplicate", 5}};
    si.proc_cpu_pct = 12.5;
    publish_collector("interval/run-7/beacon-a", bts::wire::encode(si));
    bts::wire::RunEvent ev;
    ev.run_id = "run-7";
    ev.source = "broker";
    ev.unix_ms = now_ms();
    ev.level = "info";
    ev.kind = "run_start";
    ev.text = "scenario transfer-max started";
    publish_collector("event/run-7/broker", bts::wire::encode(ev));

    json run;
    ASSERT_TRUE(eventually([&] {
        run = get_json(port_, "/api/run.json");
        return run["beacons"].size() == 1u && run["events"].size() == 1u;
    }));
    EXPECT_EQ(run["run_id"], "run-7");
    EXPECT_EQ(run["rejections"]["insufficient_fee"], 20);
    EXPECT_EQ(run["totals"][0]["target"], 500.0);
    EXPECT_EQ(run["totals"][9]["sent"], 489);
    EXPECT_EQ(run["totals"][0]["p99_ms"], 20.0);
    EXPECT_EQ(run["beacons"][0]["beacon_id"], "beacon-a");
    EXPECT_EQ(run["beacons"][0]["accepted_per_s"], 235.0);
    EXPECT_EQ(run["events"][0]["text"], "scenario transfer-max started");

    // The event stream carried them live.
    std::string stream;
    char buf[65536];
    pollfd p{sse, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline &&
           (stream.find("event: totals") == std::string::npos || stream.find("event: beacon") == std::string::npos ||
            stream.find("event: runevent") == std::string::npos || stream.find("event: feeds") == std::string::npos)) {
        if (::poll(&p, 1, 500) > 0) {
            const ssize_t n = ::read(sse, buf, sizeof buf);
            if (n <= 0) break;
            stream.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(sse);
    EXPECT_NE(stream.find("text/event-stream"), std::string::npos);
    EXPECT_NE(stream.find("event: totals"), std::string::npos);
    EXPECT_NE(stream.find("event: beacon"), std::string::npos);
    EXPECT_NE(stream.find("event: runevent"), std::string::npos);
    EXPECT_NE(stream.find("event: feeds"), std::string::npos);

    // A new run replaces the old one.
    bts::wire::ClusterTotals next;
    next.run_id = "run-8";
    next.second_unix = s0 + 20;
    ASSERT_TRUE(eventually([&] {
        publish_collector("totals/run-8", bts::wire::encode(next));
        return get_json(port_, "/api/run.json")["run_id"] == "run-8";
    }));
    EXPECT_EQ(get_json(port_, "/api/run.json")["totals"].size(), 1u);
}

TEST_F(StatsProgram, SurvivesFeedLossAndBadInput) {
    start();
    (void)publish_until_seen(result("api-1", "UP", now_ms()));
    // Garbage on both feeds: counted, dropped, the program goes on.
    for (int i = 0; i < 20; ++i) {
        uptime_pub_.send(zmq::buffer(std::string("api-1")), zmq::send_flags::sndmore);
        uptime_pub_.send(zmq::buffer(std::string("not a wire frame")));
        publish_collector("totals/x", "\x93\x01\x02");
    }
    ASSERT_TRUE(eventually([&] {
        const json f = get_json(port_, "/api/status.json")["feeds"];
        return f[0]["malformed"].get<int>() > 0 && f[1]["malformed"].get<int>() > 0;
    }));
    // Feeds go away: after feed_stale_after (2 s) both are reported silent; pages still served.
    uptime_pub_.close();
    collector_pub_.close();
    ASSERT_TRUE(eventually([&] {
        const json f = get_json(port_, "/api/status.json")["feeds"];
        return f[0]["ok"] == false && f[1]["ok"] == false;
    }));
    const json s = get_json(port_, "/api/status.json");
    EXPECT_EQ(s["feeds"][0]["name"], "uptime");
    EXPECT_EQ(s["feeds"][1]["name"], "collector");
    EXPECT_EQ(s["endpoints"][0]["status"], "UP");  // last known, with its age
    EXPECT_EQ(http(port_, "/").status, 200);
    EXPECT_TRUE(proc_->running());
}

TEST_F(StatsProgram, ReadOnlyAndNoSecrets) {
    start();
    auto r = result("secret-node", "DOWN", now_ms());
    r.url = "wss://admin:hunter2@node.example:8090/ws?apikey=abc123";
    r.error = "connect to wss://admin:hunter2@node.example:8090/ws failed; key 5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ";
    const json e = publish_until_seen(r);
    const std::string all = http(port_, "/api/status.json").body + http(port_, "/api/history/secret-node.json").body;
    EXPECT_EQ(all.find("hunter2"), std::string::npos) << all;
    EXPECT_EQ(all.find("apikey"), std::string::npos) << all;
    EXPECT_EQ(all.find("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"), std::string::npos) << all;
    EXPECT_EQ(e["url"], "wss://node.example:8090/ws");

    EXPECT_EQ(http(port_, "/api/status.json", "POST").status, 405);
    EXPECT_EQ(http(port_, "/api/status.json", "DELETE").status, 405);
    EXPECT_EQ(http(port_, "/nothing").status, 404);
    EXPECT_EQ(http(port_, "/static/../stats.sqlite").status, 404);
    EXPECT_EQ(http(port_, "/static/%2e%2e/stats.sqlite").status, 404);
    EXPECT_EQ(http(port_, "/api/history/x.json?since=soon").status, 400);
    const HttpReply page = http(port_, "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<table id=\"endpoints\""), std::string::npos);
    EXPECT_NE(page.headers.find("Content-Security-Policy"), std::string::npos);
    EXPECT_NE(page.headers.find("text/html"), std::string::npos);
    const HttpReply js = http(port_, "/static/status.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_NE(js.headers.find("text/javascript"), std::string::npos);
    const HttpReply api = http(port_, "/api/status.json");
    EXPECT_NE(api.headers.find("Access-Control-Allow-Origin: *"), std::string::npos);
    EXPECT_EQ(http(port_, "/healthz").body, "ok\n");
    const HttpReply head = http(port_, "/api/status.json", "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
}

}  // namespace

// The status page's 90-day strip: per-day uptime from the hourly roll-ups, today last, only for
// endpoints on the page (sqlite3 fills past days the test cannot wait for).
TEST_F(StatsProgram, NinetyDayUptimeStrip) {
    if (::access("/usr/bin/sqlite3", X_OK) != 0) GTEST_SKIP() << "the sqlite3 program is not installed";
    start();
    const auto t = now_ms();
    publish_until_seen(result("api-1", "UP", t));
    proc_.reset();  // stopping commits the batch
    const std::int64_t hour = t / 3'600'000, today = t / 86'400'000;
    std::string sql;
    auto put = [&](const std::string& name, std::int64_t h, int up, int total) {
        sql += "INSERT OR REPLACE INTO heartbeat_hourly (monitor_id, hour, up, total, duration_us_sum) VALUES ('" + name +
               "', " + std::to_string(h) + ", " + std::to_string(up) + ", " + std::to_string(total) + ", 0);";
    };
    put("api-1", (today - 1) * 24 + 3, 10, 10);   // yesterday: all up
    put("api-1", (today - 1) * 24 + 4, 5, 10);    // ... and a bad hour: 15 of 20
    put("api-1", (today - 89) * 24, 1, 4);        // the oldest day shown
    put("api-1", (today - 90) * 24, 7, 7);        // one day too old
    put("ghost", hour, 1, 1);                     // not on the page: not published
    const auto r = bts::test::run_program("/usr/bin/sqlite3", {dir_.file("stats.sqlite"), sql});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    start();
    const json d = get_json(port_, "/api/status.json")["daily"];
    ASSERT_TRUE(d.is_object()) << d.dump();
    EXPECT_EQ(d["days"], 90);
    EXPECT_EQ(d["first_day_ms"].get<std::int64_t>(), (today - 89) * 86'400'000);
    EXPECT_FALSE(d["endpoints"].contains("ghost"));
    const json& days = d["endpoints"]["api-1"];
    ASSERT_EQ(days.size(), 90u);
    EXPECT_EQ(days[89], json({1, 1}));    // today: the one probe published above
    EXPECT_EQ(days[88], json({15, 20}));  // yesterday
    EXPECT_EQ(days[0], json({1, 4}));
    for (std::size_t i = 1; i < 88; ++i) EXPECT_TRUE(days[i].is_null()) << i;
}
