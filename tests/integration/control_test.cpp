// The whole chain as real processes on loopback: bts-devnet, bts-broker (CURVE, allow list),
// three bts-beacons and bts-ctl. A scenario runs with every beacon at its share of the rate;
// stop; kill -9 of the broker makes every beacon stop load within 3 s (and its sent counter
// stops); a restarted broker gets them back and they obey; a late beacon joins a running
// scenario; a client without an allowed certificate is refused; garbage frames are counted.
#include "common/control/ctl_client.hpp"
#include "common/control/curve.hpp"
#include "common/wire.hpp"
#include "chain.hpp"
#include "process.hpp"

#include <czmq.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

namespace bts::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return pred();
}

// Sum of "sent" over the beacon's stdout interval lines.
std::uint64_t sent_in_log(const std::string& log) {
    std::uint64_t total = 0;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("{\"type\":\"interval\"", 0) != 0) continue;
        auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded()) total += j.value("sent", std::uint64_t{0});
    }
    return total;
}

// The beacon's last "type":"summary" line (its run totals), null if none yet.
json summary_in_log(const std::string& log) {
    json last;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("{\"type\":\"summary\"", 0) != 0) continue;
        auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded()) last = j;
    }
    return last;
}

std::uint64_t u(const json& j, const char* key) { return j.contains(key) ? j[key].get<std::uint64_t>() : 0; }

// A beacon's summary adds up: sent = accepted + rejected + unknown, accepted = included +
// expired + pending.
void expect_beacon_adds_up(const json& s) {
    std::uint64_t rej = 0;
    for (auto& [k, v] : s["rejected"].items()) rej += v.get<std::uint64_t>();
    EXPECT_EQ(u(s, "sent"), u(s, "accepted") + rej + u(s, "unknown_outcome")) << s.dump();
    EXPECT_EQ(u(s, "accepted"), u(s, "included_txs") + u(s, "expired_unincluded") + u(s, "pending_at_cutoff")) << s.dump();
}

// The broker's run totals add up the same way.
void expect_run_adds_up(const json& t) {
    EXPECT_EQ(u(t, "sent"), u(t, "accepted") + u(t, "rejected") + u(t, "unknown")) << t.dump();
    EXPECT_EQ(u(t, "accepted"), u(t, "included") + u(t, "expired") + u(t, "pending")) << t.dump();
}

class Cluster {
public:
    TempDir dir;
    std::string keys = dir.path() + "/keys";
    std::string allow = dir.path() + "/allowed";
    std::uint16_t devnet_port = free_port();
    std::string router = "tcp://127.0.0.1:" + std::to_string(free_port());
    std::string pub = "tcp://127.0.0.1:" + std::to_string(free_port());
    std::string node = "ws://127.0.0.1:" + std::to_string(devnet_port);
    std::unique_ptr<ChildProcess> devnet;
    std::unique_ptr<ChildProcess> broker;
    std::vector<std::unique_ptr<ChildProcess>> beacons;
    std::unique_ptr<control::CtlClient> client;
    int broker_starts = 0;

    Cluster() {
        std::filesystem::create_directories(allow);
        for (const char* name : {"broker", "operator", "intruder", "beacon-1", "beacon-2", "beacon-3", "beacon-4"}) {
            auto r = ctl({"keygen", name, "--dir", keys});
            EXPECT_EQ(r.exit_code, 0) << r.err;
        }
        for (const char* name : {"operator", "beacon-1", "beacon-2", "beacon-3", "beacon-4"}) {
            std::filesystem::copy_file(keys + "/" + name + ".key", allow + "/" + name + ".key");
        }
        devnet = std::make_unique<ChildProcess>(
            built_program("src/actors/devnet/bts-devnet"),
            std::vector<std::string>{"--config", "/dev/null", "--port", std::to_string(devnet_port),
                                     "--block-interval", "1s"},
            dir.file("devnet.log"));
        start_broker();
        control::CtlClientConfig c;
        c.broker = router;
        c.cert = keys + "/operator.key_secret";
        c.broker_key = keys + "/broker.key";
        client = std::make_unique<control::CtlClient>(c);
    }

    void start_broker() {
        ++broker_starts;
        broker = std::make_unique<ChildProcess>(
            built_program("src/broker/bts-broker"),
            std::vector<std::string>{"--config", "/dev/null", "--router", router, "--pub", pub, "--cert",
                                     keys + "/broker.key_secret", "--allow", allow},
            dir.file("broker-" + std::to_string(broker_starts) + ".log"));
        ASSERT_TRUE(broker->wait_for_log("listening", 10s)) << broker->log();
    }

    void start_beacon(int i) {
        std::string id = "beacon-" + std::to_string(i);
        beacons.push_back(std::make_unique<ChildProcess>(
            built_program("src/actors/beacon/bts-beacon"),
            std::vector<std::string>{"--config", "/dev/null", "--id", id, "--broker", router, "--broker-pub",
                                     pub, "--cert", keys + "/" + id + ".key_secret", "--broker-key",
                                     keys + "/broker.key"},
            dir.file(id + ".log")));
    }

    RunResult ctl(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
        return run_program(built_program("src/tools/bts-ctl/bts-ctl"), args, {}, timeout);
    }
    // bts-ctl as the operator.
    RunResult op(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
        args.insert(args.end(), {"--config", "/dev/null", "--broker", router, "--cert",
                                 keys + "/operator.key_secret", "--broker-key", keys + "/broker.key"});
        return ctl(std::move(args), timeout);
    }

    json call(std::string_view verb, const json& payload = json::object()) {
        auto r = client->request(verb, payload.dump(), 2s);
        if (!r) return json{{"unreachable", r.error()}};
        auto j = json::parse(r->payload, nullptr, false);
        if (!r->ok) j["error"] = r->error;
        return j;
    }
    json run_status() {
        auto j = call("status");
        return j.contains("run") ? j["run"] : json();
    }
    json beacon_list() {
        auto j = call("beacons");
        return j.contains("beacons") ? j["beacons"] : json::array();
    }
    std::size_t alive() {
        std::size_t n = 0;
        for (const auto& b : beacon_list()) n += b.value("alive", false) ? 1 : 0;
        return n;
    }
    std::string run_state() {
        auto j = call("status");
        if (!j.contains("run") || j["run"].is_null()) return "";
        return j["run"].value("state", std::string());
    }
    std::string scenario(double rate, std::string_view duration) {
        std::string text = "[scenario]\nname = \"it\"\ndescription = \"integration\"\nrate = " +
                           std::to_string(rate) + "\nduration = \"" + std::string(duration) +
                           "\"\n[target]\nnodes = [\"" + node + "\"]\n[mix]\ntransfer = 3\nlimit_order_create = 1\n"
                           "[accounts]\nsource = \"devnet:stress-0..stress-99\"\n";
        return dir.write("it-" + std::string(duration) + ".toml", text);
    }
};

TEST(Integration, ABrokerDrivenRunSendsExactlyTheScenarioAndTheChainAgrees) {
    // 30 tx/s for 6 s over 3 beacons: exactly 180 sent (60 each), each beacon ending its
    // schedule on its own clock; every reply counted and every transaction's fate known.
    Cluster c;
    for (int i = 1; i <= 3; ++i) c.start_beacon(i);
    ASSERT_TRUE(wait_until([&] { return c.alive() == 3; }, 15s)) << c.broker->log();
    const auto head = head_block(c.node);
    auto r = c.op({"start", "--scenario", c.scenario(30, "6s"), "--beacons", "3"}, 90s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("completed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("included   180"), std::string::npos) << "the summary shows inclusion: " << r.out;
    const json run = c.run_status();
    ASSERT_TRUE(run.is_object()) << c.broker->log();
    EXPECT_EQ(run.value("state", std::string()), "completed");
    const json& t = run["totals"];
    EXPECT_EQ(u(t, "sent"), 180u) << t.dump();
    EXPECT_EQ(u(t, "accepted"), 180u) << t.dump();
    EXPECT_EQ(u(t, "included"), 180u) << t.dump();
    expect_run_adds_up(t);
    EXPECT_EQ(count_chain_settled(c.node, head + 1).txs, u(t, "included")) << "the chain's own count";
    std::uint64_t sum = 0;
    for (auto& b : c.beacons) {
        ASSERT_TRUE(b->wait_for_log("\"type\":\"summary\"", 10s)) << b->log();
        const json s = summary_in_log(b->log());
        EXPECT_EQ(u(s, "sent"), 60u) << s.dump();
        EXPECT_EQ(s.value("reason", std::string()), "completed") << "ended by its own schedule, not a stop";
        expect_beacon_adds_up(s);
        sum += u(s, "included_txs");
    }
    EXPECT_EQ(sum, u(t, "included")) << "the broker's record equals the beacons' own";
}

TEST(Integration, ScenarioRunsAtEachBeaconsShareThenStops) {
    Cluster c;
    for (int i = 1; i <= 3; ++i) c.start_beacon(i);
    ASSERT_TRUE(wait_until([&] { return c.alive() == 3; }, 15s)) << c.broker->log();
    const auto head = head_block(c.node);

    auto r = c.op({"start", "--scenario", c.scenario(60, "60s"), "--beacons", "3", "--detach"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(wait_until([&] { return c.run_state() == "running"; }, 20s)) << c.broker->log();
    // Every beacon at its share (60 / 3 = 20 tx/s), from its own heartbeats.
    bool shares = wait_until(
        [&] {
            auto list = c.beacon_list();
            if (list.size() != 3) return false;
            for (const auto& b : list) {
                if (b.value("configured_rate", 0.0) != 20.0) return false;
                double a = b.value("achieved_rate", 0.0);
                if (a < 17 || a > 23) return false;
            }
            return true;
        },
        15s);
    EXPECT_TRUE(shares) << c.beacon_list().dump(1);
    std::set<std::string> states;
    for (const auto& b : c.beacon_list()) states.insert(b.value("state", std::string()));
    EXPECT_EQ(states, std::set<std::string>{"running"});
    // Status and live progress come from the broker's aggregation of the beacons' stats.
    auto st = c.op({"status"});
    EXPECT_EQ(st.exit_code, 0);
    EXPECT_NE(st.out.find("running"), std::string::npos) << st.out;

    auto stop = c.op({"stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    ASSERT_TRUE(wait_until([&] { return c.run_state() == "stopped"; }, 30s));
    for (auto& b : c.beacons) EXPECT_TRUE(b->wait_for_log("stopped by the broker", 5s)) << b->log();
    // Stopped mid-run: sending ended at once, the drain settled every transaction, the chain agrees.
    const json t = c.run_status()["totals"];
    expect_run_adds_up(t);
    EXPECT_EQ(u(t, "pending"), 0u) << t.dump();
    EXPECT_EQ(u(t, "included"), u(t, "sent")) << t.dump();
    EXPECT_EQ(count_chain_settled(c.node, head + 1).txs, u(t, "included")) << "the chain's own count";
    auto again = c.op({"stop"});
    EXPECT_EQ(again.exit_code, 1) << "nothing to stop";
}

TEST(Integration, DeadManSwitchOnBrokerKillThenRestartAndLateJoiner) {
    Cluster c;
    for (int i = 1; i <= 3; ++i) c.start_beacon(i);
    ASSERT_TRUE(wait_until([&] { return c.alive() == 3; }, 15s)) << c.broker->log();
    const auto head = head_block(c.node);
    ASSERT_EQ(c.op({"start", "--scenario", c.scenario(60, "120s"), "--beacons", "3", "--detach"}).exit_code, 0);
    for (auto& b : c.beacons) ASSERT_TRUE(b->wait_for_log("started: beacon-", 20s)) << b->log();
    std::this_thread::sleep_for(2s);
    for (auto& b : c.beacons) ASSERT_GT(sent_in_log(b->log()), 0u) << b->log();

    // kill -9: the broker says nothing; every beacon must stop load within 3 s on its own.
    c.broker->signal(SIGKILL);
    const auto killed = Clock::now();
    c.broker->wait(5s);
    std::vector<std::uint64_t> sent_at_stop;
    for (auto& b : c.beacons) {
        ASSERT_TRUE(b->wait_for_log("dead-man switch: stopped load", 5s)) << b->log();
        auto took = Clock::now() - killed;
        EXPECT_LT(took, 3500ms) << "dead-man switch after "
                                << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    }
    // What each beacon had sent when its dead-man switch fired: its own log line
    // "sending done (stopped: broker lost: …): N sent" (the interval holding the last sends is
    // written at the next stats tick, so the interval lines may still be catching up).
    for (auto& b : c.beacons) {
        std::smatch m;
        const std::string log = b->log();
        ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(sending done \(stopped: broker lost[^\n]*?\): (\d+) sent;)")))
            << log;
        sent_at_stop.push_back(std::stoull(m[1]));
        EXPECT_NE(log.find("stopping run: broker lost"), std::string::npos);
    }
    std::this_thread::sleep_for(2s);
    // Without a broker the beacons still drain: each one's counts add up, and together they
    // equal what the chain holds.
    std::uint64_t included = 0;
    for (auto& b : c.beacons) {
        ASSERT_TRUE(b->wait_for_log("\"type\":\"summary\"", 15s)) << b->log();
        const json s = summary_in_log(b->log());
        expect_beacon_adds_up(s);
        EXPECT_EQ(u(s, "pending_at_cutoff"), 0u) << s.dump();
        // Nothing was sent after the dead-man switch: the run's total is what it had then.
        const std::size_t i = static_cast<std::size_t>(&b - &c.beacons[0]);
        EXPECT_EQ(u(s, "sent"), sent_at_stop[i]) << "still sending: " << b->log();
        EXPECT_EQ(sent_in_log(b->log()), sent_at_stop[i]) << b->log();
        included += u(s, "included_txs");
    }
    EXPECT_EQ(count_chain_settled(c.node, head + 1).txs, included) << "the chain's own count";
    const auto head_after_first_run = head_block(c.node);

    // The broker comes back (same endpoints and keys): beacons re-register and obey.
    c.start_broker();
    ASSERT_TRUE(wait_until([&] { return c.alive() == 3; }, 15s)) << c.broker->log();
    for (auto& b : c.beacons) EXPECT_TRUE(b->wait_for_log("is back", 5s)) << b->log();
    auto r = c.op({"start", "--scenario", c.scenario(30, "3s"), "--beacons", "3"}, 60s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("completed"), std::string::npos) << r.out;
    // The new broker's run is exact too, and nothing of the old run was sent again.
    EXPECT_EQ(u(c.run_status()["totals"], "sent"), 90u) << c.run_status().dump();
    EXPECT_EQ(count_chain_settled(c.node, head_after_first_run + 1).txs, 90u)
        << "only the new run's transactions: the old run did not resume";
    EXPECT_NE(r.out.find("target"), std::string::npos) << "live progress lines";
    // The dead-man events reached the new broker.
    EXPECT_TRUE(c.broker->wait_for_log("dead_man_stop", 5s)) << c.broker->log();

    // A beacon started late joins a running scenario and gets its share.
    ASSERT_EQ(c.op({"start", "--scenario", c.scenario(80, "60s"), "--detach"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return c.run_state() == "running"; }, 20s));
    c.start_beacon(4);
    ASSERT_TRUE(c.beacons.back()->wait_for_log("started: beacon-4", 20s)) << c.beacons.back()->log();
    bool joined = wait_until(
        [&] {
            auto list = c.beacon_list();
            int at_share = 0;
            for (const auto& b : list) at_share += b.value("configured_rate", 0.0) == 20.0;
            return at_share == 4;
        },
        10s);
    EXPECT_TRUE(joined) << c.beacon_list().dump(1);
    EXPECT_EQ(c.op({"stop"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return c.run_state() == "stopped"; }, 15s));
}

TEST(Integration, RefusedClientsAndGarbageFrames) {
    Cluster c;
    // bts-ctl with a certificate the broker does not know: refused, exit 3, told why.
    auto r = c.ctl({"status", "--config", "/dev/null", "--broker", c.router, "--cert",
                    c.keys + "/intruder.key_secret", "--broker-key", c.keys + "/broker.key"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("not in the broker's allow list"), std::string::npos) << r.err;
    // Without CURVE at all: plain bts-ctl gets no answer.
    r = c.ctl({"status", "--config", "/dev/null", "--broker", c.router, "--timeout", "1s"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    // The allowed operator is served.
    EXPECT_EQ(c.op({"status"}).exit_code, 0);

    // Garbage from an authenticated peer: counted and dropped; the broker goes on.
    auto cert = control::Certificate::load(c.keys + "/operator.key_secret");
    auto server = control::Certificate::load(c.keys + "/broker.key");
    ASSERT_TRUE(cert && server);
    zsock_t* d = zsock_new(ZMQ_DEALER);
    zsock_set_linger(d, 0);
    cert->apply_client(d, server->public_txt());
    ASSERT_EQ(zsock_connect(d, "%s", c.router.c_str()), 0);
    for (int i = 0; i < 50; ++i) zstr_send(d, "garbage");
    std::string ctl_garbage = wire::encode(wire::CtlRequest{1, "start", "[1,2"});
    zmq_send(zsock_resolve(d), ctl_garbage.data(), ctl_garbage.size(), 0);
    json dropped;
    EXPECT_TRUE(wait_until(
        [&] {
            dropped = c.call("status")["broker"]["dropped"];
            return dropped.value("malformed", 0) == 50 && dropped.value("bad_ctl_request", 0) == 1;
        },
        10s))
        << dropped.dump();
    zsock_destroy(&d);
    EXPECT_TRUE(c.broker->running());
}

}  // namespace
}  // namespace bts::test
