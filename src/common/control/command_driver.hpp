// CommandDriver: turns the broker's desired state (wire::Command from BeaconLink) into steps of
// a beacon's state machine — configure → prepare → start as far as needed, stop, rate — and
// acknowledges each command once its steps are done. It lets a beacon that joins late, missed
// messages, or was stopped by the dead-man switch converge from whatever state it is in.
//
// Rules (state names as in wire::Heartbeat::state; "level" = how far the beacon is with the
// command's run: 0 other run/idle/stopped, 1 configured or preparing, 2 prepared, 3 running or
// draining; configure = 1, prepare = 2, start = 3):
//   configure | prepare | start (payload = run config): if the beacon is busy with another run
//       (preparing/running/draining), stop it first; then do the missing steps up to the
//       command's level (configure with the payload, prepare, start). Nothing to do → ack ok.
//   stop:  stop sending at once — the beacon drains — (also cancels queued commands), ack ok.
//   abort: end the run at once, drain included (also cancels queued commands), ack ok.
// A run is never started twice: once a beacon has started run R (even if its dead-man switch
// stopped it since), configure/prepare/start of R are acknowledged as done and nothing is sent —
// a beacon that comes back does not resume an old run's load.
//   rate:  payload "unlimited" or tx/s. Applied at once when running the command's run;
//          otherwise kept and applied right after that run starts; ack ok either way (an ack
//          error only if the beacon cannot change rate).
// One command is worked on at a time; others wait in arrival order (a stop does not wait).
//
// Threads: call everything on the beacon's thread (e.g. post from BeaconLink's callbacks to the
// io_context); the BeaconOps functions are called there too, and their Done may be called
// later, also there.
#pragma once

#include "common/wire.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bts::control {

// What the driver needs from a beacon.
struct BeaconOps {
    using Done = std::function<void(bool ok, const std::string& error)>;
    std::function<std::string()> state;   // "idle", "configured", "preparing", ...
    std::function<std::string()> run_id;  // of the configured run, "" if none
    std::function<void(const std::string& payload, Done)> configure;
    std::function<void(Done)> prepare;
    std::function<void(Done)> start;
    std::function<void(const std::string& reason)> stop;   // stop sending, drain
    std::function<void(const std::string& reason)> abort;  // end now (empty: stop is used)
    // rate 0 = unlimited. May be empty when the beacon cannot change rate while running.
    std::function<void(double rate, Done)> set_rate;
};

class CommandDriver {
public:
    using Ack = std::function<void(const wire::Command&, bool ok, const std::string& error)>;

    CommandDriver(BeaconOps ops, Ack ack);

    void on_command(const wire::Command& c);
    // Dead-man switch: stop now, drop queued commands (they are re-published when the broker
    // is back).
    void on_broker_lost(std::string_view why);

    // For tests and status.
    [[nodiscard]] bool busy() const { return busy_; }
    [[nodiscard]] std::size_t queued() const { return queue_.size(); }

private:
    void next();
    void run_steps(wire::Command c, int from_level, int to_level, bool stop_first);
    void finish(const wire::Command& c, bool ok, const std::string& error);
    void apply_pending_rate(const std::string& run_id);
    [[nodiscard]] bool started(const std::string& run_id) const;
    int level_of(const std::string& run_id) const;

    BeaconOps ops_;
    Ack ack_;
    std::deque<wire::Command> queue_;
    bool busy_ = false;
    std::uint64_t epoch_ = 0;  // bumped by stop: stale step callbacks are ignored
    struct PendingRate {
        std::string run_id;
        double rate = 0;
        wire::Command command;
    };
    std::optional<PendingRate> pending_rate_;
    std::deque<std::string> started_runs_;  // runs this beacon has started (the latest 64)
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "unlimited" → 0; "33.5" → 33.5; nullopt when not a non-negative number.
[[nodiscard]] std::optional<double> parse_rate_payload(std::string_view payload);

}  // namespace bts::control
