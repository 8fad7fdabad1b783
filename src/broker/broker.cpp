// The broker actor: sockets, registry, scenario runs and bts-ctl requests (see broker.hpp).
#include "broker/broker.hpp"

#include "broker/registry.hpp"
#include "broker/run.hpp"
#include "broker/scenario.hpp"
#include "common/control/curve.hpp"
#include "common/control/topics.hpp"
#include "common/util/log.hpp"
#include "common/wire.hpp"

#include <czmq.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>

namespace bts::broker {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

std::int64_t unix_ms_now() {
    return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int to_ms(util::Duration d) { return static_cast<int>(duration_cast<milliseconds>(d).count()); }

std::string random_epoch() {
    std::random_device rd;
    std::uniform_int_distribution<std::uint32_t> dist;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", dist(rd));
    return buf;
}

std::string utc_stamp(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return buf;
}

bool beacon_state_active(std::string_view s) {
    return s == "configured" || s == "prepared" || s == "running" || s == "preparing";
}

}  // namespace

BrokerConfig BrokerConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"broker", "ctl", "log"});
    util::TomlTable b = doc.table("broker");
    b.reject_unknown_keys({"router", "pub", "curve", "heartbeat_interval", "beacon_timeout",
                           "republish_interval", "configure_timeout", "prepare_timeout",
                           "stop_timeout", "drain_timeout", "stats_sinks", "max_beacons"});
    BrokerConfig c;
    c.router = b.get_string("router", c.router);
    c.pub = b.get_string("pub", c.pub);
    util::TomlTable cv = b.table("curve");
    cv.reject_unknown_keys({"secret_cert", "allow_dir", "insecure", "verbose"});
    c.secret_cert = cv.get_string("secret_cert", c.secret_cert);
    c.allow_dir = cv.get_string("allow_dir", c.allow_dir);
    c.insecure = cv.get_bool("insecure", c.insecure);
    c.zap_verbose = cv.get_bool("verbose", c.zap_verbose);
    c.heartbeat_interval = b.get_duration("heartbeat_interval", c.heartbeat_interval);
    c.beacon_timeout = b.get_duration("beacon_timeout", c.beacon_timeout);
    c.republish_interval = b.get_duration("republish_interval", c.republish_interval);
    c.configure_timeout = b.get_duration("configure_timeout", c.configure_timeout);
    c.prepare_timeout = b.get_duration("prepare_timeout", c.prepare_timeout);
    c.stop_timeout = b.get_duration("stop_timeout", c.stop_timeout);
    c.drain_timeout = b.get_duration("drain_timeout", c.drain_timeout, std::chrono::seconds(1));
    c.stats_sinks = b.get_string_array("stats_sinks", c.stats_sinks);
    c.max_beacons = static_cast<std::uint32_t>(b.get_int("max_beacons", c.max_beacons, 1, 1'000'000));
    return c;
}

void BrokerConfig::validate() const {
    using util::check_config;
    const auto endpoint_ok = [](const std::string& e) { return control::is_zmq_endpoint(e); };
    check_config(endpoint_ok(router), "broker.router", "\"" + router + "\": expected a ZeroMQ endpoint");
    check_config(endpoint_ok(pub), "broker.pub", "\"" + pub + "\": expected a ZeroMQ endpoint");
    check_config(router != pub || router.ends_with(":0") || router.ends_with(":*"), "broker.pub",
                 "must differ from broker.router");
    check_config(secret_cert.empty() || !allow_dir.empty(), "broker.curve.allow_dir",
                 "CURVE needs the directory of allowed public certificates");
    check_config(!allow_dir.empty() <= !secret_cert.empty(), "broker.curve.secret_cert",
                 "an allow list needs the broker's secret certificate");
    for (const auto& [key, e] : {std::pair{"broker.router", router}, std::pair{"broker.pub", pub}}) {
        if (auto refused = control::check_plaintext(e, curve(), insecure)) {
            throw util::ConfigError({}, "broker.curve.insecure", *refused);
        }
    }
    check_config(heartbeat_interval >= milliseconds(10), "broker.heartbeat_interval",
                 "must be at least 10ms");
    check_config(beacon_timeout >= 2 * heartbeat_interval, "broker.beacon_timeout",
                 "must be at least twice the heartbeat interval");
    check_config(republish_interval >= milliseconds(10), "broker.republish_interval",
                 "must be at least 10ms");
    for (const auto& s : stats_sinks) {
        check_config(s == "stdout" || s == "none" || endpoint_ok(s), "broker.stats_sinks",
                     "\"" + s + "\": expected stdout, none or a ZeroMQ endpoint");
    }
}

struct Broker::Impl {
    BrokerConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    std::optional<control::Certificate> cert;
    std::unique_ptr<control::Authenticator> auth;
    std::string epoch;
    std::string sender;
    std::string router_endpoint;
    std::string pub_endpoint;
    std::string start_error;

    zactor_t* actor = nullptr;
    zsock_t* router = nullptr;
    zsock_t* pub = nullptr;

    Registry registry;
    std::unique_ptr<Run> run;
    std::optional<TimePoint> run_final_at;
    std::uint64_t seq;
    std::uint64_t heartbeat_seq = 0;
    TimePoint started{};
    TimePoint next_heartbeat{};
    TimePoint next_republish{};
    TimePoint next_expiry_check{};  // no beacon can expire before this
    bool run_dirty = false;         // acks/stats/losses since the run's last tick
    double heartbeat_rate = 0.0;    // sum of the run's beacons' heartbeat rates, once a second
    std::map<std::string, std::uint64_t> dropped;  // reason → count
    std::map<std::string, std::uint64_t> received;  // message type → count
    std::map<std::string, TimePoint> orphan_stop_sent;
    std::optional<util::RateLimitedWarn> bad_input;

    Impl(BrokerConfig c, std::shared_ptr<spdlog::logger> l)
        : cfg(std::move(c)),
          log(std::move(l)),
          registry(duration_cast<milliseconds>(cfg.beacon_timeout), cfg.max_beacons),
          // Sequence numbers continue above any earlier broker's: they start from the clock.
          seq(static_cast<std::uint64_t>(unix_ms_now()) << 16) {}

    std::uint64_t next_seq() { return ++seq; }

    static void actor_fn(zsock_t* pipe, void* self) { static_cast<Impl*>(self)->loop(pipe); }

    // ---- sending ----------------------------------------------------------------------

    void publish(const std::string& topic, const std::string& frame) {
        void* s = zsock_resolve(pub);
        zmq_send(s, topic.data(), topic.size(), ZMQ_SNDMORE);
        zmq_send(s, frame.data(), frame.size(), 0);
    }

    void publish(const std::vector<Outgoing>& out) {
        for (const auto& o : out) {
            const std::string& t = o.command.target;
            // "all" and "group:<name>" are topics as they are; a beacon id is "beacon:<id>".
            bool broadcast = t == wire::kTargetAll || t.starts_with(wire::kTargetGroupPrefix);
            publish(broadcast ? t : control::beacon_topic(t), wire::encode(o.command));
        }
    }

    void reply(const std::string& routing_id, const std::string& frame) {
        void* s = zsock_resolve(router);
        if (zmq_send(s, routing_id.data(), routing_id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
        zmq_send(s, frame.data(), frame.size(), ZMQ_DONTWAIT);
    }

    void send_direct(const std::string& beacon_id, const std::vector<Outgoing>& out) {
        const BeaconEntry* e = registry.find(beacon_id);
        if (e == nullptr) return;
        for (const auto& o : out) reply(e->routing_id, wire::encode(o.command));
    }

    wire::Heartbeat broker_heartbeat(std::string_view state) {
        wire::Heartbeat hb;
        hb.sender_id = sender;
        hb.seq = heartbeat_seq++;
        hb.unix_ms = unix_ms_now();
        hb.state = std::string(state);
        hb.run_id = run && !is_final(run->state()) ? run->id() : std::string();
        return hb;
    }

    void drop(const std::string& reason, std::string_view detail) {
        ++dropped[reason];
        bad_input->warn(reason, "dropped frame on ROUTER ({}): {}", reason, util::redact(detail));
    }

    // ---- beacons ------------------------------------------------------------------------

    double heartbeat_rate_sum() const {
        double sum = 0;
        if (!run) return sum;
        for (const auto& [id, e] : registry.all()) {
            if (e.alive && e.run_id == run->id()) sum += e.achieved_rate;
        }
        return sum;
    }

    void sync_registry_view(const std::string& id) {
        BeaconEntry* e = registry.find(id);
        if (e == nullptr || !run) return;
        if (auto v = run->participant_view(id)) {
            e->node = v->node;
            e->configured_rate = v->rate;
        }
    }

    void on_hello(const wire::BeaconHello& h, const std::string& rid, const std::string& key,
                  TimePoint now) {
        if (h.beacon_id.empty() || h.beacon_id.size() > 128) {
            return drop("bad_hello", "BeaconHello with an empty or overlong beacon_id");
        }
        auto result = registry.hello(h, rid, key, now, unix_ms_now());
        if (result == Registry::HelloResult::kRefused) {
            ++dropped["hello_refused"];
            bad_input->warn("hello_refused",
                            "refused hello from beacon {}: id in use by another key, or registry full",
                            util::redact(h.beacon_id));
            return;
        }
        if (result == Registry::HelloResult::kNew) {
            log->info("beacon {} registered: host {} version {} pid {}{}", h.beacon_id,
                      util::redact(h.host), util::redact(h.version), h.pid,
                      key.empty() ? std::string() : " key " + control::key_fingerprint(key));
        } else if (result == Registry::HelloResult::kBack) {
            log->info("beacon {} is back", h.beacon_id);
        }
        reply(rid, wire::encode(broker_heartbeat(control::kBrokerStateKnown)));
        if (run) {
            const BeaconEntry& e = *registry.find(h.beacon_id);
            if (run->is_participant(h.beacon_id)) {
                run->beacon_back(h.beacon_id, now);
            } else if (run->add(e, now)) {
                log->info("beacon {} joins run {} ({} participants)", h.beacon_id, run->id(),
                          run->live_participants());
            }
            auto out = run->tick(now, unix_ms_now(), heartbeat_rate_sum());
            sync_registry_view(h.beacon_id);
            // Its stage first (straight to it), then everyone's new shares.
            send_direct(h.beacon_id, run->desired_for(h.beacon_id));
            publish(out);
        }
    }

    void on_heartbeat(const wire::Heartbeat& hb, const std::string& rid, const std::string& key,
                      TimePoint now) {
        bool known = registry.heartbeat(hb, rid, key, now, unix_ms_now());
        reply(rid, wire::encode(broker_heartbeat(known ? control::kBrokerStateKnown
                                                       : control::kBrokerStateUnknown)));
        if (!known) return;
        if (run && hb.state == "stopped" && hb.run_id == run->id() && !is_final(run->state())) {
            run->on_beacon_state(hb.sender_id, hb.state, hb.run_id);
            run_dirty = true;
        }
        // A beacon busy with a run this broker does not run (e.g. from before a restart) is
        // told to stop, at most every 3 s.
        if (beacon_state_active(hb.state) && !hb.run_id.empty()) {
            bool orphan = !run || hb.run_id != run->id() || !run->is_participant(hb.sender_id) ||
                          is_final(run->state());
            auto& last = orphan_stop_sent[hb.sender_id];
            if (orphan && now - last >= std::chrono::seconds(3)) {
                last = now;
                wire::Command stop;
                stop.run_id = hb.run_id;
                stop.seq = next_seq();
                stop.target = hb.sender_id;
                stop.kind = std::string(wire::command_kind::kStop);
                log->info("beacon {} reports {} of run {} that is not active here: stopping it",
                          hb.sender_id, hb.state, util::redact(hb.run_id));
                reply(rid, wire::encode(stop));
            }
        }
    }

    void on_beacon_message(const wire::Message& msg, const std::string& rid,
                           const std::string& key, TimePoint now) {
        if (auto* h = std::get_if<wire::BeaconHello>(&msg)) return on_hello(*h, rid, key, now);
        if (auto* hb = std::get_if<wire::Heartbeat>(&msg)) return on_heartbeat(*hb, rid, key, now);
        if (auto* a = std::get_if<wire::CommandAck>(&msg)) {
            if (!registry.heard(a->beacon_id, rid, key, now, unix_ms_now())) {
                return drop("unknown_sender", "CommandAck from unregistered " + a->beacon_id);
            }
            if (run) {
                if (!a->ok) {
                    log->warn("beacon {} refused command seq {} of run {}: {}", a->beacon_id,
                              a->seq, a->run_id, util::redact(a->error));
                }
                run->on_ack(*a, now);
                run_dirty = true;  // ticked after this batch of messages (on_timers)
            }
            return;
        }
        if (auto* s = std::get_if<wire::StatsInterval>(&msg)) {
            if (!registry.heard(s->beacon_id, rid, key, now, unix_ms_now())) {
                return drop("unknown_sender", "StatsInterval from unregistered " + s->beacon_id);
            }
            if (run) {
                run->on_stats(*s, unix_ms_now());
                run_dirty = run->scenario().budget > 0;  // the budget may be spent
            }
            return;
        }
        if (auto* ev = std::get_if<wire::RunEvent>(&msg)) {
            if (!registry.heard(ev->source, rid, key, now, unix_ms_now())) {
                return drop("unknown_sender", "RunEvent from unregistered " + ev->source);
            }
            auto level = ev->level == "error" ? spdlog::level::err
                         : ev->level == "warn" ? spdlog::level::warn
                                               : spdlog::level::info;
            log->log(level, "beacon {}: {} (run {}): {}", ev->source, util::redact(ev->kind),
                     util::redact(ev->run_id), util::redact(ev->text));
            return;
        }
        drop("unexpected_type", "unexpected " + std::string(wire::type_name(msg)) + " on ROUTER");
    }

    // ---- bts-ctl ------------------------------------------------------------------------

    json broker_json(TimePoint now) const {
        json j;
        j["sender_id"] = sender;
        j["version"] = BTS_VERSION;
        j["uptime_s"] = std::chrono::duration<double>(now - started).count();
        j["router"] = router_endpoint;
        j["pub"] = pub_endpoint;
        j["curve"] = cfg.curve();
        j["beacons_known"] = registry.all().size();
        j["beacons_alive"] = registry.alive_count();
        j["dropped"] = dropped;
        j["received"] = received;
        return j;
    }

    json beacons_json(TimePoint now) {
        json list = json::array();
        for (const auto& [id, e0] : registry.all()) {
            sync_registry_view(id);
            const BeaconEntry& e = *registry.find(id);
            bool in_run = run && run->is_participant(id) && !is_final(run->state());
            list.push_back({{"id", e.id},
                            {"host", e.host},
                            {"version", e.version},
                            {"pid", e.pid},
                            {"groups", e.groups},
                            {"state", e.state},
                            {"run_id", e.run_id},
                            {"node", in_run ? e.node : std::string()},
                            {"configured_rate", in_run ? e.configured_rate : 0.0},
                            {"achieved_rate", e.achieved_rate},
                            {"alive", e.alive},
                            {"last_seen_ms_ago", duration_cast<milliseconds>(now - e.last_seen).count()},
                            {"times_lost", e.times_lost}});
        }
        return json{{"beacons", std::move(list)}};
    }

    struct CtlError {
        std::string code;
        std::string message;
    };

    json ctl_start(const json& req, TimePoint now) {
        if (run && !is_final(run->state())) {
            throw CtlError{"busy", "run " + run->id() + " is " + std::string(to_string(run->state())) +
                                       ": stop it first (bts-ctl stop)"};
        }
        if (!req.contains("scenario") || !req["scenario"].is_string()) {
            throw CtlError{"bad_request", "start needs \"scenario\" (the scenario file's text)"};
        }
        std::string origin = req.value("origin", std::string("<scenario>"));
        Scenario s;
        try {
            s = Scenario::parse(req["scenario"].get<std::string>(), origin);
            if (req.contains("duration") && req["duration"].is_string()) {
                auto d = util::parse_duration(req["duration"].get<std::string>());
                if (!d) throw util::ConfigError("--duration", "scenario.duration", d.error());
                s.override_duration(*d);
            }
            if (req.contains("nodes") && req["nodes"].is_array()) {
                std::vector<std::string> nodes;
                for (const auto& n : req["nodes"]) {
                    if (n.is_string()) nodes.push_back(n.get<std::string>());
                }
                s.override_nodes(std::move(nodes));
            }
            if (req.contains("beacons") && req["beacons"].is_number_unsigned()) {
                s.beacon_count = req["beacons"].get<std::uint32_t>();
                s.min_beacons = std::max<std::uint32_t>(1, std::min(s.min_beacons, s.beacon_count));
            }
            s.validate();
        } catch (const util::ConfigError& e) {
            throw CtlError{"invalid", e.source().empty() ? origin + ": " + e.what() : e.what()};
        }
        auto eligible = registry.alive(s.group);
        if (eligible.size() < s.min_beacons) {
            throw CtlError{"no_beacons", "scenario " + s.name + " needs at least " +
                                             std::to_string(s.min_beacons) + " beacon(s)" +
                                             (s.group.empty() ? "" : " in group " + s.group) +
                                             ", " + std::to_string(eligible.size()) + " alive"};
        }
        const std::int64_t unix_ms = unix_ms_now();
        // Unique to the millisecond: beacons never start a run id twice (a second run started in
        // the same second, even by a restarted broker, must not be taken for the first one).
        char ms[8];
        std::snprintf(ms, sizeof ms, "-%03d", static_cast<int>(unix_ms % 1000));
        std::string run_id = s.name + "-" + utc_stamp(unix_ms) + ms;
        if (run && run->id() == run_id) run_id += "-2";
        RunOptions opts;
        opts.configure_timeout = duration_cast<milliseconds>(cfg.configure_timeout);
        opts.prepare_timeout = duration_cast<milliseconds>(cfg.prepare_timeout);
        opts.stop_timeout = duration_cast<milliseconds>(cfg.stop_timeout);
        opts.drain_timeout = duration_cast<milliseconds>(cfg.drain_timeout);
        opts.stats_sinks = cfg.stats_sinks;
        run = std::make_unique<Run>(run_id, std::move(s), opts, [this] { return next_seq(); }, now,
                                    unix_ms);
        run_final_at.reset();
        for (const BeaconEntry* e : eligible) run->add(*e, now);
        publish(run->tick(now, unix_ms, 0.0));
        for (const auto& [id, e] : registry.all()) sync_registry_view(id);
        log->info("run {} started: scenario {} ({}), {} beacon(s), {}", run->id(),
                  run->scenario().name, run->scenario().origin, run->live_participants(),
                  util::format_duration(run->scenario().total_duration()));
        return json{{"run_id", run->id()},
                    {"participants", run->live_participants()},
                    {"duration_s", std::chrono::duration<double>(run->scenario().total_duration()).count()}};
    }

    json ctl_stop(const json& req, TimePoint now) {
        if (!run || is_final(run->state())) throw CtlError{"no_run", "no run is active"};
        if (req.contains("reason") && !req["reason"].is_string())
            throw CtlError{"bad_request", "stop: \"reason\" must be a string"};
        std::string reason = req.value("reason", std::string("stopped by operator"));
        bool abort = false;
        if (req.contains("abort")) {
            if (!req["abort"].is_boolean()) throw CtlError{"bad_request", "stop: \"abort\" must be true or false"};
            abort = req["abort"].get<bool>();
        }
        run->stop(reason, now, abort);
        publish(run->tick(now, unix_ms_now(), heartbeat_rate_sum()));
        log->info("run {} stopping: {}", run->id(), util::redact(reason));
        return json{{"run_id", run->id()}, {"state", std::string(to_string(run->state()))}};
    }

    void on_ctl(const wire::CtlRequest& r, const std::string& rid, const std::string& key,
                TimePoint now) {
        wire::CtlReply rep;
        rep.request_id = r.request_id;
        json req = r.payload.empty() ? json::object() : json::parse(r.payload, nullptr, false);
        try {
            if (req.is_discarded() || !req.is_object()) {
                throw CtlError{"bad_request", "payload is not a JSON object"};
            }
            json out;
            if (r.verb == "ping") {
                out = json{{"sender_id", sender}, {"version", BTS_VERSION}};
            } else if (r.verb == "status") {
                // A field of the wrong type is the client's error, not an internal one.
                if (req.contains("since") && !req["since"].is_number_integer())
                    throw CtlError{"bad_request", "status: \"since\" must be an integer (unix ms)"};
                if (req.contains("detail") && !req["detail"].is_boolean())
                    throw CtlError{"bad_request", "status: \"detail\" must be true or false"};
                std::int64_t since = req.value("since", std::int64_t{0});
                out["broker"] = broker_json(now);
                out["run"] = run ? run->status(since, now, req.value("detail", true)) : json(nullptr);
            } else if (r.verb == "beacons") {
                out = beacons_json(now);
            } else if (r.verb == "start") {
                log->info("start requested{}", key.empty() ? "" : " by " + control::key_fingerprint(key));
                out = ctl_start(req, now);
            } else if (r.verb == "stop") {
                log->info("stop requested{}", key.empty() ? "" : " by " + control::key_fingerprint(key));
                out = ctl_stop(req, now);
            } else {
                throw CtlError{"bad_request", "unknown verb \"" + util::redact(r.verb) + "\""};
            }
            rep.ok = true;
            rep.payload = out.dump();
        } catch (const CtlError& e) {
            rep.ok = false;
            rep.error = e.message;
            rep.payload = json{{"code", e.code}}.dump();
            if (e.code == "bad_request") ++dropped["bad_ctl_request"];
        } catch (const std::exception& e) {
            rep.ok = false;
            rep.error = std::string("internal error: ") + e.what();
            rep.payload = json{{"code", "internal"}}.dump();
            log->error("ctl {} failed: {}", util::redact(r.verb), e.what());
        }
        reply(rid, wire::encode(rep));
    }

    // ---- the loop -------------------------------------------------------------------------

    void read_router(TimePoint now) {
        zmsg_t* m = zmsg_recv(router);
        if (m == nullptr) return;
        if (zmsg_size(m) != 2) {
            drop("frame_count", "expected [identity, message], got " + std::to_string(zmsg_size(m)) + " frames");
            zmsg_destroy(&m);
            return;
        }
        zframe_t* id = zmsg_first(m);
        zframe_t* body = zmsg_next(m);
        std::string rid(reinterpret_cast<const char*>(zframe_data(id)), zframe_size(id));
        const char* user = cfg.curve() ? zframe_meta(body, "User-Id") : nullptr;
        std::string key = user ? user : "";
        auto msg = wire::decode(std::string_view(reinterpret_cast<const char*>(zframe_data(body)),
                                                 zframe_size(body)));
        if (!msg) {
            drop("malformed", msg.error());
        } else {
            ++received[std::string(wire::type_name(*msg))];
            try {
                if (auto* c = std::get_if<wire::CtlRequest>(&*msg)) {
                    on_ctl(*c, rid, key, now);
                } else {
                    on_beacon_message(*msg, rid, key, now);
                }
            } catch (const std::exception& e) {
                // The loop boundary: one bad message must not end the broker.
                log->error("handling {} failed: {}", wire::type_name(*msg), e.what());
            }
        }
        zmsg_destroy(&m);
    }

    // Runs after every batch of messages and at every deadline; everything here that costs
    // O(beacons) runs only when due, so 1000 beacons' heartbeats stay cheap.
    void on_timers(TimePoint now) {
        if (now >= next_expiry_check) {
            for (const auto& id : registry.expire(now)) {
                log->warn("beacon {} lost: silent for {}", id, util::format_duration(cfg.beacon_timeout));
                if (run) run->beacon_lost(id, now);
                run_dirty = true;
            }
            // Heard beacons only expire later than this: a safe, cheap lower bound.
            next_expiry_check = registry.next_expiry().value_or(now + cfg.beacon_timeout);
        }
        const bool second = now >= next_heartbeat;
        if (second) heartbeat_rate = heartbeat_rate_sum();
        auto deadline = run ? run->next_deadline() : std::nullopt;
        if (run && (run_dirty || second || (deadline && now >= *deadline))) {
            run_dirty = false;
            bool was_final = is_final(run->state());
            publish(run->tick(now, unix_ms_now(), heartbeat_rate));
            if (!was_final && is_final(run->state())) {
                run_final_at = now;
                auto st = run->status(0, now);
                log->info("run {} {}{}: sent {} accepted {} rejected {}", run->id(),
                          to_string(run->state()),
                          run->reason().empty() ? "" : " (" + run->reason() + ")",
                          st["totals"]["sent"].get<std::uint64_t>(),
                          st["totals"]["accepted"].get<std::uint64_t>(),
                          st["totals"]["rejected"].get<std::uint64_t>());
            }
        }
        if (now >= next_heartbeat) {
            publish(std::string(control::kTopicAll), wire::encode(broker_heartbeat(control::kBrokerStateUp)));
            next_heartbeat = now + cfg.heartbeat_interval;
        }
        if (now >= next_republish) {
            // The desired state, again: late joiners and missed messages converge (zguide
            // Clone). A finished run's stops are repeated for a while, then orphan detection
            // (on_heartbeat) takes over.
            if (run && (!run_final_at || now - *run_final_at < std::chrono::seconds(30))) {
                publish(run->desired());
            }
            next_republish = now + cfg.republish_interval;
        }
    }

    TimePoint next_deadline() const {
        TimePoint t = std::min({next_heartbeat, next_republish, next_expiry_check});
        if (run) {
            if (auto d = run->next_deadline()) t = std::min(t, *d);
        }
        return t;
    }

    bool setup() {
        router = zsock_new(ZMQ_ROUTER);
        pub = zsock_new(ZMQ_PUB);
        if (router == nullptr || pub == nullptr) {
            start_error = "cannot create ZeroMQ sockets";
            return false;
        }
        zsock_set_linger(router, 0);
        // Stops published at shutdown should still reach the beacons.
        zsock_set_linger(pub, 1000);
        zsock_set_sndhwm(pub, 100'000);
        zsock_set_sndhwm(router, 100'000);
        zsock_set_rcvhwm(router, 100'000);
        zsock_set_maxmsgsize(router, 16 << 20);
        for (zsock_t* s : {router, pub}) {
            // Every beacon reconnects at once after a broker restart: a short accept queue
            // would drop their SYNs and cost them seconds of TCP retransmission.
            zsock_set_backlog(s, 4096);
            zsock_set_heartbeat_ivl(s, to_ms(cfg.heartbeat_interval));
            zsock_set_heartbeat_timeout(s, to_ms(cfg.beacon_timeout));
            if (cert) cert->apply_server(s);
        }
        if (zsock_bind(router, "%s", cfg.router.c_str()) < 0) {
            start_error = "cannot bind " + cfg.router + ": " + zmq_strerror(zmq_errno());
            return false;
        }
        if (zsock_bind(pub, "%s", cfg.pub.c_str()) < 0) {
            start_error = "cannot bind " + cfg.pub + ": " + zmq_strerror(zmq_errno());
            return false;
        }
        // ZMQ_LAST_ENDPOINT: "tcp://127.0.0.1:*" resolved to the port actually bound.
        for (auto [sock, out] : {std::pair{router, &router_endpoint}, std::pair{pub, &pub_endpoint}}) {
            char* e = zsock_last_endpoint(sock);
            *out = e ? e : "";
            zstr_free(&e);
        }
        return true;
    }

    void shutdown(TimePoint now) {
        if (run && !is_final(run->state())) {
            run->stop("broker shutting down", now);
            auto out = run->tick(now, unix_ms_now(), 0.0);
            publish(out);
            // Also straight to each participant, in case its PUB feed lags.
            for (const auto& o : out) {
                if (registry.find(o.command.target) != nullptr) send_direct(o.command.target, {o});
            }
            log->info("run {} stopped: broker shutting down", run->id());
        }
    }

    void loop(zsock_t* pipe) {
        bad_input.emplace(*log);
        bool ok = setup();
        zsock_signal(pipe, 0);
        if (ok) {
            started = Clock::now();
            next_heartbeat = started;
            next_republish = started + cfg.republish_interval;
            zmq_pollitem_t items[] = {
                {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                {zsock_resolve(router), 0, ZMQ_POLLIN, 0},
            };
            while (true) {
                auto now = Clock::now();
                long timeout = std::max<long>(
                    0, static_cast<long>(duration_cast<milliseconds>(next_deadline() - now).count()) + 1);
                if (zmq_poll(items, 2, timeout) < 0 && zmq_errno() != EINTR) {
                    log->error("poll failed: {}", zmq_strerror(zmq_errno()));
                    break;
                }
                now = Clock::now();
                if (items[0].revents & ZMQ_POLLIN) {
                    char* cmd = zstr_recv(pipe);
                    bool term = cmd == nullptr || std::string_view(cmd) == "$TERM";
                    zstr_free(&cmd);
                    if (term) {
                        shutdown(now);
                        break;
                    }
                }
                // A bounded batch, then the timers: a flood cannot starve heartbeats.
                for (int i = 0; i < 1000 && (zsock_events(router) & ZMQ_POLLIN); ++i) {
                    read_router(now);
                    now = Clock::now();
                }
                on_timers(now);
            }
        } else {
            while (char* cmd = zstr_recv(pipe)) {
                bool term = std::string_view(cmd) == "$TERM";
                zstr_free(&cmd);
                if (term) break;
            }
        }
        zsock_destroy(&router);
        zsock_destroy(&pub);
    }
};

Broker::Broker(BrokerConfig config, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(std::move(config), log ? std::move(log) : spdlog::default_logger())) {
    Impl& d = *impl_;
    d.cfg.validate();
    d.epoch = random_epoch();
    d.sender = std::string(control::kBrokerSenderPrefix) + d.epoch;
    if (d.cfg.curve()) {
        auto cert = control::Certificate::load(d.cfg.secret_cert);
        if (!cert) throw std::runtime_error(cert.error());
        if (!cert->has_secret()) {
            throw std::runtime_error(d.cfg.secret_cert +
                                     ": holds no secret key (give the NAME.key_secret file)");
        }
        d.cert.emplace(std::move(*cert));
        // ZAP must be served before the first client connects, or CURVE admits every key.
        d.auth = std::make_unique<control::Authenticator>(d.cfg.allow_dir, d.cfg.zap_verbose);
    }
    d.actor = zactor_new(&Impl::actor_fn, &d);
    if (d.actor == nullptr) throw std::runtime_error("cannot start the broker thread");
    if (!d.start_error.empty()) {
        std::string error = d.start_error;
        zactor_destroy(&d.actor);
        throw std::runtime_error(error);
    }
    d.log->info("broker {} listening: router {} pub {} ({})", d.sender, d.router_endpoint,
                d.pub_endpoint,
                d.cert ? "CURVE, key " + control::key_fingerprint(d.cert->public_txt()) +
                             ", allow list " + d.cfg.allow_dir
                       : std::string("plain TCP"));
}

Broker::~Broker() {
    if (impl_ && impl_->actor != nullptr) zactor_destroy(&impl_->actor);
}

const std::string& Broker::router_endpoint() const { return impl_->router_endpoint; }
const std::string& Broker::pub_endpoint() const { return impl_->pub_endpoint; }
const std::string& Broker::sender_id() const { return impl_->sender; }

}  // namespace bts::broker
