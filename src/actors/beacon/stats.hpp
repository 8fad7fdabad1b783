// Per-interval statistics of a beacon run: counters and latency histograms filled on the io
// thread (no locks, no allocation per transaction), turned into ONE wire::StatsInterval per
// interval (never one message per transaction) and/or one JSON line, then reset. Run totals
// accumulate alongside for the end-of-run summary.
#pragma once

#include "common/util/histogram.hpp"
#include "common/wire.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bts::beacon {

// Why the node refused a transaction, from its error code and message (graphene-protocol §12).
enum class RejectClass : std::uint8_t {
    duplicate,             // 3030001: the same transaction id is already known
    expired,               // code 10 "now <= trx.expiration"
    expiration_too_far,    // code 10 "trx.expiration <= now + ...maximum_time_until_expiration"
    tapos,                 // code 10 "ref_block_prefix": the reference block is not on this chain
    missing_authority,     // 4010001: wrong key, wrong chain id, or JSON that does not match the signed bytes
    insufficient_fee,      // 4010007
    insufficient_balance,  // code 10 "insufficient_balance" / 3050106 / "Insufficient balance"
    too_large,             // "maximum_transaction_size"
    pool_full,             // the node's pending pool is full (devnet: "pending pool full")
    other,
};
inline constexpr std::size_t kRejectClasses = 10;
[[nodiscard]] std::string_view to_string(RejectClass c);
[[nodiscard]] RejectClass classify_rejection(std::int64_t code, std::string_view message);

// Counters of one interval (or, in RunTotals, of the whole run).
struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    std::array<std::uint64_t, kRejectClasses> rejected{};
    std::uint64_t late_sends = 0;
    std::uint64_t dropped_sends = 0;
    std::uint64_t max_send_lag_us = 0;
    std::uint64_t included_txs = 0;
    std::uint64_t included_ops = 0;
    std::uint64_t expired_unincluded = 0;
    // Reply lost (timeout, disconnect, malformed) and never seen on chain before it expired or
    // the run ended; also replies still due when a run is aborted.
    std::uint64_t unknown_outcome = 0;
    std::uint64_t pending_at_cutoff = 0;   // accepted, neither included nor expired at the end
    std::uint64_t unexpected_replies = 0;  // well-formed replies of the wrong shape (counted as bad replies)
    std::uint64_t late_inclusions = 0;     // included after the chain's time had passed its expiration (a node bug)
    // Connectivity (deltas of the connections' counters).
    std::uint64_t connect_failures = 0;
    std::uint64_t tls_failures = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t bad_replies = 0;

    [[nodiscard]] std::uint64_t rejected_total() const;
    void add(const Counters& o);
};

struct Histograms {
    util::Histogram acceptance_from_intended;  // µs, reply − intended send time (wrk2)
    util::Histogram acceptance_from_send;      // µs, reply − actual send
    util::Histogram inclusion;                 // µs, block seen − intended send time
    util::Histogram send_lag;                  // µs, actual − intended send time
    void reset();
    void merge(const Histograms& o);
};

struct ProcFigures {
    double host_cpu_pct = 0;
    double proc_cpu_pct = 0;
    std::uint64_t rss_bytes = 0;
};

struct IntervalIdentity {
    std::string run_id;
    std::string beacon_id;
    std::string host;
};

// One interval's content, ready to be encoded.
[[nodiscard]] wire::StatsInterval make_stats_interval(const IntervalIdentity& id, std::uint64_t seq,
                                                      std::int64_t start_unix_ms, std::uint64_t interval_ms,
                                                      double configured_rate, const Counters& c,
                                                      const Histograms& h, std::uint64_t in_flight,
                                                      const ProcFigures& proc, bool final);

// The same as one JSON line (no trailing newline): counts, and histograms summarised as
// {count, min, p50, p90, p99, p999, max, mean} in µs. Extra fields not on the wire:
// achieved_rate, tls_failures.
[[nodiscard]] std::string stats_json_line(const wire::StatsInterval& s, const Counters& c,
                                          const Histograms& h);

// Summary of a histogram as a JSON object text.
[[nodiscard]] std::string histogram_json(const util::Histogram& h);

}  // namespace bts::beacon
