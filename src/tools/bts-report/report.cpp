// Reading a run from the embedded store and rendering the report.
#include "tools/bts-report/report.hpp"

#include "actors/collector/documents.hpp"
#include "common/util/units.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace bts::report {
namespace {

std::string commas(std::uint64_t n) {
    // Built forwards (GCC 12 warns falsely about string::insert here, -Wrestrict).
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string fixed(double v, int digits = 1) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string pct(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0) return "-";
    return fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 2) + "%";
}

std::string lat(std::uint64_t us) {
    char buf[32];
    if (us < 1000) return std::to_string(us) + " us";
    if (us < 1'000'000) std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(us) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(us) / 1e6);
    return buf;
}

std::string utc(std::int64_t ms) {
    std::string s = collector::iso8601_ms(ms);  // 2024-05-01T12:00:00.123Z
    return s.substr(0, 10) + " " + s.substr(11, 8) + " UTC";
}

std::string clock(std::int64_t ms) { return collector::iso8601_ms(ms).substr(11, 8); }

std::string duration(std::int64_t ms) {
    return util::format_duration(std::chrono::milliseconds(std::max<std::int64_t>(ms, 0)));
}

struct Table {
    std::vector<std::string> header;
    std::vector<bool> right;
    std::vector<std::vector<std::string>> rows;

    std::string render(bool md) const {
        std::string out;
        std::vector<std::size_t> w(header.size());
        for (std::size_t c = 0; c < header.size(); ++c) {
            w[c] = header[c].size();
            for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
        }
        auto cell = [&](const std::string& s, std::size_t c) {
            std::string pad(w[c] - s.size(), ' ');
            return right[c] ? pad + s : s + pad;
        };
        auto line = [&](const std::vector<std::string>& r) {
            std::string l = md ? "|" : "";
            for (std::size_t c = 0; c < r.size(); ++c) {
                if (md) l += " " + cell(r[c], c) + " |";
                else l += (c ? "  " : "") + cell(r[c], c);
            }
            while (!md && !l.empty() && l.back() == ' ') l.pop_back();
            return l + "\n";
        };
        out += line(header);
        if (md) {
            out += "|";
            for (std::size_t c = 0; c < header.size(); ++c)
                out += (right[c] ? std::string(w[c] + 1, '-') + ":" : ":" + std::string(w[c] + 1, '-')) + "|";
            out += "\n";
        } else {
            std::string l;
            for (std::size_t c = 0; c < header.size(); ++c) l += (c ? "  " : "") + std::string(w[c], '-');
            out += l + "\n";
        }
        for (const auto& r : rows) out += line(r);
        return out;
    }
};

std::string heading(const std::string& text, int level, bool md) {
    if (md) return std::string(static_cast<std::size_t>(level), '#') + " " + text + "\n\n";
    return text + "\n" + std::string(text.size(), level == 1 ? '=' : '-') + "\n\n";
}

class Statement {
public:
    Statement(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("store query failed: ") + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(st_); }
    Statement& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    bool step() { return sqlite3_step(st_) == SQLITE_ROW; }
    std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
    std::uint64_t u64(int c) const { return static_cast<std::uint64_t>(std::max<std::int64_t>(0, i64(c))); }
    double dbl(int c) const { return sqlite3_column_double(st_, c); }
    std::string text(int c) const {
        const unsigned char* t = sqlite3_column_text(st_, c);
        return t ? reinterpret_cast<const char*>(t) : "";
    }
    std::string_view blob(int c) const {
        const void* p = sqlite3_column_blob(st_, c);
        return {static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, c))};
    }

private:
    sqlite3_stmt* st_ = nullptr;
};

}  // namespace

std::uint64_t Run::sent() const {
    std::uint64_t n = 0;
    for (const auto& [id, b] : beacons) n += b.sent;
    return n;
}
std::uint64_t Run::accepted() const {
    std::uint64_t n = 0;
    for (const auto& [id, b] : beacons) n += b.accepted;
    return n;
}
std::uint64_t Run::rejected() const {
    std::uint64_t n = 0;
    for (const auto& [id, b] : beacons) n += b.rejected;
    return n;
}

struct StoreReader::Impl {
    sqlite3* db = nullptr;
};

StoreReader::StoreReader(const std::string& path) : impl_(new Impl) {
    if (sqlite3_open_v2(path.c_str(), &impl_->db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string err = impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory";
        sqlite3_close(impl_->db);
        delete impl_;
        throw std::runtime_error(path + ": cannot open: " + err);
    }
    sqlite3_busy_timeout(impl_->db, 5000);  // the collector may be writing (WAL)
    try {
        Statement st(impl_->db, "SELECT value FROM meta WHERE key = 'schema_version'");
        if (!st.step() || st.text(0) != "1") throw std::runtime_error("unsupported store schema version");
    } catch (const std::exception& e) {
        sqlite3_close(impl_->db);
        delete impl_;
        throw std::runtime_error(path + ": not a bts-collector store (" + e.what() + ")");
    }
}

StoreReader::~StoreReader() {
    sqlite3_close(impl_->db);
    delete impl_;
}

std::vector<RunListEntry> StoreReader::runs() {
    std::vector<RunListEntry> out;
    Statement st(impl_->db,
                 "SELECT r.run_id, r.first_ms, r.last_ms, r.intervals, r.events, "
                 "(SELECT count(*) FROM run_beacons b WHERE b.run_id = r.run_id) FROM runs r ORDER BY r.last_ms DESC");
    while (st.step()) out.push_back({st.text(0), st.i64(1), st.i64(2), st.u64(3), st.u64(5), st.u64(4)});
    return out;
}

Run StoreReader::load(const std::string& run_id) {
    Run run;
    run.run_id = run_id;
    {
        Statement st(impl_->db, "SELECT first_ms, last_ms, intervals FROM runs WHERE run_id = ?1");
        st.bind(1, run_id);
        if (!st.step()) throw std::runtime_error("no run \"" + run_id + "\" in the store (see --list)");
        run.first_ms = st.i64(0);
        run.last_ms = st.i64(1);
        run.intervals = st.u64(2);
    }
    {
        Statement st(impl_->db,
                     "SELECT beacon_id, host, first_seq, last_seq, intervals, final FROM run_beacons WHERE run_id = ?1");
        st.bind(1, run_id);
        while (st.step()) {
            BeaconSummary& b = run.beacons[st.text(0)];
            b.beacon_id = st.text(0);
            b.host = st.text(1);
            b.first_seq = st.u64(2);
            b.last_seq = st.u64(3);
            b.final = st.i64(5) != 0;
        }
    }
    {
        // Everything else from the wire frames: exact histograms, merged over the whole run.
        Statement st(impl_->db, "SELECT frame FROM intervals WHERE run_id = ?1 ORDER BY interval_start_ms");
        st.bind(1, run_id);
        while (st.step()) {
            auto msg = wire::decode(st.blob(0));
            const wire::StatsInterval* s = msg ? std::get_if<wire::StatsInterval>(&*msg) : nullptr;
            if (!s) {
                ++run.undecodable_frames;
                continue;
            }
            BeaconSummary& b = run.beacons[s->beacon_id];
            b.beacon_id = s->beacon_id;
            if (b.host.empty()) b.host = s->host;
            if (b.intervals == 0) b.first_ms = s->interval_start_ms;
            ++b.intervals;
            b.last_ms = std::max(b.last_ms, s->interval_start_ms + static_cast<std::int64_t>(s->interval_ms));
            b.sent += s->sent;
            b.accepted += s->accepted;
            b.rejected += collector::total_rejected(s->rejected_by_class);
            b.included_txs += s->included_txs;
            b.included_ops += s->included_ops;
            b.late_sends += s->late_sends;
            b.dropped_sends += s->dropped_sends;
            b.timeouts += s->timeouts;
            b.disconnects += s->disconnects;
            b.connect_failures += s->connect_failures;
            b.configured_rate = s->configured_rate;
            b.max_proc_cpu = std::max(b.max_proc_cpu, s->proc_cpu_pct);
            b.max_host_cpu = std::max(b.max_host_cpu, s->host_cpu_pct);
            b.acceptance.merge(s->acceptance_from_intended);
            b.inclusion.merge(s->inclusion);
            for (const auto& [k, n] : s->rejected_by_class) run.rejected_by_class[k] += n;
            run.acceptance.merge(s->acceptance_from_intended);
            run.acceptance_from_send.merge(s->acceptance_from_send);
            run.inclusion.merge(s->inclusion);
        }
        for (auto& [id, b] : run.beacons) {
            std::uint64_t span = b.intervals ? b.last_seq - b.first_seq + 1 : 0;
            b.missing = span > b.intervals ? span - b.intervals : 0;
        }
    }
    {
        Statement st(impl_->db,
                     "SELECT second_unix, beacons, configured_rate, sent, accepted, rejected, included_ops, acc_p50_us, "
                     "acc_p99_us, incl_p99_us FROM cluster_totals WHERE run_id = ?1 ORDER BY second_unix");
        st.bind(1, run_id);
        while (st.step())
            run.seconds.push_back({st.i64(0), st.u64(1), st.u64(3), st.u64(4), st.u64(5), st.u64(6), st.dbl(2),
                                   st.u64(7), st.u64(8), st.u64(9)});
    }
    {
        Statement st(impl_->db, "SELECT source, unix_ms, level, kind, text FROM events WHERE run_id = ?1 ORDER BY unix_ms");
        st.bind(1, run_id);
        while (st.step()) run.events.push_back({run_id, st.text(0), st.i64(1), st.text(2), st.text(3), st.text(4)});
    }
    {
        Statement st(impl_->db,
                     "SELECT endpoint, status, duration_us FROM uptime WHERE unix_ms BETWEEN ?1 AND ?2 ORDER BY endpoint");
        st.bind(1, run.first_ms).bind(2, run.last_ms);
        while (st.step()) {
            if (run.uptime.empty() || run.uptime.back().endpoint != st.text(0)) {
                run.uptime.emplace_back();
                run.uptime.back().endpoint = st.text(0);
            }
            UptimeSummary& u = run.uptime.back();
            ++u.checks;
            std::string status = st.text(1);
            ++u.by_status[status];
            if (status == wire::uptime_status::kUp || status == wire::uptime_status::kCertExpiring) ++u.up;
            u.duration.record(st.u64(2));
        }
    }
    return run;
}

std::string render(const Run& run, const RenderOptions& opt) {
    const bool md = opt.markdown;
    std::string out = heading("Run " + run.run_id, 1, md);
    const std::int64_t span_ms = run.last_ms - run.first_ms;
    const double secs = std::max(1.0, static_cast<double>(span_ms) / 1000.0);
    const std::uint64_t sent = run.sent(), accepted = run.accepted(), rejected = run.rejected();
    std::uint64_t included_txs = 0, included_ops = 0, late = 0, dropped = 0, timeouts = 0, disconnects = 0,
                  connect_failures = 0, missing = 0;
    std::size_t finished = 0;
    double configured = 0;
    bool unlimited = false;
    for (const auto& [id, b] : run.beacons) {
        included_txs += b.included_txs;
        included_ops += b.included_ops;
        late += b.late_sends;
        dropped += b.dropped_sends;
        timeouts += b.timeouts;
        disconnects += b.disconnects;
        connect_failures += b.connect_failures;
        missing += b.missing;
        finished += b.final ? 1 : 0;
        configured += b.configured_rate;
        unlimited = unlimited || b.configured_rate <= 0;
    }
    std::uint64_t peak = 0;
    for (const auto& s : run.seconds) peak = std::max(peak, s.sent);

    Table summary{{"", ""}, {false, true}, {}};
    auto kv = [&](const std::string& k, const std::string& v) { summary.rows.push_back({k, v}); };
    kv("Start", utc(run.first_ms));
    kv("End", utc(run.last_ms));
    kv("Duration", duration(span_ms));
    kv("Beacons (finished)", std::to_string(run.beacons.size()) + " (" + std::to_string(finished) + ")");
    kv("Intervals stored", commas(run.intervals) + (missing ? " (" + commas(missing) + " missing: sequence gaps)" : ""));
    kv("Configured rate", unlimited ? "unlimited" : fixed(configured, 0) + " tx/s");
    kv("Achieved rate (mean, sent)", fixed(static_cast<double>(sent) / secs, 1) + " tx/s");
    kv("Peak second (sent)", commas(peak) + " tx");
    kv("Sent", commas(sent));
    kv("Accepted", commas(accepted) + " (" + pct(accepted, sent) + ")");
    kv("Rejected", commas(rejected) + " (" + pct(rejected, sent) + ")");
    kv("Included", commas(included_txs) + " tx, " + commas(included_ops) + " ops (" +
                       fixed(static_cast<double>(included_ops) / secs, 1) + " ops/s)");
    kv("Late / dropped sends", commas(late) + " / " + commas(dropped));
    kv("Timeouts / disconnects / connect failures",
       commas(timeouts) + " / " + commas(disconnects) + " / " + commas(connect_failures));
    out += heading("Summary", 2, md);
    if (md) {
        for (const auto& r : summary.rows) out += "- **" + r[0] + ":** " + r[1] + "\n";
        out += "\n";
    } else {
        std::size_t w = 0;
        for (const auto& r : summary.rows) w = std::max(w, r[0].size());
        for (const auto& r : summary.rows) out += r[0] + ":" + std::string(w + 2 - r[0].size(), ' ') + r[1] + "\n";
        out += "\n";
    }

    out += heading("Latency percentiles (whole run, merged histograms)", 2, md);
    Table lt{{"Latency", "count", "p50", "p90", "p99", "p99.9", "max", "mean"},
             {false, true, true, true, true, true, true, true},
             {}};
    auto lat_row = [&](const std::string& name, const util::Histogram& h) {
        lt.rows.push_back({name, commas(h.count()), lat(h.percentile(50)), lat(h.percentile(90)), lat(h.percentile(99)),
                           lat(h.percentile(99.9)), lat(h.max()), lat(static_cast<std::uint64_t>(h.mean()))});
    };
    lat_row("acceptance (from intended send)", run.acceptance);
    lat_row("acceptance (from actual send)", run.acceptance_from_send);
    lat_row("inclusion in a block", run.inclusion);
    out += lt.render(md) + "\n";

    out += heading("Rejections by class", 2, md);
    if (run.rejected_by_class.empty()) {
        out += "None.\n\n";
    } else {
        std::vector<std::pair<std::uint64_t, std::string>> v;
        for (const auto& [k, n] : run.rejected_by_class) v.emplace_back(n, k);
        std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        Table t{{"Class", "Count", "% of rejected", "% of sent"}, {false, true, true, true}, {}};
        for (const auto& [n, k] : v) t.rows.push_back({k, commas(n), pct(n, rejected), pct(n, sent)});
        out += t.render(md) + "\n";
    }

    out += heading("Beacons", 2, md);
    Table bt{{"Beacon", "Host", "Intervals", "Missing", "Sent", "tx/s", "Accepted", "Rejected", "Acc p50", "Acc p99",
              "Incl p99", "Max CPU%", "Final"},
             {false, false, true, true, true, true, true, true, true, true, true, true, false},
             {}};
    for (const auto& [id, b] : run.beacons) {
        double bsecs = std::max(1.0, static_cast<double>(b.last_ms - b.first_ms) / 1000.0);
        bt.rows.push_back({id, b.host, commas(b.intervals), commas(b.missing), commas(b.sent),
                           fixed(static_cast<double>(b.sent) / bsecs, 1), commas(b.accepted), commas(b.rejected),
                           lat(b.acceptance.percentile(50)), lat(b.acceptance.percentile(99)),
                           lat(b.inclusion.percentile(99)), fixed(b.max_proc_cpu, 1), b.final ? "yes" : "no"});
    }
    out += bt.render(md) + "\n";

    if (opt.per_second) {
        out += heading("Per-second totals", 2, md);
        if (run.seconds.empty()) {
            out += "No cluster totals stored.\n\n";
        } else {
            Table st{{"Second (UTC)", "Beacons", "Configured", "Sent", "Accepted", "Rejected", "Ops included",
                      "Acc p50", "Acc p99", "Incl p99"},
                     {false, true, true, true, true, true, true, true, true, true},
                     {}};
            std::size_t n = run.seconds.size();
            std::size_t step = opt.max_seconds && n > opt.max_seconds ? (n + opt.max_seconds - 1) / opt.max_seconds : 1;
            for (std::size_t i = 0; i < n; i += step) {
                const auto& s = run.seconds[i];
                st.rows.push_back({clock(s.second_unix * 1000), std::to_string(s.beacons),
                                   s.configured_rate > 0 ? fixed(s.configured_rate, 0) : "unl", commas(s.sent),
                                   commas(s.accepted), commas(s.rejected), commas(s.included_ops), lat(s.acc_p50),
                                   lat(s.acc_p99), lat(s.incl_p99)});
            }
            if (step > 1) out += "Every " + std::to_string(step) + "th second of " + std::to_string(n) + ".\n\n";
            out += st.render(md) + "\n";
        }
    }

    out += heading("Events", 2, md);
    if (run.events.empty()) {
        out += "None.\n\n";
    } else {
        Table et{{"Time (UTC)", "Level", "Source", "Kind", "Text"}, {false, false, false, false, false}, {}};
        for (const auto& e : run.events) {
            std::string text = e.text;
            std::replace(text.begin(), text.end(), '\n', ' ');
            std::replace(text.begin(), text.end(), '|', '/');
            et.rows.push_back({clock(e.unix_ms), e.level, e.source, e.kind, text});
        }
        out += et.render(md) + "\n";
    }

    if (!run.uptime.empty()) {
        out += heading("Endpoint uptime during the run", 2, md);
        Table ut{{"Endpoint", "Checks", "Up", "Statuses", "p50 probe", "p99 probe"}, {false, true, true, false, true, true}, {}};
        for (const auto& u : run.uptime) {
            std::string statuses;
            for (const auto& [k, n] : u.by_status) statuses += (statuses.empty() ? "" : " ") + k + ":" + std::to_string(n);
            ut.rows.push_back({u.endpoint, commas(u.checks), pct(u.up, u.checks), statuses, lat(u.duration.percentile(50)),
                               lat(u.duration.percentile(99))});
        }
        out += ut.render(md) + "\n";
    }
    if (run.undecodable_frames)
        out += "Note: " + commas(run.undecodable_frames) + " stored intervals could not be decoded and are left out.\n";
    return out;
}

std::string render_list(const std::vector<RunListEntry>& runs, bool md) {
    Table t{{"Run", "Start (UTC)", "Duration", "Beacons", "Intervals", "Events"}, {false, false, true, true, true, true}, {}};
    for (const auto& r : runs)
        t.rows.push_back({r.run_id, utc(r.first_ms), duration(r.last_ms - r.first_ms), std::to_string(r.beacons),
                          commas(r.intervals), commas(r.events)});
    return t.render(md);
}

}  // namespace bts::report
