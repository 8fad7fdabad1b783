// SQLite schema and idempotent writes of the embedded store.
#include "actors/collector/sqlite_store.hpp"

#include "actors/collector/documents.hpp"
#include "actors/collector/json_writer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>

namespace bts::collector {
namespace {

// docs/store-schema.md describes every column; keep the two in step.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id     TEXT PRIMARY KEY,
  first_ms   INTEGER NOT NULL,
  last_ms    INTEGER NOT NULL,
  intervals  INTEGER NOT NULL DEFAULT 0,
  events     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS run_beacons (
  run_id        TEXT NOT NULL,
  beacon_id     TEXT NOT NULL,
  host          TEXT NOT NULL,
  first_seq     INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL,
  intervals     INTEGER NOT NULL,
  first_ms      INTEGER NOT NULL,
  last_ms       INTEGER NOT NULL,
  sent          INTEGER NOT NULL,
  accepted      INTEGER NOT NULL,
  rejected      INTEGER NOT NULL,
  included_txs  INTEGER NOT NULL,
  included_ops  INTEGER NOT NULL,
  final         INTEGER NOT NULL,
  unknown_outcome    INTEGER NOT NULL DEFAULT 0,
  expired_unincluded INTEGER NOT NULL DEFAULT 0,
  pending_at_cutoff  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, beacon_id)
);
CREATE TABLE IF NOT EXISTS intervals (
  run_id             TEXT NOT NULL,
  beacon_id          TEXT NOT NULL,
  seq                INTEGER NOT NULL,
  host               TEXT NOT NULL,
  interval_start_ms  INTEGER NOT NULL,
  interval_ms        INTEGER NOT NULL,
  configured_rate    REAL NOT NULL,
  sent               INTEGER NOT NULL,
  accepted           INTEGER NOT NULL,
  rejected           INTEGER NOT NULL,
  rejected_by_class  TEXT NOT NULL,
  late_sends         INTEGER NOT NULL,
  dropped_sends      INTEGER NOT NULL,
  max_send_lag_us    INTEGER NOT NULL,
  connect_failures   INTEGER NOT NULL,
  disconnects        INTEGER NOT NULL,
  timeouts           INTEGER NOT NULL,
  bad_replies        INTEGER NOT NULL,
  in_flight          INTEGER NOT NULL,
  included_txs       INTEGER NOT NULL,
  included_ops       INTEGER NOT NULL,
  expired_unincluded INTEGER NOT NULL,
  acc_count          INTEGER NOT NULL,
  acc_p50_us         INTEGER NOT NULL,
  acc_p90_us         INTEGER NOT NULL,
  acc_p99_us         INTEGER NOT NULL,
  acc_max_us         INTEGER NOT NULL,
  acc_send_p50_us    INTEGER NOT NULL,
  acc_send_p99_us    INTEGER NOT NULL,
  incl_count         INTEGER NOT NULL,
  incl_p50_us        INTEGER NOT NULL,
  incl_p99_us        INTEGER NOT NULL,
  incl_max_us        INTEGER NOT NULL,
  host_cpu_pct       REAL NOT NULL,
  proc_cpu_pct       REAL NOT NULL,
  rss_bytes          INTEGER NOT NULL,
  final              INTEGER NOT NULL,
  received_ms        INTEGER NOT NULL,
  frame              BLOB NOT NULL,
  unknown_outcome    INTEGER NOT NULL DEFAULT 0,
  pending_at_cutoff  INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, beacon_id, seq)
);
CREATE INDEX IF NOT EXISTS intervals_by_time ON intervals (run_id, interval_start_ms);
CREATE TABLE IF NOT EXISTS cluster_totals (
  run_id            TEXT NOT NULL,
  second_unix       INTEGER NOT NULL,
  beacons           INTEGER NOT NULL,
  intervals         INTEGER NOT NULL,
  configured_rate   REAL NOT NULL,
  sent              INTEGER NOT NULL,
  accepted          INTEGER NOT NULL,
  rejected          INTEGER NOT NULL,
  rejected_by_class TEXT NOT NULL,
  included_txs      INTEGER NOT NULL,
  included_ops      INTEGER NOT NULL,
  acc_p50_us        INTEGER NOT NULL,
  acc_p90_us        INTEGER NOT NULL,
  acc_p99_us        INTEGER NOT NULL,
  acc_max_us        INTEGER NOT NULL,
  incl_p50_us       INTEGER NOT NULL,
  incl_p99_us       INTEGER NOT NULL,
  PRIMARY KEY (run_id, second_unix)
);
CREATE TABLE IF NOT EXISTS events (
  id       TEXT PRIMARY KEY,
  run_id   TEXT NOT NULL,
  source   TEXT NOT NULL,
  unix_ms  INTEGER NOT NULL,
  level    TEXT NOT NULL,
  kind     TEXT NOT NULL,
  text     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, unix_ms);
CREATE TABLE IF NOT EXISTS uptime (
  id                   TEXT PRIMARY KEY,
  endpoint             TEXT NOT NULL,
  url                  TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  status               TEXT NOT NULL,
  unix_ms              INTEGER NOT NULL,
  duration_us          INTEGER NOT NULL,
  dns_us               INTEGER NOT NULL,
  connect_us           INTEGER NOT NULL,
  tls_us               INTEGER NOT NULL,
  ws_us                INTEGER NOT NULL,
  rpc_us               INTEGER NOT NULL,
  head_block_num       INTEGER NOT NULL,
  head_block_age_s     REAL NOT NULL,
  chain_id             TEXT NOT NULL,
  participation        REAL NOT NULL,
  cert_not_after_unix  INTEGER NOT NULL,
  cert_days_left       INTEGER NOT NULL,
  cert_issuer          TEXT NOT NULL,
  cert_subject         TEXT NOT NULL,
  cert_name_matches    INTEGER NOT NULL,
  cert_wildcard        INTEGER NOT NULL,
  error                TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uptime_by_endpoint ON uptime (endpoint, unix_ms);
)sql";

std::string class_json(const wire::ClassCounts& c) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, n] : c) {
        if (!first) out += ',';
        first = false;
        JsonWriter::escape_to(out, k);
        out += ':';
        out += std::to_string(n);
    }
    out += '}';
    return out;
}

std::int64_t i64(std::uint64_t v) {
    return v > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(v);
}

// Binds values to ?1, ?2, ... in order.
class Binder {
public:
    explicit Binder(sqlite3_stmt* s) : s_(s) { sqlite3_reset(s_); }
    // SQLITE_STATIC: every statement is stepped while the bound values are alive, so SQLite
    // need not copy them.
    Binder& text(std::string_view v) {
        sqlite3_bind_text(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    Binder& blob(std::string_view v) {
        sqlite3_bind_blob(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    Binder& num(std::int64_t v) {
        sqlite3_bind_int64(s_, ++i_, v);
        return *this;
    }
    Binder& num(std::uint64_t v) { return num(i64(v)); }
    Binder& num(std::uint32_t v) { return num(static_cast<std::int64_t>(v)); }
    Binder& num(bool v) { return num(static_cast<std::int64_t>(v ? 1 : 0)); }
    Binder& real(double v) {
        sqlite3_bind_double(s_, ++i_, v);
        return *this;
    }

private:
    sqlite3_stmt* s_;
    int i_ = 0;
};

}  // namespace

SqliteStore::SqliteStore(const StoreConfig& config) : path_(config.path) {
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error(path_ + ": cannot open SQLite store: " + err);
    }
    sqlite3_busy_timeout(db_, 5000);
    auto must = [&](const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            sqlite3_close(db_);
            db_ = nullptr;
            throw std::runtime_error(path_ + ": " + msg);
        }
    };
    must("PRAGMA journal_mode=WAL");
    must("PRAGMA synchronous=NORMAL");
    must("PRAGMA foreign_keys=OFF");
    must("PRAGMA cache_size=-65536");  // 64 MiB page cache: the unique index stays hot
    must(kSchema);
    must("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1'), ('created_by', 'bts-collector')");
    {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, nullptr);
        int version = 0;
        if (st && sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (version != kStoreSchemaVersion) {
            sqlite3_close(db_);
            db_ = nullptr;
            throw std::runtime_error(path_ + ": store schema version " + std::to_string(version) +
                                     ", this collector writes version " + std::to_string(kStoreSchemaVersion));
        }
    }
    // Columns appended since schema version 1 (added in place: old readers ignore them).
    for (const auto& [table, column] : {std::pair{"intervals", "unknown_outcome"}, {"intervals", "pending_at_cutoff"},
                                        {"run_beacons", "unknown_outcome"}, {"run_beacons", "expired_unincluded"},
                                        {"run_beacons", "pending_at_cutoff"}}) {
        sqlite3_stmt* st = nullptr;
        const std::string q = std::string("SELECT count(*) FROM pragma_table_info('") + table + "') WHERE name = '" + column + "'";
        sqlite3_prepare_v2(db_, q.c_str(), -1, &st, nullptr);
        const bool have = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
        if (!have) must((std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " INTEGER NOT NULL DEFAULT 0").c_str());
    }
    ins_interval_ = prepare(
        "INSERT OR IGNORE INTO intervals VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
        "?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?41)");
    ins_event_ = prepare("INSERT OR IGNORE INTO events VALUES (?1,?2,?3,?4,?5,?6,?7)");
    ins_uptime_ = prepare(
        "INSERT OR IGNORE INTO uptime VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,"
        "?19,?20,?21,?22,?23)");
    put_totals_ = prepare(
        "INSERT OR REPLACE INTO cluster_totals VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)");
    sel_frames_ = prepare(
        "SELECT frame FROM intervals WHERE run_id = ?1 AND interval_start_ms >= ?2 AND interval_start_ms < ?3");
    up_beacon_ = prepare(
        "INSERT INTO run_beacons VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17) "
        "ON CONFLICT (run_id, beacon_id) DO UPDATE SET host = excluded.host, "
        "first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq), "
        "intervals = intervals + excluded.intervals, first_ms = min(first_ms, excluded.first_ms), "
        "last_ms = max(last_ms, excluded.last_ms), sent = sent + excluded.sent, "
        "accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected, "
        "included_txs = included_txs + excluded.included_txs, "
        "included_ops = included_ops + excluded.included_ops, final = max(final, excluded.final), "
        "unknown_outcome = unknown_outcome + excluded.unknown_outcome, "
        "expired_unincluded = expired_unincluded + excluded.expired_unincluded, "
        "pending_at_cutoff = pending_at_cutoff + excluded.pending_at_cutoff");
    up_run_ = prepare(
        "INSERT INTO runs VALUES (?1,?2,?3,?4,?5) ON CONFLICT (run_id) DO UPDATE SET "
        "first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms), "
        "intervals = intervals + excluded.intervals, events = events + excluded.events");
    if (!ins_interval_ || !ins_event_ || !ins_uptime_ || !put_totals_ || !sel_frames_ || !up_beacon_ || !up_run_) {
        std::string err = last_error_;
        this->~SqliteStore();
        throw std::runtime_error(path_ + ": " + err);
    }
}

SqliteStore::~SqliteStore() {
    if (!db_) return;
    commit();
    for (auto* s : {ins_interval_, ins_event_, ins_uptime_, put_totals_, sel_frames_, up_beacon_, up_run_})
        sqlite3_finalize(s);
    ins_interval_ = ins_event_ = ins_uptime_ = put_totals_ = sel_frames_ = up_beacon_ = up_run_ = nullptr;
    sqlite3_close(db_);
    db_ = nullptr;
}

sqlite3_stmt* SqliteStore::prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
        last_error_ = sqlite3_errmsg(db_);
        return nullptr;
    }
    return st;
}

bool SqliteStore::fail(const char* what) {
    ++errors_;
    last_error_ = std::string(what) + ": " + sqlite3_errmsg(db_);
    return false;
}

bool SqliteStore::exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return fail(sql);
    return true;
}

bool SqliteStore::begin() {
    if (in_txn_) return true;
    if (!exec("BEGIN")) return false;
    in_txn_ = true;
    return true;
}

void SqliteStore::touch_run(const std::string& run, std::int64_t first_ms, std::int64_t last_ms,
                            std::uint64_t intervals, std::uint64_t events) {
    auto it = run_deltas_.find(run);
    if (it == run_deltas_.end()) it = run_deltas_.emplace(run, RunDelta{}).first;
    RunDelta& r = it->second;
    r.first_ms = std::min(r.first_ms, first_ms);
    r.last_ms = std::max(r.last_ms, last_ms);
    r.intervals += intervals;
    r.events += events;
}

AddResult SqliteStore::add_interval(const wire::StatsInterval& m, const IntervalSummary& sum, std::string_view frame,
                                     std::int64_t received_ms) {
    if (!begin()) return AddResult::kError;
    const std::string classes = class_json(m.rejected_by_class);
    Binder b(ins_interval_);
    b.text(m.run_id).text(m.beacon_id).num(m.seq).text(m.host).num(m.interval_start_ms).num(m.interval_ms);
    b.real(m.configured_rate).num(m.sent).num(m.accepted).num(sum.rejected).text(classes);
    b.num(m.late_sends).num(m.dropped_sends).num(m.max_send_lag_us).num(m.connect_failures).num(m.disconnects);
    b.num(m.timeouts).num(m.bad_replies).num(m.in_flight).num(m.included_txs).num(m.included_ops);
    b.num(m.expired_unincluded);
    b.num(sum.acceptance.count).num(sum.acceptance.p50).num(sum.acceptance.p90).num(sum.acceptance.p99);
    b.num(sum.acceptance.max).num(sum.acceptance_from_send.p50).num(sum.acceptance_from_send.p99);
    b.num(sum.inclusion.count).num(sum.inclusion.p50).num(sum.inclusion.p99).num(sum.inclusion.max);
    b.real(m.host_cpu_pct).real(m.proc_cpu_pct).num(m.rss_bytes).num(m.final).num(received_ms).blob(frame);
    b.num(m.unknown_outcome).num(m.pending_at_cutoff);
    const int rc = sqlite3_step(ins_interval_);
    sqlite3_reset(ins_interval_);
    if (rc != SQLITE_DONE) {
        fail("insert interval");
        return AddResult::kError;
    }
    if (sqlite3_changes(db_) == 0) return AddResult::kDuplicate;
    ++pending_;
    const std::int64_t end_ms = m.interval_start_ms + static_cast<std::int64_t>(m.interval_ms);
    scratch_.assign(m.run_id);
    scratch_ += '\x1f';
    scratch_ += m.beacon_id;
    auto it = beacon_deltas_.find(scratch_);
    if (it == beacon_deltas_.end()) {
        it = beacon_deltas_.emplace(scratch_, BeaconDelta{}).first;
        it->second.run_id = m.run_id;
        it->second.beacon_id = m.beacon_id;
    }
    BeaconDelta& d = it->second;
    if (d.host != m.host) d.host = m.host;
    ++d.intervals;
    d.sent += m.sent;
    d.accepted += m.accepted;
    d.rejected += sum.rejected;
    d.included_txs += m.included_txs;
    d.included_ops += m.included_ops;
    d.unknown_outcome += m.unknown_outcome;
    d.expired_unincluded += m.expired_unincluded;
    d.pending_at_cutoff += m.pending_at_cutoff;
    d.first_ms = std::min(d.first_ms, m.interval_start_ms);
    d.last_ms = std::max(d.last_ms, end_ms);
    d.first_seq = std::min(d.first_seq, m.seq);
    d.last_seq = std::max(d.last_seq, m.seq);
    d.final = d.final || m.final;
    touch_run(m.run_id, m.interval_start_ms, end_ms, 1, 0);
    return AddResult::kNew;
}

AddResult SqliteStore::add_event(const wire::RunEvent& m, const std::string& id) {
    if (!begin()) return AddResult::kError;
    Binder(ins_event_).text(id).text(m.run_id).text(m.source).num(m.unix_ms).text(m.level).text(m.kind).text(m.text);
    if (sqlite3_step(ins_event_) != SQLITE_DONE) {
        fail("insert event");
        sqlite3_reset(ins_event_);
        return AddResult::kError;
    }
    if (sqlite3_changes(db_) == 0) return AddResult::kDuplicate;
    ++pending_;
    if (!m.run_id.empty()) touch_run(m.run_id, m.unix_ms, m.unix_ms, 0, 1);
    return AddResult::kNew;
}

AddResult SqliteStore::add_uptime(const wire::UptimeResult& m, const std::string& id) {
    if (!begin()) return AddResult::kError;
    Binder b(ins_uptime_);
    b.text(id).text(m.endpoint).text(m.url).text(m.kind).text(m.status).num(m.unix_ms).num(m.duration_us);
    b.num(m.dns_us).num(m.connect_us).num(m.tls_us).num(m.ws_us).num(m.rpc_us).num(m.head_block_num);
    b.real(m.head_block_age_s).text(m.chain_id).real(m.participation).num(m.cert_not_after_unix);
    b.num(m.cert_days_left).text(m.cert_issuer).text(m.cert_subject).num(m.cert_name_matches);
    b.num(m.cert_wildcard).text(m.error);
    if (sqlite3_step(ins_uptime_) != SQLITE_DONE) {
        fail("insert uptime");
        sqlite3_reset(ins_uptime_);
        return AddResult::kError;
    }
    if (sqlite3_changes(db_) == 0) return AddResult::kDuplicate;
    ++pending_;
    return AddResult::kNew;
}

bool SqliteStore::put_totals(const wire::ClusterTotals& m, std::uint64_t intervals) {
    if (!begin()) return false;
    Binder b(put_totals_);
    b.text(m.run_id).num(m.second_unix).num(m.beacons).num(intervals).real(m.configured_rate).num(m.sent);
    b.num(m.accepted).num(total_rejected(m.rejected_by_class)).text(class_json(m.rejected_by_class));
    b.num(m.included_txs).num(m.included_ops).num(m.acceptance_p50_us).num(m.acceptance_p90_us);
    b.num(m.acceptance_p99_us).num(m.acceptance_max_us).num(m.inclusion_p50_us).num(m.inclusion_p99_us);
    if (sqlite3_step(put_totals_) != SQLITE_DONE) {
        sqlite3_reset(put_totals_);
        return fail("put totals");
    }
    ++pending_;
    return true;
}

std::vector<std::string> SqliteStore::interval_frames(const std::string& run, std::int64_t from_ms,
                                                      std::int64_t to_ms) {
    std::vector<std::string> frames;
    Binder(sel_frames_).text(run).num(from_ms).num(to_ms);
    int rc;
    while ((rc = sqlite3_step(sel_frames_)) == SQLITE_ROW) {
        const void* p = sqlite3_column_blob(sel_frames_, 0);
        int n = sqlite3_column_bytes(sel_frames_, 0);
        frames.emplace_back(static_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    if (rc != SQLITE_DONE) fail("select frames");
    sqlite3_reset(sel_frames_);
    return frames;
}

std::vector<std::pair<std::string, std::int64_t>> SqliteStore::stale_seconds(std::int64_t recent_rows) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    const char* sql = R"sql(
WITH recent AS (
  SELECT DISTINCT run_id, interval_start_ms / 1000 AS s FROM intervals
  WHERE rowid > (SELECT coalesce(max(rowid), 0) FROM intervals) - ?1)
SELECT r.run_id, r.s FROM recent r
LEFT JOIN cluster_totals t ON t.run_id = r.run_id AND t.second_unix = r.s
WHERE t.intervals IS NULL OR t.intervals < (
  SELECT count(*) FROM intervals i
  WHERE i.run_id = r.run_id AND i.interval_start_ms >= r.s * 1000 AND i.interval_start_ms < r.s * 1000 + 1000)
ORDER BY r.run_id, r.s)sql";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
        fail("stale seconds");
        return out;
    }
    sqlite3_bind_int64(st, 1, recent_rows);
    while (sqlite3_step(st) == SQLITE_ROW)
        out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return out;
}

bool SqliteStore::flush_deltas() {
    for (const auto& [key, d] : beacon_deltas_) {
        Binder b(up_beacon_);
        b.text(d.run_id).text(d.beacon_id).text(d.host).num(d.first_seq).num(d.last_seq).num(d.intervals);
        b.num(d.first_ms).num(d.last_ms).num(d.sent).num(d.accepted).num(d.rejected).num(d.included_txs);
        b.num(d.included_ops).num(d.final).num(d.unknown_outcome).num(d.expired_unincluded).num(d.pending_at_cutoff);
        if (sqlite3_step(up_beacon_) != SQLITE_DONE) {
            sqlite3_reset(up_beacon_);
            return fail("upsert run_beacons");
        }
    }
    for (const auto& [run, r] : run_deltas_) {
        Binder(up_run_).text(run).num(r.first_ms).num(r.last_ms).num(r.intervals).num(r.events);
        if (sqlite3_step(up_run_) != SQLITE_DONE) {
            sqlite3_reset(up_run_);
            return fail("upsert runs");
        }
    }
    return true;
}

bool SqliteStore::commit() {
    if (!in_txn_) return true;
    if (!beacon_deltas_.empty() || !run_deltas_.empty()) {
        if (!flush_deltas()) {
            // The summaries would double-count if applied again after a partial flush: roll the
            // whole transaction back. Its rows come again (resend window) or are reported lost.
            exec("ROLLBACK");
            in_txn_ = false;
            pending_ = 0;
            beacon_deltas_.clear();
            run_deltas_.clear();
            return false;
        }
        beacon_deltas_.clear();
        run_deltas_.clear();
    }
    int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        fail("commit");
        if (sqlite3_get_autocommit(db_)) {  // SQLite rolled back: the transaction is gone
            in_txn_ = false;
            pending_ = 0;
        }
        return false;
    }
    in_txn_ = false;
    pending_ = 0;
    return true;
}

}  // namespace bts::collector
