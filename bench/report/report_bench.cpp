// HTML report at scale: synthesises the store of a 1-hour run of 100 beacons at 1-s intervals
// (360,000 intervals with realistic histograms, 1,200 blocks, events), then times
// `bts-report --format html`'s work (load + render) next to a baseline measured in the same run:
// reading and decoding the same rows without rendering.
//
//   report_bench [--beacons N] [--seconds S] [--keep DIR]
//
// Target (issue 13): the report in < 10 s and < 5 MB.
#include "actors/collector/sqlite_store.hpp"
#include "fake_beacon.hpp"
#include "tools/bts-report/html_report.hpp"
#include "tools/bts-report/report.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
namespace bc = bts::collector;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::fprintf(stderr, "report_bench: %s: %s\n", sql.substr(0, 60).c_str(), err ? err : "?");
        std::exit(1);
    }
}

void synthesise(const std::string& path, int beacons, int seconds, std::int64_t t0) {
    {
        bc::StoreConfig cfg;
        cfg.path = path;
        bc::SqliteStore store(cfg);
        for (int s = 0; s < seconds; ++s) {
            for (int b = 0; b < beacons; ++b) {
                auto m = bts::test::make_interval("bench-run", "beacon-" + std::to_string(b),
                                                  static_cast<std::uint64_t>(s), t0 + 1000LL * s,
                                                  1000, static_cast<std::uint64_t>(b) + 1);
                m.host = "host-" + std::to_string(b / 10);
                m.in_flight = static_cast<std::uint64_t>(20 + (s + b) % 30);
                m.proc_cpu_pct = 20.0 + (b % 7);
                m.final = s == seconds - 1;
                (void)store.add_interval(m, bts::wire::encode(m), t0 + 1000LL * s + 1500);
            }
            if (s % 600 == 0)
                for (int b = 0; b < beacons; b += 25) {
                    bts::wire::RunEvent e{"bench-run",          "beacon-" + std::to_string(b),
                                          t0 + 1000LL * s + 10, "info",
                                          "rate_step",          "step " + std::to_string(s / 600)};
                    (void)store.add_event(e, bc::doc_id(e));
                }
            if (s % 50 == 0) (void)store.commit();
        }
        (void)store.commit();
    }
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    exec(db,
         "CREATE TABLE IF NOT EXISTS blocks (run_id TEXT, node TEXT, block_num INTEGER, "
         "timestamp_ms INTEGER, "
         "witness TEXT, tx_count INTEGER, op_count INTEGER, bytes INTEGER, missed_slots INTEGER, "
         "observed_ms "
         "INTEGER, PRIMARY KEY(run_id, node, block_num))");
    exec(db, "BEGIN");
    for (int k = 0; k < seconds / 3; ++k) {
        const int tx = 29000 + (k * 37) % 2000;  // ~10k tx/s in 3-s blocks, like the beacons send
        exec(db, "INSERT INTO blocks VALUES ('bench-run', 'ws://node-1:8090', " +
                     std::to_string(1000 + k) + ", " + std::to_string(t0 + 3000LL * k) +
                     ", '1.6.1', " + std::to_string(tx) + ", " + std::to_string(tx * 2) + ", " +
                     std::to_string(tx * 190) + ", " + std::to_string(k % 97 == 0) + ", " +
                     std::to_string(t0 + 3000LL * k + 200) + ")");
    }
    exec(db, "COMMIT");
    sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
    int beacons = 100, seconds = 3600;
    std::string keep;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--beacons"))
            beacons = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds"))
            seconds = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--keep"))
            keep = argv[i + 1];
    }
    if (beacons <= 0 || seconds <= 0) {
        std::fprintf(stderr, "usage: report_bench [--beacons N] [--seconds S] [--keep DIR]\n");
        return 2;
    }
    const std::string dir = keep.empty() ? (std::filesystem::temp_directory_path() /
                                            ("bts-report-bench-" + std::to_string(::getpid())))
                                               .string()
                                         : keep;
    std::filesystem::create_directories(dir);
    const std::string store = dir + "/store.sqlite", html = dir + "/report.html";
    std::filesystem::remove(store);
    const std::int64_t t0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

    auto t = Clock::now();
    synthesise(store, beacons, seconds, t0);
    std::printf("store: %d beacons x %d s = %d intervals, %d blocks, %.1f MB, written in %.1f s\n",
                beacons, seconds, beacons * seconds, seconds / 3,
                static_cast<double>(std::filesystem::file_size(store)) / 1e6, since(t));

    // Baseline: read every frame of the run and decode it, nothing else.
    t = Clock::now();
    std::uint64_t rows = 0, sent = 0;
    {
        sqlite3* db = nullptr;
        sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT frame FROM intervals WHERE run_id = 'bench-run'", -1, &st,
                           nullptr);
        while (sqlite3_step(st) == SQLITE_ROW) {
            auto msg = bts::wire::decode({static_cast<const char*>(sqlite3_column_blob(st, 0)),
                                          static_cast<std::size_t>(sqlite3_column_bytes(st, 0))});
            if (auto* s = msg ? std::get_if<bts::wire::StatsInterval>(&*msg) : nullptr)
                sent += s->sent;
            ++rows;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    const double baseline = since(t);

    t = Clock::now();
    bts::report::StoreReader reader(store);
    const auto run = reader.load("bench-run");
    const double load = since(t);
    const auto t_render = Clock::now();
    const std::string page = bts::report::render_html(store, run, {});
    {
        std::ofstream out(html, std::ios::binary);
        out << page;
    }
    const double render = since(t_render), total = since(t);
    std::printf("baseline: read + decode %llu rows (sent %llu) in %.2f s\n",
                static_cast<unsigned long long>(rows), static_cast<unsigned long long>(sent),
                baseline);
    std::printf(
        "report: %.2f s (load %.2f s + render %.2f s), %.2f MB, %.2fx the baseline; target < 10 s "
        "and < 5 MB: %s\n",
        total, load, render, static_cast<double>(page.size()) / 1e6, total / baseline,
        total < 10 && page.size() < 5'000'000 ? "met" : "NOT met");
    if (keep.empty())
        std::filesystem::remove_all(dir);
    else
        std::printf("kept: %s\n", html.c_str());
    return 0;
}
