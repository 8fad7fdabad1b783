// Send benchmarks of the beacon against a node (by default a bts-devnet it starts itself, in
// trust-signatures mode with fast blocks):
//
//   send_bench throughput [--count N] [--window W]
//       Unlimited broadcast over 1 and 4 connections: transactions accepted per second, next to
//       a raw Beast websocket request/response loop with same-size messages (raw_ws_baseline.hpp)
//       measured in the same run. Prints "throughput ratio".
//   send_bench rate [--seconds S] [--rates 100,1000,10000]
//       Open-loop accuracy: achieved/target rate and p99 send lag at each rate.
//
// Options: --node URL   use a running node instead of starting bts-devnet
//          --devnet PATH  the bts-devnet program (default: next to this build)
//          --log-level LEVEL (default warn)
#include "raw_ws_baseline.hpp"

#include "actors/beacon/beacon.hpp"
#include "process.hpp"

#include <boost/asio/io_context.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

namespace {

using namespace bts;
using namespace std::chrono_literals;

struct Options {
    std::string mode;
    std::string node;
    std::string devnet;
    std::uint64_t count = 100'000;
    std::uint32_t window = 1000;
    double seconds = 20;
    std::vector<double> rates{100, 1000, 10000};
    std::string log_level = "warn";
};

std::string default_devnet_path() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "bts-devnet";
    return (exe.parent_path() / "../../src/actors/devnet/bts-devnet").lexically_normal().string();
}

// A bts-devnet child on an ephemeral port; url() once it listens.
class Devnet {
public:
    explicit Devnet(const std::string& program) {
        log_ = "/tmp/beacon-bench-devnet-" + std::to_string(getpid()) + ".log";
        child_ = std::make_unique<test::ChildProcess>(
            program, std::vector<std::string>{"--port", "0", "--block-interval", "200ms", "--trust-signatures",
                                              "--log-level", "info"},
            log_);
        if (!child_->wait_for_log("listening on ws://", 20s))
            throw std::runtime_error("bts-devnet did not start: " + child_->log());
        auto text = child_->log();
        auto at = text.find("listening on ws://");
        auto end = text.find_first_of(" \n", at + 13);
        url_ = text.substr(at + 13, end - at - 13);
    }
    ~Devnet() { std::filesystem::remove(log_); }
    const std::string& url() const { return url_; }

private:
    std::string log_;
    std::unique_ptr<test::ChildProcess> child_;
    std::string url_;
};

struct RunResult {
    beacon::RunSummary summary;
    std::string error;
    double cpu_seconds = 0;  // this process's CPU while running (the beacon; the node is a child)
};

double process_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

RunResult run_beacon(const std::string& node, beacon::RunConfig cfg) {
    boost::asio::io_context ioc;
    crypto::Context ctx;
    beacon::Beacon::Options opt;
    opt.host = "bench";
    opt.write_line = [](std::string_view) {};
    beacon::Beacon b(ioc, ctx, opt);
    cfg.nodes = {node};
    cfg.stats_sinks = {"none"};
    RunResult out;
    bool finished = false;
    double cpu_at_start = 0;
    b.on_state([&](beacon::State s, std::string_view) {
        if (s == beacon::State::running) cpu_at_start = process_cpu_seconds();
        if (s == beacon::State::stopped) {
            finished = true;
            if (cpu_at_start > 0) out.cpu_seconds = process_cpu_seconds() - cpu_at_start;
        }
    });
    b.configure(cfg, [&](bool ok, const std::string& e) {
        if (!ok) {
            out.error = e;
            finished = true;
            return;
        }
        b.prepare([&](bool ok2, const std::string& e2) {
            if (!ok2) {
                out.error = e2;
                finished = true;
                return;
            }
            b.start([&](bool ok3, const std::string& e3) {
                if (!ok3) out.error = e3, finished = true;
            });
        });
    });
    while (!finished) ioc.run_one_for(50ms);
    out.summary = b.summary();
    return out;
}

beacon::RunConfig base_config() {
    beacon::RunConfig c;
    c.accounts = "devnet:stress-0..stress-49";
    c.drain_timeout = 10s;
    c.request_timeout = 30s;
    c.stats_interval = 1s;
    return c;
}

int throughput(const Options& o, const std::string& node) {
    std::map<int, double> tps;
    double body = 0;
    for (int conns : {1, 4}) {
        auto c = base_config();
        c.rate = util::Rate::unlimited();
        c.budget = o.count;
        c.duration = 600s;
        c.window = std::max<std::uint32_t>(1, o.window / static_cast<std::uint32_t>(conns));
        c.connections_per_node = static_cast<std::uint32_t>(conns);
        auto r = run_beacon(node, c);
        if (!r.error.empty()) {
            std::fprintf(stderr, "beacon run failed: %s\n", r.error.c_str());
            return 1;
        }
        const auto& s = r.summary;
        double rate = s.reply_seconds > 0 ? static_cast<double>(s.totals.accepted) / s.reply_seconds : 0;
        tps[conns] = rate;
        body = s.bytes_per_prepared_tx;
        double cpu_us = s.totals.sent ? r.cpu_seconds * 1e6 / static_cast<double>(s.totals.sent) : 0;
        std::printf("beacon, %d connection(s): sent %llu, accepted %llu, rejected %llu in %.2f s: %.0f tx/s accepted; "
                    "beacon CPU %.1f us/tx (incl. block tracking), acceptance p50/p99 %llu/%llu us\n",
                    conns, static_cast<unsigned long long>(s.totals.sent),
                    static_cast<unsigned long long>(s.totals.accepted),
                    static_cast<unsigned long long>(s.totals.rejected_total()), s.reply_seconds, rate, cpu_us,
                    static_cast<unsigned long long>(s.hist.acceptance_from_send.percentile(50)),
                    static_cast<unsigned long long>(s.hist.acceptance_from_send.percentile(99)));
    }
    // Request size = the typical prepared body + `{"id":N,` (bytes held includes ~70 B of record).
    std::size_t message = static_cast<std::size_t>(std::max(64.0, body - 60));
    auto raw = bench::raw_ws_baseline(message, o.window, 5.0);
    std::printf("raw Beast websocket loop (%zu-byte requests, window %u): %.0f req/s\n", message, o.window,
                raw.requests_per_second);
    std::printf("throughput ratio: 1 conn %.3f, 4 conns %.3f (beacon %.0f / %.0f tx/s vs raw %.0f req/s)\n",
                tps[1] / raw.requests_per_second, tps[4] / raw.requests_per_second, tps[1], tps[4],
                raw.requests_per_second);
    return 0;
}

int rate_accuracy(const Options& o, const std::string& node) {
    std::string line = "rate accuracy:";
    for (double rate : o.rates) {
        auto c = base_config();
        c.rate = util::Rate::every_second(rate);
        c.duration = std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(o.seconds));
        c.prepare_ahead = c.duration + 1s;
        c.connections_per_node = rate >= 5000 ? 2 : 1;
        auto r = run_beacon(node, c);
        if (!r.error.empty()) {
            std::fprintf(stderr, "beacon run failed: %s\n", r.error.c_str());
            return 1;
        }
        const auto& s = r.summary;
        // Achieved over the scheduled span: sends / (duration), exact when every slot was sent.
        double achieved = static_cast<double>(s.totals.sent) / o.seconds;
        double p99 = static_cast<double>(s.hist.send_lag.percentile(99)) / 1000.0;
        std::printf("%8.0f tx/s for %.0f s: sent %llu (dropped %llu, late %llu), achieved %.1f tx/s = %.4f of target, "
                    "send lag p50/p99/max %.3f/%.3f/%.3f ms, accepted %llu, included %llu\n",
                    rate, o.seconds, static_cast<unsigned long long>(s.totals.sent),
                    static_cast<unsigned long long>(s.totals.dropped_sends),
                    static_cast<unsigned long long>(s.totals.late_sends), achieved, achieved / rate,
                    s.hist.send_lag.percentile(50) / 1000.0, p99, s.hist.send_lag.max() / 1000.0,
                    static_cast<unsigned long long>(s.totals.accepted),
                    static_cast<unsigned long long>(s.totals.included_txs));
        char buf[128];
        std::snprintf(buf, sizeof buf, " %.0f/s %.4f (p99 lag %.3f ms)", rate, achieved / rate, p99);
        line += buf;
    }
    std::printf("%s\n", line.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    o.devnet = default_devnet_path();
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--node") o.node = value();
        else if (a == "--devnet") o.devnet = value();
        else if (a == "--count") o.count = std::stoull(value());
        else if (a == "--window") o.window = static_cast<std::uint32_t>(std::stoul(value()));
        else if (a == "--seconds") o.seconds = std::stod(value());
        else if (a == "--log-level") o.log_level = value();
        else if (a == "--rates") {
            o.rates.clear();
            std::stringstream ss(value());
            for (std::string r; std::getline(ss, r, ',');) o.rates.push_back(std::stod(r));
        } else if (o.mode.empty() && (a == "throughput" || a == "rate")) o.mode = a;
        else {
            std::fprintf(stderr, "usage: send_bench throughput|rate [--node URL] [--devnet PATH] [--count N] "
                                 "[--window W] [--seconds S] [--rates A,B,C] [--log-level L]\n");
            return 2;
        }
    }
    if (o.mode.empty()) o.mode = "throughput";
    auto log = util::setup_logging("send_bench", o.log_level);
    try {
        std::optional<Devnet> devnet;
        std::string node = o.node;
        if (node.empty()) {
            devnet.emplace(o.devnet);
            node = devnet->url();
        }
        return o.mode == "rate" ? rate_accuracy(o, node) : throughput(o, node);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "send_bench: %s\n", e.what());
        return 1;
    }
}
