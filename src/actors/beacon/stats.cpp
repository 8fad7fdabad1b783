// Rejection classification and per-interval statistics records (wire message and JSON line).
#include "actors/beacon/stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace bts::beacon {

std::string_view to_string(RejectClass c) {
    switch (c) {
        case RejectClass::duplicate: return "duplicate";
        case RejectClass::expired: return "expired";
        case RejectClass::expiration_too_far: return "expiration_too_far";
        case RejectClass::tapos: return "tapos";
        case RejectClass::missing_authority: return "missing_authority";
        case RejectClass::insufficient_fee: return "insufficient_fee";
        case RejectClass::insufficient_balance: return "insufficient_balance";
        case RejectClass::too_large: return "too_large";
        case RejectClass::pool_full: return "pool_full";
        case RejectClass::other: return "other";
    }
    return "other";
}

RejectClass classify_rejection(std::int64_t code, std::string_view message) {
    auto has = [message](std::string_view needle) { return message.find(needle) != std::string_view::npos; };
    // Codes first (they do not depend on wording), then the assert texts of code 10.
    switch (code) {
        case 3030001: return RejectClass::duplicate;
        case 4010001: return RejectClass::missing_authority;
        case 4010007: return RejectClass::insufficient_fee;
        case 3050106: return RejectClass::insufficient_balance;
        case 4990001: return RejectClass::pool_full;  // bts-devnet: "pending pool full"
        default: break;
    }
    if (has("maximum_transaction_size") || has("exceeds maximum transaction size")) return RejectClass::too_large;
    if (has("trx.expiration <= now + ")) return RejectClass::expiration_too_far;
    if (has("now <= trx.expiration")) return RejectClass::expired;
    if (has("ref_block_prefix") || has("tapos")) return RejectClass::tapos;
    if (has("insufficient_balance") || has("Insufficient balance") || has("Insufficient Balance"))
        return RejectClass::insufficient_balance;
    if (has("duplicate transaction")) return RejectClass::duplicate;
    if (has("Missing Active Authority") || has("missing required active authority")) return RejectClass::missing_authority;
    if (has("Insufficient Fee") || has("insufficient fee")) return RejectClass::insufficient_fee;
    if (has("pool full") || has("pool is full") || has("pending pool") || has("too many pending"))
        return RejectClass::pool_full;
    return RejectClass::other;
}

std::uint64_t Counters::rejected_total() const {
    std::uint64_t n = 0;
    for (auto v : rejected) n += v;
    return n;
}

void Counters::add(const Counters& o) {
    sent += o.sent;
    accepted += o.accepted;
    for (std::size_t i = 0; i < kRejectClasses; ++i) rejected[i] += o.rejected[i];
    late_sends += o.late_sends;
    dropped_sends += o.dropped_sends;
    max_send_lag_us = std::max(max_send_lag_us, o.max_send_lag_us);
    included_txs += o.included_txs;
    included_ops += o.included_ops;
    expired_unincluded += o.expired_unincluded;
    unknown_outcome += o.unknown_outcome;
    pending_at_cutoff += o.pending_at_cutoff;
    late_inclusions += o.late_inclusions;
    unexpected_replies += o.unexpected_replies;
    connect_failures += o.connect_failures;
    tls_failures += o.tls_failures;
    disconnects += o.disconnects;
    timeouts += o.timeouts;
    bad_replies += o.bad_replies;
}

void Histograms::reset() {
    acceptance_from_intended.reset();
    acceptance_from_send.reset();
    inclusion.reset();
    send_lag.reset();
}

void Histograms::merge(const Histograms& o) {
    acceptance_from_intended.merge(o.acceptance_from_intended);
    acceptance_from_send.merge(o.acceptance_from_send);
    inclusion.merge(o.inclusion);
    send_lag.merge(o.send_lag);
}

wire::StatsInterval make_stats_interval(const IntervalIdentity& id, std::uint64_t seq, std::int64_t start_unix_ms,
                                        std::uint64_t interval_ms, double configured_rate, const Counters& c,
                                        const Histograms& h, std::uint64_t in_flight, const ProcFigures& proc,
                                        bool final) {
    wire::StatsInterval s;
    s.run_id = id.run_id;
    s.beacon_id = id.beacon_id;
    s.host = id.host;
    s.seq = seq;
    s.interval_start_ms = start_unix_ms;
    s.interval_ms = interval_ms;
    s.configured_rate = configured_rate;
    s.sent = c.sent;
    s.accepted = c.accepted;
    for (std::size_t i = 0; i < kRejectClasses; ++i)
        if (c.rejected[i]) s.rejected_by_class[std::string(to_string(static_cast<RejectClass>(i)))] = c.rejected[i];
    s.late_sends = c.late_sends;
    s.dropped_sends = c.dropped_sends;
    s.max_send_lag_us = c.max_send_lag_us;
    s.connect_failures = c.connect_failures;
    s.disconnects = c.disconnects;
    s.timeouts = c.timeouts;
    s.bad_replies = c.bad_replies + c.unexpected_replies;
    s.in_flight = in_flight;
    s.included_txs = c.included_txs;
    s.included_ops = c.included_ops;
    s.expired_unincluded = c.expired_unincluded;
    s.unknown_outcome = c.unknown_outcome;
    s.pending_at_cutoff = c.pending_at_cutoff;
    s.acceptance_from_intended = h.acceptance_from_intended.to_sparse();
    s.acceptance_from_send = h.acceptance_from_send.to_sparse();
    s.inclusion = h.inclusion.to_sparse();
    s.host_cpu_pct = proc.host_cpu_pct;
    s.proc_cpu_pct = proc.proc_cpu_pct;
    s.rss_bytes = proc.rss_bytes;
    s.final = final;
    return s;
}

namespace {
nlohmann::ordered_json histogram_object(const util::Histogram& h) {
    nlohmann::ordered_json j;
    j["count"] = h.count();
    j["min"] = h.min();
    j["p50"] = h.percentile(50);
    j["p90"] = h.percentile(90);
    j["p99"] = h.percentile(99);
    j["p999"] = h.percentile(99.9);
    j["max"] = h.max();
    j["mean"] = std::round(h.mean() * 10) / 10;
    return j;
}
}  // namespace

std::string histogram_json(const util::Histogram& h) {
    return histogram_object(h).dump();
}

std::string stats_json_line(const wire::StatsInterval& s, const Counters& c, const Histograms& h) {
    nlohmann::ordered_json j;
    j["type"] = "interval";
    j["run_id"] = s.run_id;
    j["beacon_id"] = s.beacon_id;
    j["seq"] = s.seq;
    j["interval_start_ms"] = s.interval_start_ms;
    j["interval_ms"] = s.interval_ms;
    j["configured_rate"] = s.configured_rate;
    j["achieved_rate"] = s.interval_ms ? std::round(static_cast<double>(s.sent) * 1e4 / static_cast<double>(s.interval_ms)) / 10 : 0.0;
    j["sent"] = s.sent;
    j["accepted"] = s.accepted;
    j["rejected"] = s.rejected_by_class;
    j["late_sends"] = s.late_sends;
    j["dropped_sends"] = s.dropped_sends;
    j["max_send_lag_us"] = s.max_send_lag_us;
    j["connect_failures"] = s.connect_failures;
    j["tls_failures"] = c.tls_failures;
    j["disconnects"] = s.disconnects;
    j["timeouts"] = s.timeouts;
    j["bad_replies"] = s.bad_replies;
    j["unknown_outcome"] = s.unknown_outcome;
    j["in_flight"] = s.in_flight;
    j["included_txs"] = s.included_txs;
    j["included_ops"] = s.included_ops;
    j["expired_unincluded"] = s.expired_unincluded;
    j["pending_at_cutoff"] = s.pending_at_cutoff;
    j["acceptance_from_intended_us"] = histogram_object(h.acceptance_from_intended);
    j["acceptance_from_send_us"] = histogram_object(h.acceptance_from_send);
    j["inclusion_us"] = histogram_object(h.inclusion);
    j["send_lag_us"] = histogram_object(h.send_lag);
    j["host_cpu_pct"] = std::round(s.host_cpu_pct * 10) / 10;
    j["proc_cpu_pct"] = std::round(s.proc_cpu_pct * 10) / 10;
    j["rss_bytes"] = s.rss_bytes;
    j["final"] = s.final;
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bts::beacon
