// Test helpers: a beacon stand-in (a real BeaconLink whose "beacon" acknowledges every command
// and follows the state machine's names — and, like bts-beacon, ends a started run by itself
// when its payload's duration has passed, with a final StatsInterval and state "stopped"), a
// broker on fresh loopback ports, and wait_until.
#pragma once

#include "broker/broker.hpp"
#include "common/control/beacon_link.hpp"
#include "common/control/ctl_client.hpp"
#include "common/util/units.hpp"
#include "process.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace bts::test {

using namespace std::chrono_literals;

inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

// A logger writing into a string (to check what reaches logs).
struct CapturedLog {
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> logger;
    explicit CapturedLog(std::string name) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
        logger = std::make_shared<spdlog::logger>(std::move(name), sink);
        logger->set_level(spdlog::level::debug);
    }
    std::string text() {
        logger->flush();
        return out.str();
    }
};

struct Ports {
    std::string router;
    std::string pub;
    static Ports fresh() {
        return {"tcp://127.0.0.1:" + std::to_string(free_port()),
                "tcp://127.0.0.1:" + std::to_string(free_port())};
    }
};

// Fast timings so that loss and recovery take a fraction of a second in tests.
inline broker::BrokerConfig fast_broker(const Ports& p) {
    broker::BrokerConfig c;
    c.router = p.router;
    c.pub = p.pub;
    c.heartbeat_interval = 100ms;
    c.beacon_timeout = 300ms;
    c.republish_interval = 100ms;
    c.configure_timeout = 3s;
    c.prepare_timeout = 3s;
    c.stop_timeout = 1s;
    c.stats_sinks = {"none"};
    return c;
}

class FakeBeacon {
public:
    FakeBeacon(std::string id, const Ports& p, std::function<void(control::BeaconLinkConfig&)> tweak = {},
               std::shared_ptr<spdlog::logger> log = nullptr) {
        control::BeaconLinkConfig c;
        c.broker = p.router;
        c.broker_pub = p.pub;
        c.beacon_id = std::move(id);
        id_ = c.beacon_id;
        c.host = "test-host";
        c.pid = 1;
        c.heartbeat_interval = 100ms;
        c.broker_timeout = 300ms;
        if (tweak) tweak(c);
        std::lock_guard lock(mu_);  // callbacks wait until link_ is set
        link_ = std::make_unique<control::BeaconLink>(
            c,
            control::BeaconLink::Callbacks{
                .on_command = [this](const wire::Command& cmd) { on_command(cmd); },
                .on_broker_lost =
                    [this](std::chrono::milliseconds) {
                        std::lock_guard l(mu_);
                        if (closing_) return;  // the link is being destroyed: link_ is gone
                        ++lost_;
                        lost_at_ = std::chrono::steady_clock::now();
                        state_ = "stopped";
                        finish_.reset();
                        link_->set_status({state_, run_id_, 0.0});
                    },
                .on_broker_back =
                    [this] {
                        std::lock_guard l(mu_);
                        ++back_;
                    },
            },
            log ? log : spdlog::default_logger());
        finisher_ = std::thread([this] { finisher_loop(); });
    }

    // The finisher, then the link: their callbacks use the members below until they are gone.
    ~FakeBeacon() {
        {
            std::lock_guard l(mu_);
            closing_ = true;
        }
        cv_.notify_all();
        finisher_.join();
        link_.reset();
    }

    std::vector<wire::Command> commands() {
        std::lock_guard l(mu_);
        return commands_;
    }
    bool saw(std::string_view kind, std::string_view run_id = {}) {
        std::lock_guard l(mu_);
        for (const auto& c : commands_) {
            if (c.kind == kind && (run_id.empty() || c.run_id == run_id)) return true;
        }
        return false;
    }
    std::string state() {
        std::lock_guard l(mu_);
        return state_;
    }
    int lost() {
        std::lock_guard l(mu_);
        return lost_;
    }
    int back() {
        std::lock_guard l(mu_);
        return back_;
    }
    std::chrono::steady_clock::time_point lost_at() {
        std::lock_guard l(mu_);
        return lost_at_;
    }
    double rate() {
        std::lock_guard l(mu_);
        return rate_;
    }
    void set_status(std::string state, std::string run_id) {
        std::lock_guard l(mu_);
        state_ = std::move(state);
        run_id_ = std::move(run_id);
        link_->set_status({state_, run_id_, 0.0});
    }
    control::BeaconLink& link() { return *link_; }

private:
    void on_command(const wire::Command& c) {
        std::lock_guard l(mu_);
        // A command delivered while the destructor tears the link down must not touch link_
        // (unique_ptr::reset clears the pointer before the link's thread has stopped).
        if (closing_) return;
        commands_.push_back(c);
        if (c.kind == "configure") state_ = "configured";
        if (c.kind == "prepare") state_ = "prepared";
        if (c.kind == "start") state_ = "running";
        if (c.kind == "stop") state_ = "stopped";
        if (c.kind == "rate") rate_ = c.payload == "unlimited" ? 0.0 : std::stod(c.payload);
        if (c.kind == "start") {
            auto at = c.payload.find("\nrate = ");
            if (at != std::string::npos) rate_ = std::stod(c.payload.substr(at + 8));
            // The run ends on the beacon's own clock after its payload's duration.
            auto d = c.payload.find("\nduration = \"");
            if (d != std::string::npos && started_ != c.run_id) {
                auto from = d + 13;
                auto text = c.payload.substr(from, c.payload.find('"', from) - from);
                if (auto dur = util::parse_duration(text)) {
                    finish_ = Finish{c.run_id, std::chrono::steady_clock::now() +
                                                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(*dur)};
                    started_ = c.run_id;
                    cv_.notify_all();
                }
            }
        }
        if (c.kind == "stop" || c.kind == "abort") {
            if (finish_ && finish_->run_id == c.run_id) {
                run_id_ = c.run_id;
                send_final_locked();
            }
            finish_.reset();
        }
        run_id_ = c.run_id;
        link_->set_status({state_, run_id_, rate_});
        link_->ack(c, true);
    }

    // The run's end, as bts-beacon reports it: a final (0 ms) interval, then state "stopped".
    void send_final_locked() {
        wire::StatsInterval s;
        s.run_id = run_id_;
        s.beacon_id = id_;
        s.host = "test-host";
        s.seq = 1'000'000;
        s.interval_start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
        s.final = true;
        link_->send_stats(s);
        state_ = "stopped";
        link_->set_status({state_, run_id_, 0.0});
    }
    void finisher_loop() {
        std::unique_lock l(mu_);
        while (!closing_) {
            if (!finish_) {
                cv_.wait(l, [&] { return closing_ || finish_.has_value(); });
                continue;
            }
            const Finish f = *finish_;
            if (cv_.wait_until(l, f.at, [&] { return closing_ || !finish_ || finish_->run_id != f.run_id; })) continue;
            if (state_ == "running" && run_id_ == f.run_id) send_final_locked();
            finish_.reset();
        }
    }

    struct Finish {
        std::string run_id;
        std::chrono::steady_clock::time_point at;
    };
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<Finish> finish_;
    std::string started_;  // the last run started (a beacon never starts a run twice)
    bool closing_ = false;
    std::thread finisher_;
    std::string id_;
    std::unique_ptr<control::BeaconLink> link_;
    std::vector<wire::Command> commands_;
    std::string state_ = "idle";
    std::string run_id_;
    double rate_ = 0;
    int lost_ = 0;
    int back_ = 0;
    std::chrono::steady_clock::time_point lost_at_{};
};

// bts-ctl's requests, for tests.
class Ctl {
public:
    explicit Ctl(const Ports& p, std::string cert = {}, std::string broker_key = {}) {
        control::CtlClientConfig c;
        c.broker = p.router;
        c.cert = std::move(cert);
        c.broker_key = std::move(broker_key);
        client_ = std::make_unique<control::CtlClient>(c);
    }
    // The reply payload; ok=false replies become {"error": ..., "code": ...}.
    nlohmann::json call(std::string_view verb, const nlohmann::json& payload = nlohmann::json::object(),
                        std::chrono::milliseconds timeout = 3s) {
        auto r = client_->request(verb, payload.dump(), timeout);
        if (!r) return nlohmann::json{{"unreachable", r.error()}};
        auto j = nlohmann::json::parse(r->payload);
        if (!r->ok) j["error"] = r->error;
        return j;
    }
    std::size_t alive_beacons() {
        auto j = call("beacons");
        std::size_t n = 0;
        if (!j.contains("beacons")) return 0;
        for (const auto& b : j["beacons"]) n += b.value("alive", false) ? 1 : 0;
        return n;
    }
    std::string run_state() {
        auto j = call("status");
        if (!j.contains("run") || j["run"].is_null()) return "";
        return j["run"].value("state", std::string());
    }
    control::CtlClient& client() { return *client_; }

private:
    std::unique_ptr<control::CtlClient> client_;
};

inline std::string hold_scenario(double rate, std::string_view duration, std::string_view extra = {}) {
    return "[scenario]\nname = \"t\"\nrate = " + std::to_string(rate) + "\nduration = \"" +
           std::string(duration) + "\"\n[target]\nnodes = [\"ws://127.0.0.1:8090\", \"ws://127.0.0.1:8091\"]\n" +
           std::string(extra);
}

}  // namespace bts::test
