// The uptime actor in process: schedule, fork detection across scripted nodes, and delivery of
// results over ZeroMQ PUB (topic = endpoint) and PUSH (to a collector's PULL).
#include "actors/uptime/uptime.hpp"
#include "fake_targets.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <map>
#include <mutex>

namespace bts::uptime {
namespace {

using testing::FakeNode;

std::shared_ptr<spdlog::logger> quiet() {
    return std::make_shared<spdlog::logger>("quiet", std::make_shared<spdlog::sinks::null_sink_mt>());
}

EndpointConfig api(const std::string& name, const std::string& url, bool reference = false) {
    EndpointConfig c;
    c.name = name;
    c.url = url;
    c.chain_id = std::string(64, 'c');
    c.interval = std::chrono::milliseconds(300);
    c.timeout = std::chrono::milliseconds(250);
    c.reference = reference;
    return c;
}

TEST(UptimeActor, PublishesEveryResultOnPubAndPush) {
    zmq::context_t ctx(1);
    FakeNode node({});
    zmq::socket_t pull(ctx, zmq::socket_type::pull);
    pull.bind("tcp://127.0.0.1:*");
    const std::string pull_ep = pull.get(zmq::sockopt::last_endpoint);

    UptimeConfig cfg;
    cfg.pub = "tcp://127.0.0.1:*";
    cfg.push = pull_ep;
    cfg.endpoints = {api("good", node.url()),
                     api("closed", "ws://127.0.0.1:" + std::to_string(testing::closed_port()) + "/")};
    cfg.validate();
    std::mutex m;  // declared before the actor: its thread may use them until it is joined
    std::map<std::string, int> seen;
    Uptime actor(ctx, cfg, quiet());
    actor.on_result([&](const wire::UptimeResult& r) {
        std::lock_guard lock(m);
        ++seen[r.endpoint + "/" + r.status];
    });
    actor.start();

    pull.set(zmq::sockopt::rcvtimeo, 5000);
    std::map<std::string, std::string> status;
    for (int i = 0; i < 20 && status.size() < 2; ++i) {
        zmq::message_t msg;
        ASSERT_TRUE(pull.recv(msg)) << "no result pushed";
        const auto decoded = wire::decode(msg.to_string_view());
        ASSERT_TRUE(decoded.ok()) << decoded.error();
        const auto* r = std::get_if<wire::UptimeResult>(&*decoded);
        ASSERT_NE(r, nullptr);
        status[r->endpoint] = r->status;
    }
    EXPECT_EQ(status["good"], "UP");
    EXPECT_EQ(status["closed"], "DOWN");
    actor.stop();
    const UptimeStats s = actor.stats();
    EXPECT_GE(s.probes_done, 2u);
    EXPECT_EQ(s.send_errors, 0u);
    std::lock_guard lock(m);
    EXPECT_GE(seen["good/UP"], 1);
}

TEST(UptimeActor, PubTopicIsTheEndpointName) {
    zmq::context_t ctx(1);
    FakeNode node({});
    // A known free port, so the subscriber can connect before results flow.
    const std::string ep = "tcp://127.0.0.1:" + std::to_string(bts::test::free_port());

    UptimeConfig cfg;
    cfg.pub = ep;
    cfg.push = "";
    cfg.endpoints = {api("alpha", node.url()), api("beta", node.url())};
    Uptime actor(ctx, cfg, quiet());
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::subscribe, "beta");
    sub.set(zmq::sockopt::rcvtimeo, 5000);
    sub.connect(ep);
    actor.start();
    for (int i = 0; i < 3; ++i) {
        zmq::message_t topic, body;
        ASSERT_TRUE(sub.recv(topic));
        ASSERT_TRUE(topic.more());
        ASSERT_TRUE(sub.recv(body));
        EXPECT_EQ(topic.to_string(), "beta");
        const auto decoded = wire::decode(body.to_string_view());
        ASSERT_TRUE(decoded.ok());
        EXPECT_EQ(std::get<wire::UptimeResult>(*decoded).endpoint, "beta");
    }
}

TEST(UptimeActor, DetectsForkAgainstReferenceAndMajority) {
    zmq::context_t ctx(1);
    // All share one chain id; "forked" diverges from height 900, below every LIB and head.
    // Heads at different heights: only the anchor (a common irreversible block) can compare.
    FakeNode ref(testing::FakeNodeOptions{}.at(1000, 980)), peer(testing::FakeNodeOptions{}.at(1003, 981));
    FakeNode forked(testing::FakeNodeOptions{}.fork("evil", 900).at(1007, 985));
    UptimeConfig cfg;
    cfg.pub = "";
    cfg.push = "inproc://nowhere";
    cfg.fork_anchor_refresh = std::chrono::seconds(1);
    cfg.endpoints = {api("ref", ref.url(), true), api("peer", peer.url()), api("forked", forked.url())};
    std::mutex m;
    std::map<std::string, std::string> last;
    std::string fork_error;
    Uptime actor(ctx, cfg, quiet());
    actor.on_result([&](const wire::UptimeResult& r) {
        std::lock_guard lock(m);
        last[r.endpoint] = r.status;
        if (r.status == "FORKED") fork_error = r.error;
    });
    actor.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(m);
            if (last["forked"] == "FORKED" && last["peer"] == "UP" && last["ref"] == "UP") break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    actor.stop();
    std::lock_guard lock(m);
    EXPECT_EQ(last["forked"], "FORKED");
    EXPECT_EQ(last["peer"], "UP");
    EXPECT_EQ(last["ref"], "UP");
    EXPECT_NE(fork_error.find("block"), std::string::npos) << fork_error;
}

TEST(UptimeActor, ScheduleKeepsItsPace) {
    zmq::context_t ctx(1);
    FakeNode node({});
    UptimeConfig cfg;
    cfg.pub = "";
    cfg.push = "inproc://nowhere";
    for (int i = 0; i < 20; ++i) {
        auto e = api("n" + std::to_string(i), node.url());
        e.interval = std::chrono::milliseconds(300);
        e.timeout = std::chrono::milliseconds(250);
        cfg.endpoints.push_back(e);
    }
    Uptime actor(ctx, cfg, quiet());
    actor.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    actor.stop();
    const UptimeStats s = actor.stats();
    // 20 endpoints × 10 turns in 3 s (the first turn falls anywhere in the first 300 ms). Bounds
    // leave room for a loaded CI machine; the benchmark measures lateness properly.
    EXPECT_GE(s.probes_started, 170u);
    EXPECT_LE(s.probes_started, 220u);
    EXPECT_LE(s.skipped_busy, 2u);
    EXPECT_GE(s.by_status[static_cast<int>(Status::up)] * 10, s.probes_done * 9);
    EXPECT_LT(s.max_lateness_us, 250'000u);
    EXPECT_LT(s.lateness_sum_us / std::max<std::uint64_t>(1, s.probes_started), 20'000u);
}

}  // namespace
}  // namespace bts::uptime
