// THE bus schema: every ZeroMQ message of bts-stress, its number and its fields. Append-only.
//
// Envelope (one ZeroMQ frame, msgpack):  [ "BTS1", version, type, body ]
//   "BTS1"   magic string — anything else is not ours and is dropped
//   version  kVersion (1); bumped only for a change old readers cannot skip, which should not
//            happen: new fields are appended instead
//   type     MsgType number; numbers are never reused or renumbered
//   body     msgpack array of the struct's fields in declaration order (bitshares-core style)
//
// Compatibility rules (for whoever edits this file):
//   - add fields only at the END of a struct, and never change a field's type or meaning;
//   - add message types only with a NEW number at the end of MsgType and of Message;
//   - readers accept bodies with extra trailing fields (a newer sender) and reject bodies with
//     missing fields (an older sender cannot have meant the default).
//
// Field types on the wire: strings are msgpack str; unsigned fields positive ints; signed fields
// any int; double fields float32/64 or any int; bool; string lists arrays of str; count maps
// str → positive int. A histogram (util::SparseHistogram) is
//   [min, max, sum, overflow, [index0, count0, delta1, count1, ...]]
// where delta_i = index_i − index_(i−1) ≥ 1 (small deltas take one byte each), and it must pass
// SparseHistogram::validate().
//
// decode() never throws and never asserts on input: malformed bytes give an error string,
// which receivers count, warn about at a limited rate (util::RateLimitedWarn) and drop.
//
//   std::string frame = bts::wire::encode(stats);
//   auto msg = bts::wire::decode(frame);
//   if (!msg) { bad_input.warn(peer, "dropped: {}", msg.error()); ++dropped; }
//   else if (auto* s = std::get_if<bts::wire::StatsInterval>(&*msg)) { ... }
#pragma once

#include "common/util/histogram.hpp"
#include "common/util/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bts::wire {

inline constexpr std::string_view kMagic = "BTS1";
inline constexpr std::uint32_t kVersion = 1;

// Message numbers. Never renumber, never reuse.
enum class MsgType : std::uint32_t {
    kBeaconHello = 1,
    kHeartbeat = 2,
    kCommand = 3,
    kCommandAck = 4,
    kStatsInterval = 5,
    kRunEvent = 6,
    kUptimeResult = 7,
    kClusterTotals = 8,
    kCtlRequest = 9,
    kCtlReply = 10,
};

using Histogram = util::SparseHistogram;
using ClassCounts = std::map<std::string, std::uint64_t>;  // e.g. rejection class → count

// Beacon → broker (DEALER), once on connect: who I am and what I can do.
struct BeaconHello {
    static constexpr MsgType kType = MsgType::kBeaconHello;
    std::string beacon_id;
    std::string host;
    std::string version;  // software version, e.g. "0.1.0"
    std::uint32_t pid = 0;
    std::vector<std::string> capabilities;  // e.g. "transfer", "limit_order"
    std::vector<std::string> groups;  // the broker's "group:<name>" topics this beacon follows

    friend bool operator==(const BeaconHello&, const BeaconHello&) = default;
};

// Both ways between broker (ROUTER) and beacons (DEALER): liveness and current state.
struct Heartbeat {
    static constexpr MsgType kType = MsgType::kHeartbeat;
    std::string sender_id;
    std::uint64_t seq = 0;
    std::int64_t unix_ms = 0;
    std::string state;           // beacon: "idle", "configured", "prepared", "running", "stopping"
    std::string run_id;          // "" when no run
    double achieved_rate = 0.0;  // transactions/s over the last interval

    friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

// Command kinds and targets.
namespace command_kind {
inline constexpr std::string_view kConfigure = "configure";
inline constexpr std::string_view kPrepare = "prepare";
inline constexpr std::string_view kStart = "start";
inline constexpr std::string_view kStop = "stop";
// A new send rate for the running run: payload "unlimited" or tx/s as a number ("33.334").
inline constexpr std::string_view kRate = "rate";
// Appended (issue 11). "stop" ends the sending at once and lets the beacon drain: it waits for
// the replies still due and for its accepted transactions to be included or to expire, so the
// run's counts are final. "abort" ends the run at once, drain included: what is still open is
// reported as unknown_outcome / pending_at_cutoff (StatsInterval).
inline constexpr std::string_view kAbort = "abort";
}  // namespace command_kind
inline constexpr std::string_view kTargetAll = "all";
inline constexpr std::string_view kTargetGroupPrefix = "group:";

// Broker → beacons (PUB/SUB): a step of a run.
struct Command {
    static constexpr MsgType kType = MsgType::kCommand;
    std::string run_id;
    std::uint64_t seq = 0;  // per broker, increasing; acks name it
    std::string target;     // "all" | a beacon id | "group:NAME"
    std::string kind;       // command_kind::*
    std::string payload;    // the beacon's run config, JSON or TOML text ("" if none)

    friend bool operator==(const Command&, const Command&) = default;
};
// Checks kind and target (decode() checks only the structure). nullopt when valid.
[[nodiscard]] std::optional<std::string> validate(const Command& c);

// The id rule, for beacon ids and run ids wherever they are given (command line, config) and
// wherever they are received (the collector drops what breaks it): 1 to kMaxIdBytes printable
// ASCII characters, no space, no '/' (ids are parts of topics and keys: "interval/RUN/BEACON").
// nullopt when valid, else the reason ("contains a space at position 7").
inline constexpr std::size_t kMaxIdBytes = 128;
[[nodiscard]] std::optional<std::string> validate_id(std::string_view id);

// Beacon → broker (DEALER): outcome of a Command.
struct CommandAck {
    static constexpr MsgType kType = MsgType::kCommandAck;
    std::string beacon_id;
    std::string run_id;
    std::uint64_t seq = 0;  // Command::seq being acknowledged
    bool ok = false;
    std::string error;  // "" when ok

    friend bool operator==(const CommandAck&, const CommandAck&) = default;
};

// Beacon → collector (PUSH), once per interval: the aggregate of everything sent in it.
// Latencies in µs; counts are for this interval only (not cumulative).
struct StatsInterval {
    static constexpr MsgType kType = MsgType::kStatsInterval;
    std::string run_id;
    std::string beacon_id;
    std::string host;
    std::uint64_t seq = 0;               // per beacon and run, from 0; gaps = lost intervals
    std::int64_t interval_start_ms = 0;  // unix ms
    std::uint64_t interval_ms = 0;
    double configured_rate = 0.0;  // tx/s, 0 = unlimited
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    ClassCounts rejected_by_class;      // e.g. "insufficient_fee" → 3
    std::uint64_t late_sends = 0;       // sent after their intended time (pacing fell behind)
    std::uint64_t dropped_sends = 0;    // not sent at all (in-flight limit reached)
    std::uint64_t max_send_lag_us = 0;  // worst actual − intended send time
    std::uint64_t connect_failures = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t bad_replies = 0;
    std::uint64_t in_flight = 0;  // at the end of the interval
    std::uint64_t included_txs = 0;
    std::uint64_t included_ops = 0;
    std::uint64_t expired_unincluded = 0;
    Histogram acceptance_from_intended;  // accept time − intended send time (wrk2)
    Histogram acceptance_from_send;      // accept time − actual send time
    Histogram inclusion;                 // block inclusion time − intended send time
    double host_cpu_pct = 0.0;
    double proc_cpu_pct = 0.0;
    std::uint64_t rss_bytes = 0;
    bool final = false;  // last interval of the run for this beacon
    // Appended (issue 11, exact accounting). Over a run, per beacon:
    //   sent = accepted + Σ rejected_by_class + unknown_outcome
    //   accepted = included_txs + expired_unincluded + pending_at_cutoff
    // A transaction's reply outcome is counted once, when it is known: a broadcast whose reply
    // was lost (timeout, disconnect, malformed) counts as accepted if it later shows up in a
    // block, as unknown_outcome when it expires unseen or the run ends first.
    std::uint64_t unknown_outcome = 0;
    // Accepted, neither included nor expired when the run's tracking ended (final interval only;
    // non-zero only when a drain was cut short: abort, drain cap, node gone).
    std::uint64_t pending_at_cutoff = 0;

    friend bool operator==(const StatsInterval&, const StatsInterval&) = default;
};

// Any program → collector: something that happened during a run.
struct RunEvent {
    static constexpr MsgType kType = MsgType::kRunEvent;
    std::string run_id;
    std::string source;  // program or beacon id
    std::int64_t unix_ms = 0;
    std::string level;  // "info", "warn", "error"
    std::string kind;   // short machine-readable tag, e.g. "node_restart"
    std::string text;

    friend bool operator==(const RunEvent&, const RunEvent&) = default;
};

// Uptime statuses.
namespace uptime_status {
inline constexpr std::string_view kUp = "UP";
inline constexpr std::string_view kDown = "DOWN";
inline constexpr std::string_view kTimeout = "TIMEOUT";
inline constexpr std::string_view kStale = "STALE";
inline constexpr std::string_view kWrongChain = "WRONG_CHAIN";
inline constexpr std::string_view kForked = "FORKED";
inline constexpr std::string_view kCertExpiring = "CERT_EXPIRING";
inline constexpr std::string_view kCertMismatch = "CERT_MISMATCH";
}  // namespace uptime_status

// bts-uptime → collector: one probe of one endpoint. Phase timings in µs, 0 if not reached.
struct UptimeResult {
    static constexpr MsgType kType = MsgType::kUptimeResult;
    std::string endpoint;  // configured name
    std::string url;
    std::string kind;    // probe kind, e.g. "wss", "ws", "https"
    std::string status;  // uptime_status::*
    std::int64_t unix_ms = 0;
    std::uint64_t duration_us = 0;
    std::uint64_t dns_us = 0;
    std::uint64_t connect_us = 0;
    std::uint64_t tls_us = 0;
    std::uint64_t ws_us = 0;
    std::uint64_t rpc_us = 0;
    std::uint64_t head_block_num = 0;
    double head_block_age_s = 0.0;
    std::string chain_id;
    double participation = 0.0;  // witness participation, percent
    std::int64_t cert_not_after_unix = 0;
    std::int64_t cert_days_left = 0;  // negative once expired
    std::string cert_issuer;
    std::string cert_subject;
    bool cert_name_matches = false;
    bool cert_wildcard = false;
    std::string error;  // "" when UP

    friend bool operator==(const UptimeResult&, const UptimeResult&) = default;
};

// Collector → dashboards/tail, once per second: all beacons of a run merged.
struct ClusterTotals {
    static constexpr MsgType kType = MsgType::kClusterTotals;
    std::string run_id;
    std::int64_t second_unix = 0;
    std::uint32_t beacons = 0;     // beacons that reported for this second
    double configured_rate = 0.0;  // sum over beacons, 0 = unlimited
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    ClassCounts rejected_by_class;
    std::uint64_t included_txs = 0;
    std::uint64_t included_ops = 0;
    std::uint64_t acceptance_p50_us = 0;  // from intended time
    std::uint64_t acceptance_p90_us = 0;
    std::uint64_t acceptance_p99_us = 0;
    std::uint64_t acceptance_max_us = 0;
    std::uint64_t inclusion_p50_us = 0;
    std::uint64_t inclusion_p99_us = 0;

    friend bool operator==(const ClusterTotals&, const ClusterTotals&) = default;
};

// bts-ctl → broker (DEALER → ROUTER): a control request. Verbs and their JSON payloads are
// documented in src/broker/broker.hpp.
struct CtlRequest {
    static constexpr MsgType kType = MsgType::kCtlRequest;
    std::uint64_t request_id = 0;  // chosen by the client; echoed in the reply
    std::string verb;              // e.g. "ping", "status", "start", "stop"
    std::string payload;           // JSON object text ("" = {})

    friend bool operator==(const CtlRequest&, const CtlRequest&) = default;
};

// Broker → bts-ctl: the answer to one CtlRequest.
struct CtlReply {
    static constexpr MsgType kType = MsgType::kCtlReply;
    std::uint64_t request_id = 0;
    bool ok = false;
    std::string error;    // "" when ok
    std::string payload;  // JSON object text

    friend bool operator==(const CtlReply&, const CtlReply&) = default;
};

// Every message. Append new types at the end.
using Message = std::variant<BeaconHello, Heartbeat, Command, CommandAck, StatsInterval, RunEvent,
                             UptimeResult, ClusterTotals, CtlRequest, CtlReply>;
using DecodeResult = util::Result<Message>;

// One ZeroMQ frame holding the envelope.
[[nodiscard]] std::string encode(const BeaconHello& m);
[[nodiscard]] std::string encode(const Heartbeat& m);
[[nodiscard]] std::string encode(const Command& m);
[[nodiscard]] std::string encode(const CommandAck& m);
[[nodiscard]] std::string encode(const StatsInterval& m);
[[nodiscard]] std::string encode(const RunEvent& m);
[[nodiscard]] std::string encode(const UptimeResult& m);
[[nodiscard]] std::string encode(const ClusterTotals& m);
[[nodiscard]] std::string encode(const CtlRequest& m);
[[nodiscard]] std::string encode(const CtlReply& m);
[[nodiscard]] std::string encode(const Message& m);

// Parses one frame. Never throws on any input; the error names the message type and field
// ("StatsInterval.sent: expected an unsigned integer").
[[nodiscard]] DecodeResult decode(std::string_view bytes);

// "StatsInterval" etc. for logs; "unknown" for numbers not in MsgType.
[[nodiscard]] std::string_view type_name(MsgType type);
[[nodiscard]] std::string_view type_name(const Message& m);
[[nodiscard]] MsgType type_of(const Message& m);

}  // namespace bts::wire
