// Run: the scenario runner — one run of a scenario across its beacons, as a state machine
// driven by time, acks, stats and the registry, with no sockets (the broker publishes what it
// returns; tests drive it with a fake clock).
//
// Stages, each one Command sequence number shared by all participants (its "stage seq"):
//   configuring  kind "configure", payload = the beacon's run config (scenario.hpp)
//   preparing    kind "prepare",   same payload
//   running      kind "start",     same payload; the run clock starts
//   draining     no command: the scenario's time is up (or every beacon finished early, e.g.
//                its budget share). Each beacon ends its own schedule on its own clock, drains
//                (replies, inclusion) and reports a final StatsInterval; the broker waits for
//                every live participant's final report (or a heartbeat "stopped" for the run)
//                up to drain_timeout, then aborts the stragglers.
//   stopping     operator stop: kind "stop" (and one stop to "all" or the scenario's group);
//                beacons stop sending and drain, the broker waits as in draining. An operator
//                abort sends kind "abort" instead (no drain) and waits stop_timeout.
//   completed | stopped | failed   (final)
// The broker's clock never cuts a run short: a beacon's payload holds its exact share of every
// segment ([[beacon.segment]] with a count), so the run sends exactly the scenario's
// Σ round(rate × length) over its segments, split over the beacons without remainder.
// A stage ends when every live participant has acknowledged its seq, or after the stage's
// timeout (stragglers converge through the re-published desired state). Every command carries
// the payload, so a beacon that joins late or missed messages converges to the current stage
// from any state (configure → prepare → start as needed).
//
// Rate: a participant's schedule is its share of every segment, split over the participants
// at the start. Ramps and steps need no command: the beacon follows its schedule. When the
// participants change (a beacon joins, is lost or comes back) every live participant gets a
// kind "rate" command (payload: its new share of the current segment, "unlimited" or tx/s)
// with a new seq; the beacon scales the rest of its schedule alike.
//
// Participants: the beacons alive at the start (scenario.beacons.count of them, 0 = all, in id
// order), plus beacons that register while the run is going on when count is 0 or not reached
// (late joiners). A participant whose ack says ok = false is failed and gets "stop".
// The run fails when no live participant is left.
#pragma once

#include "broker/registry.hpp"
#include "broker/scenario.hpp"
#include "common/util/histogram.hpp"
#include "common/wire.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bts::broker {

enum class RunState { kConfiguring, kPreparing, kRunning, kStopping, kCompleted, kStopped, kFailed, kDraining };
[[nodiscard]] std::string_view to_string(RunState s);
[[nodiscard]] inline bool is_final(RunState s) {
    return s == RunState::kCompleted || s == RunState::kStopped || s == RunState::kFailed;
}

struct RunOptions {
    std::chrono::milliseconds configure_timeout{10'000};
    std::chrono::milliseconds prepare_timeout{60'000};
    std::chrono::milliseconds stop_timeout{5'000};
    std::chrono::milliseconds stats_grace{2'000};  // wait for the last stats after stopping
    // Longest wait for the beacons' drains (replies, inclusion, expiry) after the scenario's time
    // or a stop; then the stragglers are aborted.
    std::chrono::milliseconds drain_timeout{180'000};
    std::vector<std::string> stats_sinks;           // beacon.stats.sinks in every payload
};

// One command to publish: on topic "beacon:<target>", or "all" / "group:<name>" when the target
// is that.
struct Outgoing {
    wire::Command command;
};

// One second of the run, all beacons merged (from their StatsInterval reports).
struct SecondRow {
    std::int64_t t = 0;          // seconds since the run clock started
    double target = 0.0;         // the scenario's total rate for that second (0 = unlimited,
                                 // -1 = after the end)
    double configured = 0.0;     // sum of the beacons' configured rates
    std::uint64_t sent = 0;
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0;
    std::uint64_t included = 0;  // seen in blocks, in reports for this second
    std::uint64_t p50_us = 0;    // acceptance latency from the intended send time
    std::uint64_t p99_us = 0;
    std::uint32_t beacons = 0;   // beacons that reported for this second
    double heartbeat_rate = 0.0; // sum of heartbeat achieved rates at the time (fallback)
};

class Run {
public:
    // `next_seq` hands out the broker's command sequence numbers.
    Run(std::string run_id, Scenario scenario, RunOptions options,
        std::function<std::uint64_t()> next_seq, TimePoint now, std::int64_t unix_ms);

    const std::string& id() const { return id_; }
    const Scenario& scenario() const { return scenario_; }
    RunState state() const { return state_; }
    const std::string& reason() const { return reason_; }

    // Adds a beacon (at the start, or a late joiner). False if it is not eligible (group,
    // count reached, run not accepting) or already a participant.
    bool add(const BeaconEntry& beacon, TimePoint now);
    bool wants(const BeaconEntry& beacon) const;
    bool is_participant(const std::string& beacon_id) const;
    std::size_t live_participants() const;

    void beacon_lost(const std::string& beacon_id, TimePoint now);
    void beacon_back(const std::string& beacon_id, TimePoint now);
    void on_ack(const wire::CommandAck& ack, TimePoint now);
    void on_stats(const wire::StatsInterval& stats, std::int64_t now_unix_ms);
    // A beacon's heartbeat: "stopped" for this run, after it had started it, means it is done
    // (its final report may have been lost with the broker).
    void on_beacon_state(const std::string& beacon_id, const std::string& state, const std::string& run_id);
    // Operator stop (bts-ctl stop, broker shutdown): beacons stop sending and drain; with
    // `abort`, they end at once.
    void stop(std::string reason, TimePoint now, bool abort = false);

    // Advances stages and the rate schedule; returns commands with new seqs to publish now.
    std::vector<Outgoing> tick(TimePoint now, std::int64_t now_unix_ms, double heartbeat_rate);
    // The desired state of every participant, for re-publication (stage command, then rate).
    std::vector<Outgoing> desired() const;
    // The desired state of one beacon (after it registers), empty if not a participant.
    std::vector<Outgoing> desired_for(const std::string& beacon_id) const;
    // When tick() next has something to do.
    std::optional<TimePoint> next_deadline() const;

    // The participant's node and configured rate (for the registry listing).
    struct View {
        std::string node;
        double rate = 0.0;
        bool failed = false;
        std::string error;
    };
    [[nodiscard]] std::optional<View> participant_view(const std::string& beacon_id) const;

    // Status for bts-ctl: state, timing, totals, seconds with t >= since_t, fan-out; with
    // `detail`, every participant too.
    [[nodiscard]] nlohmann::json status(std::int64_t since_t, TimePoint now, bool detail = true) const;
    const std::vector<SecondRow>& seconds() const { return seconds_; }

    // Fan-out of the last stage command: publish → every targeted beacon's ack.
    struct Fanout {
        std::uint64_t seq = 0;
        std::string kind;
        std::size_t targets = 0;
        std::vector<std::int64_t> ack_us;  // per acked target
        std::int64_t all_acked_us = -1;    // -1 until all targets acked
    };
    const Fanout& fanout() const { return fanout_; }
    // Every stage's fan-out so far, oldest first (the last one is fanout()).
    const std::vector<Fanout>& fanouts() const { return fanouts_; }

private:
    struct Participant {
        std::string beacon_id;
        std::size_t ordinal = 0;
        std::size_t node_index = 0;
        std::string payload;
        double payload_rate = 0.0;
        double rate = 0.0;
        std::uint64_t rate_seq = 0;
        std::uint64_t stop_seq = 0;  // a failed participant's own stop command
        std::uint64_t acked_stage_seq = 0;
        bool alive = true;
        bool failed = false;
        bool started = false;   // acknowledged the start stage
        bool finished = false;  // sent its final report (or said "stopped" for this run)
        std::string error;
        // Its run totals, from its reports.
        std::uint64_t sent = 0, accepted = 0, rejected = 0, unknown = 0, included = 0, expired = 0, pending = 0;
    };
    struct OpenSecond {
        std::uint64_t sent = 0;
        std::uint64_t accepted = 0;
        std::uint64_t rejected = 0;
        std::uint64_t included = 0;
        double configured = 0.0;
        std::uint32_t beacons = 0;
        util::Histogram latency;
    };

    void enter(RunState s, TimePoint now, std::vector<Outgoing>* out);
    std::string_view stage_kind() const;
    Outgoing stage_command(const Participant& p) const;
    Outgoing rate_command(const Participant& p) const;
    bool stage_done() const;
    void resplit(TimePoint now, std::vector<Outgoing>* out);
    double current_total_rate(TimePoint now) const;
    std::vector<Participant*> live();
    bool all_finished() const;  // every live participant sent its final report
    void close_seconds(std::int64_t now_unix_ms, double heartbeat_rate, bool all);
    std::string make_payload(Participant& p, TimePoint now, std::size_t live);
    void fail_if_empty(TimePoint now);

    std::string id_;
    Scenario scenario_;
    std::vector<Segment> segments_;
    RunOptions options_;
    std::function<std::uint64_t()> next_seq_;
    RunState state_ = RunState::kConfiguring;
    std::string reason_;
    TimePoint created_{};
    std::int64_t created_unix_ms_ = 0;
    TimePoint stage_started_{};
    std::uint64_t stage_seq_ = 0;
    std::optional<TimePoint> run_start_;        // running began (steady)
    std::int64_t run_start_unix_ms_ = 0;
    std::optional<TimePoint> stopped_at_;       // stop acknowledged or timed out
    std::optional<TimePoint> finished_;         // reached a final state
    bool failed_ = false;
    bool stopped_by_operator_ = false;
    bool abort_ = false;        // the stop is an abort (kind "abort", no drain)
    bool aborted_stragglers_ = false;
    std::vector<Outgoing> pending_;             // made outside tick(), published by the next
    std::size_t segment_ = 0;
    bool resplit_pending_ = false;
    std::map<std::string, Participant> participants_;
    std::vector<std::size_t> node_load_;
    std::size_t next_ordinal_ = 0;
    std::size_t initial_count_ = 0;  // participants when configuring ended (account split)
    bool started_pending_ = true;    // the first tick publishes the configure stage

    // Statistics.
    std::map<std::int64_t, OpenSecond> open_;  // unix second → partial sums
    std::int64_t closed_through_ = 0;          // unix seconds below this are closed
    std::vector<SecondRow> seconds_;
    std::uint64_t total_sent_ = 0;
    std::uint64_t total_accepted_ = 0;
    std::uint64_t total_rejected_ = 0;
    std::uint64_t total_unknown_ = 0;
    std::uint64_t total_included_ = 0;
    std::uint64_t total_included_ops_ = 0;
    std::uint64_t total_expired_ = 0;
    std::uint64_t total_pending_ = 0;
    std::uint64_t total_dropped_sends_ = 0;
    wire::ClassCounts rejected_by_class_;
    util::Histogram total_latency_;
    util::Histogram total_inclusion_;
    std::uint64_t stats_dropped_ = 0;
    std::uint64_t late_stats_ = 0;
    std::uint64_t rate_errors_ = 0;
    std::string last_rate_error_;

    Fanout fanout_;
    std::vector<Fanout> fanouts_;  // earlier stages
    std::set<std::string> fanout_waiting_;  // targets of the last stage command not yet acked
    TimePoint fanout_published_{};
};

}  // namespace bts::broker
