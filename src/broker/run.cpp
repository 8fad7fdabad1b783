// The scenario runner's state machine (see run.hpp).
#include "broker/run.hpp"

#include <algorithm>
#include <cmath>

namespace bts::broker {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

double secs(Duration d) { return std::chrono::duration<double>(d).count(); }

std::uint64_t percentile_of(std::vector<std::int64_t> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, v[rank - 1]));
}

}  // namespace

std::string_view to_string(RunState s) {
    switch (s) {
        case RunState::kConfiguring: return "configuring";
        case RunState::kPreparing: return "preparing";
        case RunState::kRunning: return "running";
        case RunState::kStopping: return "stopping";
        case RunState::kDraining: return "draining";
        case RunState::kCompleted: return "completed";
        case RunState::kStopped: return "stopped";
        case RunState::kFailed: return "failed";
    }
    return "unknown";
}

Run::Run(std::string run_id, Scenario scenario, RunOptions options,
         std::function<std::uint64_t()> next_seq, TimePoint now, std::int64_t unix_ms)
    : id_(std::move(run_id)),
      scenario_(std::move(scenario)),
      segments_(scenario_.segments()),
      options_(std::move(options)),
      next_seq_(std::move(next_seq)),
      created_(now),
      created_unix_ms_(unix_ms),
      stage_started_(now),
      node_load_(scenario_.nodes.size(), 0) {}

bool Run::wants(const BeaconEntry& b) const {
    if (is_final(state_) || state_ == RunState::kStopping || state_ == RunState::kDraining) return false;
    if (!b.alive || !b.hello_seen || participants_.contains(b.id)) return false;
    if (!scenario_.group.empty() &&
        std::find(b.groups.begin(), b.groups.end(), scenario_.group) == b.groups.end()) {
        return false;
    }
    return scenario_.beacon_count == 0 || participants_.size() < scenario_.beacon_count;
}

bool Run::is_participant(const std::string& beacon_id) const {
    return participants_.contains(beacon_id);
}

std::size_t Run::live_participants() const {
    return static_cast<std::size_t>(
        std::count_if(participants_.begin(), participants_.end(),
                      [](const auto& kv) { return kv.second.alive && !kv.second.failed; }));
}

std::vector<Run::Participant*> Run::live() {
    std::vector<Participant*> out;
    for (auto& [id, p] : participants_) {
        if (p.alive && !p.failed && !p.finished) out.push_back(&p);
    }
    std::sort(out.begin(), out.end(),
              [](const Participant* a, const Participant* b) { return a->ordinal < b->ordinal; });
    return out;
}

bool Run::all_finished() const {
    for (const auto& [id, p] : participants_) {
        if (p.alive && !p.failed && !p.finished) return false;
    }
    return true;
}

bool Run::add(const BeaconEntry& b, TimePoint now) {
    if (!wants(b)) return false;
    Participant p;
    p.beacon_id = b.id;
    p.ordinal = next_ordinal_++;
    p.node_index = pick_node(scenario_.assignment, node_load_);
    if (!node_load_.empty()) ++node_load_[p.node_index];
    auto& added = participants_.emplace(b.id, std::move(p)).first->second;
    if (!started_pending_) {
        // A late joiner: its own payload now, and everyone's share changes.
        added.payload = make_payload(added, now, live_participants());
        resplit_pending_ = true;
    }
    return true;
}

double Run::current_total_rate(TimePoint now) const {
    if (segments_.empty()) return 0.0;
    if (!run_start_) return segments_.front().rate;
    Duration elapsed = now - *run_start_;
    for (const auto& s : segments_) {
        if (elapsed < s.start + s.length) return s.rate;
    }
    return segments_.back().rate;
}

std::string Run::make_payload(Participant& p, TimePoint now, std::size_t live) {
    const std::size_t live_count = std::max<std::size_t>(1, live);
    const std::size_t split_over = std::max<std::size_t>(1, initial_count_);
    const double total = current_total_rate(now);
    BeaconAssignment a;
    a.beacon_id = p.beacon_id;
    a.run_id = id_;
    a.node = scenario_.nodes.empty() ? std::string() : scenario_.nodes[p.node_index];
    a.rate = total <= 0 ? 0.0 : std::max(0.001, std::round(total / static_cast<double>(live_count) * 1000.0) / 1000.0);
    // The beacon's own schedule: its integer share of every segment from now on, timed on its
    // own clock. The shares of all beacons add up to the scenario's count exactly, and the
    // beacon ends by itself; the broker never stops it by its clock.
    const Duration elapsed = run_start_ ? Duration(now - *run_start_) : Duration::zero();
    const std::size_t rank = std::min(p.ordinal, live_count - 1);
    Duration remaining = Duration::zero();
    for (const auto& seg : segments_) {
        if (seg.start + seg.length <= elapsed) continue;
        const Duration len = seg.start + seg.length - std::max(seg.start, elapsed);
        BeaconSegment bs;
        bs.length = len;
        if (seg.rate > 0) {
            const auto total = static_cast<std::uint64_t>(std::llround(seg.rate * secs(len)));
            bs.count = count_share(total, rank, live_count);
            bs.rate = split_rate(seg.rate, live_count)[rank];
        }
        a.schedule.push_back(bs);
        remaining += len;
    }
    if (a.schedule.empty()) a.schedule.push_back(BeaconSegment{milliseconds(100), a.rate, 0});
    if (remaining <= Duration::zero()) remaining = milliseconds(100);
    a.duration = remaining;
    // A scenario budget is split exactly too; the beacon stops at its share.
    if (scenario_.budget > 0) a.budget = count_share(scenario_.budget, std::min(p.ordinal, split_over - 1), split_over);
    a.accounts = account_slice(scenario_.accounts, scenario_.split_accounts, p.ordinal, split_over);
    a.seed = scenario_.seed + p.ordinal;
    a.stats_sinks = options_.stats_sinks;
    p.payload_rate = a.rate;
    p.rate = a.rate;
    return beacon_run_config(scenario_, a);
}

std::string_view Run::stage_kind() const {
    switch (state_) {
        case RunState::kConfiguring: return wire::command_kind::kConfigure;
        case RunState::kPreparing: return wire::command_kind::kPrepare;
        case RunState::kRunning:
        case RunState::kDraining: return wire::command_kind::kStart;
        default: return abort_ ? wire::command_kind::kAbort : wire::command_kind::kStop;
    }
}

Outgoing Run::stage_command(const Participant& p) const {
    wire::Command c;
    c.run_id = id_;
    c.target = p.beacon_id;
    if (p.failed) {
        c.seq = p.stop_seq;  // failed participants: their own stop (see on_ack)
        c.kind = std::string(wire::command_kind::kStop);
        return {c};
    }
    c.seq = stage_seq_;
    c.kind = std::string(stage_kind());
    if (c.kind != wire::command_kind::kStop) c.payload = p.payload;
    return {c};
}

Outgoing Run::rate_command(const Participant& p) const {
    wire::Command c;
    c.run_id = id_;
    c.seq = p.rate_seq;
    c.target = p.beacon_id;
    c.kind = std::string(wire::command_kind::kRate);
    c.payload = p.rate <= 0 ? "unlimited" : rate_text(p.rate);
    return {c};
}

void Run::enter(RunState s, TimePoint now, std::vector<Outgoing>* out) {
    state_ = s;
    stage_started_ = now;
    if (is_final(s)) return;
    if (s == RunState::kDraining) return;  // nothing to say: the beacons end on their own
    stage_seq_ = next_seq_();
    if (s == RunState::kRunning) {
        run_start_ = now;
        run_start_unix_ms_ = created_unix_ms_ + duration_cast<milliseconds>(now - created_).count();
        closed_through_ = run_start_unix_ms_ / 1000;
        segment_ = 0;
    }
    if (fanout_.seq != 0) fanouts_.push_back(std::move(fanout_));
    fanout_ = Fanout{};
    fanout_.seq = stage_seq_;
    fanout_.kind = std::string(stage_kind());
    fanout_published_ = now;
    fanout_waiting_.clear();
    for (auto& [id, p] : participants_) {
        if (p.failed) continue;
        if (p.alive) fanout_waiting_.insert(id);
        out->push_back(stage_command(p));
    }
    fanout_.targets = fanout_waiting_.size();
    if (s == RunState::kRunning) resplit(now, out);
    if (s == RunState::kStopping) {
        // Also once to everyone the run could have reached ("all", or its group): a beacon
        // the broker no longer counts as a participant stops too.
        wire::Command c;
        c.run_id = id_;
        c.seq = next_seq_();
        c.target = scenario_.group.empty() ? std::string(wire::kTargetAll)
                                           : std::string(wire::kTargetGroupPrefix) + scenario_.group;
        c.kind = std::string(stage_kind());
        out->push_back({c});
    }
}

bool Run::stage_done() const {
    for (const auto& [id, p] : participants_) {
        if (p.alive && !p.failed && p.acked_stage_seq != stage_seq_) return false;
    }
    return true;
}

void Run::resplit(TimePoint now, std::vector<Outgoing>* out) {
    resplit_pending_ = false;
    auto alive = live();
    auto shares = split_rate(current_total_rate(now), alive.size());
    bool changed = false;
    for (std::size_t i = 0; i < alive.size(); ++i) {
        if (alive[i]->rate != shares[i] || (alive[i]->rate_seq == 0 && shares[i] != alive[i]->payload_rate)) {
            changed = true;
        }
        alive[i]->rate = shares[i];
    }
    if (!changed) return;
    const std::uint64_t seq = next_seq_();
    for (Participant* p : alive) {
        p->rate_seq = seq;
        out->push_back(rate_command(*p));
    }
}

void Run::fail_if_empty(TimePoint now) {
    if (is_final(state_) || state_ == RunState::kStopping || state_ == RunState::kDraining || started_pending_) return;
    if (live_participants() > 0) return;
    std::string why = "all beacons lost";
    for (const auto& [id, p] : participants_) {
        if (p.failed) {
            why = "beacon " + id + " failed: " + p.error;
            break;
        }
    }
    failed_ = true;
    reason_ = why;
    enter(RunState::kStopping, now, &pending_);
}

void Run::beacon_lost(const std::string& beacon_id, TimePoint now) {
    auto it = participants_.find(beacon_id);
    if (it == participants_.end() || !it->second.alive) return;
    it->second.alive = false;
    resplit_pending_ = true;
    fail_if_empty(now);
}

void Run::beacon_back(const std::string& beacon_id, TimePoint) {
    auto it = participants_.find(beacon_id);
    if (it == participants_.end() || it->second.alive) return;
    it->second.alive = true;
    // It was stopped by its dead-man switch: it restarts from the re-published stage command,
    // so its stage ack is due again.
    it->second.acked_stage_seq = 0;
    resplit_pending_ = true;
}

void Run::on_ack(const wire::CommandAck& ack, TimePoint now) {
    auto it = participants_.find(ack.beacon_id);
    if (it == participants_.end() || ack.run_id != id_) return;
    Participant& p = it->second;
    if (ack.seq == stage_seq_ && !p.failed) {
        if (ack.ok) {
            if (ack.seq == fanout_.seq && fanout_waiting_.erase(ack.beacon_id) > 0) {
                fanout_.ack_us.push_back(duration_cast<microseconds>(now - fanout_published_).count());
                if (fanout_waiting_.empty()) fanout_.all_acked_us = fanout_.ack_us.back();
            }
            p.acked_stage_seq = stage_seq_;
            if (state_ == RunState::kRunning || state_ == RunState::kDraining) p.started = true;
        } else if (state_ != RunState::kStopping && state_ != RunState::kDraining) {
            p.failed = true;
            p.error = ack.error.empty() ? "refused " + std::string(stage_kind()) : ack.error;
            p.stop_seq = next_seq_();
            pending_.push_back(stage_command(p));
            fanout_waiting_.erase(ack.beacon_id);
            resplit_pending_ = true;
            fail_if_empty(now);
        }
    } else if (ack.seq == p.rate_seq && !ack.ok && !p.failed) {
        ++rate_errors_;
        last_rate_error_ = ack.beacon_id + ": " + ack.error;
    }
}

void Run::on_stats(const wire::StatsInterval& st, std::int64_t /*now_unix_ms*/) {
    if (st.run_id != id_ || !participants_.contains(st.beacon_id)) {
        ++stats_dropped_;
        return;
    }
    if (auto bad = st.acceptance_from_intended.validate()) {
        ++stats_dropped_;
        return;
    }
    std::uint64_t rejected = 0;
    for (const auto& [cls, n] : st.rejected_by_class) {
        rejected += n;
        rejected_by_class_[cls] += n;
    }
    total_sent_ += st.sent;
    total_accepted_ += st.accepted;
    total_rejected_ += rejected;
    total_unknown_ += st.unknown_outcome;
    total_included_ += st.included_txs;
    total_included_ops_ += st.included_ops;
    total_expired_ += st.expired_unincluded;
    total_pending_ += st.pending_at_cutoff;
    total_dropped_sends_ += st.dropped_sends;
    total_latency_.merge(st.acceptance_from_intended);
    if (st.inclusion.validate() == std::nullopt) total_inclusion_.merge(st.inclusion);
    Participant& part = participants_.at(st.beacon_id);
    part.sent += st.sent;
    part.accepted += st.accepted;
    part.rejected += rejected;
    part.unknown += st.unknown_outcome;
    part.included += st.included_txs;
    part.expired += st.expired_unincluded;
    part.pending += st.pending_at_cutoff;
    if (st.final) part.finished = true;
    if (!run_start_) return;
    const std::int64_t sec = st.interval_start_ms / 1000;
    if (sec < closed_through_) {
        ++late_stats_;
        return;
    }
    if (open_.size() > 3600 && !open_.contains(sec)) {  // a clock far off: do not grow
        ++stats_dropped_;
        return;
    }
    OpenSecond& o = open_[sec];
    o.sent += st.sent;
    o.accepted += st.accepted;
    o.rejected += rejected;
    o.included += st.included_txs;
    o.configured += st.configured_rate;
    ++o.beacons;
    o.latency.merge(st.acceptance_from_intended);
}

void Run::close_seconds(std::int64_t now_unix_ms, double heartbeat_rate, bool all) {
    if (!run_start_) return;
    // A second is complete once its reports had 1.5 s to arrive.
    std::int64_t cutoff = (now_unix_ms - 1500) / 1000;  // seconds < cutoff are closed
    if (all) cutoff = std::max(cutoff, open_.empty() ? closed_through_ : open_.rbegin()->first + 1);
    const std::int64_t end_sec =
        (run_start_unix_ms_ + duration_cast<milliseconds>(scenario_.total_duration()).count() + 999) / 1000;
    for (std::int64_t sec = closed_through_; sec < cutoff; ++sec) {
        auto it = open_.find(sec);
        if (it == open_.end() && sec >= end_sec) continue;  // nothing after the end: no row
        SecondRow row;
        row.t = sec - run_start_unix_ms_ / 1000;
        // A report for the second after the end (the beacons' final intervals): no target.
        row.target = std::chrono::seconds(row.t) < scenario_.total_duration()
                         ? scenario_.rate_at(std::chrono::seconds(row.t))
                         : -1.0;
        row.heartbeat_rate = heartbeat_rate;
        if (it != open_.end()) {
            const OpenSecond& o = it->second;
            row.configured = o.configured;
            row.sent = o.sent;
            row.accepted = o.accepted;
            row.rejected = o.rejected;
            row.included = o.included;
            row.beacons = o.beacons;
            row.p50_us = o.latency.percentile(50);
            row.p99_us = o.latency.percentile(99);
            open_.erase(it);
        }
        seconds_.push_back(row);
    }
    closed_through_ = std::max(closed_through_, cutoff);
}

void Run::on_beacon_state(const std::string& beacon_id, const std::string& state, const std::string& run_id) {
    auto it = participants_.find(beacon_id);
    if (it == participants_.end() || run_id != id_ || !it->second.started) return;
    if (state == "stopped") it->second.finished = true;
}

void Run::stop(std::string reason, TimePoint now, bool abort) {
    if (is_final(state_)) return;
    if (state_ == RunState::kStopping || state_ == RunState::kDraining) {
        // Already winding down: only an abort changes anything (it cuts the drains short).
        if (!abort || abort_) return;
        abort_ = true;
        stopped_by_operator_ = true;
        reason_ = std::move(reason);
        enter(RunState::kStopping, now, &pending_);
        return;
    }
    abort_ = abort;
    reason_ = std::move(reason);
    stopped_by_operator_ = true;
    if (started_pending_) {  // nothing was sent yet: nothing to stop
        started_pending_ = false;
        state_ = RunState::kStopped;
        finished_ = now;
        return;
    }
    enter(RunState::kStopping, now, &pending_);
}

std::vector<Outgoing> Run::tick(TimePoint now, std::int64_t now_unix_ms, double heartbeat_rate) {
    std::vector<Outgoing> out;
    out.swap(pending_);
    if (started_pending_) {
        started_pending_ = false;
        initial_count_ = participants_.size();
        const std::size_t live = live_participants();
        for (auto& [id, p] : participants_) p.payload = make_payload(p, now, live);
        if (participants_.empty()) {
            failed_ = true;
            reason_ = "no beacons";
            state_ = RunState::kFailed;
            return out;
        }
        enter(RunState::kConfiguring, now, &out);
    }
    switch (state_) {
        case RunState::kConfiguring:
            if (stage_done() || now - stage_started_ >= options_.configure_timeout) {
                enter(RunState::kPreparing, now, &out);
            }
            break;
        case RunState::kPreparing:
            if (stage_done() || now - stage_started_ >= options_.prepare_timeout) {
                enter(RunState::kRunning, now, &out);
            }
            break;
        case RunState::kRunning: {
            Duration elapsed = now - *run_start_;
            // The scenario's time is up, or every beacon already finished its share (budget):
            // the beacons end their schedules and drain by themselves.
            const bool any_started = std::any_of(participants_.begin(), participants_.end(),
                                                 [](const auto& kv) { return kv.second.started; });
            if (elapsed >= scenario_.total_duration() || (any_started && all_finished())) {
                reason_ = elapsed >= scenario_.total_duration() || scenario_.budget == 0 ? "completed" : "budget reached";
                enter(RunState::kDraining, now, &out);
                break;
            }
            std::size_t seg = segment_;
            while (seg + 1 < segments_.size() && elapsed >= segments_[seg + 1].start) ++seg;
            segment_ = seg;  // for status; the beacons follow their own schedules
            if (resplit_pending_) resplit(now, &out);
            break;
        }
        case RunState::kDraining:
        case RunState::kStopping: {
            // Wait for every live participant's final report; past the limit, abort the rest.
            const Duration limit = state_ == RunState::kStopping && abort_ ? Duration(options_.stop_timeout)
                                                                          : Duration(options_.drain_timeout);
            if (!stopped_at_ && all_finished()) stopped_at_ = now;
            if (!stopped_at_ && now - stage_started_ >= limit) {
                if (!aborted_stragglers_) {
                    aborted_stragglers_ = true;
                    for (const auto& [id, p] : participants_) {
                        if (!p.alive || p.failed || p.finished) continue;
                        wire::Command c;
                        c.run_id = id_;
                        c.seq = next_seq_();
                        c.target = id;
                        c.kind = std::string(wire::command_kind::kAbort);
                        c.payload = "the broker's drain limit passed";
                        out.push_back({c});
                    }
                    stage_started_ = now;
                    if (state_ == RunState::kDraining) state_ = RunState::kStopping, abort_ = true;
                } else {
                    stopped_at_ = now;  // their reports are lost: the run's record ends here
                }
            }
            if (stopped_at_ && now - *stopped_at_ >= options_.stats_grace) {
                state_ = failed_ ? RunState::kFailed
                                 : stopped_by_operator_ ? RunState::kStopped : RunState::kCompleted;
                finished_ = now;
            }
            break;
        }
        default:
            break;
    }
    if (resplit_pending_ && state_ != RunState::kRunning) resplit_pending_ = false;
    close_seconds(now_unix_ms, heartbeat_rate, is_final(state_));
    fail_if_empty(now);
    return out;
}

std::vector<Outgoing> Run::desired() const {
    std::vector<Outgoing> out;
    if (started_pending_) return out;
    for (const auto& [id, p] : participants_) {
        auto d = desired_for(id);
        out.insert(out.end(), d.begin(), d.end());
    }
    return out;
}

std::vector<Outgoing> Run::desired_for(const std::string& beacon_id) const {
    std::vector<Outgoing> out;
    auto it = participants_.find(beacon_id);
    if (it == participants_.end() || started_pending_ || stage_seq_ == 0) return out;
    // Draining: nothing to ask for (a start now would send load after the scenario's end).
    if (state_ == RunState::kDraining) return out;
    const Participant& p = it->second;
    out.push_back(stage_command(p));
    if (state_ == RunState::kRunning && !p.failed && p.rate_seq != 0) out.push_back(rate_command(p));
    return out;
}

std::optional<TimePoint> Run::next_deadline() const {
    if (started_pending_) return created_;
    switch (state_) {
        case RunState::kConfiguring: return stage_started_ + options_.configure_timeout;
        case RunState::kPreparing: return stage_started_ + options_.prepare_timeout;
        case RunState::kRunning: {
            TimePoint end = *run_start_ + scenario_.total_duration();
            if (segment_ + 1 < segments_.size()) {
                return std::min(end, *run_start_ + segments_[segment_ + 1].start);
            }
            return end;
        }
        case RunState::kDraining:
        case RunState::kStopping:
            return stopped_at_ ? *stopped_at_ + options_.stats_grace
                               : stage_started_ + (state_ == RunState::kStopping && abort_ ? options_.stop_timeout
                                                                                          : options_.drain_timeout);
        default:
            return std::nullopt;
    }
}

std::optional<Run::View> Run::participant_view(const std::string& beacon_id) const {
    auto it = participants_.find(beacon_id);
    if (it == participants_.end()) return std::nullopt;
    const Participant& p = it->second;
    View v;
    v.node = scenario_.nodes.empty() ? std::string() : scenario_.nodes[p.node_index];
    v.rate = is_final(state_) || p.failed ? 0.0 : p.rate;
    v.failed = p.failed;
    v.error = p.error;
    return v;
}

nlohmann::json Run::status(std::int64_t since_t, TimePoint now, bool detail) const {
    using nlohmann::json;
    json j;
    j["id"] = id_;
    j["scenario"] = scenario_.name;
    j["description"] = scenario_.description;
    j["state"] = std::string(to_string(state_));
    j["reason"] = reason_;
    j["duration_s"] = secs(scenario_.total_duration());
    double elapsed = 0;
    if (run_start_) {
        TimePoint until = finished_ ? *finished_ : now;
        if (stopped_at_) until = std::min(until, *stopped_at_);
        elapsed = secs(until - *run_start_);
    }
    j["elapsed_s"] = elapsed;
    j["target_rate"] = state_ == RunState::kRunning ? current_total_rate(now) : 0.0;
    j["participants"] = participants_.size();
    j["live"] = live_participants();
    std::size_t failed = 0;
    json beacons = json::array();
    for (const auto& [id, p] : participants_) {
        if (p.failed) ++failed;
        if (!detail && !p.failed) continue;
        json b;
        b["id"] = id;
        b["node"] = scenario_.nodes.empty() ? std::string() : scenario_.nodes[p.node_index];
        b["rate"] = p.rate;
        b["alive"] = p.alive;
        b["failed"] = p.failed;
        if (p.failed) b["error"] = p.error;
        b["acked"] = p.acked_stage_seq == stage_seq_;
        b["finished"] = p.finished;
        b["sent"] = p.sent;
        b["accepted"] = p.accepted;
        b["rejected"] = p.rejected;
        b["unknown"] = p.unknown;
        b["included"] = p.included;
        b["expired"] = p.expired;
        b["pending"] = p.pending;
        beacons.push_back(std::move(b));
    }
    j["failed"] = failed;
    j["beacons"] = std::move(beacons);
    json totals;
    totals["sent"] = total_sent_;
    totals["accepted"] = total_accepted_;
    totals["rejected"] = total_rejected_;
    totals["rejected_by_class"] = rejected_by_class_;
    totals["p50_us"] = total_latency_.percentile(50);
    totals["p99_us"] = total_latency_.percentile(99);
    totals["max_us"] = total_latency_.max();
    // Rates over the sending time (a drain after it sends nothing).
    const double send_span = std::min(elapsed, secs(scenario_.total_duration()));
    totals["achieved_rate"] = send_span > 0 ? static_cast<double>(total_sent_) / send_span : 0.0;
    // The run's accounting (wire.hpp StatsInterval): sent = accepted + rejected + unknown,
    // accepted = included + expired + pending — exact once every beacon has reported its end.
    totals["unknown"] = total_unknown_;
    totals["included"] = total_included_;
    totals["included_ops"] = total_included_ops_;
    totals["expired"] = total_expired_;
    totals["pending"] = total_pending_;
    totals["dropped_sends"] = total_dropped_sends_;
    totals["included_rate"] = send_span > 0 ? static_cast<double>(total_included_) / send_span : 0.0;
    totals["incl_p50_us"] = total_inclusion_.percentile(50);
    totals["incl_p99_us"] = total_inclusion_.percentile(99);
    totals["incl_max_us"] = total_inclusion_.max();
    std::size_t finished_count = 0;
    for (const auto& [id, p] : participants_) finished_count += p.finished;
    totals["finished_beacons"] = finished_count;
    totals["stats_dropped"] = stats_dropped_;
    totals["late_stats"] = late_stats_;
    j["totals"] = std::move(totals);
    json rows = json::array();
    for (const auto& r : seconds_) {
        if (r.t < since_t) continue;
        rows.push_back({{"t", r.t},
                        {"target", r.target},
                        {"configured", r.configured},
                        {"sent", r.sent},
                        {"accepted", r.accepted},
                        {"rejected", r.rejected},
                        {"included", r.included},
                        {"p50_us", r.p50_us},
                        {"p99_us", r.p99_us},
                        {"beacons", r.beacons},
                        {"heartbeat_rate", r.heartbeat_rate}});
    }
    j["seconds"] = std::move(rows);
    auto fanout_json = [](const Fanout& fo) {
        return json{{"seq", fo.seq},
                    {"kind", fo.kind},
                    {"targets", fo.targets},
                    {"acked", fo.ack_us.size()},
                    {"p50_us", percentile_of(fo.ack_us, 50)},
                    {"p99_us", percentile_of(fo.ack_us, 99)},
                    {"all_acked_us", fo.all_acked_us}};
    };
    j["fanout"] = fanout_json(fanout_);
    json all = json::array();
    for (const auto& fo : fanouts_) all.push_back(fanout_json(fo));
    all.push_back(fanout_json(fanout_));
    j["fanouts"] = std::move(all);
    j["rate_errors"] = rate_errors_;
    if (!last_rate_error_.empty()) j["last_rate_error"] = last_rate_error_;
    return j;
}

}  // namespace bts::broker
