// RunConfig: TOML reading, defaults and cross-field validation for one beacon run.
#include "actors/beacon/run_config.hpp"

#include "common/crypto/keys.hpp"
#include "common/util/log.hpp"
#include "common/wire.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace bts::beacon {

InlineKey::~InlineKey() {
    if (!wif.empty()) crypto::secure_wipe(wif.data(), wif.size());
}

namespace {

std::pair<std::string_view, std::string_view> split_range(std::string_view text) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
        return s;
    };
    text = trim(text);
    if (auto dots = text.find(".."); dots != std::string_view::npos)
        return {trim(text.substr(0, dots)), trim(text.substr(dots + 2))};
    return {text, text};
}

bool parse_double(std::string_view s, double& out) {
    if (s.empty()) return false;
    std::string copy(s);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(copy.c_str(), &end);
    return errno == 0 && end == copy.c_str() + copy.size() && std::isfinite(out);
}

Int64Range get_range(const util::TomlTable& t, std::string_view key, Int64Range fallback) {
    if (!t.contains(key)) return fallback;
    std::string text;
    try {
        text = t.get_string(key, "");
    } catch (const util::ConfigError&) {
        auto v = t.get_int(key, 0, 0);  // a plain integer: a fixed value
        return {v, v};
    }
    auto r = parse_int_range(text);
    if (!r) t.fail(key, r.error());
    return *r;
}

}  // namespace

util::Result<Int64Range> parse_int_range(std::string_view text) {
    auto [lo, hi] = split_range(text);
    auto a = util::parse_count(lo);
    if (!a) return util::Error{a.error()};
    auto b = util::parse_count(hi);
    if (!b) return util::Error{b.error()};
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2);
    if (*a > kMax || *b > kMax) return util::Error{"\"" + std::string(text) + "\": too large"};
    if (*b < *a) return util::Error{"\"" + std::string(text) + "\": upper bound below lower bound"};
    return Int64Range{static_cast<std::int64_t>(*a), static_cast<std::int64_t>(*b)};
}

util::Result<std::pair<double, double>> parse_double_range(std::string_view text) {
    auto [lo, hi] = split_range(text);
    double a = 0, b = 0;
    if (!parse_double(lo, a) || !parse_double(hi, b))
        return util::Error{"\"" + std::string(text) + "\": expected a number or \"MIN..MAX\""};
    if (b < a) return util::Error{"\"" + std::string(text) + "\": upper bound below lower bound"};
    return std::pair{a, b};
}

RunConfig RunConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"beacon", "log", "broker"});  // [broker]: main.cpp
    RunConfig c;
    c.origin = doc.source();
    util::TomlTable b = doc.table("beacon");
    b.reject_unknown_keys({"id", "run_id", "nodes", "connections_per_node", "tls_verify", "ca_file",
                           "broadcast_api", "rate", "duration", "budget", "accounts", "key", "seed",
                           "mix", "tx", "window", "request_timeout", "connect_timeout",
                           "late_threshold", "tx_lifetime", "start_allowance", "drain_timeout",
                           "prepare_ahead", "prepare_threads", "stats", "check_keys", "segment"});
    c.beacon_id = b.get_string("id", c.beacon_id);
    c.run_id = b.get_string("run_id", c.run_id);
    if (b.contains("nodes")) {
        // A single URL may be given as a string (e.g. from --node on the command line).
        try {
            c.nodes = b.get_string_array("nodes");
        } catch (const util::ConfigError&) {
            c.nodes = {b.get_string("nodes", "")};
        }
    }
    c.connections_per_node =
        static_cast<std::uint32_t>(b.get_int("connections_per_node", c.connections_per_node, 1, 256));
    c.tls_verify = b.get_bool("tls_verify", c.tls_verify);
    c.ca_file = b.get_string("ca_file", c.ca_file);
    c.broadcast_api = b.get_string("broadcast_api", c.broadcast_api);
    c.rate = b.get_rate("rate", c.rate);
    c.duration = b.get_duration("duration", c.duration);
    c.budget = b.get_size("budget", c.budget);
    for (const auto& seg : b.get_table_array("segment")) {
        seg.reject_unknown_keys({"duration", "rate", "count"});
        ScheduleSegment sg;
        sg.duration = seg.get_duration("duration", Duration::zero());
        sg.rate = seg.get_rate("rate", util::Rate::unlimited());
        if (seg.contains("count")) sg.count = seg.get_size("count", 0);
        c.schedule.push_back(sg);
    }
    if (!c.schedule.empty()) {
        c.duration = Duration::zero();
        for (const auto& sg : c.schedule) c.duration += sg.duration;
        c.rate = c.schedule.front().rate;
    }
    c.accounts = b.get_string("accounts", c.accounts);
    c.check_keys = b.get_bool("check_keys", c.check_keys);
    for (const auto& k : b.get_table_array("key")) {
        k.reject_unknown_keys({"name", "wif"});
        c.inline_keys.emplace_back(k.require_string("name"), k.require_string("wif"));
    }
    if (!c.inline_keys.empty() && !b.contains("accounts")) c.accounts = "inline";
    c.seed = static_cast<std::uint64_t>(b.get_int("seed", static_cast<std::int64_t>(c.seed), 0));
    c.window = static_cast<std::uint32_t>(b.get_int("window", c.window, 1, 1'000'000));
    c.request_timeout = b.get_duration("request_timeout", c.request_timeout);
    c.connect_timeout = b.get_duration("connect_timeout", c.connect_timeout);
    c.late_threshold = b.get_duration("late_threshold", c.late_threshold);
    c.tx_lifetime = b.get_duration("tx_lifetime", c.tx_lifetime);
    c.start_allowance = b.get_duration("start_allowance", c.start_allowance);
    c.drain_timeout = b.get_duration("drain_timeout", c.drain_timeout);
    c.prepare_ahead = b.get_duration("prepare_ahead", c.prepare_ahead);
    c.prepare_threads = static_cast<std::uint32_t>(b.get_int("prepare_threads", c.prepare_threads, 0, 1024));

    util::TomlTable m = b.table("mix");
    m.reject_unknown_keys({"transfer", "limit_order_create", "limit_order_cancel"});
    c.mix.transfer = m.get_double("transfer", c.mix.transfer, 0.0);
    c.mix.limit_order_create = m.get_double("limit_order_create", c.mix.limit_order_create, 0.0);
    c.mix.limit_order_cancel = m.get_double("limit_order_cancel", c.mix.limit_order_cancel, 0.0);

    util::TomlTable t = b.table("tx");
    t.reject_unknown_keys({"ops_per_tx", "target_size", "transfer_amount", "order_amount",
                           "order_price", "sell_asset", "receive_asset", "order_lifetime"});
    auto ops = get_range(t, "ops_per_tx", {c.tx.ops_min, c.tx.ops_max});
    if (ops.min < 1 || ops.max > 1000) t.fail("ops_per_tx", "must be within 1..1000");
    c.tx.ops_min = static_cast<std::uint32_t>(ops.min);
    c.tx.ops_max = static_cast<std::uint32_t>(ops.max);
    c.tx.target_size = t.get_size("target_size", c.tx.target_size, 0, 64ull << 20);
    c.tx.transfer_amount = get_range(t, "transfer_amount", c.tx.transfer_amount);
    c.tx.order_amount = get_range(t, "order_amount", c.tx.order_amount);
    if (t.contains("order_price")) {
        std::string text;
        try {
            text = t.get_string("order_price", "");
        } catch (const util::ConfigError&) {
            double v = t.get_double("order_price", 1.0);
            text = std::to_string(v);
        }
        auto r = parse_double_range(text);
        if (!r) t.fail("order_price", r.error());
        c.tx.price_min = r->first;
        c.tx.price_max = r->second;
    }
    c.tx.sell_asset = t.get_string("sell_asset", c.tx.sell_asset);
    c.tx.receive_asset = t.get_string("receive_asset", c.tx.receive_asset);
    if (t.contains("order_lifetime")) {
        bool is_never = false;
        try {
            is_never = t.get_string("order_lifetime", "") == "never";
        } catch (const util::ConfigError&) {
        }
        if (is_never)
            c.tx.order_lifetime.reset();
        else
            c.tx.order_lifetime = t.get_duration("order_lifetime", Duration::zero());
    }

    util::TomlTable s = b.table("stats");
    s.reject_unknown_keys({"interval", "sinks"});
    c.stats_interval = s.get_duration("interval", c.stats_interval);
    if (s.contains("sinks")) {
        try {
            c.stats_sinks = s.get_string_array("sinks");
        } catch (const util::ConfigError&) {
            c.stats_sinks = {s.get_string("sinks", "")};
        }
    }
    return c;
}

void RunConfig::validate() const {
    using util::check_config;
    // The bus schema's id rule, here where the ids are given: a collector drops what breaks it.
    if (!beacon_id.empty()) {
        const auto why = wire::validate_id(beacon_id);
        check_config(!why, "beacon.id", "\"" + util::printable(beacon_id, 140) + "\": " + why.value_or(""));
    }
    if (!run_id.empty()) {
        const auto why = wire::validate_id(run_id);
        check_config(!why, "beacon.run_id", "\"" + util::printable(run_id, 140) + "\": " + why.value_or(""));
    }
    check_config(!nodes.empty(), "beacon.nodes", "at least one node URL is needed");
    for (const auto& n : nodes)
        check_config(n.rfind("ws://", 0) == 0 || n.rfind("wss://", 0) == 0, "beacon.nodes",
                     "\"" + util::redact_url(n) + "\": must start with ws:// or wss://");
    check_config(!broadcast_api.empty(), "beacon.broadcast_api", "must not be empty");
    check_config(std::isfinite(rate.per_second) && rate.per_second <= 10'000'000, "beacon.rate",
                 "must be at most 10M/s");
    check_config(duration > Duration::zero(), "beacon.duration", "must be positive");
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        const auto key = "beacon.segment[" + std::to_string(i) + "]";
        check_config(schedule[i].duration > Duration::zero(), key + ".duration", "must be positive");
        check_config(std::isfinite(schedule[i].rate.per_second) && schedule[i].rate.per_second <= 10'000'000,
                     key + ".rate", "must be at most 10M/s");
        check_config(schedule[i].count.value_or(0) <= 1'000'000'000, key + ".count", "must be at most 1G");
    }
    if (rate.is_unlimited())
        check_config(budget > 0 || duration <= std::chrono::hours(24), "beacon.budget",
                     "an unlimited run longer than 24h needs an explicit budget");
    check_config(accounts.rfind("devnet:", 0) == 0 || accounts.rfind("file:", 0) == 0 ||
                     accounts == "inline",
                 "beacon.accounts", "expected \"devnet:stress-0..stress-N\", \"file:PATH\" or \"inline\"");
    if (accounts == "inline")
        check_config(!inline_keys.empty(), "beacon.key", "accounts = \"inline\" needs [[beacon.key]] entries");
    check_config(std::isfinite(mix.total()) && mix.total() > 0, "beacon.mix",
                 "at least one operation weight must be positive");
    check_config(tx.ops_min >= 1 && tx.ops_max >= tx.ops_min, "beacon.tx.ops_per_tx",
                 "must be N or MIN..MAX with 1 <= MIN <= MAX");
    check_config(tx.transfer_amount.min >= 1, "beacon.tx.transfer_amount", "must be at least 1");
    check_config(tx.order_amount.min >= 1, "beacon.tx.order_amount", "must be at least 1");
    check_config(tx.price_min > 0 && tx.price_max >= tx.price_min, "beacon.tx.order_price",
                 "must be positive, MIN <= MAX");
    if (mix.limit_order_create > 0)
        check_config(tx.sell_asset != tx.receive_asset, "beacon.tx.receive_asset",
                     "must differ from sell_asset");
    if (tx.order_lifetime)
        check_config(*tx.order_lifetime >= std::chrono::seconds(1), "beacon.tx.order_lifetime",
                     "must be at least 1s (or \"never\")");
    check_config(request_timeout >= std::chrono::milliseconds(10), "beacon.request_timeout",
                 "must be at least 10ms");
    check_config(connect_timeout >= std::chrono::milliseconds(10), "beacon.connect_timeout",
                 "must be at least 10ms");
    check_config(tx_lifetime >= std::chrono::seconds(1) && tx_lifetime <= std::chrono::hours(24),
                 "beacon.tx_lifetime", "must be within 1s..24h");
    check_config(prepare_ahead >= std::chrono::seconds(1), "beacon.prepare_ahead", "must be at least 1s");
    check_config(stats_interval >= std::chrono::milliseconds(10), "beacon.stats.interval",
                 "must be at least 10ms");
    for (const auto& s : stats_sinks)
        check_config(s == "stdout" || s == "none" || s.rfind("tcp://", 0) == 0 ||
                         s.rfind("ipc://", 0) == 0 || s.rfind("inproc://", 0) == 0,
                     "beacon.stats.sinks", "\"" + s + "\": expected stdout, none or a ZeroMQ endpoint");
    for (std::size_t i = 0; i < inline_keys.size(); ++i)
        check_config(!inline_keys[i].name.empty(), "beacon.key[" + std::to_string(i) + "].name",
                     "must not be empty");
}

std::uint64_t RunConfig::effective_budget() const {
    if (budget > 0) return budget;
    std::uint64_t total = 0;
    for (const auto& sg : segments()) {
        if (sg.rate.is_unlimited()) return 1'000'000;
        if (sg.count) {
            total += *sg.count;
            continue;
        }
        double secs = std::chrono::duration<double>(sg.duration).count();
        total += static_cast<std::uint64_t>(std::ceil(sg.rate.per_second * secs - 1e-9));
    }
    return total;
}

std::vector<ScheduleSegment> RunConfig::segments() const {
    if (!schedule.empty()) return schedule;
    return {ScheduleSegment{duration, rate, std::nullopt}};
}

RunConfig RunConfig::from_toml_text(std::string_view text, std::string origin) {
    util::TomlDoc doc = util::TomlDoc::parse(text, std::move(origin));
    return util::build_config<RunConfig>(doc);
}

RunConfig RunConfig::from_file(const std::string& path) {
    util::TomlDoc doc = util::load_toml(path);
    RunConfig c = util::build_config<RunConfig>(doc);
    if (!c.inline_keys.empty()) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
            throw util::ConfigError(path, "beacon.key",
                                    "file holds private keys but is readable by group or others: chmod 600 it");
    }
    return c;
}

}  // namespace bts::beacon
