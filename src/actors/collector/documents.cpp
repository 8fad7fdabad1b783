// Validation, document ids, Elasticsearch bulk items and index templates.
#include "actors/collector/documents.hpp"

#include "actors/collector/json_writer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace bts::collector {
namespace {

using util::Histogram;
using util::SparseHistogram;

std::string hex16(std::uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kHex[v & 15];
    return s;
}

struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xFF) * 1099511628211ull;  // separator: ("ab","c") != ("a","bc")
    }
    void add(std::int64_t v) { add(std::to_string(v)); }
};

void latency(JsonWriter& w, std::string_view name, const LatencySummary& l) {
    w.key(name).begin_object();
    w.kv("count", l.count).kv("sum_us", l.sum).kv("min_us", l.min).kv("max_us", l.max);
    w.kv("p50_us", l.p50).kv("p90_us", l.p90).kv("p99_us", l.p99);
    w.end_object();
}

void action(std::string& out, std::string_view op, const std::string& index, const std::string& id,
            std::uint64_t version = 0) {
    JsonWriter w(out);
    w.begin_object().key(op).begin_object().kv("_index", index).kv("_id", id);
    if (version) w.kv("version", version).kv("version_type", "external");
    w.end_object().end_object();
    out += '\n';
}

// Keys of rejected_by_class come from the network: escape them like values. JsonWriter::key
// takes trusted literals, so these go through escape_to.
void class_object(std::string& out, bool& first, const wire::ClassCounts& c) {
    if (!first) out += ',';
    first = false;
    out += "\"rejected_by_class\":{";
    bool f = true;
    for (const auto& [k, n] : c) {
        if (!f) out += ',';
        f = false;
        // ES treats '.' in field names as object paths; keep class names flat.
        std::string flat = k;
        std::replace(flat.begin(), flat.end(), '.', '_');
        if (flat.empty()) flat = "_";
        JsonWriter::escape_to(out, flat);
        out += ':';
        out += std::to_string(n);
    }
    out += '}';
}

}  // namespace

bool valid_id(std::string_view s) { return !wire::validate_id(s); }  // the bus schema's rule

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxIdBytes) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7F) return false;
    return true;
}

std::optional<std::string> check_storable(const wire::Message& m) {
    if (auto* s = std::get_if<wire::StatsInterval>(&m)) {
        if (!valid_id(s->run_id)) return "StatsInterval.run_id: empty, too long or not printable ASCII without '/'";
        if (!valid_id(s->beacon_id))
            return "StatsInterval.beacon_id: empty, too long or not printable ASCII without '/'";
        // A final interval may be 0 ms long (the run ended right at an interval boundary): its
        // counts still matter (the last replies, the cutoff).
        if ((s->interval_ms == 0 && !s->final) || s->interval_ms > 3'600'000)
            return "StatsInterval.interval_ms: not in 1..3600000 (0 only for a final interval)";
        if (s->interval_start_ms <= 0) return "StatsInterval.interval_start_ms: not positive";
        if (s->seq > static_cast<std::uint64_t>(INT64_MAX)) return "StatsInterval.seq: above 2^63-1";
        for (const auto& [k, n] : s->rejected_by_class)
            if (!valid_name(k)) return "StatsInterval.rejected_by_class: bad class name";
        return std::nullopt;
    }
    if (auto* e = std::get_if<wire::RunEvent>(&m)) {
        if (!e->run_id.empty() && !valid_id(e->run_id)) return "RunEvent.run_id: too long or not printable ASCII without '/'";
        if (!valid_name(e->source)) return "RunEvent.source: empty, too long or has control characters";
        if (e->text.size() > 64 * 1024) return "RunEvent.text: over 64 KiB";
        return std::nullopt;
    }
    if (auto* u = std::get_if<wire::UptimeResult>(&m)) {
        if (!valid_name(u->endpoint)) return "UptimeResult.endpoint: empty, too long or has control characters";
        if (u->unix_ms <= 0) return "UptimeResult.unix_ms: not positive";
        return std::nullopt;
    }
    return std::string("message type ") + std::string(wire::type_name(m)) + " is not for the collector";
}

std::uint64_t sparse_percentile(const SparseHistogram& h, double p) {
    std::uint64_t count = h.count();
    if (count == 0) return 0;
    if (!(p >= 0.0)) p = 0.0;
    if (p > 100.0) p = 100.0;
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count)));
    rank = std::clamp<std::uint64_t>(rank, 1, count);
    std::uint64_t seen = 0;
    for (const auto& [i, n] : h.buckets) {
        seen += n;
        if (seen >= rank) {
            std::uint64_t lo = Histogram::bucket_lower(i);
            std::uint64_t mid = lo + (Histogram::bucket_upper(i) - lo) / 2;
            return std::clamp(mid, h.min, h.max);
        }
    }
    return h.max;
}

std::uint64_t total_rejected(const wire::ClassCounts& c) {
    std::uint64_t t = 0;
    for (const auto& [k, n] : c) t += n;
    return t;
}

LatencySummary summarize(const SparseHistogram& h) {
    LatencySummary l;
    l.count = h.count();
    l.sum = h.sum;
    l.min = h.min;
    l.max = h.max;
    if (l.count == 0) return l;
    // Ranks as in Histogram::percentile, all three found in one walk.
    auto rank = [&](double p) {
        auto r = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(l.count)));
        return std::clamp<std::uint64_t>(r, 1, l.count);
    };
    const std::uint64_t ranks[3] = {rank(50), rank(90), rank(99)};
    std::uint64_t* out[3] = {&l.p50, &l.p90, &l.p99};
    std::size_t next = 0;
    std::uint64_t seen = 0;
    for (const auto& [i, n] : h.buckets) {
        seen += n;
        while (next < 3 && seen >= ranks[next]) {
            std::uint64_t lo = Histogram::bucket_lower(i);
            *out[next++] = std::clamp(lo + (Histogram::bucket_upper(i) - lo) / 2, h.min, h.max);
        }
        if (next == 3) break;
    }
    while (next < 3) *out[next++] = h.max;
    return l;
}

IntervalSummary summarize(const wire::StatsInterval& m) {
    return {total_rejected(m.rejected_by_class), summarize(m.acceptance_from_intended),
            summarize(m.acceptance_from_send), summarize(m.inclusion)};
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.resize((in.size() + 2) / 3 * 4);
    char* o = out.data();
    std::size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    for (; i + 2 < in.size(); i += 3) {
        std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
        *o++ = kAlphabet[v >> 18];
        *o++ = kAlphabet[(v >> 12) & 63];
        *o++ = kAlphabet[(v >> 6) & 63];
        *o++ = kAlphabet[v & 63];
    }
    if (i < in.size()) {
        std::uint32_t v = p[i] << 16;
        if (i + 1 < in.size()) v |= p[i + 1] << 8;
        *o++ = kAlphabet[v >> 18];
        *o++ = kAlphabet[(v >> 12) & 63];
        *o++ = i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return out;
}

std::string doc_id(const wire::StatsInterval& m) {
    return m.run_id + "/" + m.beacon_id + "/" + std::to_string(m.seq);
}
std::string doc_id(const wire::ClusterTotals& m) { return m.run_id + "/" + std::to_string(m.second_unix); }
std::string doc_id(const wire::RunEvent& m) {
    Fnv f;
    f.add(m.run_id);
    f.add(m.source);
    f.add(m.unix_ms);
    f.add(m.level);
    f.add(m.kind);
    f.add(m.text);
    return m.run_id + "/" + m.source + "/" + std::to_string(m.unix_ms) + "/" + hex16(f.h);
}
std::string doc_id(const wire::UptimeResult& m) { return m.endpoint + "/" + std::to_string(m.unix_ms); }

std::string iso8601_ms(std::int64_t unix_ms) {
    std::int64_t ms = unix_ms % 1000;
    std::int64_t secs = unix_ms / 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    // Howard Hinnant's civil_from_days.
    std::int64_t z = days + 719468;
    std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    std::int64_t doe = z - era * 146097;
    std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t y = yoe + era * 400;
    std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t mp = (5 * doy + 2) / 153;
    std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    std::int64_t mo = mp < 10 ? mp + 3 : mp - 9;
    if (mo <= 2) ++y;
    // Fixed-width digits without snprintf (this runs for every document).
    char buf[32] = "0000-00-00T00:00:00.000Z";
    auto put = [&](int pos, std::int64_t v, int width) {
        for (int k = width - 1; k >= 0; --k, v /= 10) buf[pos + k] = static_cast<char>('0' + v % 10);
    };
    if (y < 0 || y > 9999) return "0000-01-01T00:00:00.000Z";
    put(0, y, 4);
    put(5, mo, 2);
    put(8, d, 2);
    put(11, rem / 3600, 2);
    put(14, rem / 60 % 60, 2);
    put(17, rem % 60, 2);
    put(20, ms, 3);
    return std::string(buf, 24);
}

EsIndices::EsIndices(std::string_view prefix)
    : intervals(std::string(prefix) + "-intervals"),
      totals(std::string(prefix) + "-totals"),
      events(std::string(prefix) + "-events"),
      uptime(std::string(prefix) + "-uptime") {}

void append_bulk_item(std::string& out, const EsIndices& ix, const wire::StatsInterval& m) {
    append_bulk_item(out, ix, m, summarize(m), wire::encode(m));
}

void append_bulk_item(std::string& out, const EsIndices& ix, const wire::StatsInterval& m,
                      const IntervalSummary& sum, std::string_view frame) {
    action(out, "create", ix.intervals, doc_id(m));
    JsonWriter w(out);
    w.begin_object();
    w.kv("@timestamp", iso8601_ms(m.interval_start_ms));
    w.key("event").begin_object().kv("dataset", "bts.interval").kv("duration", m.interval_ms * 1'000'000).end_object();
    w.key("run").begin_object().kv("id", m.run_id).end_object();
    w.key("beacon").begin_object().kv("id", m.beacon_id).kv("seq", m.seq).kv("final", m.final).end_object();
    w.key("host").begin_object().kv("name", m.host);
    w.key("cpu").begin_object().kv("usage", m.host_cpu_pct / 100.0).end_object().end_object();
    w.key("process").begin_object();
    w.key("cpu").begin_object().kv("pct", m.proc_cpu_pct / 100.0).end_object();
    w.key("memory").begin_object().key("rss").begin_object().kv("bytes", m.rss_bytes).end_object().end_object();
    w.end_object();
    w.key("interval").begin_object().kv("start_ms", m.interval_start_ms).kv("ms", m.interval_ms).end_object();
    w.key("rate").begin_object().kv("configured", m.configured_rate);
    w.kv("achieved", m.interval_ms ? static_cast<double>(m.sent) * 1000.0 / static_cast<double>(m.interval_ms) : 0.0)
        .end_object();
    const std::uint64_t rejected = sum.rejected;
    w.key("tx").begin_object();
    w.kv("sent", m.sent).kv("accepted", m.accepted).kv("rejected", rejected);
    w.kv("late_sends", m.late_sends).kv("dropped_sends", m.dropped_sends).kv("in_flight", m.in_flight);
    w.kv("included", m.included_txs).kv("expired_unincluded", m.expired_unincluded);
    w.kv("unknown_outcome", m.unknown_outcome).kv("pending_at_cutoff", m.pending_at_cutoff);
    w.end_object();
    w.key("ops").begin_object().kv("included", m.included_ops).end_object();
    w.key("send").begin_object().kv("max_lag_us", m.max_send_lag_us).end_object();
    w.key("conn").begin_object();
    w.kv("connect_failures", m.connect_failures).kv("disconnects", m.disconnects);
    w.kv("timeouts", m.timeouts).kv("bad_replies", m.bad_replies).end_object();
    w.key("latency").begin_object();
    latency(w, "acceptance", sum.acceptance);
    latency(w, "acceptance_from_send", sum.acceptance_from_send);
    latency(w, "inclusion", sum.inclusion);
    w.end_object();
    w.key("wire").begin_object().kv("frame", base64(frame)).end_object();
    bool first = false;
    class_object(out, first, m.rejected_by_class);
    out += "}\n";
}

void append_bulk_item(std::string& out, const EsIndices& ix, const wire::ClusterTotals& m,
                      std::uint64_t version) {
    action(out, "index", ix.totals, doc_id(m), version == 0 ? 1 : version);
    JsonWriter w(out);
    w.begin_object();
    w.kv("@timestamp", iso8601_ms(m.second_unix * 1000));
    w.key("event").begin_object().kv("dataset", "bts.totals").end_object();
    w.key("run").begin_object().kv("id", m.run_id).end_object();
    w.kv("second_unix", m.second_unix).kv("beacons", m.beacons).kv("revision", version);
    w.key("rate").begin_object().kv("configured", m.configured_rate).end_object();
    w.key("tx").begin_object().kv("sent", m.sent).kv("accepted", m.accepted);
    w.kv("rejected", total_rejected(m.rejected_by_class)).kv("included", m.included_txs).end_object();
    w.key("ops").begin_object().kv("included", m.included_ops).end_object();
    w.key("latency").begin_object();
    w.key("acceptance").begin_object().kv("p50_us", m.acceptance_p50_us).kv("p90_us", m.acceptance_p90_us);
    w.kv("p99_us", m.acceptance_p99_us).kv("max_us", m.acceptance_max_us).end_object();
    w.key("inclusion").begin_object().kv("p50_us", m.inclusion_p50_us).kv("p99_us", m.inclusion_p99_us).end_object();
    w.end_object();
    bool first = false;
    class_object(out, first, m.rejected_by_class);
    out += "}\n";
}

void append_bulk_item(std::string& out, const EsIndices& ix, const wire::RunEvent& m) {
    action(out, "create", ix.events, doc_id(m));
    JsonWriter w(out);
    w.begin_object();
    w.kv("@timestamp", iso8601_ms(m.unix_ms));
    w.key("event").begin_object().kv("dataset", "bts.event").kv("action", m.kind).end_object();
    w.key("run").begin_object().kv("id", m.run_id).end_object();
    w.key("bts").begin_object().kv("source", m.source).end_object();
    w.key("log").begin_object().kv("level", m.level).end_object();
    w.kv("message", m.text);
    w.end_object();
    out += '\n';
}

void append_bulk_item(std::string& out, const EsIndices& ix, const wire::UptimeResult& m) {
    action(out, "create", ix.uptime, doc_id(m));
    // Heartbeat's names: monitor.status is "up"/"down"; the precise status is bts.uptime.status.
    bool up = m.status == wire::uptime_status::kUp || m.status == wire::uptime_status::kCertExpiring;
    JsonWriter w(out);
    w.begin_object();
    w.kv("@timestamp", iso8601_ms(m.unix_ms));
    w.key("event").begin_object().kv("dataset", "bts.uptime").end_object();
    w.key("monitor").begin_object().kv("id", m.endpoint).kv("name", m.endpoint).kv("type", m.kind);
    w.kv("status", up ? "up" : "down");
    w.key("duration").begin_object().kv("us", m.duration_us).end_object().end_object();
    w.key("summary").begin_object().kv("up", std::uint64_t{up ? 1u : 0u}).kv("down", std::uint64_t{up ? 0u : 1u}).end_object();
    w.key("url").begin_object().kv("full", m.url).end_object();
    w.key("resolve").begin_object().key("rtt").begin_object().kv("us", m.dns_us).end_object().end_object();
    w.key("tcp").begin_object().key("rtt").begin_object().key("connect").begin_object().kv("us", m.connect_us);
    w.end_object().end_object().end_object();
    w.key("tls").begin_object();
    w.key("rtt").begin_object().key("handshake").begin_object().kv("us", m.tls_us).end_object().end_object();
    if (m.cert_not_after_unix != 0) {
        w.key("server").begin_object().key("x509").begin_object();
        w.kv("not_after", iso8601_ms(m.cert_not_after_unix * 1000));
        w.key("issuer").begin_object().kv("distinguished_name", m.cert_issuer).end_object();
        w.key("subject").begin_object().kv("distinguished_name", m.cert_subject).end_object();
        w.end_object().end_object();
    }
    w.end_object();
    w.key("bts").begin_object().key("uptime").begin_object();
    w.kv("status", m.status).kv("ws_us", m.ws_us).kv("rpc_us", m.rpc_us);
    w.kv("head_block_num", m.head_block_num).kv("head_block_age_s", m.head_block_age_s);
    w.kv("chain_id", m.chain_id).kv("participation", m.participation);
    w.kv("cert_days_left", m.cert_days_left).kv("cert_name_matches", m.cert_name_matches);
    w.kv("cert_wildcard", m.cert_wildcard);
    w.end_object().end_object();
    if (!m.error.empty()) w.key("error").begin_object().kv("message", m.error).end_object();
    w.end_object();
    out += '\n';
}

std::vector<std::pair<std::string, std::string>> index_templates(std::string_view prefix) {
    using nlohmann::json;
    EsIndices ix(prefix);
    auto type = [](const char* t) { return json{{"type", t}}; };
    auto obj = [](json props) { return json{{"properties", std::move(props)}}; };
    json lat = obj({{"count", type("long")}, {"sum_us", type("long")}, {"min_us", type("long")},
                    {"max_us", type("long")}, {"p50_us", type("long")}, {"p90_us", type("long")},
                    {"p99_us", type("long")}});
    // Strings default to keyword (ids, names); rejection class counts are longs.
    json dynamic = json::array({
        json{{"rejections", {{"path_match", "rejected_by_class.*"}, {"mapping", type("long")}}}},
        json{{"strings_as_keywords", {{"match_mapping_type", "string"}, {"mapping", type("keyword")}}}},
    });
    json common = {{"@timestamp", type("date")},
                   {"event", obj({{"dataset", type("keyword")}, {"action", type("keyword")},
                                  {"duration", type("long")}})},
                   {"run", obj({{"id", type("keyword")}})}};

    json intervals = common;
    intervals["beacon"] = obj({{"id", type("keyword")}, {"seq", type("long")}, {"final", type("boolean")}});
    intervals["host"] = obj({{"name", type("keyword")}, {"cpu", obj({{"usage", type("double")}})}});
    intervals["process"] = obj({{"cpu", obj({{"pct", type("double")}})},
                                {"memory", obj({{"rss", obj({{"bytes", type("long")}})}})}});
    intervals["interval"] = obj({{"start_ms", type("long")}, {"ms", type("long")}});
    intervals["rate"] = obj({{"configured", type("double")}, {"achieved", type("double")}});
    intervals["tx"] = obj({{"sent", type("long")}, {"accepted", type("long")}, {"rejected", type("long")},
                           {"late_sends", type("long")}, {"dropped_sends", type("long")},
                           {"in_flight", type("long")}, {"included", type("long")},
                           {"expired_unincluded", type("long")}, {"unknown_outcome", type("long")},
                           {"pending_at_cutoff", type("long")}});
    intervals["ops"] = obj({{"included", type("long")}});
    intervals["send"] = obj({{"max_lag_us", type("long")}});
    intervals["conn"] = obj({{"connect_failures", type("long")}, {"disconnects", type("long")},
                             {"timeouts", type("long")}, {"bad_replies", type("long")}});
    intervals["latency"] = obj({{"acceptance", lat}, {"acceptance_from_send", lat}, {"inclusion", lat}});
    // The wire frame (base64): exact histograms, mergeable offline with bts::wire::decode.
    intervals["wire"] = obj({{"frame", type("binary")}});
    intervals["rejected_by_class"] = json{{"type", "object"}, {"dynamic", true}};

    json totals = common;
    totals["second_unix"] = type("long");
    totals["beacons"] = type("long");
    totals["revision"] = type("long");
    totals["rate"] = obj({{"configured", type("double")}});
    totals["tx"] = obj({{"sent", type("long")}, {"accepted", type("long")}, {"rejected", type("long")},
                        {"included", type("long")}});
    totals["ops"] = obj({{"included", type("long")}});
    totals["latency"] = obj({{"acceptance", obj({{"p50_us", type("long")}, {"p90_us", type("long")},
                                                  {"p99_us", type("long")}, {"max_us", type("long")}})},
                             {"inclusion", obj({{"p50_us", type("long")}, {"p99_us", type("long")}})}});
    totals["rejected_by_class"] = json{{"type", "object"}, {"dynamic", true}};

    json events = common;
    events["bts"] = obj({{"source", type("keyword")}});
    events["log"] = obj({{"level", type("keyword")}});
    events["message"] = type("text");

    json uptime = common;
    uptime["monitor"] = obj({{"id", type("keyword")}, {"name", type("keyword")}, {"type", type("keyword")},
                             {"status", type("keyword")}, {"duration", obj({{"us", type("long")}})}});
    uptime["summary"] = obj({{"up", type("long")}, {"down", type("long")}});
    uptime["url"] = obj({{"full", type("keyword")}});
    uptime["resolve"] = obj({{"rtt", obj({{"us", type("long")}})}});
    uptime["tcp"] = obj({{"rtt", obj({{"connect", obj({{"us", type("long")}})}})}});
    uptime["tls"] = obj(
        {{"rtt", obj({{"handshake", obj({{"us", type("long")}})}})},
         {"server", obj({{"x509", obj({{"not_after", type("date")},
                                       {"issuer", obj({{"distinguished_name", type("keyword")}})},
                                       {"subject", obj({{"distinguished_name", type("keyword")}})}})}})}});
    uptime["bts"] = obj({{"uptime", obj({{"status", type("keyword")}, {"ws_us", type("long")},
                                         {"rpc_us", type("long")}, {"head_block_num", type("long")},
                                         {"head_block_age_s", type("double")}, {"chain_id", type("keyword")},
                                         {"participation", type("double")}, {"cert_days_left", type("long")},
                                         {"cert_name_matches", type("boolean")},
                                         {"cert_wildcard", type("boolean")}})}});
    uptime["error"] = obj({{"message", type("text")}});

    auto make = [&](const std::string& index, json props) {
        json body = {{"index_patterns", json::array({index + "*"})},
                     {"priority", 200},
                     {"template",
                      {{"settings", {{"number_of_shards", 1}}},
                       {"mappings", {{"dynamic_templates", dynamic}, {"properties", std::move(props)}}}}},
                     {"_meta", {{"managed_by", "bts-collector"}, {"schema_version", 1}}}};
        return std::pair{index, body.dump()};
    };
    return {make(ix.intervals, std::move(intervals)), make(ix.totals, std::move(totals)),
            make(ix.events, std::move(events)), make(ix.uptime, std::move(uptime))};
}

namespace {
nlohmann::json hist_json(const SparseHistogram& h) {
    nlohmann::json b = nlohmann::json::array();
    for (const auto& [i, n] : h.buckets) b.push_back({i, n});
    return {{"count", h.count()}, {"min", h.min}, {"max", h.max}, {"sum", h.sum}, {"overflow", h.overflow},
            {"p50", sparse_percentile(h, 50)}, {"p99", sparse_percentile(h, 99)}, {"buckets", std::move(b)}};
}
}  // namespace

std::string message_json(const wire::Message& msg) {
    using nlohmann::json;
    json j;
    j["type"] = std::string(wire::type_name(msg));
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, wire::StatsInterval>) {
                j.update({{"run_id", m.run_id}, {"beacon_id", m.beacon_id}, {"host", m.host}, {"seq", m.seq},
                          {"interval_start_ms", m.interval_start_ms}, {"interval_ms", m.interval_ms},
                          {"configured_rate", m.configured_rate}, {"sent", m.sent}, {"accepted", m.accepted},
                          {"rejected_by_class", m.rejected_by_class}, {"late_sends", m.late_sends},
                          {"dropped_sends", m.dropped_sends}, {"max_send_lag_us", m.max_send_lag_us},
                          {"connect_failures", m.connect_failures}, {"disconnects", m.disconnects},
                          {"timeouts", m.timeouts}, {"bad_replies", m.bad_replies}, {"in_flight", m.in_flight},
                          {"included_txs", m.included_txs}, {"included_ops", m.included_ops},
                          {"expired_unincluded", m.expired_unincluded},
                          {"unknown_outcome", m.unknown_outcome}, {"pending_at_cutoff", m.pending_at_cutoff},
                          {"acceptance_from_intended", hist_json(m.acceptance_from_intended)},
                          {"acceptance_from_send", hist_json(m.acceptance_from_send)},
                          {"inclusion", hist_json(m.inclusion)}, {"host_cpu_pct", m.host_cpu_pct},
                          {"proc_cpu_pct", m.proc_cpu_pct}, {"rss_bytes", m.rss_bytes}, {"final", m.final}});
            } else if constexpr (std::is_same_v<T, wire::ClusterTotals>) {
                j.update({{"run_id", m.run_id}, {"second_unix", m.second_unix}, {"beacons", m.beacons},
                          {"configured_rate", m.configured_rate}, {"sent", m.sent}, {"accepted", m.accepted},
                          {"rejected_by_class", m.rejected_by_class}, {"included_txs", m.included_txs},
                          {"included_ops", m.included_ops}, {"acceptance_p50_us", m.acceptance_p50_us},
                          {"acceptance_p90_us", m.acceptance_p90_us}, {"acceptance_p99_us", m.acceptance_p99_us},
                          {"acceptance_max_us", m.acceptance_max_us}, {"inclusion_p50_us", m.inclusion_p50_us},
                          {"inclusion_p99_us", m.inclusion_p99_us}});
            } else if constexpr (std::is_same_v<T, wire::RunEvent>) {
                j.update({{"run_id", m.run_id}, {"source", m.source}, {"unix_ms", m.unix_ms},
                          {"level", m.level}, {"kind", m.kind}, {"text", m.text}});
            } else if constexpr (std::is_same_v<T, wire::UptimeResult>) {
                j.update({{"endpoint", m.endpoint}, {"url", m.url}, {"kind", m.kind}, {"status", m.status},
                          {"unix_ms", m.unix_ms}, {"duration_us", m.duration_us}, {"dns_us", m.dns_us},
                          {"connect_us", m.connect_us}, {"tls_us", m.tls_us}, {"ws_us", m.ws_us},
                          {"rpc_us", m.rpc_us}, {"head_block_num", m.head_block_num},
                          {"head_block_age_s", m.head_block_age_s}, {"chain_id", m.chain_id},
                          {"participation", m.participation}, {"cert_not_after_unix", m.cert_not_after_unix},
                          {"cert_days_left", m.cert_days_left}, {"cert_issuer", m.cert_issuer},
                          {"cert_subject", m.cert_subject}, {"cert_name_matches", m.cert_name_matches},
                          {"cert_wildcard", m.cert_wildcard}, {"error", m.error}});
            } else if constexpr (std::is_same_v<T, wire::Heartbeat>) {
                j.update({{"sender_id", m.sender_id}, {"seq", m.seq}, {"unix_ms", m.unix_ms},
                          {"state", m.state}, {"run_id", m.run_id}, {"achieved_rate", m.achieved_rate}});
            } else if constexpr (std::is_same_v<T, wire::BeaconHello>) {
                j.update({{"beacon_id", m.beacon_id}, {"host", m.host}, {"version", m.version}, {"pid", m.pid},
                          {"capabilities", m.capabilities}});
            } else if constexpr (std::is_same_v<T, wire::Command>) {
                j.update({{"run_id", m.run_id}, {"seq", m.seq}, {"target", m.target}, {"kind", m.kind},
                          {"payload", m.payload}});
            } else if constexpr (std::is_same_v<T, wire::CommandAck>) {
                j.update({{"beacon_id", m.beacon_id}, {"run_id", m.run_id}, {"seq", m.seq}, {"ok", m.ok},
                          {"error", m.error}});
            }
        },
        msg);
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bts::collector
