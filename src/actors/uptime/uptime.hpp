// bts-uptime, the actor: probes every configured endpoint on its own jittered schedule, judges
// each result (classify.hpp) and publishes it.
//
// Output (all messages are wire::UptimeResult, one per probe):
//   PUB  `pub`  (bound)      two frames: [topic = endpoint name][wire frame]. Subscribers filter
//                            by endpoint name prefix, or subscribe to "" for everything.
//   PUSH `push` (connected)  one frame: [wire frame], to the collector's PULL, which stores it.
//                            When the collector is away, results queue up to the high-water mark
//                            (push_hwm) and are then dropped and counted — probing never blocks.
// There are no commands: the actor runs until stop().
//
// Schedule: endpoint i is first probed at a random offset within its interval (so a thousand
// endpoints do not start at once), then at nominal times start_i + n·interval, each moved by a
// random jitter of ±jitter·interval/2. Nominal times never accumulate lateness (no drift): a late
// probe does not push later ones back. A probe still running when its next turn comes skips that
// turn (counted). At most max_in_flight probes run at once; the rest wait in a FIFO queue and
// their wait counts as lateness.
//
// Threading: everything (probes, timers, ZeroMQ sends) runs on one thread inside run(). stop()
// and stats() may be called from any thread. start() runs run() on a thread of its own and
// returns once it is ready (sockets bound), for tests and in-process use.
#pragma once

#include "actors/uptime/classify.hpp"
#include "actors/uptime/probe.hpp"
#include "common/util/units.hpp"
#include "common/wire.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zmq {
class context_t;
}
namespace spdlog {
class logger;
}

namespace bts::util {
class TomlDoc;
}

namespace bts::uptime {

struct UptimeConfig {
    std::string pub = "tcp://127.0.0.1:5571";   // "" = no PUB socket
    std::string push = "tcp://127.0.0.1:5601";  // collector's PULL; "" = not sent
    int push_hwm = 10'000;                      // results queued for an absent collector
    double jitter = 0.1;                        // fraction of the interval, 0..0.5
    std::size_t max_in_flight = 1024;
    util::Duration fork_anchor_refresh = std::chrono::seconds(60);
    std::vector<EndpointConfig> endpoints;

    // Reads [uptime], [thresholds] (defaults for every endpoint) and [[endpoint]] entries.
    static UptimeConfig from_toml(const util::TomlDoc& doc);
    void validate() const;
};

// Counters, cumulative since start.
struct UptimeStats {
    std::uint64_t probes_started = 0;
    std::uint64_t probes_done = 0;
    std::uint64_t skipped_busy = 0;      // a turn skipped because the last probe still ran
    std::uint64_t published = 0;
    std::uint64_t push_dropped = 0;      // collector away and the queue full
    std::uint64_t send_errors = 0;
    std::uint64_t late_over_100ms = 0;   // probes started > 100 ms after their time
    std::uint64_t max_lateness_us = 0;   // worst start − scheduled time
    std::uint64_t lateness_sum_us = 0;   // for the mean: / probes_started
    std::uint64_t max_in_flight_seen = 0;
    std::uint64_t by_status[8] = {};     // indexed by Status
};

class Uptime {
public:
    // Creates the probers and binds/connects the sockets. Throws (start-up errors) on a bad
    // endpoint address or an unreadable ca_file.
    Uptime(zmq::context_t& ctx, UptimeConfig cfg, std::shared_ptr<spdlog::logger> log);
    ~Uptime();  // stops and joins a thread started by start()
    Uptime(const Uptime&) = delete;
    Uptime& operator=(const Uptime&) = delete;

    // Called on the actor's thread for every result after publishing (tests, benchmarks).
    // Set before run()/start().
    void on_result(std::function<void(const wire::UptimeResult&)> fn);

    void run();    // probes until stop(); returns after closing the sockets
    void start();  // run() on its own thread
    void stop();   // thread-safe, idempotent; joins the thread start() made (no callback runs after)
    [[nodiscard]] UptimeStats stats() const;  // thread-safe snapshot

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace bts::uptime
