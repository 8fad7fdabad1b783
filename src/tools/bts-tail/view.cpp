// Rendering bts-tail's table of beacons, totals and events to a given width.
#include "tools/bts-tail/view.hpp"

#include "actors/collector/documents.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace bts::tail {
namespace {

std::vector<std::string> split_topic(const std::string& topic) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (int i = 0; i < 2; ++i) {  // kind / run / rest (a beacon or endpoint may be anything)
        auto slash = topic.find('/', start);
        if (slash == std::string::npos) break;
        parts.push_back(topic.substr(start, slash - start));
        start = slash + 1;
    }
    parts.push_back(topic.substr(start));
    return parts;
}

std::string clock_text(std::int64_t unix_ms) {
    std::string iso = collector::iso8601_ms(unix_ms);  // 2024-05-01T12:00:00.123Z
    return iso.substr(11, 8);
}

std::string num(double v) {
    if (v >= 10000) return std::to_string(static_cast<std::uint64_t>(std::llround(v / 1000))) + "k";
    if (v >= 100 || v == std::floor(v)) return std::to_string(static_cast<std::uint64_t>(std::llround(v)));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string classes_text(const wire::ClassCounts& c) {
    std::vector<std::pair<std::uint64_t, std::string>> v;
    for (const auto& [k, n] : c)
        if (n) v.emplace_back(n, k);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::string out;
    for (const auto& [n, k] : v) {
        if (!out.empty()) out += ' ';
        out += k + ":" + std::to_string(n);
    }
    return out.empty() ? "-" : out;
}

struct Column {
    std::string header;
    int priority;        // lower is dropped first
    bool right = true;   // right-aligned numbers
    bool flexible = false;  // takes what is left (last column)
};

}  // namespace

std::string format_latency_us(std::uint64_t us) {
    char buf[32];
    if (us < 1000) return std::to_string(us) + "us";
    if (us < 10'000) std::snprintf(buf, sizeof buf, "%.2fms", static_cast<double>(us) / 1e3);
    else if (us < 1'000'000) std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(us) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(us) / 1e6);
    return buf;
}

bool Filter::accepts(const std::string& topic) const {
    auto parts = split_topic(topic);
    const std::string& kind = parts[0];
    if (!topics.empty() && std::none_of(topics.begin(), topics.end(),
                                        [&](const std::string& p) { return topic.rfind(p, 0) == 0; }))
        return false;
    if (kind == "collector" || kind == "uptime") return run.empty() && beacon.empty() ? true : kind == "collector";
    if (!run.empty() && (parts.size() < 2 || parts[1] != run)) return false;
    if (!beacon.empty() && kind == "interval" && (parts.size() < 3 || parts[2] != beacon)) return false;
    return true;
}

bool TailView::on_message(const std::string& topic, const std::string& payload, std::int64_t now_ms) {
    if (topic.rfind("collector/", 0) == 0) {
        collector_json_ = payload;
        ++messages_;
        return true;
    }
    auto msg = wire::decode(payload);
    if (!msg) return false;
    ++messages_;
    if (auto* s = std::get_if<wire::StatsInterval>(&*msg)) {
        auto& row = beacons_[s->run_id][s->beacon_id];
        if (row.seen_ms == 0 || s->seq >= row.last.seq) row.last = *s;
        row.seen_ms = now_ms;
        if (pinned_run_.empty() || pinned_run_ == s->run_id) {
            run_ = pinned_run_.empty() ? s->run_id : pinned_run_;
            run_seen_ms_ = now_ms;
        }
    } else if (auto* t = std::get_if<wire::ClusterTotals>(&*msg)) {
        auto& cur = totals_[t->run_id];
        if (t->second_unix >= cur.second_unix) cur = *t;
    } else if (auto* e = std::get_if<wire::RunEvent>(&*msg)) {
        events_.push_back(*e);
        if (events_.size() > 5) events_.pop_front();
    }
    return true;
}

std::vector<std::string> TailView::render(std::size_t width, std::size_t height, std::int64_t now_ms) const {
    width = std::max<std::size_t>(width, 20);
    std::vector<std::string> lines;
    auto fit = [&](std::string s) {
        if (s.size() > width) s.resize(width);
        return s;
    };

    // Header: run, beacons, time, the collector's health.
    std::string run = pinned_run_.empty() ? run_ : pinned_run_;
    auto runs = beacons_.find(run);
    std::size_t n_beacons = runs == beacons_.end() ? 0 : runs->second.size();
    std::string head = "bts-tail  " + clock_text(now_ms) + "  run " + (run.empty() ? "(waiting)" : run) + "  " +
                       std::to_string(n_beacons) + " beacons";
    if (!collector_json_.empty()) {
        auto j = nlohmann::json::parse(collector_json_, nullptr, false);
        if (j.is_object()) {
            head += "  | collector: " + std::to_string(j.value("intervals", 0ull)) + " stored, " +
                    std::to_string(j.value("malformed", 0ull) + j.value("invalid", 0ull)) + " bad";
            if (j.value("es_enabled", false) && j.contains("es")) {
                const auto& es = j["es"];
                head += std::string(", ES ") + (es.value("available", false) ? "up" : "DOWN") + " spool " +
                        std::to_string(es.value("spool_items", 0ull)) + " lag " +
                        std::to_string(es.value("lag_ms", 0ll)) + "ms dead " +
                        std::to_string(es.value("dead_letters", 0ull));
            }
        }
    }
    lines.push_back(fit(head));

    std::vector<Column> cols = {
        {"BEACON", 100, false},  {"TARGET", 90},   {"TX/S", 95},     {"OPS/S", 60},   {"ACCEPTED", 85},
        {"REJECTED", 84},        {"ACC p50", 50},  {"ACC p99", 80},  {"INCL p50", 40}, {"INCL p99", 70},
        {"CPU%", 65},            {"HOST%", 30},    {"REJECTED BY CLASS", 20, false, true},
    };
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> stale;
    double sum_target = 0, sum_tx = 0, sum_ops = 0;
    bool unlimited = false;
    std::uint64_t sum_acc = 0, sum_rej = 0;
    wire::ClassCounts all_classes;
    if (runs != beacons_.end()) {
        for (const auto& [id, row] : runs->second) {
            const auto& s = row.last;
            double secs = static_cast<double>(std::max<std::uint64_t>(s.interval_ms, 1)) / 1000.0;
            double tx = static_cast<double>(s.sent) / secs;
            double ops = static_cast<double>(s.included_ops) / secs;
            std::uint64_t rej = collector::total_rejected(s.rejected_by_class);
            bool old = now_ms - row.seen_ms > 5000;
            sum_target += s.configured_rate;
            unlimited = unlimited || s.configured_rate <= 0;
            sum_tx += tx;
            sum_ops += ops;
            sum_acc += s.accepted;
            sum_rej += rej;
            for (const auto& [k, n] : s.rejected_by_class) all_classes[k] += n;
            rows.push_back({(old ? "~" : "") + id, s.configured_rate > 0 ? num(s.configured_rate) : "unl", num(tx),
                            num(ops), std::to_string(s.accepted), std::to_string(rej),
                            format_latency_us(collector::sparse_percentile(s.acceptance_from_intended, 50)),
                            format_latency_us(collector::sparse_percentile(s.acceptance_from_intended, 99)),
                            format_latency_us(collector::sparse_percentile(s.inclusion, 50)),
                            format_latency_us(collector::sparse_percentile(s.inclusion, 99)), num(s.proc_cpu_pct),
                            num(s.host_cpu_pct), classes_text(s.rejected_by_class)});
            stale.push_back(old);
        }
    }
    auto t = totals_.find(run);
    std::vector<std::string> total = {"TOTAL", unlimited ? "unl" : num(sum_target), num(sum_tx), num(sum_ops),
                                      std::to_string(sum_acc), std::to_string(sum_rej), "-", "-", "-", "-", "-", "-",
                                      classes_text(all_classes)};
    if (t != totals_.end()) {
        total[6] = format_latency_us(t->second.acceptance_p50_us);
        total[7] = format_latency_us(t->second.acceptance_p99_us);
        total[8] = format_latency_us(t->second.inclusion_p50_us);
        total[9] = format_latency_us(t->second.inclusion_p99_us);
    }

    // Column widths, then drop the least important columns until the table fits.
    std::vector<std::size_t> w(cols.size());
    for (std::size_t c = 0; c < cols.size(); ++c) {
        w[c] = cols[c].header.size();
        for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
        w[c] = std::max(w[c], total[c].size());
    }
    w[0] = std::min<std::size_t>(w[0], 24);
    std::vector<bool> keep(cols.size(), true);
    auto used = [&] {
        std::size_t sum = 0, n = 0;
        for (std::size_t c = 0; c < cols.size(); ++c)
            if (keep[c]) {
                sum += cols[c].flexible ? 10 : w[c];  // a flexible column needs at least 10
                ++n;
            }
        return sum + (n ? 2 * (n - 1) : 0);
    };
    while (used() > width) {
        std::size_t drop = cols.size();
        for (std::size_t c = 0; c < cols.size(); ++c)
            if (keep[c] && cols[c].priority < 100 && (drop == cols.size() || cols[c].priority < cols[drop].priority))
                drop = c;
        if (drop == cols.size()) break;
        keep[drop] = false;
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        bool first = true;
        for (std::size_t c = 0; c < cols.size(); ++c) {
            if (!keep[c]) continue;
            if (!first) out += "  ";
            first = false;
            std::string cell = cells[c];
            if (cols[c].flexible) {
                out += cell;
                continue;
            }
            if (cell.size() > w[c]) cell.resize(w[c]);
            std::string pad(w[c] - cell.size(), ' ');
            out += cols[c].right ? pad + cell : cell + pad;
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return fit(out);
    };
    std::vector<std::string> header;
    for (const auto& c : cols) header.push_back(c.header);
    lines.push_back(line(header));
    for (const auto& r : rows) lines.push_back(line(r));
    lines.push_back(line(total));

    if (t != totals_.end()) {
        const auto& c = t->second;
        lines.push_back(fit("cluster " + clock_text(c.second_unix * 1000) + ": " + std::to_string(c.beacons) +
                            " beacons, sent " + std::to_string(c.sent) + ", accepted " + std::to_string(c.accepted) +
                            ", rejected " + std::to_string(collector::total_rejected(c.rejected_by_class)) +
                            ", included " + std::to_string(c.included_txs) + " tx / " + std::to_string(c.included_ops) +
                            " ops"));
    }
    if (!events_.empty()) {
        lines.push_back(fit("events:"));
        for (const auto& e : events_)
            lines.push_back(fit(" " + clock_text(e.unix_ms) + " " + e.level + " " + e.source + " " + e.kind + ": " + e.text));
    }
    if (height > 0 && lines.size() > height) lines.resize(height);
    return lines;
}

}  // namespace bts::tail
