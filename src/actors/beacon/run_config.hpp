// RunConfig: everything one beacon run does — nodes, rate, hard limits, transaction mix and shape,
// accounts, statistics sinks — read from TOML (a file, or a broker Command payload) and validated.
//
// The TOML layout (all keys optional; defaults are the struct's, commented in config/beacon.toml):
//
//   [beacon]        id, run_id, nodes, connections_per_node, rate, duration, budget, accounts,
//                   seed, window, request_timeout, connect_timeout, late_threshold, tx_lifetime,
//                   start_allowance, drain_timeout, prepare_ahead, prepare_threads, broadcast_api,
//                   tls_verify, ca_file, check_keys
//   [beacon.mix]    transfer, limit_order_create, limit_order_cancel      (relative weights)
//   [beacon.tx]     ops_per_tx ("3" or "1..5"), target_size, transfer_amount ("1..100k"),
//                   order_amount, order_price ("0.5..2"), sell_asset, receive_asset,
//                   order_lifetime ("never" or a duration)
//   [beacon.stats]  interval, sinks (["stdout", "tcp://collector:5601"])
//   [[beacon.key]]  name, wif      (inline keys, e.g. from the broker; never logged)
//   [[beacon.segment]] duration, rate, count   (optional schedule, see ScheduleSegment)
//
// Errors are util::ConfigError, "file: key: reason" — e.g.
//   "run.toml: beacon.rate: \"2x\": unknown rate unit ...".
#pragma once

#include "common/util/config.hpp"
#include "common/util/units.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bts::beacon {

using util::Duration;

struct Int64Range {
    std::int64_t min = 0;
    std::int64_t max = 0;
    std::uint64_t width() const { return static_cast<std::uint64_t>(max - min) + 1; }
    friend bool operator==(const Int64Range&, const Int64Range&) = default;
};

// Relative weights of the operation types in generated transactions (need not sum to 1).
struct MixWeights {
    double transfer = 1.0;
    double limit_order_create = 0.0;
    double limit_order_cancel = 0.0;  // cancels the beacon's own open orders found at prepare time
    double total() const { return transfer + limit_order_create + limit_order_cancel; }
};

// Shape of each transaction.
struct TxShape {
    std::uint32_t ops_min = 1;  // operations per transaction, drawn uniformly from [min, max]
    std::uint32_t ops_max = 1;
    // Fill every transaction up to this many bytes (signed, packed: what travels between nodes)
    // with a transfer memo; 0 = natural size. Refused when above the chain's
    // maximum_transaction_size.
    std::uint64_t target_size = 0;
    Int64Range transfer_amount{1, 100'000};  // satoshis of the core asset
    Int64Range order_amount{1, 100'000};     // satoshis of sell_asset
    double price_min = 0.5;                  // receive units per sell unit
    double price_max = 2.0;
    std::string sell_asset = "1.3.0";        // id "1.3.N" or symbol, resolved at prepare
    std::string receive_asset = "1.3.1";
    std::optional<Duration> order_lifetime;  // nullopt: orders never expire
};

// One secret, as given inline (broker payload). Wiped with the config; never printed.
struct InlineKey {
    std::string name;
    std::string wif;
    InlineKey() = default;
    InlineKey(std::string n, std::string w) : name(std::move(n)), wif(std::move(w)) {}
    InlineKey(const InlineKey&) = default;
    InlineKey& operator=(const InlineKey&) = default;
    ~InlineKey();
};

// One stretch of the beacon's own send schedule ([[beacon.segment]]): `count` sends (0: as many
// as `rate` gives) at `rate` over `duration`, timed on the beacon's clock from the end of the
// previous segment. With a count, the sends are spaced duration / count apart, so a segment
// sends exactly `count` transactions and ends on time. The broker gives each beacon its integer
// share of every phase this way, so a run sends exactly what its scenario says.
struct ScheduleSegment {
    Duration duration{};
    util::Rate rate;              // 0 = unlimited
    // Exactly this many sends (0: none, the segment is a pause); nullopt: as many as `rate`
    // gives (ceil(rate × duration)). Ignored for an unlimited segment.
    std::optional<std::uint64_t> count;
    friend bool operator==(const ScheduleSegment&, const ScheduleSegment&) = default;
};

struct RunConfig {
    // Identity (empty: the program fills in host-pid / a timestamp).
    std::string beacon_id;
    std::string run_id;

    // Where to send. Each connection gets the node list rotated, so when its node goes away it
    // fails over to the next one.
    std::vector<std::string> nodes{"ws://127.0.0.1:8090"};
    std::uint32_t connections_per_node = 1;
    bool tls_verify = true;
    std::string ca_file;
    // The API name (or number) of network_broadcast in the pre-built requests.
    std::string broadcast_api = "network_broadcast";

    // How much: rate (0 = unlimited) for at most `duration` and at most `budget` transactions
    // (0 = rate × duration, or 1,000,000 when unlimited). Both limits are hard.
    util::Rate rate = util::Rate::every_second(100);
    Duration duration = std::chrono::seconds(10);
    std::uint64_t budget = 0;
    // Optional: the schedule as segments ([[beacon.segment]] duration, rate, count). When given,
    // `duration` is their total and `rate` the first one's.
    std::vector<ScheduleSegment> schedule;

    // Who signs: "devnet:stress-0..stress-19" (keys derived from the documented devnet seeds),
    // "file:PATH" (lines "account-name WIF", mode 0600), or "inline" ([[beacon.key]]).
    std::string accounts = "devnet:stress-0..stress-9";
    std::vector<InlineKey> inline_keys;
    // At prepare, refuse keys that are not in their account's active authority (false: send
    // anyway and let the node reject them as missing_authority, e.g. to test that).
    bool check_keys = true;

    std::uint64_t seed = 1;  // same seed + same chain state = same transactions
    MixWeights mix;
    TxShape tx;

    // Sending and tracking.
    std::uint32_t window = 1000;  // max outstanding broadcasts per connection
    Duration request_timeout = std::chrono::seconds(10);
    Duration connect_timeout = std::chrono::seconds(5);
    Duration late_threshold = std::chrono::milliseconds(1);  // a send later than this is "late"
    Duration tx_lifetime = std::chrono::seconds(60);  // expiration = intended send + this
    Duration start_allowance = std::chrono::seconds(30);  // prepare → start may take this long
    // After the last send the run drains: it waits for the replies still due and for every
    // accepted transaction to be included or to expire. 0 = no cap but expiration (the run ends
    // at the latest when the chain — or, with no blocks coming, the clock — passes the last
    // transaction's expiration); otherwise at most this long, the rest reported as pending.
    Duration drain_timeout = Duration::zero();
    Duration prepare_ahead = std::chrono::seconds(60);    // seconds of sending signed ahead
    std::uint32_t prepare_threads = 0;                    // 0 = all cores

    // Statistics.
    Duration stats_interval = std::chrono::seconds(1);
    std::vector<std::string> stats_sinks{"stdout"};  // "stdout", "tcp://host:port", "ipc://..."

    std::string origin = "<defaults>";  // where the config came from, for messages

    // Reads the [beacon] tables of a parsed document (unknown keys are errors).
    [[nodiscard]] static RunConfig from_toml(const util::TomlDoc& doc);
    // Parses and validates TOML text; `origin` names it in errors ("broker command 12", a file).
    [[nodiscard]] static RunConfig from_toml_text(std::string_view text, std::string origin);
    // Reads, parses and validates a file. If it holds inline keys, it must not be readable by
    // group or others.
    [[nodiscard]] static RunConfig from_file(const std::string& path);

    // Cross-field checks; throws util::ConfigError(key, reason).
    void validate() const;

    // The hard transaction budget after defaults.
    [[nodiscard]] std::uint64_t effective_budget() const;
    // The schedule, or one segment of `rate` for `duration` when none is given.
    [[nodiscard]] std::vector<ScheduleSegment> segments() const;
    [[nodiscard]] std::uint32_t connection_count() const {
        return static_cast<std::uint32_t>(nodes.size()) * connections_per_node;
    }
};

// "3" or "1..5" (sides in util::parse_count notation: "1k..100k") into [min, max].
[[nodiscard]] util::Result<Int64Range> parse_int_range(std::string_view text);
// "1.5" or "0.5..2" into [min, max].
[[nodiscard]] util::Result<std::pair<double, double>> parse_double_range(std::string_view text);

}  // namespace bts::beacon
