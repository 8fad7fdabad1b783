// Broker and BeaconLinks in one process over real loopback sockets: registration, a scenario
// split across beacons, the dead-man switch when the broker dies, re-registration when it comes
// back, late joiners, orphan runs, and garbage frames counted and dropped on every socket.
#include "fake_beacon.hpp"

#include "common/control/topics.hpp"
#include "common/wire.hpp"

#include <czmq.h>
#include <gtest/gtest.h>

namespace bts::test {
namespace {

using nlohmann::json;

std::unique_ptr<broker::Broker> start_broker(const Ports& p, std::shared_ptr<spdlog::logger> log = nullptr) {
    return std::make_unique<broker::Broker>(fast_broker(p), log ? log : spdlog::default_logger());
}

TEST(Link, ScenarioIsSplitAcrossBeaconsAndCompletes) {
    Ports p = Ports::fresh();
    auto broker = start_broker(p);
    std::vector<std::unique_ptr<FakeBeacon>> beacons;
    for (auto id : {"b1", "b2", "b3"}) beacons.push_back(std::make_unique<FakeBeacon>(id, p));
    Ctl ctl(p);
    ASSERT_TRUE(wait_until([&] { return ctl.alive_beacons() == 3; }));
    auto j = ctl.call("beacons");
    EXPECT_EQ(j["beacons"][0]["host"], "test-host");
    EXPECT_EQ(j["beacons"][0]["version"], BTS_VERSION);

    auto started = ctl.call("start", {{"scenario", hold_scenario(100, "2s")}, {"origin", "t.toml"}});
    ASSERT_TRUE(started.contains("run_id")) << started.dump();
    EXPECT_EQ(started["participants"], 3);
    const std::string run_id = started["run_id"];
    ASSERT_TRUE(wait_until([&] { return ctl.run_state() == "running"; }, 5s));
    double sum = 0;
    for (auto& b : beacons) {
        ASSERT_TRUE(wait_until([&] { return b->state() == "running"; }));
        EXPECT_TRUE(b->saw("configure", run_id));
        EXPECT_TRUE(b->saw("prepare", run_id));
        sum += b->rate();
    }
    EXPECT_NEAR(sum, 100.0, 1e-9);
    EXPECT_DOUBLE_EQ(beacons[0]->rate(), 33.334) << "remainder to the first beacon";
    // The registry shows each beacon's node and share (state: from the next heartbeat).
    ASSERT_TRUE(wait_until([&] {
        j = ctl.call("beacons");
        for (const auto& b : j["beacons"]) {
            if (b["state"] != "running") return false;
        }
        return true;
    }));
    std::set<std::string> nodes;
    for (const auto& b : j["beacons"]) {
        nodes.insert(b["node"].get<std::string>());
        EXPECT_GT(b["configured_rate"].get<double>(), 33);
        EXPECT_EQ(b["state"], "running");
    }
    EXPECT_EQ(nodes.size(), 2u) << "spread over both nodes";
    // Busy while running.
    auto busy = ctl.call("start", {{"scenario", hold_scenario(10, "1s")}});
    EXPECT_EQ(busy["code"], "busy");

    ASSERT_TRUE(wait_until([&] { return ctl.run_state() == "completed"; }, 10s));
    // The beacons ended the run on their own clocks: the broker sent no stop.
    for (auto& b : beacons) EXPECT_FALSE(b->saw("stop", run_id));
    for (auto& b : beacons) EXPECT_EQ(b->state(), "stopped");
    auto st = ctl.call("status");
    EXPECT_EQ(st["run"]["fanout"]["targets"], 3);
    EXPECT_EQ(st["run"]["fanout"]["acked"], 3);
    EXPECT_GE(st["run"]["fanout"]["all_acked_us"].get<std::int64_t>(), 0);
    // Re-published commands were not delivered twice.
    for (auto& b : beacons) {
        EXPECT_GT(b->link().counters().duplicates, 0u);
        std::size_t starts = 0;
        for (const auto& c : b->commands()) starts += c.kind == "start";
        EXPECT_EQ(starts, 1u);
    }
}

TEST(Link, DeadManSwitchThenReRegistrationAfterBrokerRestart) {
    Ports p = Ports::fresh();
    auto broker = start_broker(p);
    std::vector<std::unique_ptr<FakeBeacon>> beacons;
    for (auto id : {"b1", "b2", "b3"}) beacons.push_back(std::make_unique<FakeBeacon>(id, p));
    {
        Ctl ctl(p);
        ASSERT_TRUE(wait_until([&] { return ctl.alive_beacons() == 3; }));
        ctl.call("start", {{"scenario", hold_scenario(30, "60s")}});
        for (auto& b : beacons) ASSERT_TRUE(wait_until([&] { return b->state() == "running"; }));
    }
    // The broker goes away (kill -9 of the real program is in tests/integration): silence
    // fires every beacon's dead-man switch.
    auto killed_at = std::chrono::steady_clock::now();
    broker.reset();
    for (auto& b : beacons) {
        ASSERT_TRUE(wait_until([&] { return b->lost() == 1; }, 3s));
        // Timeout 300 ms (3 × 100 ms heartbeats), plus the last heartbeat's age.
        EXPECT_LT(b->lost_at() - killed_at, 1s);
        EXPECT_EQ(b->state(), "stopped");
        EXPECT_FALSE(b->link().broker_up());
    }
    // A new broker on the same endpoints: every beacon comes back and registers again.
    broker = start_broker(p);
    Ctl ctl(p);
    ASSERT_TRUE(wait_until([&] { return ctl.alive_beacons() == 3; }));
    for (auto& b : beacons) ASSERT_TRUE(wait_until([&] { return b->back() == 2; }));
    auto started = ctl.call("start", {{"scenario", hold_scenario(30, "1s")}});
    ASSERT_TRUE(started.contains("run_id")) << started.dump();
    for (auto& b : beacons) {
        EXPECT_TRUE(wait_until([&] { return b->saw("start", started["run_id"].get<std::string>()); }));
    }
}

TEST(Link, BrokerShutdownStopsTheRunAtOnce) {
    Ports p = Ports::fresh();
    auto broker = start_broker(p);
    FakeBeacon b("b1", p);
    Ctl ctl(p);
    ASSERT_TRUE(wait_until([&] { return ctl.alive_beacons() == 1; }));
    ctl.call("start", {{"scenario", hold_scenario(10, "60s")}});
    ASSERT_TRUE(wait_until([&] { return b.state() == "running"; }));
    broker.reset();
    EXPECT_TRUE(wait_until([&] { return b.saw("stop"); }, 1s)) << "told, not only dead-man";
}

TEST(Link, LateJoinerConvergesAndSharesAreResplit) {
    Ports p = Ports::fresh();
    auto broker = start_broker(p);
    auto b1 = std::make_unique<FakeBeacon>("b1", p);
    auto b2 = std::make_unique<FakeBeacon>("b2", p);
    Ctl ctl(p);
    ASSERT_TRUE(wait_until([&] { return ctl.alive_beacons() == 2; }));
    auto started = ctl.call("start", {{"scenario", hold_scenario(90, "30s")}});
    const std::string run_id = started["run_id"];
    ASSERT_TRUE(wait_until([&] { return b1->state() == "running" && b2->state() == "running"; }));
    EXPECT_DOUBLE_EQ(b1->rate(), 45);

    FakeBeacon late("b3", p);
    ASSERT_TRUE(wait_until([&] { return late.state() == "running"; }));
    EXPECT_TRUE(late.saw("start", run_id));
    ASSERT_TRUE(wait_until([&] { return late.rate() == 30 && b1->rate() == 30 && b2->rate() == 30; }));
    // A lost beacon's share goes to the others.
    b2.reset();
    ASSERT_TRUE(wait_until([&] { return b1->rate() == 45 && late.rate() == 45; }, 3s));
    auto st = ctl.call("status");
    EXPECT_EQ(st["run"]["live"], 2);
    ctl.call("stop");
    ASSERT_TRUE(wait_until([&] { return ctl.run_state() == "stopped"; }, 5s));
    EXPECT_TRUE(b1->saw("stop", run_id));
}

TEST(Link, BeaconOfAnUnknownRunIsToldToStop) {
    Ports p = Ports::fresh();
    auto broker = start_broker(p);
    FakeBeacon b("b1", p);
    b.set_status("running", "run-from-before-a-restart");
    ASSERT_TRUE(wait_until([&] { return b.saw("stop", "run-from-before-a-restart"); }, 5s));
}

// Raw sockets for sending garbage.
struct RawSock {
    zsock_t* s;
    explicit RawSock(int type) : s(zsock_new(type)) { zsock_set_linger(s, 0); }
    ~RawSock() { zsock_destroy(&s); }
    void send(std::initializer_list<std::string> frames) {
        void* z = zsock_resolve(s);
        std::size_t i = 0;
        for (const auto& f : frames) {
            zmq_send(z, f.data(), f.size(), ++i < frames.size() ? ZMQ_SNDMORE : 0);
        }
    }
};

TEST(Link, GarbageFramesOnTheBrokerAreCountedAndDropped) {
    Ports p = Ports::fresh();
    CapturedLog log("bts-broker");
    auto broker = start_broker(p, log.logger);
    RawSock dealer(ZMQ_DEALER);
    ASSERT_EQ(zsock_connect(dealer.s, "%s", p.router.c_str()), 0);
    dealer.send({"not msgpack at all"});
    dealer.send({std::string("\x94\xa4" "BTS1\x01\x63\x90", 9)});       // unknown type 99
    dealer.send({"two", "frames"});                                     // wrong frame count
    dealer.send({wire::encode(wire::ClusterTotals{})});                 // not for the ROUTER
    dealer.send({wire::encode(wire::CommandAck{"nobody", "r", 1, true, ""})});  // unregistered
    dealer.send({wire::encode(wire::CtlRequest{1, "status", "{not json"})});
    for (int i = 0; i < 200; ++i) dealer.send({std::string(1 + i % 50, static_cast<char>(0xc1))});
    Ctl ctl(p);
    json dropped;
    ASSERT_TRUE(wait_until([&] {
        dropped = ctl.call("status")["broker"]["dropped"];
        return dropped.value("malformed", 0) >= 202;
    }));
    EXPECT_EQ(dropped["frame_count"], 1);
    EXPECT_EQ(dropped["unexpected_type"], 1);
    EXPECT_EQ(dropped["unknown_sender"], 1);
    EXPECT_EQ(dropped["bad_ctl_request"], 1);
    // Warnings are rate-limited: far fewer lines than frames.
    std::string text = log.text();
    std::size_t lines = 0;
    for (std::size_t at = 0; (at = text.find("dropped frame", at)) != std::string::npos; ++at) ++lines;
    EXPECT_LE(lines, 30u);
    EXPECT_GE(lines, 1u);
    // Still serving.
    FakeBeacon b("b1", p);
    EXPECT_TRUE(wait_until([&] { return ctl.alive_beacons() == 1; }));
}

TEST(Link, CtlFieldsOfTheWrongTypeAreBadRequests) {
    // issue 17: {"since":"abc"} answered "internal error" instead of bad_request.
    Ports p = Ports::fresh();
    CapturedLog log("bts-broker");
    auto broker = start_broker(p, log.logger);
    Ctl ctl(p);
    for (const auto& payload : {json{{"since", "abc"}}, json{{"since", 1.5}}, json{{"detail", "yes"}}}) {
        const json r = ctl.call("status", payload);
        EXPECT_EQ(r.value("code", ""), "bad_request") << payload.dump() << " → " << r.dump();
        EXPECT_EQ(r.value("error", "").find("internal"), std::string::npos) << r.dump();
    }
    EXPECT_EQ(ctl.call("status", json{{"since", 0}}).value("code", ""), "");  // still fine
    EXPECT_EQ(log.text().find("ctl status failed"), std::string::npos) << log.text();
}

TEST(Link, GarbageFramesOnTheBeaconAreCountedAndDropped) {
    // A fake broker: raw PUB and ROUTER that speak just enough to bring the link up.
    Ports p = Ports::fresh();
    RawSock pub(ZMQ_PUB);
    RawSock router(ZMQ_ROUTER);
    ASSERT_GE(zsock_bind(pub.s, "%s", p.pub.c_str()), 0);
    ASSERT_GE(zsock_bind(router.s, "%s", p.router.c_str()), 0);
    std::atomic<int> delivered{0};
    control::BeaconLinkConfig c;
    c.broker = p.router;
    c.broker_pub = p.pub;
    c.beacon_id = "b1";
    c.heartbeat_interval = 50ms;
    c.broker_timeout = 2s;
    control::BeaconLink::Callbacks cb;
    cb.on_command = [&](const wire::Command&) { ++delivered; };
    control::BeaconLink link(c, cb, spdlog::default_logger());

    wire::Heartbeat hb;
    hb.sender_id = "broker/test";
    hb.state = "known";
    wire::Command cmd{"r", 1'000, "b1", "start", "x"};
    std::string rid;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        pub.send({"all", wire::encode(hb)});
        pub.send({"all", "garbage"});                              // undecodable
        pub.send({"all"});                                         // one frame
        pub.send({"all", wire::encode(wire::ClusterTotals{})});    // wrong type
        pub.send({"beacon:b10", wire::encode(cmd)});               // prefix match, not ours
        pub.send({"all", wire::encode(wire::Command{"r", 5, "b2", "start", ""})});  // wrong target
        if (zsock_events(router.s) & ZMQ_POLLIN) {
            zmsg_t* m = zmsg_recv(router.s);
            char* id = zframe_strhex(zmsg_first(m));
            zframe_t* idf = zmsg_first(m);
            rid.assign(reinterpret_cast<const char*>(zframe_data(idf)), zframe_size(idf));
            zstr_free(&id);
            zmsg_destroy(&m);
        }
        if (!rid.empty()) {
            router.send({rid, wire::encode(hb)});
            router.send({rid, "garbage"});
        }
        if (link.counters().dropped >= 20 && link.broker_up()) break;
        std::this_thread::sleep_for(20ms);
    }
    auto k = link.counters();
    EXPECT_TRUE(k.broker_up);
    EXPECT_GE(k.dropped, 20u);
    EXPECT_EQ(delivered.load(), 0) << "nothing malformed or misaddressed reaches the beacon";
    pub.send({"beacon:b1", wire::encode(cmd)});
    EXPECT_TRUE(wait_until([&] { return delivered.load() == 1; }));
    pub.send({"beacon:b1", wire::encode(cmd)});  // re-published: not again
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(delivered.load(), 1);
}

}  // namespace
}  // namespace bts::test
