// bts-stats, the program's core: subscribes to bts-uptime's results and the collector's live
// stream, keeps uptime history in its own SQLite file, and serves the public status page, the
// live stress-test dashboard, JSON APIs and server-sent events.
//
// Inputs (ZeroMQ SUB, connected; ZeroMQ reconnects by itself when a publisher comes back):
//   uptime_feeds    bts-uptime PUB sockets: [endpoint][UptimeResult frame]
//   collector_feed  bts-collector PUB: uptime/…, totals/…, interval/…, event/… (wire frames) and
//                   collector/… (JSON self-report, every 10 s: used only as a sign of life)
// A feed silent for longer than feed_stale_after is shown as such on every page. Malformed
// frames are counted per feed, warned about at a limited rate and dropped.
//
// HTTP (read-only; GET/HEAD):
//   /                        status page          /dashboard        stress-test dashboard
//   /static/…                page assets (embedded in the binary, or from web_dir)
//   /api/status.json         every endpoint: status, latency sparkline, uptime % 24h/7d/30d,
//                            head block age, certificate days left; feed health
//   /api/history/NAME.json   Heartbeat-style documents of one endpoint (?since=24h&limit=1000)
//   /api/run.json            current run: per-second totals, rejections by class, beacons, events
//   /events                  server-sent events: uptime, totals, beacon, runevent, run, feeds
//   /healthz                 "ok"
//
// Threading: everything runs on one thread inside run(); stop() from any thread.
#pragma once

#include "common/util/units.hpp"

#include <cstdint>
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

namespace bts::stats {

struct StatsConfig {
    std::string listen = "127.0.0.1";
    std::uint16_t port = 8088;
    std::string store = "stats.sqlite";
    std::vector<std::string> uptime_feeds = {"tcp://127.0.0.1:5571"};
    std::string collector_feed = "tcp://127.0.0.1:5602";  // "" = none
    util::Duration feed_stale_after = std::chrono::seconds(30);
    util::Duration uptime_refresh = std::chrono::seconds(30);
    util::Duration raw_retention = std::chrono::hours(24 * 7);
    util::Duration hourly_retention = std::chrono::hours(24 * 400);
    std::size_t spark_points = 60;
    std::size_t max_connections = 256;
    std::string title = "BitShares testnet status";
    std::string web_dir;  // "" = embedded assets
    // Endpoint names results are accepted for (as in bts-uptime's config); empty = any name, up
    // to 200. Results timed further than max_clock_skew from this host's clock are refused.
    std::vector<std::string> endpoints;
    util::Duration max_clock_skew = std::chrono::minutes(5);

    static StatsConfig from_toml(const util::TomlDoc& doc);
    void validate() const;
};

class StatsApp {
public:
    // Opens the store, binds the HTTP port and connects the feeds. Throws on failure.
    StatsApp(zmq::context_t& ctx, StatsConfig cfg, std::shared_ptr<spdlog::logger> log);
    ~StatsApp();
    StatsApp(const StatsApp&) = delete;
    StatsApp& operator=(const StatsApp&) = delete;

    [[nodiscard]] std::uint16_t port() const;  // the bound HTTP port (with port = 0)
    void run();   // serves until stop()
    void stop();  // thread-safe

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// The embedded web assets: content type and body for "/static/app.js" etc.; nullptr if none.
struct WebAsset {
    const char* path;
    const char* content_type;
    const char* body;
    std::size_t size;
};
[[nodiscard]] const WebAsset* find_web_asset(std::string_view path);

}  // namespace bts::stats
