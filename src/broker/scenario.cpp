// Scenario parsing, validation, the rate schedule and per-beacon run configs (see scenario.hpp).
#include "broker/scenario.hpp"

#include "actors/beacon/run_config.hpp"
#include "common/util/log.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace bts::broker {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kMaxRate = 10'000'000.0;  // the beacon's own limit, over all beacons
constexpr Duration kMaxDuration = std::chrono::hours(24 * 7);

double secs(Duration d) { return std::chrono::duration<double>(d).count(); }

// A rate-valued key: a number (0 allowed if allow_zero) or rate text ("2k", "500/s",
// "unlimited" if allow_unlimited). Unlimited is returned as 0.
double get_rate_value(const util::TomlTable& t, std::string_view key, bool allow_zero,
                      bool allow_unlimited) {
    double v = 0.0;
    bool is_text = false;
    try {
        v = t.get_double(key, 0.0);
    } catch (const util::ConfigError&) {
        is_text = true;
    }
    if (is_text) {
        util::Rate r = t.get_rate(key, util::Rate::unlimited());
        if (r.is_unlimited() && !allow_unlimited) t.fail(key, "\"unlimited\" is allowed only in hold phases");
        v = r.per_second;
    } else if (!std::isfinite(v) || v < 0) {
        t.fail(key, "must not be negative");
    } else if (v == 0 && !allow_zero) {
        t.fail(key, allow_unlimited ? "must be positive (write \"unlimited\" for no limit)"
                                    : "must be positive");
    }
    if (v > kMaxRate) t.fail(key, "must be at most 10M/s");
    return v;
}

Duration require_duration(const util::TomlTable& t, std::string_view key) {
    if (!t.contains(key)) t.fail(key, "missing (required)");
    Duration d = t.get_duration(key, Duration::zero());
    if (d < milliseconds(100)) t.fail(key, "must be at least 100ms");
    if (d > kMaxDuration) t.fail(key, "must be at most 7 days");
    return d;
}

std::string format_double(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s += '0';
    return s;
}

// The value of `key` as TOML value text, whatever its TOML type (string, integer, float, bool).
std::string value_text(const util::TomlTable& t, std::string_view key) {
    try {
        return toml_quote(t.get_string(key, ""));
    } catch (const util::ConfigError&) {
    }
    try {
        return std::to_string(t.get_int(key, 0));
    } catch (const util::ConfigError&) {
    }
    try {
        return format_double(t.get_double(key, 0.0));
    } catch (const util::ConfigError&) {
    }
    return t.get_bool(key, false) ? "true" : "false";
}

// "3" or "1..5" of counts.
bool valid_count_range(std::string_view text, std::uint64_t min, std::uint64_t max) {
    auto dots = text.find("..");
    auto lo = util::parse_count(text.substr(0, dots));
    auto hi = dots == std::string_view::npos ? lo : util::parse_count(text.substr(dots + 2));
    return lo && hi && *lo >= min && *hi <= max && *lo <= *hi;
}

struct DevnetRange {
    std::string prefix;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

// "devnet:stress-0..stress-59" → {"stress-", 0, 59}.
std::optional<DevnetRange> parse_devnet_range(std::string_view source) {
    if (!source.starts_with("devnet:")) return std::nullopt;
    std::string_view spec = source.substr(7);
    auto dots = spec.find("..");
    if (dots == std::string_view::npos) return std::nullopt;
    auto split = [](std::string_view s) -> std::optional<std::pair<std::string, std::uint64_t>> {
        std::size_t d = s.size();
        while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9') --d;
        if (d == s.size() || s.size() - d > 9) return std::nullopt;
        std::uint64_t n = 0;
        std::from_chars(s.data() + d, s.data() + s.size(), n);
        return std::pair{std::string(s.substr(0, d)), n};
    };
    auto a = split(spec.substr(0, dots));
    auto b = split(spec.substr(dots + 2));
    if (!a || !b || a->first != b->first || b->second < a->second) return std::nullopt;
    return DevnetRange{a->first, a->second, b->second};
}

const std::vector<std::string_view> kMixKeys = {"transfer", "limit_order_create",
                                                 "limit_order_cancel"};

// [tx] goes to every beacon verbatim as [beacon.tx]: it is read here with the beacon's own
// parsers and checks (RunConfig), so what a beacon would refuse at prepare time (order_price =
// "-5s") is refused at load, against the scenario's own key (tx.order_price).
void check_tx_as_beacon(const util::TomlTable& tx, const Scenario& s) {
    if (s.tx.empty()) return;
    std::ostringstream text;
    // The rest of a beacon config is filler that passes: only beacon.tx.* errors are the scenario's.
    text << "[beacon]\nnodes = [\"ws://127.0.0.1:1\"]\naccounts = \"devnet:stress-0..stress-1\"\n";
    text << "[beacon.mix]\n";
    for (const auto& [k, v] : s.mix) text << k << " = " << format_double(v) << "\n";
    text << "[beacon.tx]\n";
    for (const auto& [k, v] : s.tx) text << k << " = " << v << "\n";
    try {
        const auto cfg = beacon::RunConfig::from_toml(util::TomlDoc::parse(text.str(), ""));
        cfg.validate();
    } catch (const util::ConfigError& e) {
        constexpr std::string_view kPrefix = "beacon.tx.";
        if (e.key().starts_with(kPrefix)) tx.fail(std::string_view(e.key()).substr(kPrefix.size()), e.reason());
    }
}

}  // namespace

std::string toml_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string rate_text(double rate) {
    if (rate <= 0.0) return "\"unlimited\"";
    return format_double(rate);
}

Scenario Scenario::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"scenario", "beacons", "target", "mix", "tx", "accounts", "sending",
                             "phase"});
    Scenario s;
    s.origin = doc.source();

    util::TomlTable sc = doc.table("scenario");
    if (!sc.exists()) doc.fail("scenario", "required: a [scenario] table with at least a name");
    sc.reject_unknown_keys({"name", "description", "duration", "rate", "budget", "seed"});
    s.name = sc.require_string("name");
    s.description = sc.get_string("description", "");
    s.budget = sc.get_size("budget", 0);
    s.seed = static_cast<std::uint64_t>(sc.get_int("seed", 1, 0));
    std::optional<Duration> duration;
    if (sc.contains("duration")) duration = require_duration(sc, "duration");
    std::optional<double> rate;
    if (sc.contains("rate")) rate = get_rate_value(sc, "rate", false, true);

    util::TomlTable b = doc.table("beacons");
    b.reject_unknown_keys({"count", "min", "group"});
    s.beacon_count = static_cast<std::uint32_t>(b.get_int("count", 0, 0, 100'000));
    s.min_beacons = static_cast<std::uint32_t>(b.get_int("min", 1, 1, 100'000));
    s.group = b.get_string("group", "");

    util::TomlTable t = doc.table("target");
    t.reject_unknown_keys({"nodes", "assignment"});
    if (t.contains("nodes")) {
        try {
            s.nodes = t.get_string_array("nodes");
        } catch (const util::ConfigError&) {
            s.nodes = {t.get_string("nodes", "")};
        }
    }
    std::string assignment = t.get_string("assignment", "spread");
    if (assignment == "spread") {
        s.assignment = Assignment::kSpread;
    } else if (assignment == "one-node") {
        s.assignment = Assignment::kOneNode;
    } else {
        t.fail("assignment", "expected \"spread\" or \"one-node\", got \"" + assignment + "\"");
    }

    util::TomlTable m = doc.table("mix");
    if (m.exists()) {
        m.reject_unknown_keys({"transfer", "limit_order_create", "limit_order_cancel"});
        s.mix.clear();
        for (auto key : kMixKeys) {
            if (m.contains(key)) s.mix[std::string(key)] = m.get_double(key, 0.0, 0.0, 1e9);
        }
    }

    util::TomlTable tx = doc.table("tx");
    tx.reject_unknown_keys({"ops_per_tx", "target_size", "transfer_amount", "order_amount",
                            "order_price", "sell_asset", "receive_asset", "order_lifetime"});
    for (const auto& key : tx.keys()) s.tx[key] = value_text(tx, key);
    if (tx.contains("ops_per_tx")) {
        std::string text = s.tx["ops_per_tx"];
        if (text.front() == '"') text = text.substr(1, text.size() - 2);
        if (!valid_count_range(text, 1, 1000)) {
            tx.fail("ops_per_tx", "expected N or MIN..MAX within 1..1000, got \"" + text + "\"");
        }
    }
    if (tx.contains("target_size")) {
        // 64 MiB is the beacon's own ceiling; docs/scenarios.md explains the chain's limits.
        tx.get_size("target_size", 0, 0, 64ull << 20);
    }
    for (const char* key : {"transfer_amount", "order_amount"}) {
        if (!tx.contains(key)) continue;
        std::string text = s.tx[key];
        if (text.front() == '"') text = text.substr(1, text.size() - 2);
        if (!valid_count_range(text, 1, std::numeric_limits<std::int64_t>::max() / 2)) {
            tx.fail(key, "expected N or MIN..MAX of positive amounts, got \"" + text + "\"");
        }
    }
    if (tx.contains("order_lifetime")) {
        bool never = false;
        try {
            never = tx.get_string("order_lifetime", "") == "never";
        } catch (const util::ConfigError&) {
        }
        if (!never) tx.get_duration("order_lifetime", Duration::zero(), seconds(1));
    }
    check_tx_as_beacon(tx, s);

    util::TomlTable a = doc.table("accounts");
    a.reject_unknown_keys({"source", "split"});
    s.accounts = a.get_string("source", s.accounts);
    s.split_accounts = a.get_bool("split", s.split_accounts);
    if (!s.accounts.starts_with("devnet:") && !s.accounts.starts_with("file:")) {
        a.fail("source", "expected \"devnet:NAME-A..NAME-B\" or \"file:PATH\", got \"" +
                             s.accounts + "\"");
    }
    if (s.accounts.starts_with("devnet:") && s.split_accounts &&
        !parse_devnet_range(s.accounts)) {
        a.fail("source", "split = true needs a range such as \"devnet:stress-0..stress-59\"");
    }

    util::TomlTable se = doc.table("sending");
    se.reject_unknown_keys({"connections_per_node", "window", "request_timeout", "tx_lifetime",
                            "prepare_ahead", "broadcast_api"});
    for (const auto& key : se.keys()) s.sending[key] = value_text(se, key);
    if (se.contains("connections_per_node")) se.get_int("connections_per_node", 1, 1, 256);
    if (se.contains("window")) se.get_int("window", 1, 1, 1'000'000);
    for (const char* key : {"request_timeout", "tx_lifetime", "prepare_ahead"}) {
        if (se.contains(key)) se.get_duration(key, Duration::zero(), milliseconds(10));
    }

    auto phases = doc.get_table_array("phase");
    for (const auto& p : phases) {
        p.reject_unknown_keys({"kind", "rate", "from", "to", "step", "duration", "step_duration"});
        std::string kind = p.require_string("kind");
        Phase ph;
        if (kind == "hold") {
            ph.kind = PhaseKind::kHold;
            if (p.contains("rate")) {
                ph.to = get_rate_value(p, "rate", false, true);
            } else if (rate) {
                ph.to = *rate;
            } else {
                p.fail("rate", "missing (required, or give scenario.rate)");
            }
            ph.from = ph.to;
            ph.duration = require_duration(p, "duration");
        } else if (kind == "ramp") {
            ph.kind = PhaseKind::kRamp;
            if (!p.contains("from")) p.fail("from", "missing (required)");
            if (!p.contains("to")) p.fail("to", "missing (required)");
            ph.from = get_rate_value(p, "from", true, false);
            ph.to = get_rate_value(p, "to", false, false);
            ph.duration = require_duration(p, "duration");
        } else if (kind == "step") {
            ph.kind = PhaseKind::kStep;
            for (const char* key : {"from", "to", "step"}) {
                if (!p.contains(key)) p.fail(key, "missing (required)");
            }
            ph.from = get_rate_value(p, "from", false, false);
            ph.to = get_rate_value(p, "to", false, false);
            ph.step = get_rate_value(p, "step", false, false);
            if (ph.to < ph.from) p.fail("to", "must not be below from");
            ph.step_duration = require_duration(p, "step_duration");
            if (p.contains("duration")) p.fail("duration", "a step phase lasts (steps × step_duration): give step_duration");
            auto steps = static_cast<std::int64_t>(std::floor((ph.to - ph.from) / ph.step + 1e-9)) + 1;
            if (steps > 10'000) p.fail("step", "more than 10000 steps");
            ph.duration = ph.step_duration * steps;
        } else {
            p.fail("kind", "expected \"hold\", \"ramp\" or \"step\", got \"" + kind + "\"");
        }
        s.phases.push_back(ph);
    }
    if (s.phases.empty()) {
        if (!rate) sc.fail("rate", "missing (required when there is no [[phase]])");
        if (!duration) sc.fail("duration", "missing (required when there is no [[phase]])");
        s.phases.push_back(Phase{PhaseKind::kHold, *duration, *rate, *rate, 0.0, {}});
    } else if (duration) {
        Duration total = s.total_duration();
        if (duration_cast<milliseconds>(total) != duration_cast<milliseconds>(*duration)) {
            sc.fail("duration", util::format_duration(*duration) + " does not match the phases' total " +
                                    util::format_duration(total) + " (leave it out, or fix the phases)");
        }
    }
    return s;
}

void Scenario::validate() const {
    using util::check_config;
    check_config(!name.empty() && name.size() <= 64 &&
                     name.find_first_of(" \t\r\n/\\\"") == std::string::npos,
                 "scenario.name", "must be 1..64 characters without spaces, slashes or quotes");
    check_config(total_duration() <= kMaxDuration, "scenario.duration", "must be at most 7 days");
    check_config(beacon_count == 0 || beacon_count >= min_beacons, "beacons.count",
                 "must be 0 (all) or at least beacons.min");
    check_config(!nodes.empty(), "target.nodes",
                 "at least one node URL is needed (or give --nodes to bts-ctl start)");
    for (const auto& n : nodes) {
        check_config(n.starts_with("ws://") || n.starts_with("wss://"), "target.nodes",
                     "\"" + util::redact_url(n) + "\": must start with ws:// or wss://");
    }
    double total = 0;
    for (const auto& [k, w] : mix) total += w;
    check_config(total > 0, "mix", "at least one operation weight must be positive");
    if (mix.contains("limit_order_create") && mix.at("limit_order_create") > 0) {
        auto sell = tx.find("sell_asset");
        auto receive = tx.find("receive_asset");
        if (sell != tx.end() && receive != tx.end()) {
            check_config(sell->second != receive->second, "tx.receive_asset",
                         "must differ from sell_asset");
        }
    }
    bool unlimited = false;
    for (const auto& p : phases) unlimited = unlimited || (p.kind == PhaseKind::kHold && p.to == 0);
    if (unlimited) {
        check_config(budget > 0 || total_duration() <= std::chrono::hours(24), "scenario.budget",
                     "an unlimited run longer than 24h needs a budget");
    }
}

Scenario Scenario::parse(std::string_view text, std::string origin) {
    util::TomlDoc doc = util::TomlDoc::parse(text, std::move(origin));
    return util::build_config<Scenario>(doc);
}

Scenario Scenario::load(const std::string& path) {
    util::TomlDoc doc = util::load_toml(path);
    return util::build_config<Scenario>(doc);
}

void Scenario::override_duration(Duration total) {
    if (total < milliseconds(100) || total > kMaxDuration) {
        throw util::ConfigError("--duration", "scenario.duration", "must be within 100ms..7d");
    }
    const double f = secs(total) / secs(total_duration());
    auto scale = [f](Duration d) {
        return duration_cast<Duration>(
            milliseconds(static_cast<std::int64_t>(std::llround(secs(d) * f * 1000.0))));
    };
    for (auto& p : phases) {
        if (p.kind == PhaseKind::kStep) {
            auto steps = p.duration / p.step_duration;
            p.step_duration = std::max<Duration>(scale(p.step_duration), milliseconds(100));
            p.duration = p.step_duration * steps;
        } else {
            p.duration = std::max<Duration>(scale(p.duration), milliseconds(100));
        }
    }
}

void Scenario::override_nodes(std::vector<std::string> urls) {
    for (const auto& n : urls) {
        if (!n.starts_with("ws://") && !n.starts_with("wss://")) {
            throw util::ConfigError("--nodes", "target.nodes",
                                    "\"" + util::redact_url(n) + "\": must start with ws:// or wss://");
        }
    }
    if (urls.empty()) throw util::ConfigError("--nodes", "target.nodes", "no node given");
    nodes = std::move(urls);
}

Duration Scenario::total_duration() const {
    Duration total{};
    for (const auto& p : phases) total += p.duration;
    return total;
}

std::vector<Segment> Scenario::segments() const {
    std::vector<Segment> out;
    Duration at{};
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const Phase& p = phases[i];
        switch (p.kind) {
            case PhaseKind::kHold:
                out.push_back({at, p.duration, p.to, i});
                break;
            case PhaseKind::kRamp: {
                // One segment per second; the k-th of n runs at from + (to-from)·(k+1)/n, so
                // the ramp never sits at `from` (0 would mean unlimited) and ends at `to`.
                const Duration second = seconds(1);
                const auto n = std::max<std::int64_t>(1, (p.duration + second - Duration(1)) / second);
                for (std::int64_t k = 0; k < n; ++k) {
                    Duration start = second * k;
                    Duration len = std::min(second, p.duration - start);
                    double r = p.from + (p.to - p.from) * static_cast<double>(k + 1) / static_cast<double>(n);
                    out.push_back({at + start, len, r, i});
                }
                break;
            }
            case PhaseKind::kStep: {
                const auto n = p.duration / p.step_duration;
                for (std::int64_t k = 0; k < n; ++k) {
                    double r = std::min(p.to, p.from + p.step * static_cast<double>(k));
                    out.push_back({at + p.step_duration * k, p.step_duration, r, i});
                }
                break;
            }
        }
        at += p.duration;
    }
    return out;
}

double Scenario::rate_at(Duration t) const {
    auto segs = segments();
    if (segs.empty()) return 0.0;
    for (const auto& s : segs) {
        if (t < s.start + s.length) return s.rate;
    }
    return segs.back().rate;
}

std::optional<double> Scenario::planned_transactions() const {
    double total = 0;
    for (const auto& s : segments()) {
        if (s.rate <= 0) return std::nullopt;
        total += s.rate * secs(s.length);
    }
    return total;
}

bool Scenario::has_rate_changes() const {
    auto segs = segments();
    return std::any_of(segs.begin(), segs.end(),
                       [&](const Segment& s) { return s.rate != segs.front().rate; });
}

std::vector<double> split_rate(double total, std::size_t n) {
    std::vector<double> out(n, 0.0);
    if (n == 0 || total <= 0) return out;
    const auto milli = static_cast<std::uint64_t>(std::llround(total * 1000.0));
    const std::uint64_t base = milli / n;
    const std::uint64_t rem = milli % n;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t share = base + (i < rem ? 1 : 0);
        out[i] = static_cast<double>(std::max<std::uint64_t>(share, 1)) / 1000.0;
    }
    return out;
}

std::uint64_t count_share(std::uint64_t total, std::size_t k, std::size_t n) {
    if (n == 0) return 0;
    return total / n + (k < total % n ? 1 : 0);
}

std::size_t pick_node(Assignment a, const std::vector<std::size_t>& load) {
    if (a == Assignment::kOneNode || load.empty()) return 0;
    return static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
}

std::string account_slice(const std::string& source, bool split, std::size_t k, std::size_t n) {
    if (!split || n == 0) return source;
    auto range = parse_devnet_range(source);
    if (!range) return source;
    const std::uint64_t count = range->last - range->first + 1;
    std::uint64_t first = 0;
    std::uint64_t len = 1;
    if (count >= n) {
        k %= n;  // a late joiner beyond the starting beacons shares a slice
        const std::uint64_t per = count / n;
        const std::uint64_t extra = count % n;
        first = range->first + k * per + std::min<std::uint64_t>(k, extra);
        len = per + (k < extra ? 1 : 0);
    } else {
        first = range->first + k % count;
    }
    std::string out = "devnet:" + range->prefix + std::to_string(first);
    if (len > 1) out += ".." + range->prefix + std::to_string(first + len - 1);
    return out;
}

std::string beacon_run_config(const Scenario& s, const BeaconAssignment& a) {
    std::ostringstream o;
    o << "# Run config of beacon " << a.beacon_id << " for run " << a.run_id << " (scenario "
      << s.name << "), made by bts-broker.\n";
    o << "[beacon]\n";
    o << "id = " << toml_quote(a.beacon_id) << "\n";
    o << "run_id = " << toml_quote(a.run_id) << "\n";
    o << "nodes = [" << toml_quote(a.node) << "]\n";
    o << "rate = " << rate_text(a.rate) << "\n";
    o << "duration = " << toml_quote(util::format_duration(a.duration)) << "\n";
    if (a.budget > 0) o << "budget = " << a.budget << "\n";
    o << "accounts = " << toml_quote(a.accounts) << "\n";
    o << "seed = " << a.seed << "\n";
    for (const auto& [k, v] : s.sending) o << k << " = " << v << "\n";
    for (const auto& seg : a.schedule) {
        o << "\n[[beacon.segment]]\n";
        o << "duration = " << toml_quote(util::format_duration(seg.length)) << "\n";
        o << "rate = " << rate_text(seg.rate) << "\n";
        if (seg.count) o << "count = " << *seg.count << "\n";
    }
    o << "\n[beacon.mix]\n";
    for (auto key : kMixKeys) {
        auto it = s.mix.find(std::string(key));
        o << key << " = " << format_double(it == s.mix.end() ? 0.0 : it->second) << "\n";
    }
    if (!s.tx.empty()) {
        o << "\n[beacon.tx]\n";
        for (const auto& [k, v] : s.tx) o << k << " = " << v << "\n";
    }
    o << "\n[beacon.stats]\n";
    o << "interval = \"1s\"\n";
    if (!a.stats_sinks.empty()) {
        o << "sinks = [";
        for (std::size_t i = 0; i < a.stats_sinks.size(); ++i) {
            o << (i ? ", " : "") << toml_quote(a.stats_sinks[i]);
        }
        o << "]\n";
    }
    return o.str();
}

}  // namespace bts::broker
