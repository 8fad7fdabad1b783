// SQLite uptime history with hourly roll-ups.
#include "tools/bts-stats/store.hpp"

#include "actors/uptime/classify.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace bts::stats {

using nlohmann::json;

namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS heartbeat (
  monitor_id TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  monitor_type TEXT NOT NULL,
  url_full TEXT NOT NULL,
  monitor_status TEXT NOT NULL,
  bts_status TEXT NOT NULL,
  monitor_duration_us INTEGER NOT NULL,
  resolve_rtt_us INTEGER NOT NULL,
  tcp_rtt_connect_us INTEGER NOT NULL,
  tls_rtt_handshake_us INTEGER NOT NULL,
  ws_rtt_handshake_us INTEGER NOT NULL,
  rpc_rtt_us INTEGER NOT NULL,
  bts_head_block_num INTEGER NOT NULL,
  bts_head_block_age_s REAL NOT NULL,
  bts_chain_id TEXT NOT NULL,
  bts_participation REAL NOT NULL,
  tls_server_x509_not_after INTEGER NOT NULL,
  tls_certificate_days_left INTEGER NOT NULL,
  tls_server_x509_issuer_distinguished_name TEXT NOT NULL,
  tls_server_x509_subject_distinguished_name TEXT NOT NULL,
  tls_name_matches INTEGER NOT NULL,
  tls_wildcard INTEGER NOT NULL,
  error_message TEXT NOT NULL,
  PRIMARY KEY (monitor_id, timestamp_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heartbeat_time ON heartbeat (timestamp_ms);
CREATE TABLE IF NOT EXISTS heartbeat_hourly (
  monitor_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  up INTEGER NOT NULL,
  total INTEGER NOT NULL,
  duration_us_sum INTEGER NOT NULL,
  PRIMARY KEY (monitor_id, hour)
) WITHOUT ROWID;
)SQL";

constexpr const char* kColumns =
    "monitor_id, timestamp_ms, monitor_type, url_full, monitor_status, bts_status, "
    "monitor_duration_us, resolve_rtt_us, tcp_rtt_connect_us, tls_rtt_handshake_us, "
    "ws_rtt_handshake_us, rpc_rtt_us, bts_head_block_num, bts_head_block_age_s, bts_chain_id, "
    "bts_participation, tls_server_x509_not_after, tls_certificate_days_left, "
    "tls_server_x509_issuer_distinguished_name, tls_server_x509_subject_distinguished_name, "
    "tls_name_matches, tls_wildcard, error_message";

std::string iso_time(std::int64_t unix_ms) {
    const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(unix_ms % 1000));
    return std::string(buf, n) + ms;
}

std::string text(sqlite3_stmt* s, int col) {
    const auto* p = sqlite3_column_text(s, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string();
}

// Reads a row in kColumns order.
wire::UptimeResult row_result(sqlite3_stmt* s) {
    wire::UptimeResult r;
    r.endpoint = text(s, 0);
    r.unix_ms = sqlite3_column_int64(s, 1);
    r.kind = text(s, 2);
    r.url = text(s, 3);
    r.status = text(s, 5);
    r.duration_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 6));
    r.dns_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 7));
    r.connect_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 8));
    r.tls_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 9));
    r.ws_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 10));
    r.rpc_us = static_cast<std::uint64_t>(sqlite3_column_int64(s, 11));
    r.head_block_num = static_cast<std::uint64_t>(sqlite3_column_int64(s, 12));
    r.head_block_age_s = sqlite3_column_double(s, 13);
    r.chain_id = text(s, 14);
    r.participation = sqlite3_column_double(s, 15);
    r.cert_not_after_unix = sqlite3_column_int64(s, 16);
    r.cert_days_left = sqlite3_column_int64(s, 17);
    r.cert_issuer = text(s, 18);
    r.cert_subject = text(s, 19);
    r.cert_name_matches = sqlite3_column_int(s, 20) != 0;
    r.cert_wildcard = sqlite3_column_int(s, 21) != 0;
    r.error = text(s, 22);
    return r;
}

std::int64_t clamp_i64(std::uint64_t v) {
    return v > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(v);
}

}  // namespace

UptimeStore::UptimeStore(const std::string& path, StoreLimits limits) : limits_(limits) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open store '" + path + "': " + why);
    }
    sqlite3_busy_timeout(db_, 2000);
    if (!exec("PRAGMA journal_mode=WAL") || !exec("PRAGMA synchronous=NORMAL") || !exec(kSchema)) {
        const std::string why = last_error_;
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot set up store '" + path + "': " + why);
    }
    insert_ = prepare((std::string("INSERT OR IGNORE INTO heartbeat (") + kColumns +
                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
                          .c_str());
    rollup_ = prepare(
        "INSERT INTO heartbeat_hourly (monitor_id, hour, up, total, duration_us_sum) VALUES (?,?,?,1,?) "
        "ON CONFLICT (monitor_id, hour) DO UPDATE SET up = up + excluded.up, total = total + 1, "
        "duration_us_sum = duration_us_sum + excluded.duration_us_sum");
    if (!insert_ || !rollup_) {
        const std::string why = last_error_;
        sqlite3_finalize(insert_);
        sqlite3_finalize(rollup_);
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot prepare store '" + path + "': " + why);
    }
}

UptimeStore::~UptimeStore() {
    if (!db_) return;
    flush();
    sqlite3_finalize(insert_);
    sqlite3_finalize(rollup_);
    sqlite3_close(db_);
}

bool UptimeStore::fail(const char* what) {
    ++errors_;
    last_error_ = std::string(what) + ": " + sqlite3_errmsg(db_);
    return false;
}

bool UptimeStore::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        ++errors_;
        last_error_ = err ? err : "sqlite error";
        sqlite3_free(err);
        return false;
    }
    return true;
}

sqlite3_stmt* UptimeStore::prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
        fail("prepare");
        return nullptr;
    }
    return s;
}

bool UptimeStore::add(const wire::UptimeResult& r) {
    if (!in_batch_) {
        if (!exec("BEGIN")) return false;
        in_batch_ = true;
    }
    // An already-expired certificate never counts as up, judged at the probe's own time.
    const bool up = uptime::counts_as_up(r.status, r.cert_not_after_unix, r.unix_ms / 1000);
    sqlite3_stmt* s = insert_;
    sqlite3_reset(s);
    auto bind_text = [&](int i, const std::string& v) { sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); };
    bind_text(1, r.endpoint);
    sqlite3_bind_int64(s, 2, r.unix_ms);
    bind_text(3, r.kind);
    bind_text(4, r.url);
    sqlite3_bind_text(s, 5, up ? "up" : "down", -1, SQLITE_STATIC);
    bind_text(6, r.status);
    sqlite3_bind_int64(s, 7, clamp_i64(r.duration_us));
    sqlite3_bind_int64(s, 8, clamp_i64(r.dns_us));
    sqlite3_bind_int64(s, 9, clamp_i64(r.connect_us));
    sqlite3_bind_int64(s, 10, clamp_i64(r.tls_us));
    sqlite3_bind_int64(s, 11, clamp_i64(r.ws_us));
    sqlite3_bind_int64(s, 12, clamp_i64(r.rpc_us));
    sqlite3_bind_int64(s, 13, clamp_i64(r.head_block_num));
    sqlite3_bind_double(s, 14, r.head_block_age_s);
    bind_text(15, r.chain_id);
    sqlite3_bind_double(s, 16, r.participation);
    sqlite3_bind_int64(s, 17, r.cert_not_after_unix);
    sqlite3_bind_int64(s, 18, r.cert_days_left);
    bind_text(19, r.cert_issuer);
    bind_text(20, r.cert_subject);
    sqlite3_bind_int(s, 21, r.cert_name_matches ? 1 : 0);
    sqlite3_bind_int(s, 22, r.cert_wildcard ? 1 : 0);
    bind_text(23, r.error);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("insert");
    if (sqlite3_changes(db_) == 0) return false;  // already stored
    sqlite3_reset(rollup_);
    sqlite3_bind_text(rollup_, 1, r.endpoint.data(), static_cast<int>(r.endpoint.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(rollup_, 2, r.unix_ms / 3'600'000);
    sqlite3_bind_int(rollup_, 3, up ? 1 : 0);
    sqlite3_bind_int64(rollup_, 4, clamp_i64(r.duration_us));
    if (sqlite3_step(rollup_) != SQLITE_DONE) return fail("roll-up");
    return true;
}

bool UptimeStore::flush() {
    if (!in_batch_) return true;
    in_batch_ = false;
    if (!exec("COMMIT")) {
        exec("ROLLBACK");
        return false;
    }
    return true;
}

std::int64_t UptimeStore::prune(std::int64_t now_ms) {
    flush();
    std::int64_t deleted = 0;
    sqlite3_stmt* s = prepare("DELETE FROM heartbeat WHERE timestamp_ms < ?");
    if (s) {
        sqlite3_bind_int64(s, 1, now_ms - limits_.raw_retention_ms);
        if (sqlite3_step(s) == SQLITE_DONE) deleted += sqlite3_changes(db_);
        else fail("prune");
        sqlite3_finalize(s);
    }
    s = prepare("DELETE FROM heartbeat_hourly WHERE hour < ?");
    if (s) {
        sqlite3_bind_int64(s, 1, (now_ms - limits_.hourly_retention_ms) / 3'600'000);
        if (sqlite3_step(s) == SQLITE_DONE) deleted += sqlite3_changes(db_);
        else fail("prune");
        sqlite3_finalize(s);
    }
    return deleted;
}

std::map<std::string, UptimePercent> UptimeStore::uptime(std::int64_t now_ms) {
    std::map<std::string, UptimePercent> out;
    const std::int64_t hour = now_ms / 3'600'000;
    sqlite3_stmt* s = prepare(
        "SELECT monitor_id, "
        "SUM(CASE WHEN hour > ?1 THEN up END), SUM(CASE WHEN hour > ?1 THEN total END), "
        "SUM(CASE WHEN hour > ?2 THEN up END), SUM(CASE WHEN hour > ?2 THEN total END), "
        "SUM(up), SUM(total) FROM heartbeat_hourly WHERE hour > ?3 GROUP BY monitor_id");
    if (!s) return out;
    sqlite3_bind_int64(s, 1, hour - 24);
    sqlite3_bind_int64(s, 2, hour - 24 * 7);
    sqlite3_bind_int64(s, 3, hour - 24 * 30);
    auto percent = [&](int up_col, int total_col) {
        const auto total = sqlite3_column_int64(s, total_col);
        return total > 0 ? 100.0 * static_cast<double>(sqlite3_column_int64(s, up_col)) / static_cast<double>(total)
                         : -1.0;
    };
    while (sqlite3_step(s) == SQLITE_ROW) {
        out[text(s, 0)] = UptimePercent{percent(1, 2), percent(3, 4), percent(5, 6)};
    }
    sqlite3_finalize(s);
    return out;
}

json UptimeStore::daily(std::int64_t now_ms, int days, const std::vector<std::string>& names) {
    days = std::clamp(days, 1, 400);
    const std::int64_t today = now_ms / 86'400'000;
    const std::int64_t first = today - days + 1;
    json eps = json::object();
    for (const auto& n : names) eps[n] = json(std::vector<json>(static_cast<std::size_t>(days), nullptr));
    sqlite3_stmt* s = prepare(
        "SELECT monitor_id, hour / 24, SUM(up), SUM(total) FROM heartbeat_hourly WHERE hour >= ?1 "
        "GROUP BY monitor_id, hour / 24");
    if (s) {
        sqlite3_bind_int64(s, 1, first * 24);
        while (sqlite3_step(s) == SQLITE_ROW) {
            const std::string name = text(s, 0);
            const std::int64_t day = sqlite3_column_int64(s, 1);
            if (!eps.contains(name) || day < first || day > today) continue;
            eps[name][static_cast<std::size_t>(day - first)] = {sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)};
        }
        sqlite3_finalize(s);
    }
    return json{{"days", days}, {"first_day_ms", first * 86'400'000}, {"endpoints", std::move(eps)}};
}

std::vector<wire::UptimeResult> UptimeStore::recent(std::int64_t since_ms, std::size_t limit) {
    std::vector<wire::UptimeResult> out;
    const std::string sql = std::string("SELECT ") + kColumns +
                            " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY monitor_id ORDER BY "
                            "timestamp_ms DESC) AS rn FROM heartbeat WHERE timestamp_ms >= ?) "
                            "WHERE rn <= ? ORDER BY timestamp_ms ASC";
    sqlite3_stmt* s = prepare(sql.c_str());
    if (!s) return out;
    sqlite3_bind_int64(s, 1, since_ms);
    sqlite3_bind_int64(s, 2, static_cast<std::int64_t>(limit));
    while (sqlite3_step(s) == SQLITE_ROW) out.push_back(row_result(s));
    sqlite3_finalize(s);
    return out;
}

json UptimeStore::history(const std::string& endpoint, std::int64_t since_ms, std::size_t limit) {
    json out = json::array();
    const std::string sql = std::string("SELECT ") + kColumns +
                            " FROM heartbeat WHERE monitor_id = ? AND timestamp_ms >= ? "
                            "ORDER BY timestamp_ms DESC LIMIT ?";
    sqlite3_stmt* s = prepare(sql.c_str());
    if (!s) return out;
    sqlite3_bind_text(s, 1, endpoint.data(), static_cast<int>(endpoint.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, since_ms);
    sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(limit));
    while (sqlite3_step(s) == SQLITE_ROW) {
        const wire::UptimeResult r = row_result(s);
        json doc = {
            {"@timestamp", iso_time(r.unix_ms)},
            {"monitor.id", public_text(r.endpoint, 200)},
            {"monitor.name", public_text(r.endpoint, 200)},
            {"monitor.type", r.kind},
            {"monitor.status", text(s, 4)},
            {"monitor.duration.us", r.duration_us},
            {"url.full", public_text(r.url, 300)},
            {"resolve.rtt.us", r.dns_us},
            {"tcp.rtt.connect.us", r.connect_us},
            {"tls.rtt.handshake.us", r.tls_us},
            {"bitshares.status", r.status},
            {"bitshares.ws_handshake.us", r.ws_us},
            {"bitshares.rpc.us", r.rpc_us},
            {"bitshares.head_block_num", r.head_block_num},
            {"bitshares.head_block_age_s", r.head_block_age_s},
            {"bitshares.chain_id", r.chain_id},
            {"bitshares.participation", r.participation},
        };
        if (r.cert_not_after_unix != 0) {
            doc["tls.server.x509.not_after"] = iso_time(r.cert_not_after_unix * 1000);
            doc["tls.certificate_not_valid_after"] = iso_time(r.cert_not_after_unix * 1000);
            doc["tls.server.x509.issuer.distinguished_name"] = public_text(r.cert_issuer, 300);
            doc["tls.server.x509.subject.distinguished_name"] = public_text(r.cert_subject, 300);
            doc["tls.certificate_days_left"] = r.cert_days_left;
            doc["tls.name_matches"] = r.cert_name_matches;
            doc["tls.wildcard"] = r.cert_wildcard;
        }
        if (!r.error.empty()) doc["error.message"] = public_text(r.error);
        out.push_back(std::move(doc));
    }
    sqlite3_finalize(s);
    return out;
}

}  // namespace bts::stats
