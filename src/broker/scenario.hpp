// Scenarios: a whole stress test as one TOML file (config/scenarios/*.toml) — phases of a total
// rate, beacons and their nodes, operation mix and transaction shape, accounts, duration and
// budget — validated with "file: key: reason" errors, and the arithmetic that turns it into
// per-beacon rates, nodes, accounts and beacon run configs (the Command payload).
//
// The file (every key documented in docs/scenarios.md; unknown keys are errors):
//
//   [scenario]  name, description, duration, rate, budget, seed
//   [beacons]   count (0 = all registered), min, group
//   [target]    nodes = ["ws://..."], assignment = "spread" | "one-node"
//   [mix]       transfer, limit_order_create, limit_order_cancel   (relative weights)
//   [tx]        ops_per_tx ("1" or "1..5"), target_size ("1MiB"), transfer_amount,
//               order_amount, order_price, sell_asset, receive_asset, order_lifetime
//   [accounts]  source ("devnet:stress-0..stress-59" | "file:PATH"), split (bool)
//   [sending]   connections_per_node, window, request_timeout, tx_lifetime, prepare_ahead,
//               broadcast_api
//   [[phase]]   kind = "hold"  rate, duration
//               kind = "ramp"  from, to, duration          (rate changes every second)
//               kind = "step"  from, to, step, step_duration (discrete steps, from..to)
//
// Without [[phase]], the run is one hold at scenario.rate for scenario.duration. With phases,
// scenario.duration may be left out (the phases' total); if given it must match.
#pragma once

#include "common/util/config.hpp"
#include "common/util/units.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bts::broker {

using util::Duration;

enum class PhaseKind { kHold, kRamp, kStep };

struct Phase {
    PhaseKind kind = PhaseKind::kHold;
    Duration duration{};   // hold and ramp; for step: number of steps × step_duration
    double from = 0.0;     // ramp/step: first rate (total tx/s over all beacons)
    double to = 0.0;       // ramp/step: last rate; hold: the rate (0 = unlimited)
    double step = 0.0;     // step: increment
    Duration step_duration{};
};

// One stretch of constant total rate on the run's timeline.
struct Segment {
    Duration start{};
    Duration length{};
    double rate = 0.0;  // total tx/s; 0 = unlimited
    std::size_t phase = 0;
};

enum class Assignment { kSpread, kOneNode };

struct Scenario {
    std::string name;
    std::string description;
    std::string origin = "<scenario>";  // file name, for messages
    std::vector<Phase> phases;
    std::uint64_t budget = 0;  // total transactions over all beacons; 0 = no limit
    std::uint64_t seed = 1;

    std::uint32_t beacon_count = 0;  // 0 = every registered beacon
    std::uint32_t min_beacons = 1;
    std::string group;  // "" = any beacon

    std::vector<std::string> nodes;
    Assignment assignment = Assignment::kSpread;

    std::map<std::string, double> mix{{"transfer", 1.0}};
    // [tx] and [sending] values as TOML value text, passed to the beacon's [beacon.tx] and
    // [beacon] tables (after the checks done here).
    std::map<std::string, std::string> tx;
    std::map<std::string, std::string> sending;

    std::string accounts = "devnet:stress-0..stress-9";
    bool split_accounts = true;

    // Parses and validates; throws util::ConfigError("<origin>: <key>: <reason>").
    [[nodiscard]] static Scenario parse(std::string_view text, std::string origin);
    [[nodiscard]] static Scenario load(const std::string& path);
    [[nodiscard]] static Scenario from_toml(const util::TomlDoc& doc);
    void validate() const;

    // Overrides from bts-ctl: a new total duration (phases scaled in proportion) and nodes.
    // Throw util::ConfigError naming the option.
    void override_duration(Duration total);
    void override_nodes(std::vector<std::string> urls);

    [[nodiscard]] Duration total_duration() const;
    // Constant-rate stretches covering [0, total_duration()): a hold is one segment, a ramp one
    // per second, a step one per step.
    [[nodiscard]] std::vector<Segment> segments() const;
    // Total target rate at time t since the start (0 = unlimited; after the end: the last).
    [[nodiscard]] double rate_at(Duration t) const;
    // Planned transactions over the whole run (∫ rate dt), or nullopt when unlimited.
    [[nodiscard]] std::optional<double> planned_transactions() const;
    [[nodiscard]] bool has_rate_changes() const;
};

// `total` tx/s split over n beacons in steps of 1/1000 tx/s: equal shares, the remainder going
// to the first beacons; every share at least 0.001 (a share of 0 would mean "unlimited" to a
// beacon). total 0 (unlimited) gives 0 to each. n = 0 gives an empty vector.
[[nodiscard]] std::vector<double> split_rate(double total, std::size_t n);

// Node for a beacon joining a run: kOneNode → nodes[0]; kSpread → the node with the fewest
// beacons so far (`load[i]` beacons on nodes[i]), the first such on ties.
[[nodiscard]] std::size_t pick_node(Assignment a, const std::vector<std::size_t>& load);

// "devnet:stress-0..stress-59" split: the k-th of n beacons gets a contiguous slice; with more
// beacons than accounts slices wrap around (and accounts are shared). Other sources, and
// split = false, are returned unchanged.
[[nodiscard]] std::string account_slice(const std::string& source, bool split, std::size_t k,
                                        std::size_t n);

// One segment of a beacon's own schedule ([[beacon.segment]] in its run config).
struct BeaconSegment {
    Duration length{};
    double rate = 0.0;                   // the beacon's share, tx/s; 0 = unlimited
    std::optional<std::uint64_t> count;  // exact sends (its integer share); nullopt = unlimited
};

// Everything that differs per beacon in its run config.
struct BeaconAssignment {
    std::string beacon_id;
    std::string run_id;
    std::string node;
    double rate = 0.0;  // tx/s at the start (0 = unlimited)
    Duration duration{};
    std::uint64_t budget = 0;  // 0 = the beacon's default
    std::string accounts;
    std::uint64_t seed = 1;
    std::vector<std::string> stats_sinks;
    // The beacon's own schedule: its share of every constant-rate segment of the scenario from
    // its start on, timed on its own clock. Empty: one segment of `rate` for `duration`.
    std::vector<BeaconSegment> schedule;
};

// Integer share of `total` for the k-th of n: total / n, the remainder going to the first ones.
[[nodiscard]] std::uint64_t count_share(std::uint64_t total, std::size_t k, std::size_t n);

// The beacon's RunConfig TOML ([beacon] tables, see src/actors/beacon/run_config.hpp).
[[nodiscard]] std::string beacon_run_config(const Scenario& s, const BeaconAssignment& a);

// TOML basic string with quotes and escapes.
[[nodiscard]] std::string toml_quote(std::string_view text);
// A rate as TOML value text: 0 → "unlimited", otherwise up to 3 decimals.
[[nodiscard]] std::string rate_text(double rate);

}  // namespace bts::broker
