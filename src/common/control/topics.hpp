// Names shared by both ends of the control channel: PUB topics, the broker's identity in
// heartbeats and its reply states. The channel itself is described in beacon_link.hpp (beacon
// side) and src/broker/broker.hpp (broker side).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bts::control {

// PUB topic frames. Every published message is [topic, wire frame].
inline constexpr std::string_view kTopicAll = "all";               // every beacon
inline constexpr std::string_view kTopicBeaconPrefix = "beacon:";  // "beacon:<beacon_id>"
inline constexpr std::string_view kTopicGroupPrefix = "group:";    // "group:<name>"

inline std::string beacon_topic(std::string_view beacon_id) {
    return std::string(kTopicBeaconPrefix) + std::string(beacon_id);
}
inline std::string group_topic(std::string_view group) {
    return std::string(kTopicGroupPrefix) + std::string(group);
}
// The topics a beacon subscribes to.
inline std::vector<std::string> beacon_topics(std::string_view beacon_id,
                                              const std::vector<std::string>& groups) {
    std::vector<std::string> t{std::string(kTopicAll), beacon_topic(beacon_id)};
    for (const auto& g : groups) t.push_back(group_topic(g));
    return t;
}

// The broker's Heartbeat.sender_id is "broker/<epoch>", the epoch being random per broker
// start: a beacon that sees a new epoch knows the broker restarted and registers again.
inline constexpr std::string_view kBrokerSenderPrefix = "broker/";
// Heartbeat.state of the broker's reply to a beacon heartbeat over ROUTER.
inline constexpr std::string_view kBrokerStateKnown = "known";      // registered
inline constexpr std::string_view kBrokerStateUnknown = "unknown";  // send a BeaconHello
// Heartbeat.state of the broker's heartbeat on PUB.
inline constexpr std::string_view kBrokerStateUp = "up";

}  // namespace bts::control
