// BeaconLink: the beacon's control-channel actor (see beacon_link.hpp).
#include "common/control/beacon_link.hpp"

#include "common/control/curve.hpp"
#include "common/control/topics.hpp"
#include "common/util/log.hpp"

#include <czmq.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace bts::control {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int to_ms(util::Duration d) {
    return static_cast<int>(std::chrono::duration_cast<milliseconds>(d).count());
}

// "tcp://host:5560" → "tcp://host:5561"; "" when the endpoint has no numeric port.
std::string next_port_endpoint(const std::string& endpoint) {
    auto colon = endpoint.rfind(':');
    if (colon == std::string::npos || colon + 1 >= endpoint.size()) return {};
    std::string port = endpoint.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        port.size() > 5) {
        return {};
    }
    int p = std::stoi(port);
    if (p <= 0 || p >= 65535) return {};
    return endpoint.substr(0, colon + 1) + std::to_string(p + 1);
}

}  // namespace

std::string BeaconLinkConfig::pub_endpoint() const {
    return broker_pub.empty() ? next_port_endpoint(broker) : broker_pub;
}

void BeaconLinkConfig::validate() const {
    using util::check_config;
    const auto endpoint_ok = [](const std::string& e) { return control::is_zmq_endpoint(e); };
    check_config(endpoint_ok(broker), "broker.router",
                 "\"" + broker + "\": expected a ZeroMQ endpoint such as tcp://host:5560");
    check_config(endpoint_ok(pub_endpoint()), "broker.pub",
                 broker_pub.empty() ? "cannot derive the PUB endpoint from \"" + broker +
                                          "\": give broker.pub explicitly"
                                    : "\"" + broker_pub + "\": expected a ZeroMQ endpoint");
    check_config(!beacon_id.empty(), "beacon.id", "must not be empty");
    check_config(beacon_id.size() <= 128 && beacon_id.find_first_of(" \t\r\n") == std::string::npos,
                 "beacon.id", "must be at most 128 characters without spaces");
    for (const auto& g : groups) {
        check_config(!g.empty() && g.find_first_of(" \t\r\n") == std::string::npos,
                     "broker.groups", "group names must be non-empty without spaces");
    }
    check_config(cert.empty() == broker_key.empty(), cert.empty() ? "broker.cert" : "broker.broker_key",
                 "CURVE needs both the beacon's secret certificate and the broker's public key");
    const bool curve = !cert.empty();
    for (const auto& e : {broker, pub_endpoint()}) {
        if (auto refused = check_plaintext(e, curve, insecure)) {
            throw util::ConfigError({}, "broker.insecure", *refused);
        }
    }
    check_config(heartbeat_interval >= milliseconds(10), "broker.heartbeat_interval",
                 "must be at least 10ms");
    check_config(broker_timeout >= 2 * heartbeat_interval, "broker.timeout",
                 "must be at least twice the heartbeat interval");
}

BeaconLinkConfig beacon_link_config_from_toml(const util::TomlTable& t) {
    t.reject_unknown_keys({"router", "pub", "cert", "broker_key", "insecure", "groups",
                           "heartbeat_interval", "timeout"});
    BeaconLinkConfig c;
    c.broker = t.get_string("router", c.broker);
    c.broker_pub = t.get_string("pub", c.broker_pub);
    c.cert = t.get_string("cert", c.cert);
    c.broker_key = t.get_string("broker_key", c.broker_key);
    c.insecure = t.get_bool("insecure", c.insecure);
    c.groups = t.get_string_array("groups", c.groups);
    c.heartbeat_interval = t.get_duration("heartbeat_interval", c.heartbeat_interval);
    c.broker_timeout = t.get_duration("timeout", c.broker_timeout);
    return c;
}

struct BeaconLink::Impl {
    BeaconLinkConfig cfg;
    Callbacks cb;
    std::shared_ptr<spdlog::logger> log;
    std::optional<Certificate> cert;
    std::string server_key;
    std::vector<std::string> topics;

    zactor_t* actor = nullptr;
    std::thread::id actor_thread;
    std::string start_error;  // set by the actor before its ready signal

    // Shared between the owner threads and the actor; guarded by mu (which also serializes
    // use of the owner end of the actor pipe).
    mutable std::mutex mu;
    std::deque<std::string> outbox;
    std::map<std::uint64_t, std::string> acks;  // seq → encoded ack, the last few
    BeaconStatus status;
    Counters counters;
    bool wake_pending = false;

    // Actor-thread state.
    static constexpr auto kRecreatePeriod = std::chrono::seconds(5);
    zsock_t* sub = nullptr;
    zsock_t* dealer = nullptr;
    zsock_t* monitor = nullptr;
    unsigned generation = 0;
    Clock::time_point sockets_created{};
    std::optional<Clock::time_point> last_sub;
    std::optional<Clock::time_point> last_dealer;
    bool up = false;
    bool ever_up = false;
    bool need_hello = true;
    std::string broker_epoch;
    std::uint64_t max_stage_seq = 0;
    std::uint64_t max_rate_seq = 0;
    std::uint64_t heartbeat_seq = 0;
    Clock::time_point next_heartbeat{};
    std::optional<wire::RunEvent> pending_dead_man;
    std::optional<util::RateLimitedWarn> bad_input;

    static void actor_fn(zsock_t* pipe, void* self) { static_cast<Impl*>(self)->run(pipe); }

    void enqueue(std::string frame) {
        std::lock_guard lock(mu);
        outbox.push_back(std::move(frame));
        if (outbox.size() > 10'000) {  // the actor is gone or wedged: do not grow forever
            outbox.pop_front();
            ++counters.send_failures;
        }
        // The actor drains the outbox after every callback; other threads must wake it. One
        // WAKE in the pipe at a time, so the pipe can never fill up while we hold mu.
        if (actor != nullptr && std::this_thread::get_id() != actor_thread && !wake_pending) {
            wake_pending = true;
            zstr_send(actor, "WAKE");
        }
    }

    bool setup_sockets() {
        sub = zsock_new(ZMQ_SUB);
        dealer = zsock_new(ZMQ_DEALER);
        if (sub == nullptr || dealer == nullptr) {
            start_error = "cannot create ZeroMQ sockets";
            return false;
        }
        for (zsock_t* s : {sub, dealer}) {
            zsock_set_linger(s, 0);
            // ZMTP heartbeats: a half-open TCP connection is noticed and re-established.
            zsock_set_heartbeat_ivl(s, to_ms(cfg.heartbeat_interval));
            zsock_set_heartbeat_timeout(s, to_ms(cfg.broker_timeout));
            zsock_set_heartbeat_ttl(s, to_ms(cfg.broker_timeout));
            zsock_set_reconnect_ivl(s, 100);
            zsock_set_reconnect_ivl_max(s, to_ms(cfg.heartbeat_interval));
            zsock_set_maxmsgsize(s, 64 << 20);
            if (cert) cert->apply_client(s, server_key);
        }
        // Never queue hellos and heartbeats for a broker that is not there: they would arrive
        // as a stale burst after reconnecting.
        zsock_set_immediate(dealer, 1);
        zsock_set_sndhwm(dealer, 10'000);
        for (const auto& t : topics) zsock_set_subscribe(sub, t.c_str());
        // The monitor turns a refused CURVE handshake into a log line instead of silence.
        char endpoint[80];
        std::snprintf(endpoint, sizeof endpoint, "inproc://bts-link-monitor-%p-%u",
                      static_cast<void*>(this), ++generation);
        if (zmq_socket_monitor(zsock_resolve(dealer), endpoint,
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
            monitor = zsock_new(ZMQ_PAIR);
            if (monitor != nullptr && zsock_connect(monitor, "%s", endpoint) != 0) zsock_destroy(&monitor);
        }
        if (zsock_connect(sub, "%s", cfg.pub_endpoint().c_str()) != 0) {
            start_error = "cannot connect to " + cfg.pub_endpoint() + ": " + zmq_strerror(zmq_errno());
            return false;
        }
        if (zsock_connect(dealer, "%s", cfg.broker.c_str()) != 0) {
            start_error = "cannot connect to " + cfg.broker + ": " + zmq_strerror(zmq_errno());
            return false;
        }
        sockets_created = Clock::now();
        return true;
    }

    void destroy_sockets() {
        if (dealer != nullptr) zmq_socket_monitor(zsock_resolve(dealer), nullptr, 0);
        zsock_destroy(&monitor);
        zsock_destroy(&sub);
        zsock_destroy(&dealer);
    }

    void read_monitor() {
        zmsg_t* ev = zmsg_recv(monitor);
        if (ev == nullptr) return;
        zframe_t* f = zmsg_first(ev);
        std::uint16_t event = 0;
        std::uint32_t value = 0;
        if (f != nullptr && zframe_size(f) >= 6) {
            std::memcpy(&event, zframe_data(f), 2);
            std::memcpy(&value, zframe_data(f) + 2, 4);
        }
        zmsg_destroy(&ev);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            bad_input->warn("auth", "the broker refused this beacon (ZAP status {}): add its public "
                                    "certificate (key {}) to the broker's allow_dir",
                            value, cert ? key_fingerprint(cert->public_txt()) : std::string("-"));
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            bad_input->warn("auth", "security handshake with the broker failed: wrong broker key, "
                                    "or only one side uses CURVE");
        }
    }

    bool send_now(const std::string& frame) {
        int rc = zmq_send(zsock_resolve(dealer), frame.data(), frame.size(), ZMQ_DONTWAIT);
        if (rc < 0) {
            std::lock_guard lock(mu);
            ++counters.send_failures;
            return false;
        }
        return true;
    }

    void flush_outbox() {
        std::deque<std::string> frames;
        {
            std::lock_guard lock(mu);
            frames.swap(outbox);
        }
        for (const auto& f : frames) send_now(f);
    }

    void send_hello() {
        wire::BeaconHello hello;
        hello.beacon_id = cfg.beacon_id;
        hello.host = cfg.host;
        hello.version = cfg.version;
        hello.pid = cfg.pid;
        hello.capabilities = cfg.capabilities;
        hello.groups = cfg.groups;
        if (send_now(wire::encode(hello))) need_hello = false;
    }

    void send_heartbeat() {
        wire::Heartbeat hb;
        hb.sender_id = cfg.beacon_id;
        hb.seq = heartbeat_seq++;
        hb.unix_ms = unix_ms_now();
        {
            std::lock_guard lock(mu);
            hb.state = status.state;
            hb.run_id = status.run_id;
            hb.achieved_rate = status.achieved_rate;
        }
        send_now(wire::encode(hb));
    }

    void drop(std::string_view channel, std::string_view why) {
        {
            std::lock_guard lock(mu);
            ++counters.dropped;
        }
        bad_input->warn(channel, "dropped frame from broker {}: {}", channel, util::redact(why));
    }

    void heard_broker(const wire::Heartbeat& hb, bool on_sub, Clock::time_point now) {
        (on_sub ? last_sub : last_dealer) = now;
        if (!hb.sender_id.starts_with(kBrokerSenderPrefix)) return;
        if (hb.sender_id != broker_epoch) {
            if (!broker_epoch.empty()) {
                log->info("broker restarted ({} → {}): registering again", broker_epoch,
                          hb.sender_id);
                max_stage_seq = max_rate_seq = 0;
            }
            broker_epoch = hb.sender_id;
            need_hello = true;
        }
        if (!on_sub && hb.state == kBrokerStateUnknown) need_hello = true;
    }

    void handle_command(const wire::Command& c) {
        if (auto err = wire::validate(c)) return drop("command", *err);
        bool for_us = c.target == wire::kTargetAll || c.target == cfg.beacon_id;
        if (!for_us && c.target.starts_with(wire::kTargetGroupPrefix)) {
            std::string_view g = std::string_view(c.target).substr(wire::kTargetGroupPrefix.size());
            for_us = std::find(cfg.groups.begin(), cfg.groups.end(), g) != cfg.groups.end();
        }
        if (!for_us) return drop("command", "target " + c.target + " is not this beacon");
        // Stage commands and rate commands are numbered from one sequence but travel (and are
        // re-published) independently, so each class has its own high-water mark: a rate
        // command overtaking its start must not make the start look old.
        std::uint64_t& max_seq = c.kind == wire::command_kind::kRate ? max_rate_seq : max_stage_seq;
        if (c.seq <= max_seq) {
            // Re-published desired state: repair a lost ack, do not act twice.
            std::string again;
            {
                std::lock_guard lock(mu);
                ++counters.duplicates;
                if (auto it = acks.find(c.seq); it != acks.end()) again = it->second;
            }
            if (!again.empty()) send_now(again);
            return;
        }
        max_seq = c.seq;
        {
            std::lock_guard lock(mu);
            ++counters.commands;
        }
        log->debug("command {} seq {} run {} for {}", c.kind, c.seq, c.run_id, c.target);
        if (!cb.on_command) return;
        try {
            cb.on_command(c);
        } catch (const std::exception& e) {
            log->error("command {} seq {}: handler failed: {}", c.kind, c.seq, e.what());
        }
    }

    void handle_frame(std::string_view channel, zframe_t* frame, bool on_sub, Clock::time_point now) {
        auto msg = wire::decode(std::string_view(reinterpret_cast<const char*>(zframe_data(frame)),
                                                 zframe_size(frame)));
        if (!msg) return drop(channel, msg.error());
        {
            std::lock_guard lock(mu);
            ++counters.received;
        }
        if (auto* hb = std::get_if<wire::Heartbeat>(&*msg)) {
            heard_broker(*hb, on_sub, now);
        } else if (auto* c = std::get_if<wire::Command>(&*msg)) {
            (on_sub ? last_sub : last_dealer) = now;
            handle_command(*c);
        } else {
            drop(channel, "unexpected " + std::string(wire::type_name(*msg)));
        }
    }

    void read_sub(Clock::time_point now) {
        zmsg_t* m = zmsg_recv(sub);
        if (m == nullptr) return;
        if (zmsg_size(m) != 2) {
            drop("pub", "expected [topic, message], got " + std::to_string(zmsg_size(m)) + " frames");
        } else {
            char* topic = zmsg_popstr(m);
            std::string t = topic ? topic : "";
            zstr_free(&topic);
            if (std::find(topics.begin(), topics.end(), t) == topics.end()) {
                // Prefix match of a longer topic (e.g. "beacon:b10" for "beacon:b1").
                zmsg_destroy(&m);
                return;
            }
            zframe_t* body = zmsg_first(m);
            handle_frame("pub", body, true, now);
        }
        zmsg_destroy(&m);
    }

    void read_dealer(Clock::time_point now) {
        zmsg_t* m = zmsg_recv(dealer);
        if (m == nullptr) return;
        if (zmsg_size(m) != 1) {
            drop("router", "expected one frame, got " + std::to_string(zmsg_size(m)));
        } else {
            handle_frame("router", zmsg_first(m), false, now);
        }
        zmsg_destroy(&m);
    }

    void check_liveness(Clock::time_point now) {
        const auto timeout = cfg.broker_timeout;
        auto fresh = [&](const std::optional<Clock::time_point>& t) {
            return t && now - *t < timeout;
        };
        if (up) {
            if (fresh(last_sub) && fresh(last_dealer)) return;
            auto oldest = std::min(last_sub.value_or(now), last_dealer.value_or(now));
            auto silent = std::chrono::duration_cast<milliseconds>(now - oldest);
            up = false;
            need_hello = true;
            {
                std::lock_guard lock(mu);
                counters.broker_up = false;
                ++counters.lost;
            }
            log->warn("broker silent for {} ({}): dead-man switch, stopping load",
                      util::format_duration(silent),
                      fresh(last_sub) ? "no replies on ROUTER" : fresh(last_dealer) ? "PUB feed silent" : "both channels");
            wire::RunEvent ev;
            ev.source = cfg.beacon_id;
            ev.unix_ms = unix_ms_now();
            ev.level = "warn";
            ev.kind = "dead_man_stop";
            {
                std::lock_guard lock(mu);
                ev.run_id = status.run_id;
            }
            ev.text = "broker silent for " + util::format_duration(silent) + ": stopped load";
            pending_dead_man = ev;
            if (cb.on_broker_lost) {
                try {
                    cb.on_broker_lost(silent);
                } catch (const std::exception& e) {
                    log->error("on_broker_lost failed: {}", e.what());
                }
            }
        } else if (fresh(last_sub) && fresh(last_dealer)) {
            up = true;
            {
                std::lock_guard lock(mu);
                counters.broker_up = true;
            }
            // Deliver the re-published desired state afresh (rejoin a run still going on).
            max_stage_seq = max_rate_seq = 0;
            if (ever_up) {
                log->info("broker {} is back", broker_epoch);
            } else {
                log->info("connected to broker {} at {}", broker_epoch, cfg.broker);
            }
            ever_up = true;
            send_hello();
            if (pending_dead_man && send_now(wire::encode(*pending_dead_man))) pending_dead_man.reset();
            if (cb.on_broker_back) {
                try {
                    cb.on_broker_back();
                } catch (const std::exception& e) {
                    log->error("on_broker_back failed: {}", e.what());
                }
            }
        }
    }

    void run(zsock_t* pipe) {
        actor_thread = std::this_thread::get_id();
        bad_input.emplace(*log);
        bool ok = setup_sockets();
        zsock_signal(pipe, 0);
        if (!ok) {
            // Wait for $TERM so that zactor_destroy does not block.
            while (char* cmd = zstr_recv(pipe)) {
                bool term = std::string_view(cmd) == "$TERM";
                zstr_free(&cmd);
                if (term) break;
            }
            destroy_sockets();
            return;
        }
        next_heartbeat = Clock::now();
        bool running = true;
        while (running) {
            auto now = Clock::now();
            // libzmq gives up on a connection for good after a refused handshake (e.g. our
            // certificate was not yet in the allow list): while the broker is unreachable, start
            // over with fresh sockets every kRecreatePeriod.
            if (!up && now - sockets_created >= kRecreatePeriod) {
                destroy_sockets();
                if (!setup_sockets()) {
                    log->error("cannot recreate the broker sockets: {}", start_error);
                    break;
                }
            }
            zmq_pollitem_t items[] = {
                {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                {zsock_resolve(sub), 0, ZMQ_POLLIN, 0},
                {zsock_resolve(dealer), 0, ZMQ_POLLIN, 0},
                {monitor ? zsock_resolve(monitor) : nullptr, 0, ZMQ_POLLIN, 0},
            };
            // The next deadline: a heartbeat, or the moment the broker would count as lost.
            auto deadline = next_heartbeat;
            for (const auto& t : {last_sub, last_dealer}) {
                if (t && up) deadline = std::min(deadline, *t + cfg.broker_timeout);
            }
            long timeout = std::max<long>(
                0, static_cast<long>(std::chrono::duration_cast<milliseconds>(deadline - now).count()) + 1);
            int rc = zmq_poll(items, monitor ? 4 : 3, timeout);
            if (rc < 0 && zmq_errno() != EINTR) {
                log->error("poll failed: {}", zmq_strerror(zmq_errno()));
                break;
            }
            now = Clock::now();
            if (items[0].revents & ZMQ_POLLIN) {
                // Drain the pipe: "WAKE" (outbox has frames) or "$TERM".
                {
                    std::lock_guard lock(mu);
                    wake_pending = false;
                }
                while (zsock_events(pipe) & ZMQ_POLLIN) {
                    char* cmd = zstr_recv(pipe);
                    if (cmd == nullptr) {
                        running = false;
                        break;
                    }
                    if (std::string_view(cmd) == "$TERM") running = false;
                    zstr_free(&cmd);
                }
                if (!running) break;
            }
            if (monitor && (items[3].revents & ZMQ_POLLIN)) read_monitor();
            // Bounded batches so that neither socket starves the other or the timers.
            for (int i = 0; i < 256 && (zsock_events(sub) & ZMQ_POLLIN); ++i) read_sub(now);
            for (int i = 0; i < 256 && (zsock_events(dealer) & ZMQ_POLLIN); ++i) read_dealer(now);
            check_liveness(now);
            if (now >= next_heartbeat) {
                if (need_hello && (up || last_dealer)) send_hello();
                send_heartbeat();
                next_heartbeat = now + cfg.heartbeat_interval;
            }
            if (need_hello && up) send_hello();
            flush_outbox();
        }
        destroy_sockets();
    }
};

BeaconLink::BeaconLink(BeaconLinkConfig config, Callbacks callbacks,
                       std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
    config.validate();
    impl_->cfg = std::move(config);
    impl_->cb = std::move(callbacks);
    impl_->log = log ? std::move(log) : spdlog::default_logger();
    const auto& cfg = impl_->cfg;
    if (!cfg.cert.empty()) {
        auto cert = Certificate::load(cfg.cert);
        if (!cert) throw util::ConfigError({}, "broker.cert", cert.error());
        if (!cert->has_secret()) {
            throw util::ConfigError({}, "broker.cert",
                                    cfg.cert + ": holds no secret key (give the NAME.key_secret file)");
        }
        auto server = Certificate::load(cfg.broker_key);
        if (!server) throw util::ConfigError({}, "broker.broker_key", server.error());
        impl_->server_key = server->public_txt();
        impl_->cert.emplace(std::move(*cert));
    }
    impl_->topics = beacon_topics(cfg.beacon_id, cfg.groups);
    impl_->actor = zactor_new(&Impl::actor_fn, impl_.get());
    if (impl_->actor == nullptr) throw std::runtime_error("cannot start the broker link thread");
    if (!impl_->start_error.empty()) {
        std::string error = impl_->start_error;
        zactor_destroy(&impl_->actor);
        throw std::runtime_error(error);
    }
    impl_->log->info("broker link: router {} pub {} ({})", cfg.broker, cfg.pub_endpoint(),
                     impl_->cert ? "CURVE, broker key " + key_fingerprint(impl_->server_key)
                                 : std::string("plain"));
}

BeaconLink::~BeaconLink() {
    if (impl_ && impl_->actor != nullptr) {
        zactor_t* actor = nullptr;
        {
            std::lock_guard lock(impl_->mu);
            actor = impl_->actor;
            impl_->actor = nullptr;  // no more WAKEs
        }
        zactor_destroy(&actor);
    }
}

void BeaconLink::set_status(BeaconStatus status) {
    std::lock_guard lock(impl_->mu);
    impl_->status = std::move(status);
}

void BeaconLink::ack(const wire::Command& command, bool ok, std::string error) {
    wire::CommandAck a;
    a.beacon_id = impl_->cfg.beacon_id;
    a.run_id = command.run_id;
    a.seq = command.seq;
    a.ok = ok;
    // Errors leave the host here: no credentials from node URLs, no control characters.
    a.error = util::printable(util::redact(error), 1000);
    std::string frame = wire::encode(a);
    {
        std::lock_guard lock(impl_->mu);
        impl_->acks[command.seq] = frame;
        while (impl_->acks.size() > 32) impl_->acks.erase(impl_->acks.begin());
    }
    impl_->enqueue(std::move(frame));
}

void BeaconLink::send_stats(const wire::StatsInterval& stats) { impl_->enqueue(wire::encode(stats)); }

void BeaconLink::send_event(const wire::RunEvent& event) {
    wire::RunEvent e = event;
    e.text = util::printable(util::redact(e.text), 2000);  // as for ack errors
    impl_->enqueue(wire::encode(e));
}

bool BeaconLink::broker_up() const {
    std::lock_guard lock(impl_->mu);
    return impl_->counters.broker_up;
}

BeaconLink::Counters BeaconLink::counters() const {
    std::lock_guard lock(impl_->mu);
    return impl_->counters;
}

const BeaconLinkConfig& BeaconLink::config() const { return impl_->cfg; }

}  // namespace bts::control
