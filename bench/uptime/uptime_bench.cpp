// Benchmark: endpoints probed per 10 s cycle by the uptime actor on ONE thread against local
// scripted API nodes, with the schedule's lateness (start − scheduled time) as the drift measure.
// Baseline in the same run: one probe after another (a naive monitor) on the same thread.
//
//   uptime_bench [--endpoints 1000,2500,5000] [--cycles 2] [--interval 10] [--targets 8] [--tls]
//                [--delay-endpoints 1000] [--delay-ms 100]
// The delayed run makes every node answer each call after 100 ms (a distant node): there a
// sequential monitor manages ~30 endpoints per cycle, and concurrency is what counts.
#include "actors/uptime/uptime.hpp"
#include "fake_targets.hpp"
#include "process.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace {

using namespace bts::uptime;
using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long max_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

EndpointConfig endpoint(const std::string& url, std::size_t i, std::chrono::milliseconds interval,
                        const std::string& ca_file) {
    EndpointConfig c;
    c.name = "node-" + std::to_string(i);
    c.url = url;
    c.chain_id = std::string(64, 'c');
    c.interval = interval;
    c.timeout = std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(5));
    c.ca_file = ca_file;
    return c;
}

// Probes one endpoint after another for `seconds`; returns probes per second.
double sequential_baseline(const std::string& url, double seconds, const std::string& ca_file) {
    boost::asio::io_context ioc;
    Prober prober(ioc, endpoint(url, 0, std::chrono::seconds(10), ca_file), quiet());
    std::uint64_t done = 0;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    std::function<void()> next = [&] {
        if (Clock::now() >= end) return;
        prober.probe(std::nullopt, [&](ProbeOutcome&&) {
            ++done;
            next();
        });
    };
    const auto t0 = Clock::now();
    next();
    ioc.run();
    return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::size_t> parse_list(const std::string& s) {
    std::vector<std::size_t> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stoul(item));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::size_t> sizes = {1000, 2500, 5000};
    std::vector<std::size_t> delayed_sizes = {1000};
    long delay_ms = 100;
    int cycles = 2;
    long interval_ms = 10'000;
    // Targets on distinct loopback addresses (127.0.0.1, .2, ...): at hundreds of new
    // connections per second, one destination address:port runs out of fresh 4-tuples (TIME_WAIT
    // lasts 60 s, there are ~28k source ports) and connects stall on SYN retries — a limit of
    // the loopback test bed, not of the prober; real endpoints are distinct hosts anyway.
    std::size_t n_targets = 8;
    bool tls = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--endpoints") sizes = parse_list(val());
        else if (a == "--cycles") cycles = std::stoi(val());
        else if (a == "--interval") interval_ms = static_cast<long>(std::stod(val()) * 1000);  // seconds
        else if (a == "--targets") n_targets = std::stoul(val());
        else if (a == "--tls") tls = true;
        else if (a == "--delay-endpoints") delayed_sizes = parse_list(val());
        else if (a == "--delay-ms") delay_ms = std::stol(val());
        else if (a == "--help" || a == "-h") {
            std::puts("uptime_bench [--endpoints 1000,2500,5000] [--cycles 2] [--interval SECONDS] [--targets 8] [--tls]\n"
                      "             [--delay-endpoints 1000] [--delay-ms 100]");
            return 0;
        } else {
            std::fprintf(stderr, "uptime_bench: unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    spdlog::set_level(spdlog::level::err);
    const auto interval = std::chrono::milliseconds(interval_ms);

    bts::test::TempDir dir;
    std::string cert, key;
    if (tls) {
        cert = dir.file("bench.crt");
        key = dir.file("bench.key");
        const std::string cmd = testing::openssl_path() +
                                " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
                                " -out " + cert + " -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) {
            std::fprintf(stderr, "uptime_bench: openssl failed\n");
            return 1;
        }
    }
    auto run_set = [&](long delay, const std::vector<std::size_t>& set_sizes) {
        std::vector<std::unique_ptr<testing::FakeNode>> targets;
        for (std::size_t i = 0; i < n_targets; ++i) {
            testing::FakeNodeOptions o;
            o.delay(std::chrono::milliseconds(delay));
            o.address = "127.0.0." + std::to_string(i + 1);
            if (tls) o.tls(cert, key);
            targets.push_back(std::make_unique<testing::FakeNode>(o));
        }

        std::printf("\n%s probes (connect +%s websocket handshake + 2 API calls + close) against %zu local scripted "
                    "nodes (one thread each), replies delayed %ld ms; prober on ONE thread; interval %ld ms; %d cycles\n",
                    tls ? "wss" : "ws", tls ? " TLS +" : "", n_targets, delay, interval_ms, cycles);
        std::printf("(targets on 127.0.0.1..127.0.0.%zu, all on this machine's 2 shared cores)\n", n_targets);
        const double base = sequential_baseline(targets[0]->url(), 3.0, cert);
        std::printf("baseline  sequential (one probe after another): %.0f probes/s = %.0f endpoints per 10 s cycle\n",
                    base, base * 10);

        for (const std::size_t n : set_sizes) {
            zmq::context_t ctx(1);
            UptimeConfig cfg;
            cfg.pub = "";
            cfg.push = "inproc://bench-sink";  // nobody reads: measures probing, not the collector
            cfg.max_in_flight = 4096;
            for (std::size_t i = 0; i < n; ++i) {
                cfg.endpoints.push_back(endpoint(targets[i % targets.size()]->url(), i, interval, cert));
            }
            cfg.validate();
            // Phase sums, filled on the actor's thread; read after it is joined (end of scope).
            struct Phases {
                std::uint64_t n = 0, dns = 0, tcp = 0, ws = 0, rpc = 0, total = 0;
            };
            auto phases = std::make_shared<Phases>();
            auto actor = std::make_unique<Uptime>(ctx, cfg, quiet());
            actor->on_result([phases](const bts::wire::UptimeResult& r) {
                if (r.status != "UP") return;
                ++phases->n;
                phases->dns += r.dns_us;
                phases->tcp += r.connect_us;
                phases->ws += r.ws_us;
                phases->rpc += r.rpc_us;
                phases->total += r.duration_us;
            });
            const double cpu0 = cpu_seconds();
            const auto t0 = Clock::now();
            actor->start();
            std::this_thread::sleep_for(interval * cycles);
            actor->stop();
            const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
            const double cpu = cpu_seconds() - cpu0;
            const UptimeStats s = actor->stats();
            actor.reset();  // joins the actor thread: the phase sums are complete and ours now
            const double per_cycle = static_cast<double>(s.probes_done) / (wall * 1000.0 / static_cast<double>(interval_ms));
            const double mean_late_ms = s.probes_started ? static_cast<double>(s.lateness_sum_us) / s.probes_started / 1000.0 : 0;
            const std::uint64_t up = s.by_status[static_cast<int>(Status::up)];
            const bool ok = s.skipped_busy == 0 && up == s.probes_done && s.probes_done >= n * static_cast<std::uint64_t>(cycles) * 95 / 100;
            std::printf(
                "endpoints %5zu: %6.0f probed per cycle (%llu probes in %.1f s, %llu UP), lateness mean %.2f ms max %.1f ms, "
                ">100 ms late %llu, skipped %llu, max in flight %llu, CPU %.0f%% of one core (incl. targets), max RSS %ld MiB  %s\n",
                n, per_cycle, static_cast<unsigned long long>(s.probes_done), wall, static_cast<unsigned long long>(up),
                mean_late_ms, static_cast<double>(s.max_lateness_us) / 1000.0,
                static_cast<unsigned long long>(s.late_over_100ms), static_cast<unsigned long long>(s.skipped_busy),
                static_cast<unsigned long long>(s.max_in_flight_seen), 100.0 * cpu / wall, max_rss_mib(),
                ok ? "OK (no drift)" : "BEHIND");
            if (phases->n > 0) {
                const double k = 1000.0 * static_cast<double>(phases->n);
                std::printf("                 UP probes, mean phases: dns %.2f ms, tcp %.2f ms, ws %.2f ms, rpc %.2f ms, total %.2f ms\n",
                            phases->dns / k, phases->tcp / k, phases->ws / k, phases->rpc / k, phases->total / k);
            }
            std::fflush(stdout);
        }
    };
    run_set(0, sizes);
    if (delay_ms > 0 && !delayed_sizes.empty()) run_set(delay_ms, delayed_sizes);
    return 0;
}
