// bts-broker: the overseer's actor — fans commands out to beacons, keeps the registry, runs
// scenarios, and answers bts-ctl.
//
// Sockets (CZMQ zsock; CURVE servers when broker.curve.secret_cert is set, admitting only the
// public certificates in broker.curve.allow_dir through CZMQ's zauth):
//
//   PUB    broker.pub (default tcp://127.0.0.1:5561). Every message is [topic, wire frame]:
//            topic "all"              wire::Heartbeat every heartbeat_interval:
//                                     sender_id "broker/<epoch>", state "up", run_id = the run
//            topic "beacon:<id>"      wire::Command, the beacon's desired state (run.hpp):
//                                     kind configure | prepare | start (payload: the beacon's
//                                     run config TOML), stop, or rate (payload: "unlimited" or
//                                     tx/s). Re-published every republish_interval.
//            topic "all" | "group:<name>"  wire::Command kind stop, once when a run stops:
//                                     every beacon the run could have reached stops
//
//   ROUTER broker.router (default tcp://127.0.0.1:5560). Frames [identity, wire frame].
//     From beacons (their DEALER, see common/control/beacon_link.hpp):
//       BeaconHello   → registers (Registry::hello); reply Heartbeat state "known", then the
//                       beacon's desired state directly (no wait for the next re-publication)
//       Heartbeat     → liveness + state; reply Heartbeat state "known", or "unknown" (asks for
//                       a hello). A beacon that reports a run the broker does not run gets a
//                       stop command (orphans after a broker restart).
//       CommandAck    → the run's stage/rate bookkeeping and fan-out timing
//       StatsInterval → per-second aggregation for bts-ctl (run.hpp)
//       RunEvent      → logged (e.g. "dead_man_stop")
//     From bts-ctl (its DEALER, common/control/ctl_client.hpp):
//       CtlRequest    → CtlReply with the same request_id; payloads are JSON objects:
//         "ping"     {}                                   → {"epoch", "version"}
//         "status"   {"since": T, "detail": B}            → {"broker": {...}, "run": RUN|null}
//                    RUN = Run::status(): id, scenario, state, reason, elapsed_s, duration_s,
//                    target_rate, participants, live, failed, beacons[] (every participant;
//                    with "detail": false only the failed ones), totals{sent, accepted,
//                    rejected, rejected_by_class, p50_us, p99_us, max_us, achieved_rate},
//                    seconds[] (rows with t >= T), fanout{seq, kind, targets, acked, p50_us,
//                    p99_us, all_acked_us} of the current stage, fanouts[] of every stage
//         "beacons"  {}                                   → {"beacons": [{id, host, version,
//                    pid, groups, state, run_id, node, configured_rate, achieved_rate,
//                    alive, last_seen_ms_ago, times_lost}]}
//         "start"    {"scenario": TOML text, "origin": file name, "duration": "30s"?,
//                     "nodes": ["ws://..."]?, "beacons": N?}
//                                                     → {"run_id", "participants", "duration_s"}
//         "stop"     {"reason": text?}                    → {"run_id", "state"}
//       Errors: ok = false, error = one line; payload {"code": C} with C one of
//         "bad_request" (malformed request), "invalid" (scenario/override error, "file: key:
//         reason"), "busy" (a run is active), "no_beacons" (fewer than beacons.min alive),
//         "no_run" (stop without a run).
//   Every frame that is not a well-formed message of the expected kind is counted (by reason,
//   reported in status → broker.dropped), warned about at a limited rate, and dropped.
//
// Timing: heartbeats out every heartbeat_interval; a beacon silent for beacon_timeout (3 missed
// heartbeats) is lost and its share of the rate goes to the others. One poll loop whose
// timeout is the next deadline (heartbeat, re-publication, beacon expiry, run stage/segment).
//
// Threads: the broker runs in its own thread (a CZMQ zactor); the object is its handle. The
// destructor stops an active run (stop commands go out before the sockets close), then ends
// the thread. With CURVE, at most one broker per process: ZAP (zauth) is per process.
// Sockets use CZMQ's process-wide ZeroMQ context.
#pragma once

#include "common/util/config.hpp"
#include "common/util/units.hpp"

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bts::broker {

struct BrokerConfig {
    std::string router = "tcp://127.0.0.1:5560";
    std::string pub = "tcp://127.0.0.1:5561";
    // CURVE: the broker's secret certificate and the directory of allowed public certificates
    // (beacons and bts-ctl users). Empty secret_cert = plain TCP, loopback only unless
    // `insecure`.
    std::string secret_cert;
    std::string allow_dir;
    bool insecure = false;
    bool zap_verbose = false;
    util::Duration heartbeat_interval = std::chrono::seconds(1);
    util::Duration beacon_timeout = std::chrono::seconds(3);
    util::Duration republish_interval = std::chrono::seconds(1);
    util::Duration configure_timeout = std::chrono::seconds(10);
    util::Duration prepare_timeout = std::chrono::seconds(60);
    util::Duration stop_timeout = std::chrono::seconds(5);
    // After a run's time (or an operator's stop), how long to wait for every beacon's final report
    // (its drain: last replies, inclusion or expiry) before aborting the stragglers.
    util::Duration drain_timeout = std::chrono::seconds(180);
    // Put into every beacon's run config as beacon.stats.sinks (e.g. the collector).
    std::vector<std::string> stats_sinks{"stdout"};
    std::uint32_t max_beacons = 10'000;

    bool curve() const { return !secret_cert.empty(); }
    // Reads the [broker] table (and tolerates [ctl] and [log], used by bts-ctl and main).
    [[nodiscard]] static BrokerConfig from_toml(const util::TomlDoc& doc);
    void validate() const;
};

class Broker {
public:
    // Binds the sockets and starts the thread. Throws std::runtime_error (cannot bind, bad
    // certificate, allow list missing) — exceptions only here, at start-up.
    Broker(BrokerConfig config, std::shared_ptr<spdlog::logger> log);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // The endpoints as bound ("tcp://127.0.0.1:*" resolved to the port the system chose).
    const std::string& router_endpoint() const;
    const std::string& pub_endpoint() const;
    // "broker/<epoch>".
    const std::string& sender_id() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace bts::broker
