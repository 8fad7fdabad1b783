// BeaconLink: a beacon's end of the control channel to bts-broker — receives commands, sends
// hello/heartbeats/acks/stats, and runs the dead-man switch.
//
// Sockets (both connect to the broker; CZMQ zsock, CURVE client when certificates are given):
//   SUB    → broker PUB    (broker.pub, default: the ROUTER port + 1). Subscribed topics:
//              "all", "beacon:<beacon_id>", "group:<g>" for each configured group.
//              Frames: [topic, wire frame]; the topic must match exactly (ZeroMQ matches by
//              prefix, so "beacon:b1" would otherwise also receive "beacon:b10").
//              Carries: wire::Heartbeat from the broker (1/s), wire::Command (desired state,
//              re-published every second).
//   DEALER → broker ROUTER (broker.router). Frames: [wire frame].
//              Sends: wire::BeaconHello (on first contact, after the broker comes back or
//              restarts, and whenever the broker says it does not know us), wire::Heartbeat
//              (every heartbeat_interval, carrying set_status()), wire::CommandAck,
//              wire::StatsInterval (send_stats), wire::RunEvent (send_event; and our own
//              "dead_man_stop" event once the broker is back).
//              Receives: wire::Heartbeat replies (state "known" or "unknown") and wire::Command
//              sent directly (immediate convergence after registration).
//
// Desired state: the broker numbers its commands with one increasing sequence (seeded from its
// start time, so a restarted broker continues above the old numbers). A command whose seq is
// not above the highest one delivered is not delivered again; its ack is re-sent instead, so a
// lost ack is repaired by the next re-publication. Stage commands (configure, prepare, start,
// stop) and "rate" commands keep separate high-water marks: they are re-published side by side
// and may overtake each other, and a rate may arrive before the start it follows (the beacon
// keeps it until it runs). After the broker was lost and is back,
// delivery starts afresh: the re-published desired state is delivered again, which is how a
// beacon stopped by the dead-man switch rejoins a run that is still going on.
//
// Dead-man switch: the broker counts as lost when nothing has been heard on either socket for
// broker_timeout (3 s): on_broker_lost fires once and the beacon must stop generating load. It
// counts as back once both sockets have been heard from again: on_broker_back fires (also on
// first contact). Both sockets use ZMTP heartbeats (1 s / 3 s), so half-open TCP connections
// are dropped and reconnected by ZeroMQ itself.
//
// Threads: the link runs its own thread (a CZMQ zactor). The callbacks are called on that
// thread, one at a time, and must not block for long: a beacon on an Asio io_context posts
// the work (asio::post(io, ...)). They may run until the destructor returns, so whatever they
// use must outlive the link (destroy the link first). Every public method is thread-safe and
// may also be called from inside a callback.
//
//   BeaconLink link(cfg, {
//       .on_command = [&](const wire::Command& c) { asio::post(io, [&, c] { handle(c); }); },
//       .on_broker_lost = [&](auto) { asio::post(io, [&] { beacon.stop("broker lost"); }); },
//       .on_broker_back = [] {},
//   }, log);
//   ... link.ack(c, true); link.set_status({"running", run_id, 99.5});
#pragma once

#include "common/util/config.hpp"
#include "common/util/units.hpp"
#include "common/wire.hpp"

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bts::control {

struct BeaconLinkConfig {
    std::string broker;      // the broker's ROUTER endpoint, e.g. "tcp://overseer:5560"
    std::string broker_pub;  // its PUB endpoint; "" = broker's host with port + 1
    std::string beacon_id;   // unique among the broker's beacons
    std::string host;        // reported in the registry
    std::string version = BTS_VERSION;
    std::uint32_t pid = 0;
    std::vector<std::string> capabilities;  // e.g. "transfer", "limit_order_create"
    std::vector<std::string> groups;        // subscribed as "group:<g>" topics
    // CURVE: this beacon's secret certificate and the broker's public certificate. Both or
    // neither; without them, plain TCP is allowed only to loopback or with `insecure`.
    std::string cert;
    std::string broker_key;
    bool insecure = false;
    util::Duration heartbeat_interval = std::chrono::seconds(1);
    util::Duration broker_timeout = std::chrono::seconds(3);

    // The PUB endpoint actually used (broker_pub, or derived from broker).
    [[nodiscard]] std::string pub_endpoint() const;
    // Throws util::ConfigError naming the key (as "broker.<field>").
    void validate() const;
};

// What the next heartbeats report.
struct BeaconStatus {
    std::string state = "idle";  // the beacon's state machine state
    std::string run_id;
    double achieved_rate = 0.0;  // tx/s over the last interval
};

class BeaconLink {
public:
    struct Callbacks {
        std::function<void(const wire::Command&)> on_command;
        // How long the broker has been silent (≥ broker_timeout).
        std::function<void(std::chrono::milliseconds silent)> on_broker_lost;
        std::function<void()> on_broker_back;
    };
    struct Counters {
        std::uint64_t received = 0;       // wire messages accepted from the broker
        std::uint64_t dropped = 0;        // malformed or unexpected frames, dropped
        std::uint64_t commands = 0;       // commands delivered to on_command
        std::uint64_t duplicates = 0;     // re-published commands not delivered again
        std::uint64_t send_failures = 0;  // DEALER had no connection or was full
        std::uint64_t lost = 0;           // times the dead-man switch fired
        bool broker_up = false;
    };

    // Starts the link thread; throws (util::ConfigError / std::runtime_error) on a bad config,
    // unreadable certificates or a refused plain-TCP endpoint.
    BeaconLink(BeaconLinkConfig config, Callbacks callbacks, std::shared_ptr<spdlog::logger> log);
    ~BeaconLink();  // stops the thread; pending sends are dropped
    BeaconLink(const BeaconLink&) = delete;
    BeaconLink& operator=(const BeaconLink&) = delete;

    void set_status(BeaconStatus status);
    // Acknowledges `command` (its run_id and seq). Re-sent when the command is re-published.
    void ack(const wire::Command& command, bool ok, std::string error = {});
    void send_stats(const wire::StatsInterval& stats);
    void send_event(const wire::RunEvent& event);

    [[nodiscard]] bool broker_up() const;
    [[nodiscard]] Counters counters() const;
    const BeaconLinkConfig& config() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// Reads a [broker] table of a program's config (keys: router, pub, cert, broker_key, insecure,
// groups, heartbeat_interval, timeout) into the connection part of a BeaconLinkConfig.
[[nodiscard]] BeaconLinkConfig beacon_link_config_from_toml(const util::TomlTable& broker);

}  // namespace bts::control
