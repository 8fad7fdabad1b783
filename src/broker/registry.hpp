// Registry: every beacon the broker has heard of — host, version, state, node, configured vs
// achieved rate, last seen — and the liveness rule (lost after `timeout` without a word, i.e. 3
// missed 1 s heartbeats). Time is passed in, so tests drive it with a fake clock.
#pragma once

#include "common/wire.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bts::broker {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct BeaconEntry {
    std::string id;
    std::string host;
    std::string version;
    std::uint32_t pid = 0;
    std::vector<std::string> capabilities;
    std::vector<std::string> groups;
    std::string routing_id;  // ROUTER identity of its DEALER (changes on reconnect)
    std::string key;         // CURVE public key (Z85) it registered with; "" without CURVE
    bool hello_seen = false;  // false: known only from a heartbeat, asked for a hello

    // From heartbeats.
    std::string state = "unknown";
    std::string run_id;
    double achieved_rate = 0.0;
    std::uint64_t heartbeats = 0;

    // Set by the run it takes part in.
    std::string node;
    double configured_rate = 0.0;

    TimePoint first_seen{};
    TimePoint last_seen{};
    std::int64_t last_seen_unix_ms = 0;
    bool alive = true;
    std::uint32_t times_lost = 0;
};

class Registry {
public:
    enum class HelloResult {
        kNew,       // first time
        kAgain,     // known and alive (reconnect, or broker asked for it)
        kBack,      // known but lost: alive again
        kRefused,   // id taken by another key, or registry full
    };

    explicit Registry(std::chrono::milliseconds timeout = std::chrono::seconds(3),
                      std::size_t max_beacons = 10'000);

    // `key` is the peer's CURVE public key ("" without CURVE). A live beacon's id cannot be
    // taken over by a different key; a lost one's can (the beacon was reinstalled).
    HelloResult hello(const wire::BeaconHello& h, const std::string& routing_id,
                      const std::string& key, TimePoint now, std::int64_t unix_ms);
    // Heartbeats, acks, stats: the beacon is alive. Returns false when the id is unknown (the
    // broker then asks for a hello) or its key does not match (dropped).
    bool heard(const std::string& beacon_id, const std::string& routing_id,
               const std::string& key, TimePoint now, std::int64_t unix_ms);
    bool heartbeat(const wire::Heartbeat& hb, const std::string& routing_id,
                   const std::string& key, TimePoint now, std::int64_t unix_ms);

    // Marks beacons silent for `timeout` as lost; returns their ids (each only once).
    std::vector<std::string> expire(TimePoint now);
    // When the next beacon would expire, if any is alive.
    [[nodiscard]] std::optional<TimePoint> next_expiry() const;

    [[nodiscard]] const BeaconEntry* find(const std::string& id) const;
    BeaconEntry* find(const std::string& id);
    [[nodiscard]] const std::map<std::string, BeaconEntry>& all() const { return beacons_; }
    // Alive beacons (in id order), optionally only those in `group`.
    [[nodiscard]] std::vector<const BeaconEntry*> alive(const std::string& group = {}) const;
    [[nodiscard]] std::size_t alive_count() const;
    [[nodiscard]] std::chrono::milliseconds timeout() const { return timeout_; }

private:
    std::chrono::milliseconds timeout_;
    std::size_t max_beacons_;
    std::map<std::string, BeaconEntry> beacons_;
};

}  // namespace bts::broker
