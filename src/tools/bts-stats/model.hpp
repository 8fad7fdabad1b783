// What the stats page shows, kept in memory: the latest result and a latency sparkline per
// endpoint, uptime percentages (filled from the store), the health of each feed, and the current
// stress run (per-second cluster totals, rejections by class, per-beacon rows, run events).
// Renders the JSON of /api/status.json, /api/run.json and the server-sent events.
//
// Public by design: only the fields named here leave the program. URLs lose user info and query
// strings, and foreign error texts pass through util::redact() and are cut to 300 characters.
// Not thread-safe: owned by the stats program's one thread.
#pragma once

#include "common/wire.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace bts::stats {

struct UptimePercent {
    double day = -1, week = -1, month = -1;  // percent; -1 = no data in the window
};

struct FeedHealth {
    std::string name;      // "uptime", "collector"
    std::string endpoint;  // as configured (shown: loopback/ipc addresses carry no secrets)
    std::int64_t last_message_ms = 0;  // 0 = never
    std::uint64_t messages = 0;
    std::uint64_t malformed = 0;
    std::uint64_t rejected = 0;  // well-formed results refused (unknown endpoint, time off)
    std::int64_t stale_after_ms = 30'000;  // silent longer than this: the page warns
};

struct ModelLimits {
    std::size_t spark_points = 60;       // probes per endpoint sparkline
    std::size_t totals_seconds = 900;    // per-second totals kept for the dashboard
    std::size_t events = 50;             // run events kept
    std::int64_t beacon_gone_ms = 30'000;  // beacons silent longer than this are marked gone
    // Results timed further than this from the receiver's clock are refused: one result from
    // the year 2100 would otherwise pin its endpoint (later honest results look older).
    std::int64_t max_skew_ms = 300'000;
    // Without a configured endpoint list: at most this many distinct endpoint names.
    std::size_t max_endpoints = 200;
};

// Why offer_result() refused a result (or `added`).
enum class Admission { added, duplicate, unknown_endpoint, too_many_endpoints, future, too_old };
[[nodiscard]] std::string_view to_string(Admission a) noexcept;

class Model {
public:
    explicit Model(ModelLimits limits = {}) : limits_(limits) {}

    // Returns false for a result already seen (same endpoint and time: it arrives from bts-uptime
    // directly and again through the collector). No checks: see offer_result().
    bool add_result(const wire::UptimeResult& r);
    // The endpoints results are accepted for (names as bts-uptime publishes them). Empty (the
    // default): any name, up to limits.max_endpoints of them.
    void set_endpoints(std::set<std::string> names) { allowed_ = std::move(names); }
    // A result from a feed: refused unless for an accepted endpoint and timed no later than
    // now_ms + max_skew_ms and (unless `replay`, for results read back from the store) no
    // earlier than now_ms - max_skew_ms; then add_result().
    Admission offer_result(const wire::UptimeResult& r, std::int64_t now_ms, bool replay = false);
    void set_uptime(const std::string& endpoint, UptimePercent p);
    // Adds a totals second; a second already present is replaced (the collector revises).
    void add_totals(const wire::ClusterTotals& t);
    void add_interval(const wire::StatsInterval& s, std::int64_t now_ms);
    void add_event(const wire::RunEvent& e);

    std::vector<FeedHealth>& feeds() { return feeds_; }

    // One endpoint as the page shows it (status.json entries and `uptime` events).
    [[nodiscard]] nlohmann::json endpoint_json(const std::string& name, std::int64_t now_ms) const;
    [[nodiscard]] nlohmann::json status_json(std::int64_t now_ms) const;
    [[nodiscard]] nlohmann::json feeds_json(std::int64_t now_ms) const;
    [[nodiscard]] nlohmann::json run_json(std::int64_t now_ms) const;
    [[nodiscard]] static nlohmann::json totals_json(const wire::ClusterTotals& t);
    [[nodiscard]] nlohmann::json beacon_json(const std::string& beacon_id, std::int64_t now_ms) const;
    [[nodiscard]] static nlohmann::json event_json(const wire::RunEvent& e);

    [[nodiscard]] std::vector<std::string> endpoint_names() const;
    [[nodiscard]] const std::string& run_id() const { return run_id_; }

private:
    struct SparkPoint {
        std::int64_t unix_ms;
        double latency_ms;
        std::string status;
    };
    struct Endpoint {
        wire::UptimeResult last;
        std::int64_t status_since_ms = 0;
        std::deque<SparkPoint> spark;
        UptimePercent uptime;
    };
    struct Beacon {
        wire::StatsInterval last;
        std::int64_t last_seen_ms = 0;
        std::uint64_t sent_total = 0;
        std::uint64_t accepted_total = 0;
        std::uint64_t rejected_total = 0;
    };

    void switch_run(const std::string& run_id);

    ModelLimits limits_;
    std::set<std::string> allowed_;
    std::map<std::string, Endpoint> endpoints_;
    std::vector<FeedHealth> feeds_;
    std::string run_id_;
    std::deque<wire::ClusterTotals> totals_;
    wire::ClassCounts rejections_;  // over the whole run
    std::map<std::string, Beacon> beacons_;
    std::deque<wire::RunEvent> events_;
};

// For public display: no user info or query string in URLs; secrets-looking tokens redacted.
[[nodiscard]] std::string public_text(std::string_view text, std::size_t max = 300);

}  // namespace bts::stats
