// The stats pages in a real headless Chromium (Debian's, through chromedriver): the real
// bts-uptime probes real local targets (bts-devnet when built, scripted nodes, a closed port, a
// silent listener, TLS servers with openssl-made certificates), the real bts-stats serves the
// pages, and a fake collector publishes a running scenario. Screenshots are kept in
// $BTS_BUILD_ROOT/meson-logs/screenshots/.
#include "common/util/histogram.hpp"
#include "common/wire.hpp"
#include "fake_targets.hpp"
#include "process.hpp"
#include "webdriver.hpp"

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <regex>
#include <thread>

namespace {

using namespace std::chrono_literals;
using bts::uptime::testing::FakeNode;
using bts::uptime::testing::FakeNodeOptions;
namespace browser = bts::test::browser;

const std::string kChain(64, 'c');

std::string screenshot_dir() {
    const char* root = std::getenv("BTS_BUILD_ROOT");
    const std::string dir = std::string(root ? root : ".") + "/meson-logs/screenshots";
    std::filesystem::create_directories(dir);
    return dir;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Publishes a running scenario as the collector would: per-second totals, per-beacon intervals
// and run events. Simulated seconds advance 5× faster than real time so charts fill quickly.
class FakeCollector {
public:
    explicit FakeCollector(zmq::context_t& ctx) : pub_(ctx, zmq::socket_type::pub) {
        pub_.bind("tcp://127.0.0.1:*");
        endpoint_ = pub_.get(zmq::sockopt::last_endpoint);
        thread_ = std::thread([this] { loop(); });
    }
    ~FakeCollector() { stop(); }
    void stop() {
        if (stop_.exchange(true)) return;
        thread_.join();
        pub_.close();
    }
    const std::string& endpoint() const { return endpoint_; }

private:
    void send(const std::string& topic, const std::string& frame) {
        pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
        pub_.send(zmq::buffer(frame));
    }
    void loop() {
        const std::int64_t s0 = now_ms() / 1000 - 120;
        for (int i = 0; !stop_; ++i) {
            const double wave = std::sin(i / 6.0);
            bts::wire::ClusterTotals c;
            c.run_id = "transfer-max-1";
            c.second_unix = s0 + i;
            c.beacons = 3;
            c.configured_rate = i < 40 ? 600 : 900;
            c.sent = static_cast<std::uint64_t>(c.configured_rate * (0.97 + 0.02 * wave));
            c.accepted = static_cast<std::uint64_t>(static_cast<double>(c.sent) * (0.93 + 0.03 * wave));
            c.rejected_by_class = {{"insufficient_fee", static_cast<std::uint64_t>(5 + 3 * wave)},
                                   {"duplicate_transaction", 2},
                                   {"expired", static_cast<std::uint64_t>(i % 3)}};
            c.acceptance_p50_us = static_cast<std::uint64_t>(4000 + 1500 * wave);
            c.acceptance_p90_us = static_cast<std::uint64_t>(11000 + 3000 * wave);
            c.acceptance_p99_us = static_cast<std::uint64_t>(26000 + 8000 * wave);
            c.included_txs = c.accepted - c.accepted / 20;
            c.inclusion_p50_us = static_cast<std::uint64_t>(1'600'000 + 200'000 * wave);
            c.inclusion_p99_us = static_cast<std::uint64_t>(2'900'000 + 300'000 * wave);
            send("totals/" + c.run_id, bts::wire::encode(c));
            for (int b = 0; b < 3; ++b) {
                bts::wire::StatsInterval s;
                s.run_id = c.run_id;
                s.beacon_id = "beacon-" + std::to_string(b + 1);
                s.host = "stress-" + std::to_string(b + 1);
                s.interval_start_ms = c.second_unix * 1000;
                s.interval_ms = 1000;
                s.configured_rate = c.configured_rate / 3;
                s.sent = c.sent / 3;
                s.accepted = c.accepted / 3;
                s.rejected_by_class = {{"insufficient_fee", 2}};
                s.in_flight = 20 + static_cast<std::uint64_t>(b * 7);
                s.proc_cpu_pct = 20 + 5 * b;
                s.rss_bytes = (48 + 4 * static_cast<std::uint64_t>(b)) << 20;
                bts::util::Histogram h;
                for (int k = 0; k < 100; ++k) h.record(static_cast<std::uint64_t>(3000 + 250 * k + 2000 * b));
                s.acceptance_from_intended = h.to_sparse();
                send("interval/" + c.run_id + "/" + s.beacon_id, bts::wire::encode(s));
            }
            if (i % 5 == 0) {
                bts::wire::RunEvent e;
                e.run_id = c.run_id;
                e.source = "broker";
                e.unix_ms = now_ms();
                // Repeated: a subscriber that joined late (ZeroMQ slow joiner) still sees one.
                e.level = i < 40 ? "info" : "warn";
                e.kind = i < 40 ? "run_step" : "rate_step";
                e.text = "scenario transfer-max on 3 beacons, step " + std::to_string(i / 5);
                send("event/" + c.run_id + "/broker", bts::wire::encode(e));
            }
            std::this_thread::sleep_for(200ms);
        }
    }

    zmq::socket_t pub_;
    std::string endpoint_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string endpoint_toml(const std::string& name, const std::string& url, const std::string& chain,
                          const std::string& extra = {}) {
    std::string s = "[[endpoint]]\nname = \"" + name + "\"\nurl = \"" + url + "\"\n";
    if (!chain.empty()) s += "chain_id = \"" + chain + "\"\n";
    return s + extra;
}

TEST(StatsPage, StatusPageAndDashboardInHeadlessChromium) {
    if (!browser::available()) {
        GTEST_SKIP() << "Debian's chromium and chromium-driver are not installed; scripts/setup.sh installs them";
    }
    bts::test::TempDir dir;
    zmq::context_t ctx(1);

    // ---- targets ----
    std::string devnet_url;
    std::unique_ptr<bts::test::ChildProcess> devnet;
    const std::string devnet_bin = bts::test::built_program("src/actors/devnet/bts-devnet");
    if (::access(devnet_bin.c_str(), X_OK) == 0) {
        devnet = std::make_unique<bts::test::ChildProcess>(devnet_bin, std::vector<std::string>{"--port", "0"},
                                                           dir.file("devnet.log"));
        if (devnet->wait_for_log("listening on ws://127.0.0.1:", 20s)) {
            std::smatch m;
            const std::string log = devnet->log();
            if (std::regex_search(log, m, std::regex("listening on (ws://127\\.0\\.0\\.1:\\d+)"))) devnet_url = m[1];
        }
    }
    std::unique_ptr<FakeNode> scripted_main;
    if (devnet_url.empty()) {
        std::printf("note: bts-devnet not available; a scripted node stands in for it\n");
        scripted_main = std::make_unique<FakeNode>(FakeNodeOptions{});
    }
    FakeNode reference(FakeNodeOptions{}), peer(FakeNodeOptions{});
    FakeNode forked(FakeNodeOptions{}.fork("other-branch", 950));
    FakeNode other_chain(FakeNodeOptions{}.chain(std::string(64, 'd')));
    FakeNode stale(FakeNodeOptions{}.age(400));
    bts::uptime::testing::SilentListener silent;
    const auto closed = bts::uptime::testing::closed_port();

    std::string toml = "[uptime]\ninterval = \"1s\"\ntimeout = \"600ms\"\npush = \"\"\npub = \"tcp://127.0.0.1:" +
                       std::to_string(bts::test::free_port()) + "\"\n[thresholds]\nstale_after = \"60s\"\n";
    const std::string pub_ep = toml.substr(toml.find("tcp://"), toml.find('"', toml.find("tcp://")) - toml.find("tcp://"));
    toml += endpoint_toml(devnet_url.empty() ? "api-main" : "devnet", devnet_url.empty() ? scripted_main->url() : devnet_url,
                          devnet_url.empty() ? kChain : "");
    toml += endpoint_toml("api-reference", reference.url(), kChain, "reference = true\n");
    toml += endpoint_toml("api-peer", peer.url(), kChain);
    toml += endpoint_toml("api-forked", forked.url(), kChain);
    toml += endpoint_toml("api-other-chain", other_chain.url(), kChain);
    toml += endpoint_toml("api-stale", stale.url(), kChain);
    toml += endpoint_toml("api-closed", "ws://127.0.0.1:" + std::to_string(closed) + "/", kChain);
    toml += endpoint_toml("api-silent", "ws://127.0.0.1:" + std::to_string(silent.port()) + "/", kChain);

    std::map<std::string, std::string> expected = {
        {devnet_url.empty() ? "api-main" : "devnet", "UP"}, {"api-reference", "UP"},     {"api-peer", "UP"},
        {"api-forked", "FORKED"},                            {"api-other-chain", "WRONG_CHAIN"},
        {"api-stale", "STALE"},                              {"api-closed", "DOWN"},       {"api-silent", "TIMEOUT"}};

    std::unique_ptr<FakeNode> tls_soon, tls_other;
    const std::string openssl = bts::uptime::testing::openssl_path();
    if (!openssl.empty()) {
        auto make = [&](const std::string& name, int days, const std::string& cn, const std::string& san) {
            const auto r = bts::test::run_program(
                openssl, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", dir.file(name + ".key"), "-out", dir.file(name + ".crt"), "-days",
                          std::to_string(days), "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san});
            EXPECT_EQ(r.exit_code, 0) << r.err;
        };
        make("soon", 3, "127.0.0.1", "IP:127.0.0.1");
        make("other", 365, "other.example", "DNS:other.example");
        tls_soon = std::make_unique<FakeNode>(FakeNodeOptions{}.tls(dir.file("soon.crt"), dir.file("soon.key")));
        tls_other = std::make_unique<FakeNode>(FakeNodeOptions{}.tls(dir.file("other.crt"), dir.file("other.key")));
        toml += endpoint_toml("wss-expiring", tls_soon->url(), kChain, "ca_file = \"" + dir.file("soon.crt") + "\"\n");
        toml += endpoint_toml("wss-wrong-name", tls_other->url(), kChain, "ca_file = \"" + dir.file("other.crt") + "\"\n");
        expected["wss-expiring"] = "CERT_EXPIRING";
        expected["wss-wrong-name"] = "CERT_MISMATCH";
    }

    // ---- programs ----
    bts::test::ChildProcess uptime(bts::test::built_program("src/actors/uptime/bts-uptime"),
                                   {"--config", dir.write("uptime.toml", toml)}, dir.file("uptime.log"));
    ASSERT_TRUE(uptime.wait_for_log("uptime: probing", 10s)) << uptime.log();
    FakeCollector collector(ctx);
    bts::test::ChildProcess stats(
        bts::test::built_program("src/tools/bts-stats/bts-stats"),
        {"--config", dir.write("stats.toml", "[stats]\nfeed_stale_after = \"3s\"\nuptime_refresh = \"2s\"\n"),
         "--port", "0", "--store", dir.file("stats.sqlite"), "--uptime-feed", pub_ep, "--collector-feed",
         collector.endpoint()},
        dir.file("stats.log"));
    ASSERT_TRUE(stats.wait_for_log("serving on http://127.0.0.1:", 10s)) << stats.log();
    std::smatch m;
    const std::string slog = stats.log();
    ASSERT_TRUE(std::regex_search(slog, m, std::regex("(http://127\\.0\\.0\\.1:\\d+/)")));
    const std::string base = m[1];

    // ---- status page ----
    browser::Browser chrome(dir);
    chrome.open(base);
    std::string check = "const want = {";
    for (const auto& [name, status] : expected) check += "\"" + name + "\":\"" + status + "\",";
    check += "}; for (const [n, s] of Object.entries(want)) { const tr = document.getElementById('ep-' + n);"
             " if (!tr || tr.dataset.status !== s || !tr.innerText.includes(s)) return false; } return true;";
    const bool all_classes = chrome.wait_for(check, 45s);
    const auto rows = chrome.run(
        "return [...document.querySelectorAll('#endpoints tbody tr')].map(tr => tr.id + '=' + tr.dataset.status);");
    const std::string dir_out = screenshot_dir();
    chrome.screenshot(dir_out + "/status.png");
    ASSERT_TRUE(all_classes) << "rows: " << rows.dump() << "\nuptime log:\n" << uptime.log();
    const std::string text = chrome.run("return document.body.innerText;").get<std::string>();
    for (const auto& [name, status] : expected) EXPECT_NE(text.find(name), std::string::npos) << name;
    EXPECT_NE(text.find("operational"), std::string::npos);

    // Live: the sparkline of an UP endpoint grows without a reload.
    const std::string spark_points = "return document.querySelector('#ep-api-peer svg.spark path').getAttribute('d').split('L').length;";
    const int before = chrome.run(spark_points).get<int>();
    EXPECT_TRUE(chrome.wait_for(spark_points.substr(0, spark_points.size() - 1) + " > " + std::to_string(before) + ";", 10s));
    EXPECT_EQ(chrome.run("return performance.getEntriesByType('navigation').length;"), 1);
    EXPECT_TRUE(chrome.run("return document.getElementById('banner').classList.contains('hidden');") == true)
        << chrome.run("return document.getElementById('banner').innerText;");
    // Rows worst first; each with its 90-day strip (today has data) and "up/down since".
    const auto order = chrome.run(
        "const rank = {DOWN: 0, TIMEOUT: 0, WRONG_CHAIN: 1, FORKED: 1, CERT_MISMATCH: 2, STALE: 3, CERT_EXPIRING: 4, UP: 5};"
        "return [...document.querySelectorAll('#endpoints tbody tr')].map(tr => rank[tr.dataset.status]);");
    for (std::size_t i = 1; i < order.size(); ++i) EXPECT_LE(order[i - 1].get<int>(), order[i].get<int>()) << rows.dump();
    EXPECT_TRUE(chrome.run("return [...document.querySelectorAll('#endpoints tbody tr')].every(tr => {"
                           " const s = tr.querySelector('svg.strip'); return s && s.querySelectorAll('rect.day').length === 90 &&"
                           " Number(s.dataset.withData) >= 1 && !s.lastChild.classList.contains('d-none'); });") == true)
        << chrome.run("return document.querySelector('#endpoints tbody').innerHTML;").dump().substr(0, 2000);
    EXPECT_TRUE(chrome.run("return [...document.querySelectorAll('#endpoints tbody tr')].every(tr => /(up|down) since .*UTC/"
                           ".test(tr.querySelector('.since').textContent));") == true);
    EXPECT_TRUE(chrome.run("return !!document.querySelector('link[rel=icon]');") == true);
    if (tls_soon) {
        // The certificate in the row itself: expiry date, subject and issuer (self-signed here).
        const std::string cert = chrome.run("return document.querySelector('#ep-wss-expiring td.cert').innerText;").get<std::string>();
        EXPECT_NE(cert.find("expires 20"), std::string::npos) << cert;
        EXPECT_NE(cert.find("subject 127.0.0.1"), std::string::npos) << cert;
        EXPECT_NE(cert.find("issuer 127.0.0.1"), std::string::npos) << cert;
    }
    chrome.screenshot(dir_out + "/status-live.png");
    chrome.run("window.scrollTo(0, document.body.scrollHeight); return true;");
    chrome.screenshot(dir_out + "/status-bottom.png");

    // ---- dashboard ----
    chrome.open(base + "dashboard");
    const bool drawn = chrome.wait_for(
        "const p = document.querySelector('#chart-rate path.series.c-accepted');"
        "const l = document.querySelector('#chart-latency path.series.c-p99');"
        "return !!p && !!l && Number(p.dataset.points) >= 20 && p.getAttribute('d').split('L').length >= 20 &&"
        " document.querySelectorAll('#beacons tbody tr').length === 3 &&"
        " document.querySelectorAll('#rejections .bar').length === 3 &&"
        " document.getElementById('run').innerText.includes('transfer-max-1');",
        30s);
    chrome.screenshot(dir_out + "/dashboard.png");
    ASSERT_TRUE(drawn) << chrome.run("return document.body.innerText;").dump();
    // Live: points keep arriving.
    const std::string npoints = "return Number(document.querySelector('#chart-rate path.series.c-accepted').dataset.points)";
    const int pts = chrome.run(npoints + ";").get<int>();
    EXPECT_TRUE(chrome.wait_for(npoints + " > " + std::to_string(pts) + ";", 10s));
    const std::string dash = chrome.run("return document.body.innerText;").get<std::string>();
    EXPECT_NE(dash.find("beacon-2"), std::string::npos);
    EXPECT_NE(dash.find("insufficient_fee"), std::string::npos);
    EXPECT_NE(dash.find("scenario transfer-max on 3 beacons"), std::string::npos);
    // On-chain inclusion, beacon CPU and per-beacon charts; times labelled with their zone.
    EXPECT_TRUE(chrome.wait_for(
        "const n = (sel) => document.querySelectorAll(sel).length;"
        "return n('#chart-rate path.series.c-included') === 1 && n('#chart-inclusion path.series') === 2 &&"
        " n('#chart-cpu path.series') === 3 && n('#chart-beacon-rate path.series') === 3 &&"
        " Number(document.querySelector('#chart-cpu path.series').dataset.points) >= 3 &&"
        " document.querySelector('#chart-rate').textContent.includes('UTC');",
        15s))
        << chrome.run("return document.body.innerText;").dump();
    chrome.screenshot(dir_out + "/dashboard-charts.png");
    std::printf("cpu chart: %s\n", chrome.run("return document.querySelector('#chart-cpu path.series').getAttribute('d');").dump().c_str());

    // The collector goes away: the dashboard says so, without a reload.
    collector.stop();
    const bool warned = chrome.wait_for(
        "const b = document.getElementById('banner');"
        "return !b.classList.contains('hidden') && b.innerText.includes('collector feed');",
        15s);
    chrome.screenshot(dir_out + "/dashboard-feed-lost.png");
    EXPECT_TRUE(warned) << chrome.run("return document.body.innerText;").dump();
    std::printf("screenshots: %s/{status,status-live,status-bottom,dashboard,dashboard-feed-lost}.png\n", dir_out.c_str());
}

}  // namespace
