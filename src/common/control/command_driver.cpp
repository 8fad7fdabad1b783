// CommandDriver: the broker's desired state as steps of a beacon's state machine (see
// command_driver.hpp).
#include "common/control/command_driver.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

namespace bts::control {
namespace {

int target_level(std::string_view kind) {
    if (kind == wire::command_kind::kConfigure) return 1;
    if (kind == wire::command_kind::kPrepare) return 2;
    if (kind == wire::command_kind::kStart) return 3;
    return 0;
}

bool busy_state(std::string_view s) { return s == "preparing" || s == "running" || s == "draining"; }

}  // namespace

std::optional<double> parse_rate_payload(std::string_view payload) {
    if (payload == "unlimited") return 0.0;
    double v = 0;
    auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), v);
    if (ec != std::errc() || end != payload.data() + payload.size() || !std::isfinite(v) || v < 0) {
        return std::nullopt;
    }
    return v;
}

CommandDriver::CommandDriver(BeaconOps ops, Ack ack) : ops_(std::move(ops)), ack_(std::move(ack)) {}

bool CommandDriver::started(const std::string& run_id) const {
    return std::find(started_runs_.begin(), started_runs_.end(), run_id) != started_runs_.end();
}

int CommandDriver::level_of(const std::string& run_id) const {
    if (started(run_id)) return 3;  // started once: done with, whatever its state now
    if (ops_.run_id() != run_id) return 0;
    const std::string s = ops_.state();
    if (s == "configured" || s == "preparing") return 1;
    if (s == "prepared") return 2;
    if (s == "running" || s == "draining") return 3;
    return 0;
}

void CommandDriver::on_command(const wire::Command& c) {
    if (c.kind == wire::command_kind::kStop || c.kind == wire::command_kind::kAbort) {
        ++epoch_;
        queue_.clear();
        busy_ = false;
        pending_rate_.reset();
        if (c.kind == wire::command_kind::kAbort && ops_.abort)
            ops_.abort(c.payload.empty() ? "aborted by the broker" : c.payload);
        else
            ops_.stop(c.payload.empty() ? "stopped by the broker" : c.payload);
        ack_(c, true, {});
        return;
    }
    if (c.kind == wire::command_kind::kRate) {
        auto rate = parse_rate_payload(c.payload);
        if (!rate) {
            ack_(c, false, "rate: expected \"unlimited\" or a number of tx/s");
            return;
        }
        if (ops_.run_id() == c.run_id && ops_.state() == "running") {
            if (!ops_.set_rate) {
                ack_(c, false, "this beacon cannot change its rate while running");
                return;
            }
            std::weak_ptr<bool> alive = alive_;
            ops_.set_rate(*rate, [this, alive, c](bool ok, const std::string& error) {
                if (!alive.expired()) ack_(c, ok, error);
            });
            return;
        }
        // Not running that run (yet): applied right after its start.
        pending_rate_ = PendingRate{c.run_id, *rate, c};
        ack_(c, true, {});
        return;
    }
    if (target_level(c.kind) == 0) {
        ack_(c, false, "unknown command \"" + c.kind.substr(0, 40) + "\"");
        return;
    }
    queue_.push_back(c);
    next();
}

void CommandDriver::on_broker_lost(std::string_view why) {
    ++epoch_;
    queue_.clear();
    busy_ = false;
    pending_rate_.reset();
    ops_.stop("broker lost: " + std::string(why));
}

void CommandDriver::next() {
    while (!busy_ && !queue_.empty()) {
        wire::Command c = std::move(queue_.front());
        queue_.pop_front();
        const int target = target_level(c.kind);
        const int current = level_of(c.run_id);
        const bool other_run_busy = !started(c.run_id) && ops_.run_id() != c.run_id && busy_state(ops_.state());
        if (current >= target && !other_run_busy) {
            ack_(c, true, {});
            continue;
        }
        run_steps(std::move(c), other_run_busy ? 0 : current, target, other_run_busy);
    }
}

void CommandDriver::run_steps(wire::Command c, int from_level, int to_level, bool stop_first) {
    busy_ = true;
    if (stop_first) (ops_.abort ? ops_.abort : ops_.stop)("superseded by run " + c.run_id);
    const std::uint64_t epoch = epoch_;
    std::weak_ptr<bool> alive = alive_;
    // Step `level` (1 configure, 2 prepare, 3 start), then the next, until to_level.
    // The pending Done holds the chain (strongly); the chain holds itself only weakly.
    auto step = std::make_shared<std::function<void(int)>>();
    std::weak_ptr<std::function<void(int)>> weak_step = step;
    *step = [this, c, to_level, epoch, alive, weak_step](int level) {
        auto done = [this, c, to_level, epoch, alive, step = weak_step.lock(), level](
                        bool ok, const std::string& error) {
            if (alive.expired() || epoch != epoch_) return;  // stopped meanwhile
            if (!ok) return finish(c, false, error);
            if (level == 3) {
                started_runs_.push_back(c.run_id);
                if (started_runs_.size() > 64) started_runs_.pop_front();
                apply_pending_rate(c.run_id);
            }
            if (level >= to_level) return finish(c, true, {});
            if (step) (*step)(level + 1);
        };
        switch (level) {
            case 1: ops_.configure(c.payload, std::move(done)); break;
            case 2: ops_.prepare(std::move(done)); break;
            default: ops_.start(std::move(done)); break;
        }
    };
    (*step)(from_level + 1);
}

void CommandDriver::finish(const wire::Command& c, bool ok, const std::string& error) {
    ack_(c, ok, error);
    busy_ = false;
    next();
}

void CommandDriver::apply_pending_rate(const std::string& run_id) {
    if (!pending_rate_ || pending_rate_->run_id != run_id || !ops_.set_rate) return;
    PendingRate p = std::move(*pending_rate_);
    pending_rate_.reset();
    ops_.set_rate(p.rate, [](bool, const std::string&) {});
}

}  // namespace bts::control
