// The stats page's in-memory model and its JSON.
#include "tools/bts-stats/model.hpp"

#include "actors/uptime/classify.hpp"
#include "actors/uptime/probe.hpp"
#include "common/util/histogram.hpp"
#include "common/util/log.hpp"

#include <algorithm>
#include <cmath>

namespace bts::stats {

using nlohmann::json;

std::string public_text(std::string_view text, std::size_t max) {
    // URLs inside error texts: strip user info and queries word by word.
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto sp = text.find_first_of(" '\"", pos);
        const auto word = text.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
        out += word.find("://") != std::string_view::npos ? uptime::public_url(word) : std::string(word);
        if (sp == std::string_view::npos) break;
        out += text[sp];
        pos = sp + 1;
    }
    out = util::redact(out);
    if (out.size() > max) {
        out.resize(max);
        // Do not cut a UTF-8 sequence in half.
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
        out += "…";
    }
    return out;
}

std::string_view to_string(Admission a) noexcept {
    switch (a) {
        case Admission::added: return "added";
        case Admission::duplicate: return "duplicate";
        case Admission::unknown_endpoint: return "endpoint not configured";
        case Admission::too_many_endpoints: return "too many endpoints";
        case Admission::future: return "timestamp in the future";
        case Admission::too_old: return "timestamp too old";
    }
    return "refused";
}

Admission Model::offer_result(const wire::UptimeResult& r, std::int64_t now_ms, bool replay) {
    const bool known = endpoints_.contains(r.endpoint);
    if (!allowed_.empty() && !allowed_.contains(r.endpoint)) return Admission::unknown_endpoint;
    if (allowed_.empty() && !known && endpoints_.size() >= limits_.max_endpoints) {
        return Admission::too_many_endpoints;
    }
    if (r.unix_ms > now_ms + limits_.max_skew_ms) return Admission::future;
    if (!replay && r.unix_ms < now_ms - limits_.max_skew_ms) return Admission::too_old;
    return add_result(r) ? Admission::added : Admission::duplicate;
}

bool Model::add_result(const wire::UptimeResult& r) {
    auto& ep = endpoints_[r.endpoint];
    if (ep.last.unix_ms == r.unix_ms && !ep.last.endpoint.empty()) return false;
    if (r.unix_ms < ep.last.unix_ms) {
        // An older result (a replay, or the slower of two feeds): only the sparkline may want it,
        // and it is ordered by time; not worth reordering — drop.
        return false;
    }
    if (ep.last.endpoint.empty() || ep.last.status != r.status) ep.status_since_ms = r.unix_ms;
    ep.last = r;
    ep.spark.push_back({r.unix_ms, static_cast<double>(r.duration_us) / 1000.0, r.status});
    while (ep.spark.size() > limits_.spark_points) ep.spark.pop_front();
    return true;
}

void Model::set_uptime(const std::string& endpoint, UptimePercent p) {
    if (auto it = endpoints_.find(endpoint); it != endpoints_.end()) it->second.uptime = p;
}

void Model::switch_run(const std::string& run_id) {
    if (run_id == run_id_) return;
    run_id_ = run_id;
    totals_.clear();
    rejections_.clear();
    beacons_.clear();
    // Events of the old run are dropped too; an event may arrive before the first totals.
    std::erase_if(events_, [&](const wire::RunEvent& e) { return e.run_id != run_id; });
}

void Model::add_totals(const wire::ClusterTotals& t) {
    switch_run(t.run_id);
    for (auto it = totals_.rbegin(); it != totals_.rend(); ++it) {
        if (it->second_unix == t.second_unix) {
            for (const auto& [cls, n] : it->rejected_by_class) rejections_[cls] -= std::min(rejections_[cls], n);
            for (const auto& [cls, n] : t.rejected_by_class) rejections_[cls] += n;
            *it = t;
            return;
        }
        if (it->second_unix < t.second_unix) break;
    }
    for (const auto& [cls, n] : t.rejected_by_class) rejections_[cls] += n;
    // Keep time order; a late second goes to its place.
    auto pos = std::upper_bound(totals_.begin(), totals_.end(), t.second_unix,
                                [](std::int64_t s, const wire::ClusterTotals& x) { return s < x.second_unix; });
    totals_.insert(pos, t);
    while (totals_.size() > limits_.totals_seconds) totals_.pop_front();
}

void Model::add_interval(const wire::StatsInterval& s, std::int64_t now_ms) {
    if (s.run_id != run_id_) {
        // Intervals of an older run (late, replayed) must not reset the dashboard; a newer run
        // shows up in intervals before its first totals second.
        if (!run_id_.empty() && !totals_.empty() && s.interval_start_ms / 1000 < totals_.back().second_unix) return;
        switch_run(s.run_id);
    }
    Beacon& b = beacons_[s.beacon_id];
    b.last = s;
    b.last_seen_ms = now_ms;
    b.sent_total += s.sent;
    b.accepted_total += s.accepted;
    for (const auto& [cls, n] : s.rejected_by_class) b.rejected_total += n;
}

void Model::add_event(const wire::RunEvent& e) {
    if (!e.run_id.empty() && e.run_id != run_id_ && run_id_.empty()) run_id_ = e.run_id;
    events_.push_back(e);
    while (events_.size() > limits_.events) events_.pop_front();
}

std::vector<std::string> Model::endpoint_names() const {
    std::vector<std::string> out;
    for (const auto& [name, ep] : endpoints_) out.push_back(name);
    return out;
}

namespace {

json pct(double v) { return v < 0 ? json(nullptr) : json(std::round(v * 1000.0) / 1000.0); }
double ms(std::uint64_t us) { return std::round(static_cast<double>(us) / 10.0) / 100.0; }

}  // namespace

json Model::endpoint_json(const std::string& name, std::int64_t now_ms) const {
    const auto it = endpoints_.find(name);
    if (it == endpoints_.end()) return nullptr;
    const Endpoint& ep = it->second;
    const wire::UptimeResult& r = ep.last;
    json spark = json::array();
    for (const auto& p : ep.spark) spark.push_back({p.unix_ms, std::round(p.latency_ms * 100) / 100, p.status});
    const bool tls = r.cert_not_after_unix != 0;
    const bool api = r.kind == "ws" || r.kind == "wss";
    return json{
        {"name", public_text(r.endpoint, 200)},
        {"url", uptime::public_url(r.url)},
        {"kind", r.kind},
        {"status", r.status},
        {"up", uptime::counts_as_up(r.status, r.cert_not_after_unix, now_ms / 1000)},
        {"status_since_ms", ep.status_since_ms},
        {"checked_ms", r.unix_ms},
        {"checked_age_s", std::max<std::int64_t>(0, now_ms - r.unix_ms) / 1000.0},
        {"latency_ms", ms(r.duration_us)},
        {"dns_ms", ms(r.dns_us)},
        {"connect_ms", ms(r.connect_us)},
        {"tls_ms", ms(r.tls_us)},
        {"ws_ms", ms(r.ws_us)},
        {"rpc_ms", ms(r.rpc_us)},
        {"head_block_num", api && r.head_block_num ? json(r.head_block_num) : json(nullptr)},
        {"head_block_age_s", api && r.head_block_num ? json(std::round(r.head_block_age_s * 10) / 10) : json(nullptr)},
        {"participation", api && r.head_block_num ? json(r.participation) : json(nullptr)},
        {"chain_id", r.chain_id},
        {"cert_days_left", tls ? json(r.cert_days_left) : json(nullptr)},
        {"cert_not_after", tls ? json(r.cert_not_after_unix) : json(nullptr)},
        {"cert_issuer", public_text(r.cert_issuer, 200)},
        {"cert_subject", public_text(r.cert_subject, 200)},
        {"cert_name_matches", tls ? json(r.cert_name_matches) : json(nullptr)},
        {"cert_wildcard", tls ? json(r.cert_wildcard) : json(nullptr)},
        {"error", public_text(r.error)},
        {"uptime", {{"24h", pct(ep.uptime.day)}, {"7d", pct(ep.uptime.week)}, {"30d", pct(ep.uptime.month)}}},
        {"spark", std::move(spark)},
    };
}

json Model::feeds_json(std::int64_t now_ms) const {
    json out = json::array();
    for (const auto& f : feeds_) {
        const bool never = f.last_message_ms == 0;
        const std::int64_t age = never ? -1 : std::max<std::int64_t>(0, now_ms - f.last_message_ms);
        out.push_back({{"name", f.name},
                       {"endpoint", public_text(f.endpoint, 200)},
                       {"last_message_ms", f.last_message_ms},
                       {"age_s", never ? json(nullptr) : json(age / 1000.0)},
                       {"messages", f.messages},
                       {"malformed", f.malformed},
                       {"rejected", f.rejected},
                       {"ok", !never && age <= f.stale_after_ms}});
    }
    return out;
}

json Model::status_json(std::int64_t now_ms) const {
    json eps = json::array();
    std::size_t up = 0;
    for (const auto& [name, ep] : endpoints_) {
        eps.push_back(endpoint_json(name, now_ms));
        if (uptime::counts_as_up(ep.last.status, ep.last.cert_not_after_unix, now_ms / 1000)) ++up;
    }
    return json{{"generated_ms", now_ms},
                {"summary", {{"endpoints", endpoints_.size()}, {"up", up}}},
                {"feeds", feeds_json(now_ms)},
                {"endpoints", std::move(eps)}};
}

json Model::totals_json(const wire::ClusterTotals& t) {
    return json{{"run_id", t.run_id},
                {"t", t.second_unix},
                {"beacons", t.beacons},
                {"target", t.configured_rate},
                {"sent", t.sent},
                {"accepted", t.accepted},
                {"rejected", t.rejected_by_class},
                {"included_txs", t.included_txs},
                {"included_ops", t.included_ops},
                {"p50_ms", ms(t.acceptance_p50_us)},
                {"p90_ms", ms(t.acceptance_p90_us)},
                {"p99_ms", ms(t.acceptance_p99_us)},
                {"max_ms", ms(t.acceptance_max_us)},
                {"incl_p50_ms", ms(t.inclusion_p50_us)},
                {"incl_p99_ms", ms(t.inclusion_p99_us)}};
}

json Model::beacon_json(const std::string& beacon_id, std::int64_t now_ms) const {
    const auto it = beacons_.find(beacon_id);
    if (it == beacons_.end()) return nullptr;
    const Beacon& b = it->second;
    const wire::StatsInterval& s = b.last;
    std::uint64_t rejected = 0;
    for (const auto& [cls, n] : s.rejected_by_class) rejected += n;
    const double secs = s.interval_ms > 0 ? static_cast<double>(s.interval_ms) / 1000.0 : 1.0;
    std::uint64_t p99 = 0;
    if (!s.acceptance_from_intended.validate()) {
        if (auto h = util::Histogram::from_sparse(s.acceptance_from_intended)) p99 = h->percentile(99.0);
    }
    return json{{"beacon_id", public_text(s.beacon_id, 100)},
                {"host", public_text(s.host, 100)},
                {"target", s.configured_rate},
                {"sent_per_s", std::round(static_cast<double>(s.sent) / secs * 10) / 10},
                {"accepted_per_s", std::round(static_cast<double>(s.accepted) / secs * 10) / 10},
                {"rejected_per_s", std::round(static_cast<double>(rejected) / secs * 10) / 10},
                {"sent_total", b.sent_total},
                {"accepted_total", b.accepted_total},
                {"rejected_total", b.rejected_total},
                {"in_flight", s.in_flight},
                {"late_sends", s.late_sends},
                {"timeouts", s.timeouts},
                {"p99_ms", ms(p99)},
                {"cpu_pct", std::round(s.proc_cpu_pct * 10) / 10},
                {"host_cpu_pct", std::round(s.host_cpu_pct * 10) / 10},
                {"rss_bytes", s.rss_bytes},
                {"last_seen_ms", b.last_seen_ms},
                {"gone", now_ms - b.last_seen_ms > limits_.beacon_gone_ms || s.final}};
}

json Model::event_json(const wire::RunEvent& e) {
    return json{{"run_id", e.run_id},
                {"source", public_text(e.source, 100)},
                {"t_ms", e.unix_ms},
                {"level", e.level},
                {"kind", public_text(e.kind, 60)},
                {"text", public_text(e.text)}};
}

json Model::run_json(std::int64_t now_ms) const {
    json totals = json::array();
    for (const auto& t : totals_) totals.push_back(totals_json(t));
    json beacons = json::array();
    for (const auto& [id, b] : beacons_) beacons.push_back(beacon_json(id, now_ms));
    json events = json::array();
    for (const auto& e : events_) events.push_back(event_json(e));
    json rejections = json::object();
    for (const auto& [cls, n] : rejections_) {
        if (n > 0) rejections[public_text(cls, 60)] = n;
    }
    return json{{"generated_ms", now_ms},
                {"run_id", run_id_},
                {"totals", std::move(totals)},
                {"rejections", std::move(rejections)},
                {"beacons", std::move(beacons)},
                {"events", std::move(events)},
                {"feeds", feeds_json(now_ms)}};
}

}  // namespace bts::stats
