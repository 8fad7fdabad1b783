// Broker benchmark: N simulated beacons (default 1000) in one process over real TCP loopback
// sockets — no load generation — against the real Broker actor: time to register them all,
// command fan-out until every beacon acknowledged (p50/p99 per beacon, and all), and time to
// detect a lost beacon; next to a raw libzmq PUB → N SUB fan-out measured in the same run.
//
//   broker_bench [BEACONS] [--curve]
#include "broker/broker.hpp"
#include "common/control/ctl_client.hpp"
#include "common/control/curve.hpp"
#include "common/control/topics.hpp"
#include "common/util/log.hpp"
#include "common/wire.hpp"

#include <czmq.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace bts;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

// One simulated beacon: a DEALER and a SUB, like BeaconLink, driven by the bench loop.
struct SimBeacon {
    std::string id;
    zsock_t* dealer = nullptr;
    zsock_t* sub = nullptr;
    bool known = false;
    bool heartbeating = true;
    Clock::time_point known_at{};
    std::map<std::string, Clock::time_point> got;  // command kind → first receipt
    std::uint64_t hb_seq = 0;
    Clock::time_point next_hb{};
};

// The simulated beacons, served by one thread of their own (so that the bench's requests to
// the broker never delay their acks).
struct Sim {
    std::vector<SimBeacon> beacons;
    std::vector<zmq_pollitem_t> items;
    std::uint64_t dropped = 0;
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> known{0};
    std::atomic<bool> first_silent{false};            // beacon 0 stops sending
    std::atomic<std::int64_t> first_last_sent_ns{0};  // when beacon 0 last sent anything

    void send(SimBeacon& b, const std::string& frame) {
        if (&b == &beacons[0]) {
            if (first_silent) return;
            first_last_sent_ns = Clock::now().time_since_epoch().count();  // any message keeps it alive
        }
        zmq_send(zsock_resolve(b.dealer), frame.data(), frame.size(), ZMQ_DONTWAIT);
    }
    void heartbeat(SimBeacon& b, std::string_view state) {
        wire::Heartbeat hb;
        hb.sender_id = b.id;
        hb.seq = b.hb_seq++;
        hb.state = std::string(state);
        send(b, wire::encode(hb));
    }
    void on_frame(SimBeacon& b, zframe_t* f, Clock::time_point now) {
        auto msg = wire::decode(std::string_view(reinterpret_cast<const char*>(zframe_data(f)), zframe_size(f)));
        if (!msg) {
            ++dropped;
            return;
        }
        if (auto* hb = std::get_if<wire::Heartbeat>(&*msg)) {
            if (hb->state == control::kBrokerStateKnown && !b.known) {
                b.known = true;
                b.known_at = now;
                ++known;
            }
        } else if (auto* c = std::get_if<wire::Command>(&*msg)) {
            if (b.got.emplace(c->kind, now).second) {  // act once; re-publications only re-ack
                send(b, wire::encode(wire::CommandAck{b.id, c->run_id, c->seq, true, ""}));
            }
        }
    }
    // Serves the beacons until stop; heartbeats every beacon once a second, spread over the
    // second like independent beacons would.
    void run() {
        const auto start = Clock::now();
        for (std::size_t i = 0; i < beacons.size(); ++i) {
            beacons[i].next_hb = start + std::chrono::duration_cast<Clock::duration>(1s) * static_cast<long>(i) / static_cast<long>(beacons.size());
        }
        while (!stop) {
            int rc = zmq_poll(items.data(), static_cast<int>(items.size()), 5);
            auto now = Clock::now();
            if (rc > 0) {
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (!(items[i].revents & ZMQ_POLLIN)) continue;
                    SimBeacon& b = beacons[i / 2];
                    zsock_t* s = i % 2 == 0 ? b.dealer : b.sub;
                    while (zsock_events(s) & ZMQ_POLLIN) {
                        zmsg_t* m = zmsg_recv(s);
                        if (m == nullptr) break;
                        zframe_t* f = i % 2 == 0 ? zmsg_first(m) : zmsg_last(m);
                        on_frame(b, f, now);
                        zmsg_destroy(&m);
                    }
                }
            }
            for (auto& b : beacons) {
                if (now < b.next_hb) continue;
                heartbeat(b, b.got.contains("start") ? "running" : "idle");
                b.next_hb += 1s;
            }
        }
    }
};

// Raw libzmq fan-out: one PUB, n SUBs each subscribed to its own topic, one message each.
struct RawFanout {
    double p50_ms = 0, p99_ms = 0, all_ms = 0;
};
RawFanout raw_fanout(std::size_t n, const wire::Command& sample) {
    zsock_t* pub = zsock_new(ZMQ_PUB);
    zsock_set_sndhwm(pub, 100'000);
    int port = zsock_bind(pub, "tcp://127.0.0.1:*");
    std::vector<zsock_t*> subs(n);
    std::vector<zmq_pollitem_t> items(n);
    for (std::size_t i = 0; i < n; ++i) {
        subs[i] = zsock_new(ZMQ_SUB);
        zsock_set_subscribe(subs[i], ("beacon:raw-" + std::to_string(i)).c_str());
        zsock_connect(subs[i], "tcp://127.0.0.1:%d", port);
        items[i] = {zsock_resolve(subs[i]), 0, ZMQ_POLLIN, 0};
    }
    // Wait until every subscription has arrived (a probe on every topic reaches everyone).
    std::vector<bool> ready(n, false);
    std::size_t n_ready = 0;
    auto deadline = Clock::now() + 30s;
    while (n_ready < n && Clock::now() < deadline) {
        for (std::size_t i = 0; i < n; ++i) {
            if (!ready[i]) zstr_sendx(pub, ("beacon:raw-" + std::to_string(i)).c_str(), "probe", nullptr);
        }
        auto until = Clock::now() + 100ms;
        while (Clock::now() < until) {
            if (zmq_poll(items.data(), static_cast<int>(n), 10) <= 0) continue;
            for (std::size_t i = 0; i < n; ++i) {
                while (zsock_events(subs[i]) & ZMQ_POLLIN) {
                    zmsg_t* m = zmsg_recv(subs[i]);
                    zmsg_destroy(&m);
                    if (!ready[i]) {
                        ready[i] = true;
                        ++n_ready;
                    }
                }
            }
        }
    }
    std::this_thread::sleep_for(200ms);
    for (std::size_t i = 0; i < n; ++i) {  // drain stray probes
        while (zsock_events(subs[i]) & ZMQ_POLLIN) {
            zmsg_t* m = zmsg_recv(subs[i]);
            zmsg_destroy(&m);
        }
    }
    // The measured fan-out: the same message size as the broker's commands.
    std::vector<double> lat;
    std::vector<bool> got(n, false);
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        wire::Command c = sample;
        c.target = "raw-" + std::to_string(i);
        std::string topic = "beacon:" + c.target;
        std::string frame = wire::encode(c);
        zmq_send(zsock_resolve(pub), topic.data(), topic.size(), ZMQ_SNDMORE);
        zmq_send(zsock_resolve(pub), frame.data(), frame.size(), 0);
    }
    deadline = Clock::now() + 30s;
    while (lat.size() < n && Clock::now() < deadline) {
        if (zmq_poll(items.data(), static_cast<int>(n), 10) <= 0) continue;
        auto now = Clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            while (zsock_events(subs[i]) & ZMQ_POLLIN) {
                zmsg_t* m = zmsg_recv(subs[i]);
                zframe_t* body = zmsg_last(m);
                bool real = zframe_size(body) > 5;  // not a probe
                zmsg_destroy(&m);
                if (real && !got[i]) {
                    got[i] = true;
                    lat.push_back(ms(now - t0));
                }
            }
        }
    }
    RawFanout r;
    r.p50_ms = percentile(lat, 50);
    r.p99_ms = percentile(lat, 99);
    r.all_ms = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end());
    for (auto* s : subs) zsock_destroy(&s);
    zsock_destroy(&pub);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 1000;
    bool curve = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--curve") == 0) {
            curve = true;
        } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::printf("usage: broker_bench [BEACONS=1000] [--curve]\n");
            return 0;
        } else {
            n = static_cast<std::size_t>(std::stoul(argv[i]));
        }
    }
    // 2 sockets per simulated beacon, 2 connections per beacon on the broker's side.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, std::max<rlim_t>(rl.rlim_cur, 8 * n + 1024));
    setrlimit(RLIMIT_NOFILE, &rl);
    zsys_set_max_sockets(static_cast<std::size_t>(4 * n + 1024));
    zsys_handler_set(nullptr);
    auto log = util::setup_logging("broker-bench", "warn");

    broker::BrokerConfig cfg;
    cfg.router = "tcp://127.0.0.1:0";  // the system picks the ports (read back below)
    cfg.pub = "tcp://127.0.0.1:0";
    cfg.stats_sinks = {"none"};
    cfg.max_beacons = static_cast<std::uint32_t>(n + 10);
    std::string tmp;
    std::optional<control::Certificate> client_cert;
    std::string server_key;
    if (curve) {
        char templ[] = "/tmp/broker-bench-XXXXXX";
        tmp = mkdtemp(templ);
        auto b = control::Certificate::generate();
        (void)b.save(tmp, "broker");
        auto c = control::Certificate::generate();
        (void)c.save(tmp, "client");
        std::filesystem::create_directories(tmp + "/allow");
        std::filesystem::copy_file(tmp + "/client.key", tmp + "/allow/client.key");
        cfg.secret_cert = tmp + "/broker.key_secret";
        cfg.allow_dir = tmp + "/allow";
        client_cert.emplace(std::move(c));
        server_key = b.public_txt();
    }
    broker::Broker broker(cfg, log);
    const std::string router = broker.router_endpoint();
    const std::string pub = broker.pub_endpoint();

    Sim sim;
    sim.beacons.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        SimBeacon& b = sim.beacons[i];
        b.id = "sim-" + std::to_string(i);
        b.dealer = zsock_new(ZMQ_DEALER);
        b.sub = zsock_new(ZMQ_SUB);
        for (zsock_t* s : {b.dealer, b.sub}) {
            zsock_set_linger(s, 0);
            if (client_cert) client_cert->apply_client(s, server_key);
        }
        zsock_set_subscribe(b.sub, "all");
        zsock_set_subscribe(b.sub, control::beacon_topic(b.id).c_str());
        zsock_connect(b.sub, "%s", pub.c_str());
        zsock_connect(b.dealer, "%s", router.c_str());
        sim.items.push_back({zsock_resolve(b.dealer), 0, ZMQ_POLLIN, 0});
        sim.items.push_back({zsock_resolve(b.sub), 0, ZMQ_POLLIN, 0});
    }

    // 1. Registration: every beacon says hello; done when each got its "known" reply.
    auto t0 = Clock::now();
    for (auto& b : sim.beacons) {
        wire::BeaconHello h{b.id, "bench", BTS_VERSION, 1, {}, {}};
        // DEALER queues until connected: the hello leaves as soon as the connection is up.
        sim.send(b, wire::encode(h));
    }
    std::thread sim_thread([&] { sim.run(); });
    while (sim.known < n && Clock::now() - t0 < 60s) std::this_thread::sleep_for(5ms);

    // 2. Fan-out: a scenario over every beacon; each stage command is acked on receipt. The
    //    broker times each stage from publication to the last ack.
    control::CtlClientConfig cc;
    cc.broker = router;
    if (curve) {
        cc.cert = tmp + "/client.key_secret";
        cc.broker_key = tmp + "/broker.key";
    }
    control::CtlClient ctl(cc);
    const std::string scenario =
        "[scenario]\nname = \"bench\"\nrate = 1000\nduration = \"60s\"\n[target]\nnodes = [\"ws://127.0.0.1:9\"]\n";
    auto started_at = Clock::now();
    auto reply = ctl.request("start", json{{"scenario", scenario}, {"origin", "bench"}}.dump(), 10s);
    if (!reply || !reply->ok) {
        std::fprintf(stderr, "start failed: %s\n", reply ? reply->error.c_str() : reply.error().c_str());
        return 1;
    }
    std::map<std::string, json> fanouts;  // stage → the broker's own measurement
    while (Clock::now() - started_at < 60s) {
        std::this_thread::sleep_for(200ms);  // status of 1000 participants is not free: poll gently
        auto st = ctl.request("status", R"({"since": 1000000, "detail": false})", 5s);
        if (!st || !st->ok) continue;
        auto j = json::parse(st->payload);
        for (const json& f : j["run"]["fanouts"]) {
            if (f["all_acked_us"].get<std::int64_t>() >= 0) fanouts[f["kind"].get<std::string>()] = f;
        }
        if (fanouts.contains("start")) break;
    }

    // 3. Loss detection: one beacon goes silent; how long after its last message until the
    //    broker counts it lost?
    sim.first_silent = true;
    const auto silent_at = Clock::now();
    double detect_ms = -1;
    while (Clock::now() - silent_at < 15s) {
        std::this_thread::sleep_for(20ms);
        auto b = ctl.request("status", R"({"since": 1000000, "detail": false})", 5s);
        if (!b || !b->ok) continue;
        auto j = json::parse(b->payload);
        if (j["broker"]["beacons_alive"].get<std::size_t>() == n - 1) {
            auto last = Clock::time_point(Clock::duration(sim.first_last_sent_ns.load()));
            detect_ms = ms(Clock::now() - last);
            break;
        }
    }
    (void)ctl.request("stop", "{}", 5s);
    std::this_thread::sleep_for(500ms);
    sim.stop = true;
    sim_thread.join();
    std::vector<double> reg;
    for (const auto& b : sim.beacons) {
        if (b.known) reg.push_back(ms(b.known_at - t0));
    }
    const double register_all = reg.empty() ? 0 : *std::max_element(reg.begin(), reg.end());
    std::vector<double> recv_start;
    for (const auto& b : sim.beacons) {
        auto it = b.got.find("configure");
        if (it != b.got.end()) recv_start.push_back(ms(it->second - started_at));
    }
    const std::string run_id = reply ? json::parse(reply->payload)["run_id"].get<std::string>() : "";

    wire::Command sample{run_id, 1, "x", "configure", std::string(300, 'x')};
    auto raw = raw_fanout(n, sample);

    std::printf("broker_bench: %zu simulated beacons over TCP loopback%s\n", n, curve ? " with CURVE" : "");
    std::printf("  register all:            %8.1f ms  (p50 %.1f ms, p99 %.1f ms; %zu/%zu registered)\n",
                register_all, percentile(reg, 50), percentile(reg, 99), reg.size(), n);
    for (const char* stage : {"configure", "prepare", "start"}) {
        if (!fanouts.contains(stage)) {
            std::printf("  fan-out %-10s       not all acknowledged\n", stage);
            continue;
        }
        const json& f = fanouts[stage];
        std::printf("  fan-out %-10s until acked: p50 %6.1f ms  p99 %6.1f ms  all %6.1f ms  (%zu/%zu)\n", stage,
                    f["p50_us"].get<double>() / 1000, f["p99_us"].get<double>() / 1000,
                    f["all_acked_us"].get<double>() / 1000, f["acked"].get<std::size_t>(),
                    f["targets"].get<std::size_t>());
    }
    std::printf("  configure received (from the ctl request): p50 %.1f ms  p99 %.1f ms\n",
                percentile(recv_start, 50), percentile(recv_start, 99));
    std::printf("  lost beacon detected %.0f ms after its last message (timeout 3000 ms = 3 missed 1 s "
                "heartbeats; status polled every ~20 ms)\n", detect_ms);
    std::printf("  baseline raw PUB->SUB fan-out of %zu messages: p50 %.1f ms  p99 %.1f ms  all %.1f ms\n", n,
                raw.p50_ms, raw.p99_ms, raw.all_ms);
    if (fanouts.contains("configure") && raw.all_ms > 0) {
        std::printf("  ratio broker fan-out-until-all-acked / raw fan-out: %.2f\n",
                    fanouts["configure"]["all_acked_us"].get<double>() / 1000 / raw.all_ms);
    }
    if (sim.dropped) std::printf("  (%llu undecodable frames at the beacons)\n", static_cast<unsigned long long>(sim.dropped));
    for (auto& b : sim.beacons) {
        zsock_destroy(&b.dealer);
        zsock_destroy(&b.sub);
    }
    if (!tmp.empty()) std::filesystem::remove_all(tmp);
    return 0;
}
