// Registry with a fake clock: registration, heartbeats, loss after the timeout (3 missed 1 s
// heartbeats), coming back, id takeover rules.
#include "broker/registry.hpp"

#include <gtest/gtest.h>

namespace bts::broker {
namespace {

using namespace std::chrono_literals;

wire::BeaconHello hello(std::string id, std::vector<std::string> groups = {}) {
    return wire::BeaconHello{std::move(id), "host-1", "0.1.0", 42, {"transfer"}, std::move(groups)};
}

wire::Heartbeat hb(std::string id, std::string state = "idle") {
    wire::Heartbeat h;
    h.sender_id = std::move(id);
    h.state = std::move(state);
    h.achieved_rate = 12.5;
    return h;
}

TEST(Registry, LostAfterTimeoutBackAfterHello) {
    TimePoint t0{};
    Registry r(3s);
    EXPECT_EQ(r.hello(hello("b1"), "rid1", "", t0, 1000), Registry::HelloResult::kNew);
    EXPECT_EQ(r.hello(hello("b2", {"eu"}), "rid2", "", t0, 1000), Registry::HelloResult::kNew);
    EXPECT_EQ(r.alive_count(), 2u);
    EXPECT_EQ(r.next_expiry(), t0 + 3s);

    // b1 heartbeats every second; b2 goes silent.
    for (int s = 1; s <= 2; ++s) {
        EXPECT_TRUE(r.heartbeat(hb("b1", "running"), "rid1", "", t0 + s * 1s, 1000 + s * 1000));
        EXPECT_TRUE(r.expire(t0 + s * 1s).empty());
    }
    EXPECT_TRUE(r.expire(t0 + 2999ms).empty());
    EXPECT_EQ(r.expire(t0 + 3s), std::vector<std::string>{"b2"});
    EXPECT_TRUE(r.expire(t0 + 4s).empty()) << "reported once";
    EXPECT_FALSE(r.find("b2")->alive);
    EXPECT_EQ(r.find("b2")->state, "lost");
    EXPECT_EQ(r.find("b1")->state, "running");
    EXPECT_DOUBLE_EQ(r.find("b1")->achieved_rate, 12.5);
    EXPECT_EQ(r.alive("").size(), 1u);
    EXPECT_TRUE(r.alive("eu").empty());

    // A lost beacon's heartbeat is not enough: the broker asks for a hello.
    EXPECT_FALSE(r.heartbeat(hb("b2"), "rid2b", "", t0 + 5s, 6000));
    EXPECT_EQ(r.hello(hello("b2", {"eu"}), "rid2b", "", t0 + 5s, 6000), Registry::HelloResult::kBack);
    EXPECT_TRUE(r.find("b2")->alive);
    EXPECT_EQ(r.find("b2")->times_lost, 1u);
    EXPECT_EQ(r.find("b2")->routing_id, "rid2b");
    EXPECT_EQ(r.alive("eu").size(), 1u);
}

TEST(Registry, UnknownSendersAreNotRegisteredByHeartbeats) {
    Registry r(3s);
    EXPECT_FALSE(r.heartbeat(hb("ghost"), "x", "", TimePoint{}, 0));
    EXPECT_FALSE(r.heard("ghost", "x", "", TimePoint{}, 0));
    EXPECT_TRUE(r.all().empty());
}

TEST(Registry, LiveIdCannotBeTakenByAnotherKey) {
    TimePoint t0{};
    Registry r(3s);
    ASSERT_EQ(r.hello(hello("b1"), "r", "KEY-A", t0, 0), Registry::HelloResult::kNew);
    EXPECT_EQ(r.hello(hello("b1"), "r2", "KEY-B", t0 + 1s, 0), Registry::HelloResult::kRefused);
    EXPECT_FALSE(r.heard("b1", "r2", "KEY-B", t0 + 1s, 0)) << "messages under another key are not it";
    EXPECT_EQ(r.hello(hello("b1"), "r3", "KEY-A", t0 + 1s, 0), Registry::HelloResult::kAgain);
    // Once lost, a reinstalled beacon (new key) may take the id.
    (void)r.expire(t0 + 10s);
    EXPECT_EQ(r.hello(hello("b1"), "r4", "KEY-B", t0 + 11s, 0), Registry::HelloResult::kBack);
}

TEST(Registry, FullRegistryForgetsTheLongestLostFirst) {
    TimePoint t0{};
    Registry r(3s, 2);
    ASSERT_EQ(r.hello(hello("a"), "r", "", t0, 0), Registry::HelloResult::kNew);
    ASSERT_EQ(r.hello(hello("b"), "r", "", t0 + 1s, 0), Registry::HelloResult::kNew);
    EXPECT_EQ(r.hello(hello("c"), "r", "", t0 + 1s, 0), Registry::HelloResult::kRefused);
    (void)r.expire(t0 + 3500ms);  // a lost
    EXPECT_EQ(r.hello(hello("c"), "r", "", t0 + 4s, 0), Registry::HelloResult::kNew);
    EXPECT_EQ(r.find("a"), nullptr);
    EXPECT_NE(r.find("b"), nullptr);
}

}  // namespace
}  // namespace bts::broker
