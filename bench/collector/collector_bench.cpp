// Collector ingest benchmark: StatsInterval messages per second stored by bts-collector into the
// embedded store, and into the Elasticsearch emulator, next to a raw libzmq PUSH/PULL loop with
// the same messages over the same transport (tcp loopback) measured in the same run.
//
//   collector_bench [--messages N] [--beacons B]
//
// All three push the same pre-encoded frames (realistic intervals: three latency histograms,
// rejection classes) from one sender thread; the clock stops when the last message is durable:
// committed to SQLite, or acknowledged by the emulator's _bulk.
#include "actors/collector/collector.hpp"
#include "common/util/log.hpp"
#include "es_emulator.hpp"
#include "fake_beacon.hpp"

#include <czmq.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace bc = bts::collector;

std::vector<std::string> make_frames(std::size_t n, std::size_t beacons) {
    std::vector<std::string> frames;
    frames.reserve(n);
    const std::int64_t t0 = 1'700'000'000'000;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t b = i % beacons;
        std::uint64_t seq = i / beacons;
        frames.push_back(bts::wire::encode(bts::test::make_interval(
            "bench", "beacon-" + std::to_string(b), seq, t0 + 1000 * static_cast<std::int64_t>(seq), 1000, b + 1)));
    }
    return frames;
}

void push_all(const std::string& endpoint, const std::vector<std::string>& frames) {
    zsock_t* push = zsock_new(ZMQ_PUSH);
    zsock_set_sndhwm(push, 10000);
    zsock_set_linger(push, -1);
    zsock_connect(push, "%s", endpoint.c_str());
    void* s = zsock_resolve(push);
    for (const auto& f : frames) zmq_send(s, f.data(), f.size(), 0);
    zsock_destroy(&push);
}

double raw_pushpull(const std::vector<std::string>& frames) {
    zsock_t* pull = zsock_new(ZMQ_PULL);
    zsock_set_rcvhwm(pull, 100000);
    int port = zsock_bind(pull, "tcp://127.0.0.1:*");
    std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
    void* s = zsock_resolve(pull);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    auto start = Clock::now();
    std::thread sender([&] { push_all(endpoint, frames); });
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        zmq_msg_recv(&msg, s, 0);
        bytes += zmq_msg_size(&msg);  // touch the message, as a receiver would
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    sender.join();
    zmq_msg_close(&msg);
    zsock_destroy(&pull);
    if (bytes == 0) std::fprintf(stderr, "no bytes?\n");
    return static_cast<double>(frames.size()) / secs;
}

double into_store(const std::vector<std::string>& frames, const std::string& dir) {
    bc::CollectorConfig cfg;
    cfg.listen = "tcp://127.0.0.1:*";
    cfg.publish = "";
    cfg.store.path = dir + "/bench.sqlite";
    cfg.stats_interval = std::chrono::seconds(3600);
    bc::Collector collector(cfg, spdlog::default_logger());
    auto start = Clock::now();
    std::thread sender([&] { push_all(collector.endpoint(), frames); });
    while (collector.stats().intervals < frames.size()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    collector.flush();  // committed
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    sender.join();
    return static_cast<double>(frames.size()) / secs;
}

struct EsFigures {
    double spooled = 0;  // collector ingest: every message durable in the spool (msg/s)
    double stored = 0;   // end to end: every document acknowledged by the emulator (msg/s)
};

EsFigures into_emulator(const std::vector<std::string>& frames, const std::string& dir, bool with_store) {
    bts::test::EsEmulator es({});
    bc::CollectorConfig cfg;
    cfg.listen = "tcp://127.0.0.1:*";
    cfg.publish = "";
    cfg.store.enabled = with_store;
    cfg.store.path = dir + "/bench-es.sqlite";
    cfg.es.enabled = true;
    cfg.es.url = es.url();
    cfg.es.spool_dir = dir + "/spool";
    cfg.es.flush_interval = std::chrono::milliseconds(100);
    cfg.stats_interval = std::chrono::seconds(3600);
    bc::Collector collector(cfg, spdlog::default_logger());
    while (!collector.stats().es.templates_installed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto start = Clock::now();
    std::thread sender([&] { push_all(collector.endpoint(), frames); });
    EsFigures fig;
    const bool verbose = std::getenv("BTS_BENCH_VERBOSE") != nullptr;
    auto next_print = Clock::now();
    while (es.count("bts-intervals") < frames.size()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (fig.spooled == 0 && collector.stats().received >= frames.size()) {
            collector.flush();  // the last documents are in the spool
            fig.spooled = static_cast<double>(frames.size()) /
                          std::chrono::duration<double>(Clock::now() - start).count();
        }
        if (verbose && Clock::now() >= next_print) {
            next_print += std::chrono::milliseconds(500);
            auto st = collector.stats();
            std::printf("    t=%.1fs received %llu es stored %llu requests %llu spool %llu\n",
                        std::chrono::duration<double>(Clock::now() - start).count(),
                        static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.es.stored),
                        static_cast<unsigned long long>(st.es.requests), static_cast<unsigned long long>(st.es.spool_items));
        }
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    sender.join();
    fig.stored = static_cast<double>(frames.size()) / secs;
    if (fig.spooled == 0) fig.spooled = fig.stored;
    return fig;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 200'000, beacons = 100;
    std::string only;  // raw | store | es | both: run one stage (profiling)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
        if (std::strcmp(argv[i], "--messages") == 0) n = std::strtoull(argv[i + 1], nullptr, 10);
        if (std::strcmp(argv[i], "--beacons") == 0) beacons = std::strtoull(argv[i + 1], nullptr, 10);
    }
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::printf("usage: collector_bench [--messages N] [--beacons B] [--only store|es]\n");
        return 0;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    bts::util::setup_logging("collector_bench", "warn");
    auto tmp = std::filesystem::temp_directory_path() / ("bts-collector-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp);
    auto frames = make_frames(n, beacons);
    std::size_t bytes = 0;
    for (const auto& f : frames) bytes += f.size();
    std::printf("collector ingest: %zu StatsInterval messages from %zu beacons, mean %zu bytes\n", n, beacons,
                bytes / n);
    if (only == "store") {
        std::printf("  store %.0f msg/s\n", into_store(frames, tmp.string()));
        return 0;
    }
    if (only == "es") {
        auto f = into_emulator(frames, tmp.string(), false);
        std::printf("  es spooled %.0f msg/s, stored %.0f msg/s\n", f.spooled, f.stored);
        return 0;
    }
    double raw = raw_pushpull(frames);
    std::printf("  raw libzmq PUSH/PULL (tcp loopback, baseline)   %10.0f msg/s\n", raw);
    double store = into_store(frames, tmp.string());
    std::printf("  collector -> embedded store (SQLite, committed) %10.0f msg/s   %.2f of raw\n", store, store / raw);
    auto es = into_emulator(frames, tmp.string(), false);
    std::printf("  collector -> spool for Elasticsearch (durable)  %10.0f msg/s   %.2f of raw\n", es.spooled,
                es.spooled / raw);
    std::printf("  collector -> Elasticsearch emulator (_bulk ack) %10.0f msg/s   %.2f of raw\n", es.stored,
                es.stored / raw);
    std::filesystem::create_directories(tmp / "both");
    auto both = into_emulator(frames, (tmp / "both").string(), true);
    std::printf("  collector -> store + emulator (_bulk ack)       %10.0f msg/s   %.2f of raw\n", both.stored,
                both.stored / raw);
    std::filesystem::remove_all(tmp);
    return 0;
}
