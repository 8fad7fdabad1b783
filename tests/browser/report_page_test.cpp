// The HTML report of a real run, read as a reader would: bts-devnet, bts-collector and two
// bts-beacons run as processes on loopback, `bts-report --format html` writes the page, and
// headless Chromium opens it from file://: no console error, no network request, every plot
// drawn with data, the embedded numbers equal the store's (sums, and each bin's p99 recomputed
// from the stored histograms), and the PDF print holds every plot (checked with pdftotext when
// poppler-utils is installed). Screenshots of each section go to
// $BTS_BUILD_ROOT/meson-logs/screenshots/report-*.png (docs/img/ copies them).
#include "common/util/histogram.hpp"
#include "common/wire.hpp"
#include "process.hpp"
#include "webdriver.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace browser = bts::test::browser;

std::string screenshot_dir() {
    const char* root = std::getenv("BTS_BUILD_ROOT");
    const std::string dir = std::string(root ? root : ".") + "/meson-logs/screenshots";
    std::filesystem::create_directories(dir);
    return dir;
}

std::string squash(const std::string& s) {
    std::string out;
    for (char c : s)
        if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct StoreRow {
    std::int64_t start_ms = 0;
    bts::wire::StatsInterval s;
};

// Every interval of `run` in the store, decoded.
std::vector<StoreRow> store_intervals(const std::string& path, const std::string& run) {
    std::vector<StoreRow> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT interval_start_ms, frame FROM intervals WHERE run_id = ?1", -1,
                       &st, nullptr);
    sqlite3_bind_text(st, 1, run.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        auto msg = bts::wire::decode({static_cast<const char*>(sqlite3_column_blob(st, 1)),
                                      static_cast<std::size_t>(sqlite3_column_bytes(st, 1))});
        auto* s = msg ? std::get_if<bts::wire::StatsInterval>(&*msg) : nullptr;
        EXPECT_TRUE(s) << "undecodable frame in the store";
        if (s) out.push_back({sqlite3_column_int64(st, 0), *s});
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

TEST(ReportPage, RealRunInHeadlessChromiumAndPdf) {
    if (!browser::available()) {
        GTEST_SKIP() << "Debian's chromium and chromium-driver are not installed; scripts/setup.sh "
                        "installs them";
    }
    bts::test::TempDir dir;
    const std::string run_id = "report-browser-run";

    // ---- a real run ----
    bts::test::ChildProcess devnet(
        bts::test::built_program("src/actors/devnet/bts-devnet"),
        {"--config", "/dev/null", "--port", "0", "--block-interval", "1s"}, dir.file("devnet.log"));
    ASSERT_TRUE(devnet.wait_for_log("listening on ws://127.0.0.1:", 20s)) << devnet.log();
    std::smatch m;
    const std::string dlog = devnet.log();
    ASSERT_TRUE(std::regex_search(dlog, m, std::regex("listening on (ws://127\\.0\\.0\\.1:\\d+)")));
    const std::string node = m[1];

    const std::string collect = "tcp://127.0.0.1:" + std::to_string(bts::test::free_port());
    const std::string store = dir.file("store.sqlite");
    bts::test::ChildProcess collector(
        bts::test::built_program("src/actors/collector/bts-collector"),
        {"--config", "/dev/null", "--listen", collect, "--publish", "", "--store", store},
        dir.file("collector.log"));
    std::vector<std::unique_ptr<bts::test::ChildProcess>> beacons;
    for (int b = 1; b <= 2; ++b) {
        beacons.push_back(std::make_unique<bts::test::ChildProcess>(
            bts::test::built_program("src/actors/beacon/bts-beacon"),
            std::vector<std::string>{
                "--config", "/dev/null", "--node", node, "--rate", b == 1 ? "40" : "25",
                "--duration", "12s", "--stats", collect, "--run-id", run_id, "--id",
                "beacon-" + std::to_string(b), "--accounts",
                b == 1 ? "devnet:stress-0..stress-4" : "devnet:stress-5..stress-9", "--seed",
                std::to_string(b)},
            dir.file("beacon-" + std::to_string(b) + ".log")));
    }
    for (auto& b : beacons) {
        // Generous: preparing, 12 s of load, then draining replies and inclusion.
        const int rc = b->wait(120s);
        ASSERT_EQ(rc, 0) << b->log();
    }
    collector.signal(SIGTERM);
    ASSERT_EQ(collector.wait(30s), 0) << collector.log();

    const std::string html = dir.file("report.html");
    const auto r = bts::test::run_program(
        bts::test::built_program("src/tools/bts-report/bts-report"),
        {"--store", store, "--run", run_id, "--format", "html", "--output", html});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string page = read_file(html);
    ASSERT_GT(page.size(), 10'000u);
    // Self-contained: nothing that could load from elsewhere.
    EXPECT_EQ(page.find("src=\""), std::string::npos);
    EXPECT_EQ(page.find("http://"), std::string::npos);
    EXPECT_EQ(page.find("https://"), std::string::npos);
    EXPECT_EQ(page.find("url("), std::string::npos);

    // ---- the page in Chromium ----
    browser::Browser chrome(dir, 1100, 2600);  // tall: section screenshots are cut at the viewport
    chrome.open("file://" + html);
    ASSERT_TRUE(chrome.wait_for("return document.readyState === 'complete';", 20s));
    const json plots = chrome.run(
        "return [...document.querySelectorAll('svg.plot')].map(s => ({id: s.dataset.plot, points: "
        "Number(s.dataset.points), paths: s.querySelectorAll('path.series').length}));");
    std::set<std::string> ids;
    for (const auto& p : plots) {
        ids.insert(p["id"].get<std::string>());
        EXPECT_GT(p["points"].get<int>(), 0) << "plot " << p["id"] << " has no data";
        EXPECT_GT(p["paths"].get<int>(), 0) << p["id"];
    }
    for (const char* want :
         {"rate", "ops", "acceptance", "inclusion", "distribution", "rejections", "inflight",
          "health", "beacon-rate", "beacon-lag", "beacon-cpu", "host-rate"})
        EXPECT_TRUE(ids.count(want)) << "missing plot " << want;
    // No chain observer in this run: the page says so instead of drawing empty block plots.
    EXPECT_TRUE(chrome.run("return !!document.getElementById('no-chain');") == true);
    EXPECT_EQ(chrome.run("return performance.getEntriesByType('resource').length;"), 0);
    // Hover shows the values of the nearest point.
    EXPECT_TRUE(chrome.run("const s = document.querySelector('svg[data-plot=rate]'); const r = "
                           "s.getBoundingClientRect();"
                           "s.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width "
                           "/ 2, clientY: r.top + 40,"
                           " bubbles: true})); const t = document.getElementById('tip');"
                           "return !t.hidden && t.innerText.includes('sent: ');") == true);
    const json console = chrome.console_log();
    for (const auto& e : console) EXPECT_NE(e.value("level", ""), "SEVERE") << e.dump();

    // ---- the numbers against the store ----
    const json data =
        json::parse(chrome.run("return document.getElementById('report-data').textContent;")
                        .get<std::string>());
    const auto rows = store_intervals(store, run_id);
    ASSERT_FALSE(rows.empty());
    std::uint64_t sent = 0, accepted = 0, rejected = 0, incl = 0;
    const std::int64_t t0 = data["t0_ms"].get<std::int64_t>();
    const std::int64_t bin_ms = std::llround(data["bin_s"].get<double>() * 1000);
    const std::size_t nbins = data["bins"]["sent"].size();
    std::vector<bts::util::Histogram> acc(nbins), inc(nbins);
    std::vector<std::uint64_t> bin_sent(nbins);
    for (const auto& row : rows) {
        sent += row.s.sent;
        accepted += row.s.accepted;
        for (const auto& [k, c] : row.s.rejected_by_class) rejected += c;
        incl += row.s.included_txs;
        const std::int64_t mid = row.start_ms + static_cast<std::int64_t>(row.s.interval_ms / 2);
        const auto i = static_cast<std::size_t>(
            std::clamp<std::int64_t>((mid - t0) / bin_ms, 0, static_cast<std::int64_t>(nbins) - 1));
        acc[i].merge(row.s.acceptance_from_intended);
        inc[i].merge(row.s.inclusion);
        bin_sent[i] += row.s.sent;
    }
    EXPECT_GT(sent, 200u);
    EXPECT_GT(incl, 0u) << "nothing included: the inclusion plots would be empty";
    EXPECT_EQ(data["totals"]["intervals"].get<std::size_t>(), rows.size());
    EXPECT_EQ(data["totals"]["sent"].get<std::uint64_t>(), sent);
    EXPECT_EQ(data["totals"]["accepted"].get<std::uint64_t>(), accepted);
    EXPECT_EQ(data["totals"]["rejected"].get<std::uint64_t>(), rejected);
    EXPECT_EQ(data["totals"]["included_txs"].get<std::uint64_t>(), incl);
    std::uint64_t json_sent = 0;
    for (std::size_t i = 0; i < nbins; ++i) {
        json_sent += data["bins"]["sent"][i].get<std::uint64_t>();
        EXPECT_EQ(data["bins"]["sent"][i].get<std::uint64_t>(), bin_sent[i]) << "bin " << i;
        const auto& p99 = data["bins"]["acc_p99"][i];
        if (acc[i].count() == 0) {
            EXPECT_TRUE(p99.is_null()) << "bin " << i;
        } else {
            EXPECT_EQ(p99.get<double>(), static_cast<double>(acc[i].percentile(99))) << "bin " << i;
            EXPECT_EQ(data["bins"]["acc_max"][i].get<double>(), static_cast<double>(acc[i].max()))
                << "bin " << i;
        }
        if (inc[i].count()) {
            EXPECT_EQ(data["bins"]["incl_p50"][i].get<double>(),
                      static_cast<double>(inc[i].percentile(50)));
        }
    }
    EXPECT_EQ(json_sent, sent);
    // The plotted "sent" series is the same numbers per second.
    const json& rate = data["plots"]["rate"];
    ASSERT_EQ(rate["series"][1]["name"], "sent");
    for (std::size_t i = 0; i < nbins; ++i) {
        if (bin_sent[i] == 0 || i + 1 == nbins) continue;  // the last bin may be partial
        EXPECT_NEAR(rate["series"][1]["y"][i].get<double>() * data["bin_s"].get<double>(),
                    static_cast<double>(bin_sent[i]), 0.01);
    }

    // ---- screenshots of each section ----
    const std::string shots = screenshot_dir();
    for (const char* section : {"identity", "summary", "throughput", "latency", "rejections",
                                "inflight", "beacons", "nodes", "chain", "events"})
        chrome.element_screenshot("#" + std::string(section),
                                  shots + "/report-" + section + ".png");

    // ---- with a chain observer's blocks table ----
    // The same run plus a `blocks` table (as the chain observer will write it; filled here from
    // the run's own per-second counts): the block plots replace the "no chain observer" note.
    {
        const std::string store2 = dir.file("store-blocks.sqlite");
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        ASSERT_EQ(
            sqlite3_exec(db, ("VACUUM INTO '" + store2 + "'").c_str(), nullptr, nullptr, nullptr),
            SQLITE_OK)
            << sqlite3_errmsg(db);
        sqlite3_close(db);
        ASSERT_EQ(sqlite3_open(store2.c_str(), &db), SQLITE_OK);
        std::string sql =
            "CREATE TABLE blocks (run_id TEXT, node TEXT, block_num INTEGER, timestamp_ms INTEGER, "
            "witness TEXT, "
            "tx_count INTEGER, op_count INTEGER, bytes INTEGER, missed_slots INTEGER, observed_ms "
            "INTEGER, "
            "PRIMARY KEY(run_id, node, block_num));";
        std::int64_t chain_tx = 0;
        for (std::size_t i = 0; i < nbins; ++i) {
            const auto tx = static_cast<std::int64_t>(bin_sent[i]);
            chain_tx += tx;
            const std::string ts = std::to_string(t0 + static_cast<std::int64_t>(i) * bin_ms + 500);
            sql += "INSERT INTO blocks VALUES ('" + run_id + "', '" + node + "', " +
                   std::to_string(100 + i) + ", " + ts + ", '1.6.0', " + std::to_string(tx) + ", " +
                   std::to_string(tx) + ", " + std::to_string(120 + 210 * tx) + ", " +
                   (i == nbins / 2 ? "1" : "0") + ", " + ts + ");";
        }
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db);
        sqlite3_close(db);
        const std::string html2 = dir.file("report-blocks.html");
        const auto r2 = bts::test::run_program(
            bts::test::built_program("src/tools/bts-report/bts-report"),
            {"--store", store2, "--run", run_id, "--format", "html", "--output", html2});
        ASSERT_EQ(r2.exit_code, 0) << r2.err;
        chrome.open("file://" + html2);
        ASSERT_TRUE(chrome.wait_for("return document.readyState === 'complete';", 20s));
        EXPECT_TRUE(chrome.run("return !document.getElementById('no-chain');") == true);
        for (const char* id : {"block-ops", "block-bytes", "missed-slots", "node-tx"})
            EXPECT_TRUE(chrome.run("const s = document.querySelector('svg[data-plot=\"" +
                                   std::string(id) +
                                   "\"]'); return !!s && Number(s.dataset.points) > 0;") == true)
                << id;
        const json d2 =
            json::parse(chrome.run("return document.getElementById('report-data').textContent;")
                            .get<std::string>());
        EXPECT_EQ(d2["blocks"]["tx"].get<std::int64_t>(), chain_tx);
        EXPECT_EQ(d2["blocks"]["missed"].get<std::int64_t>(), 1);
        for (const auto& e : chrome.console_log())
            EXPECT_NE(e.value("level", ""), "SEVERE") << e.dump();
        chrome.element_screenshot("#chain", shots + "/report-chain-observer.png");
        chrome.open("file://" + html);
        ASSERT_TRUE(chrome.wait_for("return document.readyState === 'complete';", 20s));
    }

    // ---- Firefox, when installed (not in scripts/setup.sh: Debian 12 has no geckodriver, so this
    // only checks that it renders the page to a non-trivial screenshot) ----
    if (::access("/usr/bin/firefox-esr", X_OK) == 0) {
        const std::string png = dir.file("firefox.png");
        std::filesystem::create_directories(dir.file("firefox-profile"));
        const auto ff = bts::test::run_program(
            "/usr/bin/firefox-esr",
            {"--headless", "--no-remote", "--profile", dir.file("firefox-profile"), "--window-size=1100,2400",
             "--screenshot", png, "file://" + html},
            {}, 120s);
        EXPECT_EQ(ff.exit_code, 0) << ff.err;
        ASSERT_TRUE(std::filesystem::exists(png)) << ff.out << ff.err;
        EXPECT_GT(std::filesystem::file_size(png), 50'000u);  // a blank page is a few KB
        std::filesystem::copy_file(png, shots + "/report-firefox.png",
                                   std::filesystem::copy_options::overwrite_existing);
    }

    // ---- print to PDF ----
    const std::string pdf = dir.file("report.pdf");
    chrome.print_pdf(pdf);
    const std::string pdf_bytes = read_file(pdf);
    ASSERT_EQ(pdf_bytes.substr(0, 5), "%PDF-");
    std::filesystem::copy_file(pdf, shots + "/report.pdf",
                               std::filesystem::copy_options::overwrite_existing);
    if (::access("/usr/bin/pdftotext", X_OK) != 0) {
        std::printf(
            "note: pdftotext (poppler-utils) not installed: the PDF's contents are not checked\n");
        return;
    }
    const auto t = bts::test::run_program("/usr/bin/pdftotext", {"-layout", pdf, "-"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const std::string text = squash(t.out);
    const json titles = chrome.run(
        "return [...document.querySelectorAll('figure.plot figcaption')].map(f => f.textContent);");
    ASSERT_EQ(titles.size(), plots.size());
    for (const auto& title : titles)
        EXPECT_NE(text.find(squash(title.get<std::string>())), std::string::npos)
            << "not in the PDF: " << title;
    // Axis labels were printed too (the plots are vector graphics in the PDF, not blank boxes).
    EXPECT_NE(text.find("tx/s"), std::string::npos);
    std::printf("report: %zu bytes, %zu plots; PDF %zu bytes; screenshots in %s\n", page.size(),
                plots.size(), pdf_bytes.size(), shots.c_str());
}

}  // namespace
