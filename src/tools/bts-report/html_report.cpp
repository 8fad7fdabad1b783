// The HTML report of a run (see html_report.hpp): binning, exact per-bin percentiles, SVG plots.
#include "tools/bts-report/html_report.hpp"

#include "actors/collector/documents.hpp"
#include "common/util/units.hpp"
#include "tools/bts-report/svg_plot.hpp"

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

namespace bts::report {
namespace {

using nlohmann::json;
using svg::Unit;

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];
const char* color(std::size_t i) {
    return kPalette[i % kPaletteSize];
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}
std::string commas(std::uint64_t n) {
    const std::string d = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
        out += d[i];
    }
    return out;
}
std::string pct(double part, double whole) {
    return whole > 0 ? fixed(100.0 * part / whole, 2) + "%" : "-";
}
std::string utc(std::int64_t ms) {
    const std::string s = collector::iso8601_ms(ms);
    return s.substr(0, 10) + " " + s.substr(11, 8) + " UTC";
}
std::string lat(double us) {
    return svg::format(us, Unit::kLatencyUs);
}
std::string esc(const std::string& s) {
    return svg::escape(s);
}

// Rounds for the JSON block: enough digits to check against the store, short in the file.
double r3(double v) {
    return std::isfinite(v) ? std::round(v * 1000.0) / 1000.0 : v;
}
json arr(const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(std::isfinite(x) ? json(r3(x)) : json(nullptr));
    return a;
}

class Db {
  public:
    explicit Db(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw std::runtime_error(path + ": cannot open: " + err);
        }
        sqlite3_busy_timeout(db_, 5000);
    }
    ~Db() { sqlite3_close(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    sqlite3* get() const { return db_; }

  private:
    sqlite3* db_ = nullptr;
};

class Stmt {
  public:
    Stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("store query failed: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    bool step() { return sqlite3_step(st_) == SQLITE_ROW; }
    std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
    std::string text(int c) const {
        const unsigned char* t = sqlite3_column_text(st_, c);
        return t ? reinterpret_cast<const char*>(t) : "";
    }
    std::string_view blob(int c) const {
        const void* p = sqlite3_column_blob(st_, c);
        return {static_cast<const char*>(p),
                static_cast<std::size_t>(sqlite3_column_bytes(st_, c))};
    }

  private:
    sqlite3_stmt* st_ = nullptr;
};

struct Bin {
    double target_tx = 0;  // Σ configured_rate × interval (tx)
    bool unlimited = false;
    bool any = false;
    std::uint64_t sent = 0, accepted = 0, rejected = 0, included_txs = 0, included_ops = 0;
    std::uint64_t late = 0, dropped = 0, timeouts = 0, disconnects = 0, expired = 0;
    std::uint64_t unknown = 0,
                  pending = 0;  // issue 11: reply outcome unknown; accepted, fate unknown at cutoff
    double in_flight_ms = 0;    // Σ in_flight × interval_ms
    std::map<std::string, std::uint64_t> rejected_by_class;
    util::Histogram acc, incl;
};

struct BeaconBin {
    std::uint64_t sent = 0;
    double max_lag_us = NAN;
    double cpu_ms = 0, ms = 0;  // Σ proc_cpu × interval_ms, Σ interval_ms
};

struct Block {
    std::int64_t block_num = 0, timestamp_ms = 0, tx = 0, ops = 0, bytes = 0, missed = 0;
};
struct NodeBlocks {
    std::string node;
    std::vector<Block> blocks;
    std::int64_t tx = 0, ops = 0, bytes = 0, missed = 0;
};

struct Binned {
    std::int64_t t0_ms = 0, bin_ms = 1000;
    std::vector<Bin> bins;
    std::vector<std::string> beacon_ids;
    std::vector<std::vector<BeaconBin>> per_beacon;              // [beacon][bin]
    std::map<std::string, std::vector<std::uint64_t>> per_host;  // host → sent per bin
    std::uint64_t frames = 0, undecodable = 0;
    double target_tx_total = 0;
    bool any_unlimited = false;

    double bin_seconds(std::size_t i, std::int64_t end_ms) const {
        const std::int64_t start = t0_ms + static_cast<std::int64_t>(i) * bin_ms;
        return static_cast<double>(std::clamp<std::int64_t>(end_ms - start, 1, bin_ms)) / 1000.0;
    }
};

Binned bin_run(sqlite3* db, const Run& run, std::size_t max_points) {
    Binned b;
    b.t0_ms = run.first_ms / 1000 * 1000;
    const std::int64_t span = std::max<std::int64_t>(run.last_ms - b.t0_ms, 1000);
    const std::int64_t secs = (span + 999) / 1000;
    const std::int64_t bin_s = std::max<std::int64_t>(
        1, (secs + static_cast<std::int64_t>(max_points) - 1) /
               static_cast<std::int64_t>(std::max<std::size_t>(max_points, 1)));
    b.bin_ms = bin_s * 1000;
    const std::size_t n = static_cast<std::size_t>((span + b.bin_ms - 1) / b.bin_ms);
    b.bins.resize(n);
    std::map<std::string, std::size_t> index;
    for (const auto& [id, s] : run.beacons) {
        index[id] = b.beacon_ids.size();
        b.beacon_ids.push_back(id);
    }
    b.per_beacon.assign(b.beacon_ids.size(), std::vector<BeaconBin>(n));

    struct Target {
        std::size_t beacon, bin;
        std::int64_t start_ms;
        double tx;
    };
    std::vector<Target> targets;
    std::vector<std::pair<std::int64_t, std::int64_t>> window(b.beacon_ids.size(),
                                                              {INT64_MAX, INT64_MIN});
    Stmt st(db, "SELECT frame FROM intervals WHERE run_id = ?1");
    st.bind(1, run.run_id);
    while (st.step()) {
        auto msg = wire::decode(st.blob(0));
        const wire::StatsInterval* s = msg ? std::get_if<wire::StatsInterval>(&*msg) : nullptr;
        if (!s) {
            ++b.undecodable;
            continue;
        }
        ++b.frames;
        // By the interval's midpoint: beacons' intervals drift around second boundaries, and by
        // their start two could fall into one bin and none into the next.
        const std::int64_t off =
            s->interval_start_ms + static_cast<std::int64_t>(s->interval_ms / 2) - b.t0_ms;
        const std::size_t i = static_cast<std::size_t>(
            std::clamp<std::int64_t>(off / b.bin_ms, 0, static_cast<std::int64_t>(n) - 1));
        Bin& bin = b.bins[i];
        bin.any = true;
        const double ims = static_cast<double>(s->interval_ms);
        auto it = index.find(s->beacon_id);
        if (s->configured_rate > 0) {
            // Counted below, only within the beacon's sending window: while it prepares or drains
            // (waiting for replies and inclusion) it still reports its rate but sends nothing.
            if (it != index.end()) {
                targets.push_back(
                    {it->second, i, s->interval_start_ms, s->configured_rate * ims / 1000.0});
                if (s->sent > 0) {
                    auto& w = window[it->second];
                    w.first = std::min(w.first, s->interval_start_ms);
                    w.second = std::max(w.second, s->interval_start_ms);
                }
            }
        } else {
            bin.unlimited = true;
            b.any_unlimited = true;
        }
        bin.sent += s->sent;
        bin.accepted += s->accepted;
        const std::uint64_t rej = collector::total_rejected(s->rejected_by_class);
        bin.rejected += rej;
        bin.included_txs += s->included_txs;
        bin.included_ops += s->included_ops;
        bin.late += s->late_sends;
        bin.dropped += s->dropped_sends;
        bin.timeouts += s->timeouts;
        bin.disconnects += s->disconnects;
        bin.expired += s->expired_unincluded;
        bin.unknown += s->unknown_outcome;
        bin.pending += s->pending_at_cutoff;
        bin.in_flight_ms += static_cast<double>(s->in_flight) * ims;
        for (const auto& [k, c] : s->rejected_by_class) bin.rejected_by_class[k] += c;
        bin.acc.merge(s->acceptance_from_intended);
        bin.incl.merge(s->inclusion);
        if (it != index.end()) {
            BeaconBin& bb = b.per_beacon[it->second][i];
            bb.sent += s->sent;
            const double lag = static_cast<double>(s->max_send_lag_us);
            bb.max_lag_us = std::isfinite(bb.max_lag_us) ? std::max(bb.max_lag_us, lag) : lag;
            bb.cpu_ms += s->proc_cpu_pct * ims;
            bb.ms += ims;
        }
        auto& host = b.per_host[s->host.empty() ? "(unknown)" : s->host];
        if (host.empty()) host.resize(n);
        host[i] += s->sent;
    }
    for (const auto& t : targets) {
        const auto& w = window[t.beacon];
        if (t.start_ms < w.first || t.start_ms > w.second) continue;
        b.bins[t.bin].target_tx += t.tx;
        b.target_tx_total += t.tx;
    }
    return b;
}

std::vector<NodeBlocks> load_blocks(sqlite3* db, const std::string& run_id, bool& table_exists) {
    std::vector<NodeBlocks> out;
    {
        Stmt st(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'blocks'");
        table_exists = st.step() && st.i64(0) > 0;
    }
    if (!table_exists) return out;
    Stmt st(
        db,
        "SELECT node, block_num, timestamp_ms, tx_count, op_count, bytes, missed_slots FROM blocks "
        "WHERE run_id = ?1 ORDER BY node, block_num");
    st.bind(1, run_id);
    while (st.step()) {
        if (out.empty() || out.back().node != st.text(0)) {
            out.emplace_back();
            out.back().node = st.text(0);
        }
        NodeBlocks& nb = out.back();
        Block bl{st.i64(1), st.i64(2), st.i64(3), st.i64(4), st.i64(5), st.i64(6)};
        nb.tx += bl.tx;
        nb.ops += bl.ops;
        nb.bytes += bl.bytes;
        nb.missed += bl.missed;
        nb.blocks.push_back(bl);
    }
    std::stable_sort(out.begin(), out.end(), [](const NodeBlocks& a, const NodeBlocks& b) {
        return a.blocks.size() > b.blocks.size();
    });
    return out;
}

// Min / median / max across rows of a [beacon][bin] matrix, NaN entries left out.
std::vector<svg::Series> spread(const std::vector<std::vector<double>>& m, std::size_t n,
                                const std::string& what) {
    std::vector<double> lo(n, NAN), med(n, NAN), hi(n, NAN);
    std::vector<double> col;
    for (std::size_t i = 0; i < n; ++i) {
        col.clear();
        for (const auto& row : m)
            if (std::isfinite(row[i])) col.push_back(row[i]);
        if (col.empty()) continue;
        std::sort(col.begin(), col.end());
        lo[i] = col.front();
        hi[i] = col.back();
        med[i] = col[col.size() / 2];
    }
    return {{"max " + what, color(1), hi},
            {"median " + what, color(0), med},
            {"min " + what, color(2), lo}};
}

const char* kCss = R"CSS(
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d5dae1; --bg:#fff; --accent:#1f77b4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg);
       margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 12px; }
nav { font-size: 13px; margin: 8px 0 16px; } nav a { margin-right: 10px; color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { font-weight: normal; color: var(--muted); padding-right: 18px; }
.verdict { border: 2px solid; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.verdict.pass { border-color: #2ca02c; background: #eef8ee; } .verdict.check { border-color: #ff7f0e; background: #fff5ea; }
.verdict b { font-size: 16px; } .verdict ul { margin: 4px 0 0; padding-left: 20px; }
.ok { color: #23801f; } .bad { color: #b34700; }
.note { color: var(--muted); font-style: italic; margin: 6px 0; }
pre.scenario { background: #f5f7f9; border: 1px solid var(--line); padding: 8px; font-size: 12px; overflow-x: auto; }
figure.plot { margin: 10px 0 18px; break-inside: avoid; page-break-inside: avoid; }
figure.plot figcaption { font-weight: bold; font-size: 13px; margin-bottom: 2px; }
svg.plot { width: 100%; height: auto; display: block; font: 11px "DejaVu Sans", Arial, sans-serif; }
svg.plot .grid line { stroke: #e6e9ee; stroke-width: 1; } svg.plot .grid line.minor { stroke: #f2f4f6; }
svg.plot rect.frame { fill: none; stroke: #9aa3ad; stroke-width: 1; }
svg.plot .labels text { fill: #4a525c; } svg.plot text.nodata { fill: #9aa3ad; font-size: 16px; }
svg.plot .marker line { stroke-width: 1; stroke-dasharray: 2 2; } svg.plot .marker.info line { stroke: #6a8caf; }
svg.plot .marker.warn line { stroke: #e08a00; } svg.plot .marker.error line { stroke: #d62728; }
svg.plot .marker.info path { fill: #6a8caf; } svg.plot .marker.warn path { fill: #e08a00; } svg.plot .marker.error path { fill: #d62728; }
svg.plot line.cursor { stroke: #333; stroke-width: 0.8; display: none; pointer-events: none; }
.legend { font-size: 12px; color: var(--muted); } .legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
.legend i.ev { height: 10px; width: 0; border-left: 2px dashed #6a8caf; }
#tip { position: fixed; pointer-events: none; background: rgba(255,255,255,.96); border: 1px solid #9aa3ad;
       border-radius: 4px; padding: 4px 8px; font-size: 12px; box-shadow: 0 2px 6px rgba(0,0,0,.15); z-index: 10; }
#tip div { white-space: nowrap; } #tip i { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 4px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; } nav, #tip { display: none !important; }
  h2 { break-after: avoid; page-break-after: avoid; } table { font-size: 10px; }
  section { break-before: auto; } a { color: inherit; text-decoration: none; }
  .two { display: block; }
  svg.plot { font-size: 13px; }  /* the plot is scaled to the page width: keep axis labels legible */
}
@page { size: A4; margin: 12mm; }
)CSS";

// Hover: the nearest point's values of every series, from the embedded JSON.
const char* kJs = R"JS(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var tip = document.getElementById('tip');
  function fmt(v, unit) {
    if (v === null || v === undefined) return '-';
    var a = Math.abs(v);
    function s(x) { var y = Math.abs(x); return y >= 100 ? x.toFixed(0) : y >= 10 ? x.toFixed(1) : x.toFixed(2); }
    switch (unit) {
      case 'latency': return a >= 1e6 ? s(v / 1e6) + ' s' : a >= 1e3 ? s(v / 1e3) + ' ms' : s(v) + ' us';
      case 'percent': return s(v) + '%';
      case 'bytes': return a >= 1048576 ? s(v / 1048576) + ' MiB' : a >= 1024 ? s(v / 1024) + ' KiB' : s(v) + ' B';
      default: return a >= 1e6 ? s(v / 1e6) + 'M' : a >= 1e3 ? s(v / 1e3) + 'k' : s(v);
    }
  }
  function xlabel(p, x) {
    if (p.xunit === 'latency') return fmt(x, 'latency');
    var t = new Date(data.t0_ms + x * 1000).toISOString().substr(11, 8);
    var m = Math.floor(x / 60), sec = Math.round(x % 60);
    return '+' + m + ':' + (sec < 10 ? '0' : '') + sec + ' (' + t + ' UTC)';
  }
  document.querySelectorAll('svg.plot').forEach(function (svg) {
    var p = data.plots[svg.dataset.plot];
    if (!p || !p.x.length) return;
    var cur = svg.querySelector('line.cursor');
    var x0 = +svg.dataset.x0, x1 = +svg.dataset.x1, xmin = +svg.dataset.xmin, xmax = +svg.dataset.xmax;
    var logx = svg.dataset.logx === '1';
    function toPx(x) {
      var f = logx ? (Math.log10(x) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin)) : (x - xmin) / (xmax - xmin);
      return x0 + f * (x1 - x0);
    }
    svg.addEventListener('mousemove', function (ev) {
      var r = svg.getBoundingClientRect();
      var sx = (ev.clientX - r.left) * svg.viewBox.baseVal.width / r.width;
      if (sx < x0 || sx > x1) { tip.hidden = true; cur.style.display = 'none'; return; }
      var lo = 0, hi = p.x.length - 1;
      while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (toPx(p.x[mid]) < sx) lo = mid; else hi = mid; }
      var i = Math.abs(toPx(p.x[lo]) - sx) <= Math.abs(toPx(p.x[hi]) - sx) ? lo : hi;
      var px = toPx(p.x[i]);
      cur.setAttribute('x1', px); cur.setAttribute('x2', px); cur.style.display = 'block';
      tip.textContent = '';
      var head = document.createElement('div'); head.textContent = xlabel(p, p.x[i]); head.style.fontWeight = 'bold';
      tip.appendChild(head);
      p.series.forEach(function (s) {
        var d = document.createElement('div'), sw = document.createElement('i');
        sw.style.background = s.color; d.appendChild(sw);
        d.appendChild(document.createTextNode(s.name + ': ' + fmt(s.y[i], p.unit)));
        tip.appendChild(d);
      });
      tip.hidden = false;
      var tx = ev.clientX + 14, ty = ev.clientY + 14;
      if (tx + tip.offsetWidth > window.innerWidth) tx = ev.clientX - tip.offsetWidth - 14;
      if (ty + tip.offsetHeight > window.innerHeight) ty = ev.clientY - tip.offsetHeight - 14;
      tip.style.left = tx + 'px'; tip.style.top = ty + 'px';
    });
    svg.addEventListener('mouseleave', function () { tip.hidden = true; cur.style.display = 'none'; });
  });
})();
)JS";

const char* unit_name(Unit u) {
    switch (u) {
        case Unit::kLatencyUs:
            return "latency";
        case Unit::kPercent:
            return "percent";
        case Unit::kBytes:
            return "bytes";
        case Unit::kElapsed:
            return "elapsed";
        default:
            return "count";
    }
}

class Doc {
  public:
    std::string html;
    json plots = json::object();
    std::vector<svg::Marker> markers;

    void plot(svg::PlotSpec spec, bool with_markers = true) {
        if (with_markers && !spec.log_x) spec.markers = markers;
        json p;
        p["title"] = spec.title;
        p["x"] = arr(spec.x);
        p["xunit"] = unit_name(spec.x_unit);
        p["unit"] = unit_name(spec.y_unit);
        p["series"] = json::array();
        for (const auto& s : spec.series)
            p["series"].push_back({{"name", s.name}, {"color", s.color}, {"y", arr(s.y)}});
        plots[spec.id] = std::move(p);
        html += svg::render(spec);
    }
    void note(const std::string& text) { html += "<p class=\"note\">" + esc(text) + "</p>\n"; }
    void section(const std::string& id, const std::string& title) {
        if (open_) html += "</section>\n";
        html += "<section id=\"" + id + "\">\n<h2>" + esc(title) + "</h2>\n";
        open_ = true;
    }
    void close() {
        if (open_) html += "</section>\n";
        open_ = false;
    }

  private:
    bool open_ = false;
};

struct Cell {
    std::string text;
    bool num = false;
};
std::string table(const std::vector<Cell>& header, const std::vector<std::vector<Cell>>& rows,
                  const std::string& cls = {}) {
    std::string out =
        "<table" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + "><thead><tr>";
    for (const auto& h : header)
        out += std::string(h.num ? "<th class=\"n\">" : "<th>") + esc(h.text) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (const auto& r : rows) {
        out += "<tr>";
        for (const auto& c : r)
            out += std::string(c.num ? "<td class=\"n\">" : "<td>") + esc(c.text) + "</td>";
        out += "</tr>\n";
    }
    return out + "</tbody></table>\n";
}
Cell num(const std::string& s) {
    return {s, true};
}

}  // namespace

std::string render_html(const std::string& store_path, const Run& run, const HtmlOptions& opt) {
    Db db(store_path);
    const Binned b = bin_run(db.get(), run, opt.max_points);
    bool have_blocks_table = false;
    const std::vector<NodeBlocks> nodes = load_blocks(db.get(), run.run_id, have_blocks_table);
    const std::size_t n = b.bins.size();
    const double bin_s = static_cast<double>(b.bin_ms) / 1000.0;

    // x: the middle of each bin, seconds since t0.
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i) * bin_s;
    auto per_s = [&](auto get) {
        std::vector<double> v(n, NAN);
        for (std::size_t i = 0; i < n; ++i)
            if (b.bins[i].any)
                v[i] = static_cast<double>(get(b.bins[i])) / b.bin_seconds(i, run.last_ms);
        return v;
    };
    auto pctl = [&](bool incl, double p) {
        std::vector<double> v(n, NAN);
        for (std::size_t i = 0; i < n; ++i) {
            const util::Histogram& h = incl ? b.bins[i].incl : b.bins[i].acc;
            if (h.count()) v[i] = static_cast<double>(p >= 100 ? h.max() : h.percentile(p));
        }
        return v;
    };

    // Totals.
    std::uint64_t sent = 0, accepted = 0, rejected = 0, included_txs = 0, included_ops = 0,
                  late = 0, dropped = 0, timeouts = 0, disconnects = 0, expired = 0, unknown = 0,
                  pending = 0, missing = 0;
    std::size_t finished = 0;
    for (const auto& bin : b.bins) {
        sent += bin.sent;
        accepted += bin.accepted;
        rejected += bin.rejected;
        included_txs += bin.included_txs;
        included_ops += bin.included_ops;
        late += bin.late;
        dropped += bin.dropped;
        timeouts += bin.timeouts;
        disconnects += bin.disconnects;
        expired += bin.expired;
        unknown += bin.unknown;
        pending += bin.pending;
    }
    for (const auto& [id, bs] : run.beacons) {
        missing += bs.missing;
        finished += bs.final ? 1 : 0;
    }
    const double span_s = std::max(1.0, static_cast<double>(run.last_ms - run.first_ms) / 1000.0);

    Doc doc;
    for (const auto& e : run.events)
        doc.markers.push_back({static_cast<double>(e.unix_ms - b.t0_ms) / 1000.0, e.level,
                               collector::iso8601_ms(e.unix_ms).substr(11, 8) + " " + e.source +
                                   " " + e.kind + ": " + e.text});

    // ---- identity ----
    doc.section("identity", "Run identity");
    {
        std::vector<std::vector<Cell>> kv = {
            {{"Run id"}, {run.run_id}},
            {{"Start"}, {utc(run.first_ms)}},
            {{"End"}, {utc(run.last_ms)}},
            {{"Duration"},
             {util::format_duration(std::chrono::milliseconds(
                 std::max<std::int64_t>(run.last_ms - run.first_ms, 0)))}},
            {{"Beacons"},
             {std::to_string(run.beacons.size()) + " (" + std::to_string(finished) +
              " sent their final interval)"}},
            {{"Store"}, {store_path}},
        };
        std::string nodes_text;
        for (const auto& nb : nodes) nodes_text += (nodes_text.empty() ? "" : ", ") + nb.node;
        kv.push_back(
            {{"Nodes"},
             {nodes_text.empty() ? "not recorded in this store (the chain observer records them)"
                                 : nodes_text}});
        doc.html += table({{""}, {""}}, kv, "kv");
        doc.note(
            "Scenario file: not stored by this store version (schema 1 keeps no scenario record); "
            "time axes "
            "are seconds since " +
            utc(b.t0_ms) + ".");
        // beacon-2 before beacon-10.
        std::vector<const BeaconSummary*> order;
        for (const auto& [id, bs] : run.beacons) order.push_back(&bs);
        auto natural_less = [](const std::string& l, const std::string& r) {
            std::size_t i = 0, j = 0;
            while (i < l.size() && j < r.size()) {
                if (std::isdigit(static_cast<unsigned char>(l[i])) &&
                    std::isdigit(static_cast<unsigned char>(r[j]))) {
                    std::size_t ie = i, je = j;
                    while (ie < l.size() && std::isdigit(static_cast<unsigned char>(l[ie]))) ++ie;
                    while (je < r.size() && std::isdigit(static_cast<unsigned char>(r[je]))) ++je;
                    const std::string a = l.substr(i, ie - i), c = r.substr(j, je - j);
                    if (a.size() != c.size()) return a.size() < c.size();
                    if (a != c) return a < c;
                    i = ie;
                    j = je;
                } else {
                    if (l[i] != r[j]) return l[i] < r[j];
                    ++i;
                    ++j;
                }
            }
            return l.size() - i < r.size() - j;
        };
        std::stable_sort(order.begin(), order.end(),
                         [&](const BeaconSummary* l, const BeaconSummary* r) {
                             return natural_less(l->beacon_id, r->beacon_id);
                         });
        std::vector<std::vector<Cell>> rows;
        for (const BeaconSummary* bp : order) {
            const BeaconSummary& bs = *bp;
            const std::string& id = bs.beacon_id;
            const double bsecs =
                std::max(1.0, static_cast<double>(bs.last_ms - bs.first_ms) / 1000.0);
            rows.push_back(
                {{id},
                 {bs.host},
                 num(commas(bs.intervals)),
                 num(commas(bs.missing)),
                 num(commas(bs.sent)),
                 num(fixed(static_cast<double>(bs.sent) / bsecs, 1)),
                 num(bs.configured_rate > 0 ? fixed(bs.configured_rate, 0) : "unlimited"),
                 num(fixed(bs.max_proc_cpu, 1)),
                 {bs.final ? "yes" : "no"}});
        }
        doc.html += "<h3>Beacons and their hosts</h3>\n";
        doc.html += table({{"Beacon"},
                           {"Host"},
                           num("Intervals"),
                           num("Missing"),
                           num("Sent"),
                           num("tx/s"),
                           num("Target tx/s"),
                           num("Max CPU %"),
                           {"Final"}},
                          rows);
    }

    // ---- summary ----
    doc.section("summary", "Summary and verdict");
    {
        std::vector<std::pair<bool, std::string>> checks;
        if (!b.any_unlimited && b.target_tx_total > 0) {
            const double share = static_cast<double>(sent) / b.target_tx_total;
            checks.push_back(
                {share >= 0.95,
                 "sent " + pct(static_cast<double>(sent), b.target_tx_total) + " of the target (" +
                     commas(static_cast<std::uint64_t>(std::llround(b.target_tx_total))) +
                     " tx); needs 95%"});
        } else {
            checks.push_back({true, "unlimited rate: no target to hold"});
        }
        checks.push_back(
            {sent > 0 && static_cast<double>(accepted) >= 0.99 * static_cast<double>(sent),
             "accepted " + pct(static_cast<double>(accepted), static_cast<double>(sent)) +
                 " of sent; needs 99%"});
        if (accepted > 0)
            checks.push_back(
                {static_cast<double>(included_txs) >= 0.99 * static_cast<double>(accepted),
                 "included " +
                     pct(static_cast<double>(included_txs), static_cast<double>(accepted)) +
                     " of accepted; needs 99%"});
        // Exact accounting (issue 11): every sent transaction has one reply outcome, every accepted
        // one a fate.
        const std::uint64_t outcomes = accepted + rejected + unknown,
                            fates = included_txs + expired + pending;
        checks.push_back({outcomes == sent,
                          "every sent transaction has a reply outcome: " + commas(accepted) +
                              " accepted + " + commas(rejected) + " rejected + " + commas(unknown) +
                              " unknown = " + commas(outcomes) + " of " + commas(sent) + " sent"});
        checks.push_back(
            {fates == accepted, "every accepted transaction has a fate: " + commas(included_txs) +
                                    " included + " + commas(expired) + " expired + " +
                                    commas(pending) + " pending at cutoff = " + commas(fates) +
                                    " of " + commas(accepted) + " accepted"});
        checks.push_back({missing == 0, commas(missing) + " intervals missing (sequence gaps)"});
        checks.push_back({finished == run.beacons.size(), std::to_string(finished) + " of " +
                                                              std::to_string(run.beacons.size()) +
                                                              " beacons finished"});
        bool pass = true;
        for (const auto& c : checks) pass = pass && c.first;
        doc.html += std::string("<div class=\"verdict ") + (pass ? "pass" : "check") +
                    "\" id=\"verdict\"><b>Verdict: " + (pass ? "PASS" : "CHECK") + "</b> — " +
                    (pass ? "the cluster held the load and the chain took it."
                          : "see the failed criteria below.") +
                    "<ul>";
        for (const auto& c : checks)
            doc.html += std::string("<li class=\"") + (c.first ? "ok" : "bad") + "\">" +
                        (c.first ? "✔ " : "✘ ") + esc(c.second) + "</li>";
        doc.html += "</ul></div>\n";
        std::vector<std::vector<Cell>> kv = {
            {{"Target rate"},
             {b.any_unlimited ? "unlimited"
                              : fixed(b.target_tx_total / span_s, 1) + " tx/s (mean)"}},
            {{"Sent"},
             {commas(sent) + " (" + fixed(static_cast<double>(sent) / span_s, 1) + " tx/s)"}},
            {{"Accepted"},
             {commas(accepted) + " (" +
              pct(static_cast<double>(accepted), static_cast<double>(sent)) + ")"}},
            {{"Rejected"},
             {commas(rejected) + " (" +
              pct(static_cast<double>(rejected), static_cast<double>(sent)) + ")"}},
            {{"Included (beacons' view)"},
             {commas(included_txs) + " tx, " + commas(included_ops) + " ops"}},
            {{"Expired without inclusion"}, {commas(expired)}},
            {{"Reply outcome unknown"},
             {commas(unknown) + " (" +
              pct(static_cast<double>(unknown), static_cast<double>(sent)) + " of sent)"}},
            {{"Accepted, fate unknown at cutoff"}, {commas(pending)}},
            {{"Late / dropped sends"}, {commas(late) + " / " + commas(dropped)}},
            {{"Timeouts / disconnects"}, {commas(timeouts) + " / " + commas(disconnects)}},
            {{"Intervals stored"},
             {commas(run.intervals) + (missing ? " (" + commas(missing) + " missing)" : "")}},
        };
        if (!nodes.empty())
            kv.push_back({{"Included (chain, " + nodes.front().node + ")"},
                          {commas(static_cast<std::uint64_t>(nodes.front().tx)) + " tx, " +
                           commas(static_cast<std::uint64_t>(nodes.front().ops)) + " ops in " +
                           commas(nodes.front().blocks.size()) + " blocks"}});
        doc.html += table({{""}, {""}}, kv, "kv");
        std::vector<std::vector<Cell>> lrows;
        auto lrow = [&](const std::string& name, const util::Histogram& h) {
            lrows.push_back({{name},
                             num(commas(h.count())),
                             num(lat(static_cast<double>(h.percentile(50)))),
                             num(lat(static_cast<double>(h.percentile(90)))),
                             num(lat(static_cast<double>(h.percentile(99)))),
                             num(lat(static_cast<double>(h.percentile(99.9)))),
                             num(lat(static_cast<double>(h.max())))});
        };
        lrow("acceptance (from intended send)", run.acceptance);
        lrow("acceptance (from actual send)", run.acceptance_from_send);
        lrow("inclusion in a block", run.inclusion);
        doc.html += "<h3>Latency over the whole run (merged histograms)</h3>\n";
        doc.html += table({{"Latency"},
                           num("count"),
                           num("p50"),
                           num("p90"),
                           num("p99"),
                           num("p99.9"),
                           num("max")},
                          lrows);
    }

    // ---- throughput ----
    doc.section("throughput", "Throughput");
    std::vector<double> chain_tx(n, NAN), chain_ops(n, NAN);
    std::size_t chain_window = 1;  // bins the chain's rate is averaged over
    if (!nodes.empty()) {
        for (std::size_t i = 0; i < n; ++i) chain_tx[i] = chain_ops[i] = 0;
        for (const auto& bl : nodes.front().blocks) {
            const std::int64_t off = bl.timestamp_ms - b.t0_ms;
            if (off < 0 || off >= static_cast<std::int64_t>(n) * b.bin_ms) continue;
            const std::size_t i = static_cast<std::size_t>(off / b.bin_ms);
            chain_tx[i] += static_cast<double>(bl.tx);
            chain_ops[i] += static_cast<double>(bl.ops);
        }
        for (std::size_t i = 0; i < n; ++i) {
            chain_tx[i] /= b.bin_seconds(i, run.last_ms);
            chain_ops[i] /= b.bin_seconds(i, run.last_ms);
        }
        // Blocks come every few seconds: with bins shorter than that the chain's rate is a comb
        // (0, 0, 3×). A centred mean over about three block intervals shows the rate instead.
        const auto& bl = nodes.front().blocks;
        std::vector<std::int64_t> gaps;
        for (std::size_t k = 1; k < bl.size(); ++k)
            gaps.push_back(bl[k].timestamp_ms - bl[k - 1].timestamp_ms);
        if (!gaps.empty()) {
            std::nth_element(gaps.begin(),
                             gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2),
                             gaps.end());
            const std::int64_t gap = std::max<std::int64_t>(gaps[gaps.size() / 2], 1);
            chain_window = static_cast<std::size_t>(
                std::max<std::int64_t>(1, (3 * gap + b.bin_ms - 1) / b.bin_ms));
        }
        if (chain_window > 1) {
            auto smooth = [&](std::vector<double>& v) {
                std::vector<double> out(n, NAN);
                for (std::size_t i = 0; i < n; ++i) {
                    const std::size_t lo = i >= chain_window / 2 ? i - chain_window / 2 : 0;
                    const std::size_t hi = std::min(n, lo + chain_window);
                    double sum = 0;
                    for (std::size_t k = lo; k < hi; ++k) sum += v[k];
                    out[i] = sum / static_cast<double>(hi - lo);
                }
                v = std::move(out);
            };
            smooth(chain_tx);
            smooth(chain_ops);
        }
    }
    {
        std::vector<double> target(n, NAN);
        for (std::size_t i = 0; i < n; ++i)
            if (b.bins[i].any && !b.bins[i].unlimited)
                target[i] = b.bins[i].target_tx / b.bin_seconds(i, run.last_ms);
        svg::PlotSpec p;
        p.id = "rate";
        p.title = "Transactions per second: target, sent, accepted, included";
        p.y_label = "tx/s";
        p.x = x;
        p.series = {
            {"target", "#7f7f7f", target, true},
            {"sent", color(0), per_s([](const Bin& v) { return v.sent; })},
            {"accepted", color(2), per_s([](const Bin& v) { return v.accepted; })},
            {"included (beacons)", color(4), per_s([](const Bin& v) { return v.included_txs; })}};
        if (!nodes.empty())
            p.series.push_back({"included (chain)", color(3), chain_tx, false, false, 2.2});
        doc.plot(p);
        svg::PlotSpec o;
        o.id = "ops";
        o.title = "Operations per second included";
        o.y_label = "ops/s";
        o.x = x;
        o.series = {{"included ops (beacons)", color(4),
                     per_s([](const Bin& v) { return v.included_ops; })}};
        if (!nodes.empty())
            o.series.push_back({"included ops (chain)", color(3), chain_ops, false, false, 2.2});
        doc.plot(o);
        doc.note("Bins of " + fixed(bin_s, 0) +
                 " s. The target is the sum of the beacons' configured rates while "
                 "they send (from each beacon's first to its last interval with sends; none when a "
                 "beacon runs "
                 "unlimited). Operations sent are not in the interval record; included ops are." +
                 (chain_window > 1 ? " The chain's rate is a centred mean over " +
                                         fixed(static_cast<double>(chain_window) * bin_s, 0) +
                                         " s (about three blocks)."
                                   : std::string()));
    }

    // ---- latency ----
    doc.section("latency", "Latency");
    for (bool incl : {false, true}) {
        svg::PlotSpec p;
        p.id = incl ? "inclusion" : "acceptance";
        p.title = incl ? "Inclusion latency (intended send → block), per bin"
                       : "Acceptance latency (intended send → node reply), per bin";
        p.y_label = "latency (log)";
        p.y_unit = Unit::kLatencyUs;
        p.log_y = true;
        p.x = x;
        p.series = {{"p50", color(0), pctl(incl, 50)},
                    {"p90", color(2), pctl(incl, 90)},
                    {"p99", color(3), pctl(incl, 99)},
                    {"max", color(1), pctl(incl, 100), true}};
        doc.plot(p);
    }
    {
        // Distribution: share of transactions per log-spaced latency band (20 per decade).
        std::map<long, std::pair<double, double>> bands;  // key → (acc share, incl share)
        for (bool incl : {false, true}) {
            const util::Histogram& h = incl ? run.inclusion : run.acceptance;
            if (!h.count()) continue;
            for (std::uint32_t i = 0; i < util::Histogram::kBucketCount; ++i) {
                const std::uint64_t c = h.bucket_count(i);
                if (!c) continue;
                const double mid =
                    std::max(1.0, (static_cast<double>(util::Histogram::bucket_lower(i)) +
                                   static_cast<double>(util::Histogram::bucket_upper(i))) /
                                      2.0);
                const long key = std::lround(std::floor(std::log10(mid) * 20.0));
                auto& band = bands[key];
                (incl ? band.second : band.first) +=
                    100.0 * static_cast<double>(c) / static_cast<double>(h.count());
            }
        }
        svg::PlotSpec p;
        p.id = "distribution";
        p.title = "Latency distribution over the whole run (share of transactions per band)";
        p.y_label = "% of tx";
        p.x_unit = Unit::kLatencyUs;
        p.y_unit = Unit::kPercent;
        p.log_x = true;
        std::vector<double> a, c;
        for (const auto& [key, v] : bands) {
            p.x.push_back(std::pow(10.0, (static_cast<double>(key) + 0.5) / 20.0));
            a.push_back(run.acceptance.count() ? v.first : NAN);
            c.push_back(run.inclusion.count() ? v.second : NAN);
        }
        p.series = {{"acceptance", color(0), a, false, true},
                    {"inclusion", color(3), c, false, true}};
        doc.plot(p, false);
        doc.note(
            "Percentiles per bin come from the bin's merged histograms (exact to 0.4 %), never "
            "from averaged "
            "percentiles. Latency is measured from the intended send time (no coordinated "
            "omission).");
    }

    // ---- rejections ----
    doc.section("rejections", "Rejections");
    {
        std::map<std::string, std::uint64_t> total;
        for (const auto& bin : b.bins)
            for (const auto& [k, c] : bin.rejected_by_class) total[k] += c;
        std::vector<std::pair<std::uint64_t, std::string>> order;
        for (const auto& [k, c] : total) order.emplace_back(c, k);
        std::sort(order.begin(), order.end(), [](const auto& l, const auto& r) {
            return l.first > r.first || (l.first == r.first && l.second < r.second);
        });
        svg::PlotSpec p;
        p.id = "rejections";
        p.title = "Rejections per second by class";
        p.y_label = "tx/s";
        p.x = x;
        const std::size_t shown = std::min<std::size_t>(order.size(), 8);
        for (std::size_t k = 0; k < shown; ++k) {
            const std::string cls = order[k].second;
            p.series.push_back({cls, color(k + 1), per_s([&](const Bin& v) {
                                    auto it = v.rejected_by_class.find(cls);
                                    return it == v.rejected_by_class.end() ? std::uint64_t{0}
                                                                           : it->second;
                                })});
        }
        if (order.size() > shown) {
            std::set<std::string> top;
            for (std::size_t k = 0; k < shown; ++k) top.insert(order[k].second);
            p.series.push_back({"other classes", color(9), per_s([&](const Bin& v) {
                                    std::uint64_t s = 0;
                                    for (const auto& [k, c] : v.rejected_by_class)
                                        s += top.count(k) ? 0 : c;
                                    return s;
                                })});
        }
        if (p.series.empty())
            p.series.push_back(
                {"rejected", color(1), per_s([](const Bin& v) { return v.rejected; })});
        doc.plot(p);
        std::vector<std::vector<Cell>> rows;
        for (const auto& [c, k] : order)
            rows.push_back({{k},
                            num(commas(c)),
                            num(pct(static_cast<double>(c), static_cast<double>(rejected))),
                            num(pct(static_cast<double>(c), static_cast<double>(sent)))});
        if (rows.empty())
            doc.note("No transaction was rejected.");
        else
            doc.html +=
                table({{"Class"}, num("Count"), num("% of rejected"), num("% of sent")}, rows);
    }

    // ---- in flight and send health ----
    doc.section("inflight", "In flight and send health");
    {
        std::vector<double> inflight(n, NAN);
        for (std::size_t i = 0; i < n; ++i)
            if (b.bins[i].any)
                inflight[i] = b.bins[i].in_flight_ms / (b.bin_seconds(i, run.last_ms) * 1000.0);
        svg::PlotSpec p;
        p.id = "inflight";
        p.title = "Transactions in flight (sent, no reply yet; all beacons, time-weighted)";
        p.y_label = "tx";
        p.x = x;
        p.series = {{"in flight", color(0), inflight, false, true}};
        doc.plot(p);
        svg::PlotSpec h;
        h.id = "health";
        h.title =
            "Send health per second: late and dropped sends, timeouts, disconnects, expired, "
            "unknown outcome";
        h.y_label = "per s";
        h.x = x;
        h.series = {
            {"late sends", color(3), per_s([](const Bin& v) { return v.late; })},
            {"dropped sends", color(1), per_s([](const Bin& v) { return v.dropped; })},
            {"timeouts", color(4), per_s([](const Bin& v) { return v.timeouts; })},
            {"disconnects", color(5), per_s([](const Bin& v) { return v.disconnects; })},
            {"expired unincluded", color(6), per_s([](const Bin& v) { return v.expired; })},
            {"reply outcome unknown", color(7), per_s([](const Bin& v) { return v.unknown; })}};
        doc.plot(h);
    }

    // ---- beacons ----
    doc.section("beacons", "Beacons");
    {
        const std::size_t nb = b.beacon_ids.size();
        std::vector<std::vector<double>> rate(nb, std::vector<double>(n, NAN)),
            lag(nb, std::vector<double>(n, NAN)), cpu(nb, std::vector<double>(n, NAN));
        for (std::size_t k = 0; k < nb; ++k)
            for (std::size_t i = 0; i < n; ++i) {
                const BeaconBin& bb = b.per_beacon[k][i];
                if (bb.ms <= 0) continue;
                rate[k][i] = static_cast<double>(bb.sent) / b.bin_seconds(i, run.last_ms);
                lag[k][i] = bb.max_lag_us;
                cpu[k][i] = bb.cpu_ms / bb.ms;
            }
        const bool each = nb <= 10;
        auto series = [&](const std::vector<std::vector<double>>& m, const std::string& what) {
            if (!each) return spread(m, n, what);
            std::vector<svg::Series> s;
            for (std::size_t k = 0; k < nb; ++k) s.push_back({b.beacon_ids[k], color(k), m[k]});
            return s;
        };
        svg::PlotSpec r;
        r.id = "beacon-rate";
        r.title = "Sent tx/s per beacon";
        r.y_label = "tx/s";
        r.x = x;
        r.series = series(rate, "beacon");
        doc.plot(r);
        svg::PlotSpec l;
        l.id = "beacon-lag";
        l.title = "Worst send lag per beacon (actual − intended send time)";
        l.y_label = "lag (log)";
        l.y_unit = Unit::kLatencyUs;
        l.log_y = true;
        l.x = x;
        l.series = series(lag, "beacon");
        doc.plot(l);
        svg::PlotSpec c;
        c.id = "beacon-cpu";
        c.title = "Beacon process CPU (% of one core)";
        c.y_label = "CPU %";
        c.y_unit = Unit::kPercent;
        c.x = x;
        c.series = series(cpu, "beacon");
        doc.plot(c);
        if (!each)
            doc.note(std::to_string(nb) +
                     " beacons: the plots show the minimum, median and maximum across beacons "
                     "per bin; the table in Run identity lists each one.");
    }

    // ---- nodes and hosts ----
    doc.section("nodes", "Per-node and per-host split");
    {
        if (nodes.empty()) {
            doc.note(
                "Per-node split: no chain observer data in this store (the interval record does "
                "not name the "
                "node a transaction went to). The split by beacon host follows.");
        } else {
            std::vector<std::vector<Cell>> rows;
            for (const auto& nd : nodes)
                rows.push_back({{nd.node},
                                num(commas(nd.blocks.size())),
                                num(commas(static_cast<std::uint64_t>(nd.tx))),
                                num(commas(static_cast<std::uint64_t>(nd.ops))),
                                num(svg::format(static_cast<double>(nd.bytes), Unit::kBytes)),
                                num(commas(static_cast<std::uint64_t>(nd.missed)))});
            doc.html += table(
                {{"Node"}, num("Blocks"), num("Tx"), num("Ops"), num("Bytes"), num("Missed slots")},
                rows);
            svg::PlotSpec p;
            p.id = "node-tx";
            p.title = "Included tx/s per node (chain observer)";
            p.y_label = "tx/s";
            p.x = x;
            for (std::size_t k = 0; k < nodes.size() && k < 10; ++k) {
                std::vector<double> v(n, 0.0);
                for (const auto& bl : nodes[k].blocks) {
                    const std::int64_t off = bl.timestamp_ms - b.t0_ms;
                    if (off >= 0 && off < static_cast<std::int64_t>(n) * b.bin_ms)
                        v[static_cast<std::size_t>(off / b.bin_ms)] += static_cast<double>(bl.tx);
                }
                for (std::size_t i = 0; i < n; ++i) v[i] /= b.bin_seconds(i, run.last_ms);
                p.series.push_back({nodes[k].node, color(k), v});
            }
            doc.plot(p);
        }
        svg::PlotSpec h;
        h.id = "host-rate";
        h.title = "Sent tx/s per beacon host";
        h.y_label = "tx/s";
        h.x = x;
        std::size_t k = 0;
        for (const auto& [host, v] : b.per_host) {
            if (k >= 10) break;
            std::vector<double> y(n, NAN);
            for (std::size_t i = 0; i < n; ++i)
                if (b.bins[i].any) y[i] = static_cast<double>(v[i]) / b.bin_seconds(i, run.last_ms);
            h.series.push_back({host, color(k++), y});
        }
        doc.plot(h);
        if (b.per_host.size() > 10)
            doc.note("The first 10 of " + std::to_string(b.per_host.size()) + " hosts are drawn.");
    }

    // ---- chain ----
    doc.section("chain", "Blocks: fullness and missed slots");
    json blocks_json = nullptr;
    if (nodes.empty()) {
        doc.html += "<p class=\"note\" id=\"no-chain\">No chain observer data in this store" +
                    std::string(have_blocks_table ? " for this run" : "") +
                    ": block fullness and missed slots need the chain observer's "
                    "<code>blocks</code> table.</p>\n";
    } else {
        const NodeBlocks& nd = nodes.front();
        std::vector<double> bx, ops, txs, bytes, missed;
        for (const auto& bl : nd.blocks) {
            bx.push_back(static_cast<double>(bl.timestamp_ms - b.t0_ms) / 1000.0);
            ops.push_back(static_cast<double>(bl.ops));
            txs.push_back(static_cast<double>(bl.tx));
            bytes.push_back(static_cast<double>(bl.bytes));
            missed.push_back(static_cast<double>(bl.missed));
        }
        svg::PlotSpec p;
        p.id = "block-ops";
        p.title = "Operations and transactions per block (" + nd.node + ")";
        p.y_label = "per block";
        p.x = bx;
        p.series = {{"ops", color(3), ops}, {"tx", color(0), txs}};
        doc.plot(p);
        svg::PlotSpec s;
        s.id = "block-bytes";
        s.title = "Block size (" + nd.node + ")";
        s.y_label = "bytes";
        s.y_unit = Unit::kBytes;
        s.x = bx;
        s.series = {{"bytes", color(4), bytes, false, true}};
        doc.plot(s);
        svg::PlotSpec m;
        m.id = "missed-slots";
        m.title = "Missed slots before each block (" + nd.node + ")";
        m.y_label = "slots";
        m.bars = true;
        m.x = bx;
        m.series = {{"missed slots", color(1), missed}};
        doc.plot(m);
        doc.note(
            "The chain's maximum block size and operations per block are not in the store yet: the "
            "plots "
            "show absolute values.");
        blocks_json = {{"node", nd.node}, {"count", nd.blocks.size()}, {"tx", nd.tx},
                       {"ops", nd.ops},   {"bytes", nd.bytes},         {"missed", nd.missed}};
    }

    // ---- events ----
    doc.section("events", "Run events");
    if (run.events.empty()) {
        doc.note("No events were stored for this run.");
    } else {
        std::vector<std::vector<Cell>> rows;
        for (const auto& e : run.events)
            rows.push_back(
                {{collector::iso8601_ms(e.unix_ms).substr(11, 12)},
                 {svg::format(static_cast<double>(e.unix_ms - b.t0_ms) / 1000.0, Unit::kElapsed)},
                 {e.level},
                 {e.source},
                 {e.kind},
                 {e.text}});
        doc.html += table({{"Time (UTC)"}, {"+"}, {"Level"}, {"Source"}, {"Kind"}, {"Text"}}, rows);
    }
    if (!run.uptime.empty()) {
        doc.section("uptime", "Endpoint uptime during the run");
        std::vector<std::vector<Cell>> rows;
        for (const auto& u : run.uptime) {
            std::string statuses;
            for (const auto& [k, c] : u.by_status)
                statuses += (statuses.empty() ? "" : " ") + k + ":" + std::to_string(c);
            rows.push_back({{u.endpoint},
                            num(commas(u.checks)),
                            num(pct(static_cast<double>(u.up), static_cast<double>(u.checks))),
                            {statuses},
                            num(lat(static_cast<double>(u.duration.percentile(50)))),
                            num(lat(static_cast<double>(u.duration.percentile(99))))});
        }
        doc.html += table({{"Endpoint"},
                           num("Checks"),
                           num("Up"),
                           {"Statuses"},
                           num("p50 probe"),
                           num("p99 probe")},
                          rows);
    }
    doc.close();

    // ---- the embedded data ----
    json data;
    data["run_id"] = run.run_id;
    data["t0_ms"] = b.t0_ms;
    data["bin_s"] = bin_s;
    json bins;
    auto col = [&](const char* name, auto get) {
        json a = json::array();
        for (const auto& bin : b.bins) a.push_back(get(bin));
        bins[name] = std::move(a);
    };
    bins["t"] = arr(x);
    col("sent", [](const Bin& v) { return v.sent; });
    col("accepted", [](const Bin& v) { return v.accepted; });
    col("rejected", [](const Bin& v) { return v.rejected; });
    col("included_txs", [](const Bin& v) { return v.included_txs; });
    col("included_ops", [](const Bin& v) { return v.included_ops; });
    col("acc_count", [](const Bin& v) { return v.acc.count(); });
    col("incl_count", [](const Bin& v) { return v.incl.count(); });
    bins["acc_p50"] = arr(pctl(false, 50));
    bins["acc_p90"] = arr(pctl(false, 90));
    bins["acc_p99"] = arr(pctl(false, 99));
    bins["acc_max"] = arr(pctl(false, 100));
    bins["incl_p50"] = arr(pctl(true, 50));
    bins["incl_p99"] = arr(pctl(true, 99));
    data["bins"] = std::move(bins);
    data["totals"] = {{"intervals", b.frames},
                      {"sent", sent},
                      {"accepted", accepted},
                      {"rejected", rejected},
                      {"included_txs", included_txs},
                      {"included_ops", included_ops},
                      {"expired_unincluded", expired},
                      {"unknown_outcome", unknown},
                      {"pending_at_cutoff", pending},
                      {"events", run.events.size()},
                      {"beacons", run.beacons.size()},
                      {"acc_p99", run.acceptance.percentile(99)},
                      {"incl_p99", run.inclusion.percentile(99)}};
    data["blocks"] = blocks_json;
    data["plots"] = std::move(doc.plots);
    std::string data_text = data.dump();
    for (std::size_t pos = 0; (pos = data_text.find("</", pos)) != std::string::npos; pos += 3)
        data_text.replace(pos, 2, "<\\/");

    const std::int64_t generated = opt.generated_ms
                                       ? opt.generated_ms
                                       : std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
    std::string out;
    out.reserve(doc.html.size() + data_text.size() + 16384);
    out +=
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
        "'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n<title>bts-stress run " +
        esc(run.run_id) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
    out += "<h1>Stress test report: " + esc(run.run_id) + "</h1>\n<p class=\"sub\">" +
           esc(utc(run.first_ms)) + " — " + esc(utc(run.last_ms)) + " · " +
           std::to_string(run.beacons.size()) + " beacon(s) · generated by bts-report " +
           BTS_VERSION + " at " + esc(utc(generated)) + "</p>\n";
    out +=
        "<nav><a href=\"#identity\">Identity</a><a href=\"#summary\">Summary</a><a "
        "href=\"#throughput\">Throughput</a>"
        "<a href=\"#latency\">Latency</a><a href=\"#rejections\">Rejections</a><a "
        "href=\"#inflight\">In flight</a>"
        "<a href=\"#beacons\">Beacons</a><a href=\"#nodes\">Nodes</a><a href=\"#chain\">Blocks</a>"
        "<a href=\"#events\">Events</a></nav>\n";
    out += doc.html;
    if (run.undecodable_frames || b.undecodable)
        out += "<p class=\"note\">" + commas(std::max(run.undecodable_frames, b.undecodable)) +
               " stored intervals could not be decoded and are left out.</p>\n";
    out += "<footer>All times UTC. Source: " + esc(store_path) + ", run " + esc(run.run_id) +
           ". Numbers behind every plot are embedded in this file (script#report-data).</footer>\n";
    out += "<div id=\"tip\" hidden></div>\n<script type=\"application/json\" id=\"report-data\">" +
           data_text + "</script>\n<script>" + kJs + "</script>\n</body>\n</html>\n";
    return out;
}

}  // namespace bts::report
