// The stats page's own SQLite file: every uptime result under Heartbeat-compatible column names
// (Elastic Heartbeat's ECS fields with '.' written '_'), hourly roll-ups for uptime percentages,
// and retention. The collector's store serves the stress runs; this one is shaped for "uptime %
// over 24 h / 7 d / 30 d" and per-endpoint history, and can be rebuilt from scratch at any time.
//
// Tables (docs/stats-page.md):
//   heartbeat         one row per result, key (monitor_id, timestamp_ms): a result that arrives
//                     twice (from bts-uptime and again through the collector) is stored once
//   heartbeat_hourly  (monitor_id, hour) → up, total, duration_us_sum: uptime % reads at most
//                     720 rows per endpoint for 30 days, the 90-day strip 2,160
// Writes are batched: add() opens a transaction that flush() commits (the program calls it every
// second). WAL, synchronous=NORMAL. Errors after start-up are returned, never thrown.
#pragma once

#include "common/wire.hpp"
#include "tools/bts-stats/model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace bts::stats {

struct StoreLimits {
    std::int64_t raw_retention_ms = 7LL * 86'400'000;       // heartbeat rows
    std::int64_t hourly_retention_ms = 400LL * 86'400'000;  // roll-ups
};

class UptimeStore {
public:
    // Opens or creates `path` (":memory:" for tests). Throws std::runtime_error naming the file.
    UptimeStore(const std::string& path, StoreLimits limits = {});
    ~UptimeStore();
    UptimeStore(const UptimeStore&) = delete;
    UptimeStore& operator=(const UptimeStore&) = delete;

    // Stores one result; false if it was already stored (or on error: see last_error()).
    bool add(const wire::UptimeResult& r);
    bool flush();  // commits the open batch
    // Deletes rows past retention; returns rows deleted.
    std::int64_t prune(std::int64_t now_ms);

    // Uptime percentages per endpoint over the last 24 h, 7 d and 30 d (whole hours, the current
    // one included).
    [[nodiscard]] std::map<std::string, UptimePercent> uptime(std::int64_t now_ms);
    // Per-day uptime over the last `days` whole UTC days, today last, for the status page's
    // history strip: {"days": N, "first_day_ms": start of the oldest day, "endpoints": {name:
    // [null | [up, total], ...N entries]}} from the hourly roll-ups. Only the names in `names`.
    [[nodiscard]] nlohmann::json daily(std::int64_t now_ms, int days, const std::vector<std::string>& names);
    // The latest `limit` results per endpoint that reported since `since_ms`, oldest first
    // (to rebuild the model at start-up).
    [[nodiscard]] std::vector<wire::UptimeResult> recent(std::int64_t since_ms, std::size_t limit);
    // Heartbeat documents (dotted ECS names) of one endpoint since `since_ms`, newest first.
    [[nodiscard]] nlohmann::json history(const std::string& endpoint, std::int64_t since_ms,
                                         std::size_t limit);

    [[nodiscard]] const std::string& last_error() const { return last_error_; }
    [[nodiscard]] std::uint64_t errors() const { return errors_; }

private:
    bool exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    bool fail(const char* what);

    sqlite3* db_ = nullptr;
    sqlite3_stmt* insert_ = nullptr;
    sqlite3_stmt* rollup_ = nullptr;
    bool in_batch_ = false;
    StoreLimits limits_;
    std::string last_error_;
    std::uint64_t errors_ = 0;
};

}  // namespace bts::stats
