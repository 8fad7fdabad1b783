// Registry of beacons and their liveness (see registry.hpp).
#include "broker/registry.hpp"

#include <algorithm>

namespace bts::broker {

Registry::Registry(std::chrono::milliseconds timeout, std::size_t max_beacons)
    : timeout_(timeout), max_beacons_(max_beacons) {}

Registry::HelloResult Registry::hello(const wire::BeaconHello& h, const std::string& routing_id,
                                      const std::string& key, TimePoint now,
                                      std::int64_t unix_ms) {
    auto it = beacons_.find(h.beacon_id);
    HelloResult result = HelloResult::kNew;
    if (it == beacons_.end()) {
        if (beacons_.size() >= max_beacons_) {
            // Make room by forgetting the longest-lost beacon, if there is one.
            auto victim = beacons_.end();
            for (auto b = beacons_.begin(); b != beacons_.end(); ++b) {
                if (!b->second.alive && (victim == beacons_.end() ||
                                         b->second.last_seen < victim->second.last_seen)) {
                    victim = b;
                }
            }
            if (victim == beacons_.end()) return HelloResult::kRefused;
            beacons_.erase(victim);
        }
        BeaconEntry e;
        e.id = h.beacon_id;
        e.first_seen = now;
        it = beacons_.emplace(h.beacon_id, std::move(e)).first;
    } else if (it->second.alive) {
        if (it->second.hello_seen && it->second.key != key) return HelloResult::kRefused;
        result = HelloResult::kAgain;
    } else {
        result = HelloResult::kBack;
    }
    BeaconEntry& e = it->second;
    e.host = h.host;
    e.version = h.version;
    e.pid = h.pid;
    e.capabilities = h.capabilities;
    e.groups = h.groups;
    e.routing_id = routing_id;
    e.key = key;
    e.hello_seen = true;
    if (!e.alive) ++e.times_lost;  // counted when it comes back, so "lost N times" is exact
    e.alive = true;
    e.last_seen = now;
    e.last_seen_unix_ms = unix_ms;
    return result;
}

bool Registry::heard(const std::string& beacon_id, const std::string& routing_id,
                     const std::string& key, TimePoint now, std::int64_t unix_ms) {
    auto it = beacons_.find(beacon_id);
    if (it == beacons_.end() || !it->second.hello_seen) return false;
    BeaconEntry& e = it->second;
    if (e.key != key) return false;
    // A lost beacon must say hello again (it may have restarted with another config).
    if (!e.alive) return false;
    e.routing_id = routing_id;
    e.last_seen = now;
    e.last_seen_unix_ms = unix_ms;
    return true;
}

bool Registry::heartbeat(const wire::Heartbeat& hb, const std::string& routing_id,
                         const std::string& key, TimePoint now, std::int64_t unix_ms) {
    if (!heard(hb.sender_id, routing_id, key, now, unix_ms)) return false;
    BeaconEntry& e = beacons_.at(hb.sender_id);
    e.state = hb.state;
    e.run_id = hb.run_id;
    e.achieved_rate = hb.achieved_rate;
    ++e.heartbeats;
    return true;
}

std::vector<std::string> Registry::expire(TimePoint now) {
    std::vector<std::string> lost;
    for (auto& [id, e] : beacons_) {
        if (e.alive && now - e.last_seen >= timeout_) {
            e.alive = false;
            e.state = "lost";
            e.achieved_rate = 0.0;
            lost.push_back(id);
        }
    }
    return lost;
}

std::optional<TimePoint> Registry::next_expiry() const {
    std::optional<TimePoint> next;
    for (const auto& [id, e] : beacons_) {
        if (!e.alive) continue;
        TimePoint t = e.last_seen + timeout_;
        if (!next || t < *next) next = t;
    }
    return next;
}

const BeaconEntry* Registry::find(const std::string& id) const {
    auto it = beacons_.find(id);
    return it == beacons_.end() ? nullptr : &it->second;
}

BeaconEntry* Registry::find(const std::string& id) {
    auto it = beacons_.find(id);
    return it == beacons_.end() ? nullptr : &it->second;
}

std::vector<const BeaconEntry*> Registry::alive(const std::string& group) const {
    std::vector<const BeaconEntry*> out;
    for (const auto& [id, e] : beacons_) {
        if (!e.alive || !e.hello_seen) continue;
        if (!group.empty() && std::find(e.groups.begin(), e.groups.end(), group) == e.groups.end()) {
            continue;
        }
        out.push_back(&e);
    }
    return out;
}

std::size_t Registry::alive_count() const {
    return static_cast<std::size_t>(std::count_if(
        beacons_.begin(), beacons_.end(), [](const auto& kv) { return kv.second.alive; }));
}

}  // namespace bts::broker
