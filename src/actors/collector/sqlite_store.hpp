// The embedded store: one SQLite file (WAL) holding runs, per-beacon intervals, cluster totals,
// events and uptime results. The schema is documented in docs/store-schema.md; bts-report and
// the stats page read it.
//
// Writes are idempotent: intervals are unique by (run_id, beacon_id, seq), events and uptime
// results by their document id (documents.hpp), cluster totals are replaced per (run, second).
// A replayed message is therefore stored once, and add_*() tells whether it was new.
//
// Rows accumulate in one open transaction; commit() ends it (the collector commits every
// store.commit_interval). WAL with synchronous=NORMAL: a committed row survives a crash of the
// process; a power loss may take the last commits (the beacons' resend window covers that).
//
// Not thread-safe: one writer thread. Readers (other processes) open the file read-only.
#pragma once

#include "actors/collector/config.hpp"
#include "actors/collector/documents.hpp"
#include "common/wire.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace bts::collector {

inline constexpr int kStoreSchemaVersion = 1;

enum class AddResult { kNew, kDuplicate, kError };

class SqliteStore {
public:
    // Opens or creates the file and the schema. Throws std::runtime_error (start-up only).
    explicit SqliteStore(const StoreConfig& config);
    ~SqliteStore();  // commits what is pending
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    // `frame` is the wire frame as received (stored so histograms stay exact).
    AddResult add_interval(const wire::StatsInterval& m, const IntervalSummary& summary, std::string_view frame,
                           std::int64_t received_ms);
    AddResult add_interval(const wire::StatsInterval& m, std::string_view frame, std::int64_t received_ms) {
        return add_interval(m, summarize(m), frame, received_ms);
    }
    AddResult add_event(const wire::RunEvent& m, const std::string& id);
    AddResult add_uptime(const wire::UptimeResult& m, const std::string& id);
    // Insert or replace the totals of one (run, second); `intervals` merged so far.
    bool put_totals(const wire::ClusterTotals& m, std::uint64_t intervals);

    // Wire frames of the stored intervals of `run` starting in [from_ms, to_ms), including rows
    // of the open transaction (the aggregator rebuilds a second from them).
    std::vector<std::string> interval_frames(const std::string& run, std::int64_t from_ms, std::int64_t to_ms);

    // (run, second) pairs among the last `recent_rows` intervals whose cluster_totals row is
    // missing or covers fewer intervals than are stored: totals a crashed collector had not
    // written yet. The collector rebuilds them at start-up.
    std::vector<std::pair<std::string, std::int64_t>> stale_seconds(std::int64_t recent_rows = 500'000);

    // Rows written since the last commit.
    std::uint64_t pending() const { return pending_; }
    // Ends the open transaction. False (and last_error()) on failure; the rows stay pending and
    // the next commit() tries again.
    bool commit();

    const std::string& last_error() const { return last_error_; }
    std::uint64_t errors() const { return errors_; }
    const std::string& path() const { return path_; }

private:
    struct BeaconDelta {
        std::string run_id, beacon_id, host;
        std::uint64_t intervals = 0, sent = 0, accepted = 0, rejected = 0, included_txs = 0, included_ops = 0;
        std::uint64_t unknown_outcome = 0, expired_unincluded = 0, pending_at_cutoff = 0;
        std::int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
        std::uint64_t first_seq = UINT64_MAX, last_seq = 0;
        bool final = false;
    };
    struct RunDelta {
        std::int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
        std::uint64_t intervals = 0, events = 0;
    };

    bool begin();
    bool exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    bool fail(const char* what);
    bool flush_deltas();
    void touch_run(const std::string& run, std::int64_t first_ms, std::int64_t last_ms, std::uint64_t intervals,
                   std::uint64_t events);

    std::string path_;
    sqlite3* db_ = nullptr;
    bool in_txn_ = false;
    std::uint64_t pending_ = 0;
    std::uint64_t errors_ = 0;
    std::string last_error_;
    sqlite3_stmt* ins_interval_ = nullptr;
    sqlite3_stmt* ins_event_ = nullptr;
    sqlite3_stmt* ins_uptime_ = nullptr;
    sqlite3_stmt* put_totals_ = nullptr;
    sqlite3_stmt* sel_frames_ = nullptr;
    sqlite3_stmt* up_beacon_ = nullptr;
    sqlite3_stmt* up_run_ = nullptr;
    // Keyed "<run>\x1f<beacon>"; looked up through scratch_ so a hit allocates nothing.
    std::unordered_map<std::string, BeaconDelta> beacon_deltas_;
    std::map<std::string, RunDelta, std::less<>> run_deltas_;
    std::string scratch_;
};

}  // namespace bts::collector
