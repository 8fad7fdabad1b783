// The scenario runner with a fake clock: stages advance on acks (or time out), the rate follows
// ramps and is re-split when beacons join, are lost or fail, late joiners converge from the
// desired state, stats become per-second rows, and runs end completed / stopped / failed.
#include "broker/run.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bts::broker {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kUnix0 = 1'800'000'000'000;  // ms; a whole second

BeaconEntry beacon(std::string id, std::vector<std::string> groups = {}) {
    BeaconEntry e;
    e.id = std::move(id);
    e.hello_seen = true;
    e.alive = true;
    e.groups = std::move(groups);
    return e;
}

Scenario scenario(std::string_view phases = "", std::string_view extra = "") {
    std::string text = R"(
[scenario]
name = "t"
)";
    if (phases.empty()) text += "rate = 90\nduration = \"10s\"\n";
    text += "[target]\nnodes = [\"ws://n0:1\", \"ws://n1:1\"]\n";
    text += extra;
    text += phases;
    return Scenario::parse(text, "t.toml");
}

struct Fixture {
    TimePoint t0{};
    std::uint64_t seq = 100;
    std::unique_ptr<Run> run;

    explicit Fixture(Scenario s, RunOptions o = {}) {
        run = std::make_unique<Run>("run-1", std::move(s), std::move(o), [this] { return ++seq; },
                                    t0, kUnix0);
    }
    std::int64_t unix_at(TimePoint t) const {
        return kUnix0 + std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count();
    }
    std::vector<Outgoing> tick(TimePoint t) { return run->tick(t, unix_at(t), 0.0); }
    void ack_all(const std::vector<Outgoing>& out, TimePoint t, bool ok = true) {
        for (const auto& o : out) {
            run->on_ack(wire::CommandAck{o.command.target, o.command.run_id, o.command.seq, ok, ok ? "" : "no"}, t);
        }
    }
    static std::set<std::string> kinds(const std::vector<Outgoing>& out) {
        std::set<std::string> k;
        for (const auto& o : out) k.insert(o.command.kind);
        return k;
    }
    // Configure → prepare → start, acking everything at once.
    std::vector<Outgoing> start_all(TimePoint t) {
        auto out = tick(t);
        EXPECT_EQ(kinds(out), std::set<std::string>{"configure"});
        ack_all(out, t);
        out = tick(t);
        EXPECT_EQ(kinds(out), std::set<std::string>{"prepare"});
        ack_all(out, t);
        out = tick(t);
        EXPECT_EQ(run->state(), RunState::kRunning);
        return out;
    }
};

// A beacon's last report of the run.
void final_report(Run& run, const std::string& id, std::uint64_t sent = 0) {
    wire::StatsInterval s;
    s.run_id = "run-1";
    s.beacon_id = id;
    s.interval_start_ms = kUnix0;
    s.interval_ms = 0;
    s.sent = s.accepted = s.included_txs = sent;
    s.final = true;
    run.on_stats(s, 0);
}

double rate_of(const std::vector<Outgoing>& out, const std::string& id) {
    for (const auto& o : out) {
        if (o.command.kind == "rate" && o.command.target == id) return std::stod(o.command.payload);
    }
    return -1;
}

TEST(Run, StagesAdvanceOnAcksAndTheRunCompletes) {
    Fixture f(scenario());
    for (auto id : {"b1", "b2", "b3"}) ASSERT_TRUE(f.run->add(beacon(id), f.t0));
    EXPECT_EQ(f.run->state(), RunState::kConfiguring);
    auto out = f.tick(f.t0);
    ASSERT_EQ(out.size(), 3u);
    std::set<std::uint64_t> seqs;
    for (const auto& o : out) {
        seqs.insert(o.command.seq);
        EXPECT_EQ(o.command.kind, "configure");
        EXPECT_NE(o.command.payload.find("run_id = \"run-1\""), std::string::npos);
        EXPECT_NE(o.command.payload.find("rate = 30.0"), std::string::npos) << o.command.payload;
        // Its own schedule: exactly its share of 90/s × 10 s, ended on its own clock.
        EXPECT_NE(o.command.payload.find("[[beacon.segment]]\nduration = \"10s\"\nrate = 30.0\ncount = 300\n"),
                  std::string::npos)
            << o.command.payload;
        EXPECT_NE(o.command.payload.find("duration = \"10s\""), std::string::npos) << "no grace second";
        EXPECT_EQ(o.command.payload.find("budget"), std::string::npos) << "the schedule is the budget";
    }
    EXPECT_EQ(seqs.size(), 1u) << "one stage seq for all participants";
    // Not every beacon acked: stay.
    f.run->on_ack({"b1", "run-1", out[0].command.seq, true, ""}, f.t0 + 10ms);
    EXPECT_TRUE(f.tick(f.t0 + 20ms).empty());
    f.ack_all(out, f.t0 + 30ms);
    EXPECT_EQ(f.run->fanout().ack_us.size(), 3u);
    EXPECT_EQ(f.run->fanout().all_acked_us, 30'000);
    out = f.tick(f.t0 + 30ms);
    EXPECT_EQ(f.run->state(), RunState::kPreparing);
    f.ack_all(out, f.t0 + 1s);
    out = f.tick(f.t0 + 1s);
    EXPECT_EQ(f.run->state(), RunState::kRunning);
    EXPECT_EQ(Fixture::kinds(out), std::set<std::string>{"start"}) << "shares unchanged: no rate command";
    f.ack_all(out, f.t0 + 1s);

    // Re-publication carries the current stage with its payload (late/missed convergence).
    auto desired = f.run->desired();
    ASSERT_EQ(desired.size(), 3u);
    EXPECT_EQ(desired[0].command.kind, "start");
    EXPECT_FALSE(desired[0].command.payload.empty());

    EXPECT_TRUE(f.tick(f.t0 + 10999ms).empty());  // running since t0 + 1 s
    // The scenario's time is up: no stop (the beacons end their schedules on their own clocks
    // and drain); the run waits for every beacon's final report.
    out = f.tick(f.t0 + 11s);
    EXPECT_TRUE(out.empty()) << "the broker's clock does not cut the beacons short";
    EXPECT_EQ(f.run->state(), RunState::kDraining);
    EXPECT_EQ(f.run->reason(), "completed");
    EXPECT_TRUE(f.run->desired().empty()) << "nothing to re-publish while draining";
    final_report(*f.run, "b1");
    final_report(*f.run, "b2");
    f.tick(f.t0 + 15s);
    EXPECT_EQ(f.run->state(), RunState::kDraining) << "b3 is still draining";
    // b3's final report was lost, but its heartbeat says it has stopped this run.
    f.run->on_beacon_state("b3", "stopped", "run-1");
    f.tick(f.t0 + 16s);
    f.tick(f.t0 + 17s);
    EXPECT_EQ(f.run->state(), RunState::kDraining) << "waits for the last stats";
    f.tick(f.t0 + 18s);
    EXPECT_EQ(f.run->state(), RunState::kCompleted);
}

TEST(Run, ABeaconThatNeverReportsIsAbortedAfterTheDrainLimit) {
    RunOptions o;
    o.drain_timeout = 30s;
    Fixture f(scenario(), o);
    for (auto id : {"b1", "b2"}) f.run->add(beacon(id), f.t0);
    f.ack_all(f.start_all(f.t0), f.t0);
    f.tick(f.t0 + 10s);
    final_report(*f.run, "b1");
    EXPECT_TRUE(f.tick(f.t0 + 39s).empty());
    auto out = f.tick(f.t0 + 40s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].command.kind, "abort");
    EXPECT_EQ(out[0].command.target, "b2");
    final_report(*f.run, "b2");
    f.tick(f.t0 + 41s);
    f.tick(f.t0 + 43s);
    EXPECT_EQ(f.run->state(), RunState::kCompleted);
}

TEST(Run, StageTimeoutMovesOnWithoutStragglers) {
    RunOptions o;
    o.configure_timeout = 2s;
    Fixture f(scenario(), o);
    f.run->add(beacon("b1"), f.t0);
    f.run->add(beacon("b2"), f.t0);
    auto out = f.tick(f.t0);
    f.run->on_ack({"b1", "run-1", out[0].command.seq, true, ""}, f.t0);
    EXPECT_TRUE(f.tick(f.t0 + 1s).empty());
    out = f.tick(f.t0 + 2s);
    EXPECT_EQ(f.run->state(), RunState::kPreparing);
    EXPECT_EQ(out.size(), 2u) << "the straggler gets the new stage too";
}

TEST(Run, RampChangesTheRateEverySecondSplitOverBeacons) {
    Fixture f(scenario(R"(
[[phase]]
kind = "ramp"
from = 0
to = 30
duration = "3s"
)"));
    f.run->add(beacon("b1"), f.t0);
    f.run->add(beacon("b2"), f.t0);
    auto out = f.tick(f.t0);
    EXPECT_NE(out[0].command.payload.find("rate = 5.0"), std::string::npos) << "first second: 10/2";
    // The whole ramp is in the payload: the beacon steps its rate on its own clock.
    for (auto seg : {"rate = 5.0\ncount = 5\n", "rate = 10.0\ncount = 10\n", "rate = 15.0\ncount = 15\n"})
        EXPECT_NE(out[0].command.payload.find(seg), std::string::npos) << seg << out[0].command.payload;
    f.ack_all(out, f.t0);
    f.ack_all(f.tick(f.t0), f.t0);
    out = f.tick(f.t0);  // running at t0
    EXPECT_EQ(Fixture::kinds(out), std::set<std::string>{"start"});
    EXPECT_TRUE(f.tick(f.t0 + 1s).empty()) << "no rate command for a ramp step";
    EXPECT_TRUE(f.tick(f.t0 + 2s).empty());
    auto desired = f.run->desired_for("b2");
    ASSERT_EQ(desired.size(), 1u);
    EXPECT_EQ(desired[0].command.kind, "start");
}

TEST(Run, LateJoinerGetsItsShareAndConvergesFromTheDesiredState) {
    Fixture f(scenario("", "[accounts]\nsource = \"devnet:stress-0..stress-59\"\n"));
    f.run->add(beacon("b1"), f.t0);
    f.run->add(beacon("b2"), f.t0);
    f.start_all(f.t0);
    EXPECT_TRUE(f.run->desired_for("b3").empty());
    ASSERT_TRUE(f.run->add(beacon("b3"), f.t0 + 4s));
    auto out = f.tick(f.t0 + 4s);
    for (auto id : {"b1", "b2", "b3"}) EXPECT_DOUBLE_EQ(rate_of(out, id), 30) << id;
    auto d = f.run->desired_for("b3");
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].command.kind, "start");
    EXPECT_EQ(d[1].command.kind, "rate");
    // Its payload: the rest of the run (6 s), its share of it, its own accounts, node.
    const std::string& p = d[0].command.payload;
    EXPECT_NE(p.find("duration = \"6s\""), std::string::npos) << p;
    EXPECT_NE(p.find("count = 180\n"), std::string::npos) << "90/s x 6 s over 3 beacons: " << p;
    EXPECT_NE(p.find("accounts = \"devnet:stress-0..stress-29\""), std::string::npos)
        << "slices of the 2 starting beacons; the third wraps to the first: " << p;
    EXPECT_NE(p.find("seed = 3"), std::string::npos);
    EXPECT_EQ(f.run->participant_view("b3")->node, "ws://n0:1");
    EXPECT_EQ(f.run->participant_view("b2")->node, "ws://n1:1");
    EXPECT_FALSE(f.run->add(beacon("b3"), f.t0 + 5s)) << "already in";
}

TEST(Run, LostBeaconsShareGoesToTheOthersAndAllLostFailsTheRun) {
    Fixture f(scenario());
    for (auto id : {"b1", "b2", "b3"}) f.run->add(beacon(id), f.t0);
    f.start_all(f.t0);
    f.run->beacon_lost("b2", f.t0 + 2s);
    auto out = f.tick(f.t0 + 2s);
    EXPECT_DOUBLE_EQ(rate_of(out, "b1"), 45);
    EXPECT_DOUBLE_EQ(rate_of(out, "b3"), 45);
    EXPECT_DOUBLE_EQ(rate_of(out, "b2"), -1);
    f.run->beacon_back("b2", f.t0 + 3s);
    out = f.tick(f.t0 + 3s);
    EXPECT_DOUBLE_EQ(rate_of(out, "b2"), 30);
    for (auto id : {"b1", "b2", "b3"}) f.run->beacon_lost(id, f.t0 + 4s);
    EXPECT_EQ(f.run->state(), RunState::kStopping);
    EXPECT_EQ(f.run->reason(), "all beacons lost");
    f.tick(f.t0 + 4s);
    f.tick(f.t0 + 7s);
    EXPECT_EQ(f.run->state(), RunState::kFailed);
}

TEST(Run, RefusingBeaconIsStoppedWithItsOwnCommand) {
    Fixture f(scenario());
    f.run->add(beacon("b1"), f.t0);
    f.run->add(beacon("b2"), f.t0);
    auto out = f.tick(f.t0);
    f.run->on_ack({"b1", "run-1", out[0].command.seq, false, "bad key file"}, f.t0);
    out = f.tick(f.t0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].command.kind, "stop");
    EXPECT_EQ(out[0].command.target, "b1");
    EXPECT_GT(out[0].command.seq, f.run->fanout().seq) << "a new seq, so the beacon acts on it";
    EXPECT_TRUE(f.run->participant_view("b1")->failed);
    EXPECT_EQ(f.run->participant_view("b1")->error, "bad key file");
    // The other goes on alone; if it refuses too, the run fails naming the reason.
    f.run->on_ack({"b2", "run-1", f.run->fanout().seq, false, "cannot connect"}, f.t0);
    EXPECT_EQ(f.run->state(), RunState::kStopping);
    EXPECT_EQ(f.run->reason(), "beacon b1 failed: bad key file");
}

TEST(Run, OperatorStopEndsStopped) {
    Fixture f(scenario());
    f.run->add(beacon("b1"), f.t0);
    f.start_all(f.t0);
    f.run->stop("stopped by operator", f.t0 + 1s);
    auto out = f.tick(f.t0 + 1s);
    EXPECT_EQ(Fixture::kinds(out), std::set<std::string>{"stop"});
    f.ack_all(out, f.t0 + 1s);
    f.tick(f.t0 + 1s);
    f.tick(f.t0 + 4s);
    EXPECT_EQ(f.run->state(), RunState::kStopping) << "the beacon drains: wait for its final report";
    final_report(*f.run, "b1");
    f.tick(f.t0 + 5s);
    f.tick(f.t0 + 7s);
    EXPECT_EQ(f.run->state(), RunState::kStopped);
    EXPECT_EQ(f.run->reason(), "stopped by operator");
}

TEST(Run, OperatorAbortSendsAbortAlsoWhileDraining) {
    Fixture f(scenario());
    f.run->add(beacon("b1"), f.t0);
    f.ack_all(f.start_all(f.t0), f.t0);
    f.tick(f.t0 + 10s);
    EXPECT_EQ(f.run->state(), RunState::kDraining);
    f.run->stop("no time", f.t0 + 11s, true);
    auto out = f.tick(f.t0 + 11s);
    EXPECT_EQ(Fixture::kinds(out), std::set<std::string>{"abort"});
    EXPECT_EQ(out.back().command.target, "all");
    final_report(*f.run, "b1");
    f.tick(f.t0 + 12s);
    f.tick(f.t0 + 14s);
    EXPECT_EQ(f.run->state(), RunState::kStopped);
}

TEST(Run, StatsBecomePerSecondRowsAndTotals) {
    Fixture f(scenario());
    f.run->add(beacon("b1"), f.t0);
    f.run->add(beacon("b2"), f.t0);
    f.start_all(f.t0);
    for (int sec = 0; sec < 3; ++sec) {
        for (auto id : {"b1", "b2"}) {
            wire::StatsInterval s;
            s.run_id = "run-1";
            s.beacon_id = id;
            s.interval_start_ms = kUnix0 + sec * 1000;
            s.interval_ms = 1000;
            s.configured_rate = 45;
            s.sent = 45;
            s.accepted = 44;
            s.rejected_by_class = {{"insufficient_fee", 1}};
            util::Histogram h;
            h.record(10'000, 44);
            s.acceptance_from_intended = h.to_sparse();
            f.run->on_stats(s, 0);
        }
    }
    wire::StatsInterval stranger;
    stranger.run_id = "run-1";
    stranger.beacon_id = "not-in-run";
    f.run->on_stats(stranger, 0);
    f.tick(f.t0 + 4s);  // seconds 0 and 1 have had 1.5 s to arrive, not second 2
    EXPECT_EQ(f.run->seconds().size(), 2u);
    f.tick(f.t0 + 4500ms);
    const auto& rows = f.run->seconds();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].t, 1);
    EXPECT_EQ(rows[1].sent, 90u);
    EXPECT_EQ(rows[1].accepted, 88u);
    EXPECT_EQ(rows[1].rejected, 2u);
    EXPECT_EQ(rows[1].beacons, 2u);
    EXPECT_DOUBLE_EQ(rows[1].target, 90);
    EXPECT_DOUBLE_EQ(rows[1].configured, 90);
    EXPECT_NEAR(static_cast<double>(rows[1].p50_us), 10'000, 100);
    auto st = f.run->status(2, f.t0 + 4500ms);
    EXPECT_EQ(st["seconds"].size(), 1u) << "only rows with t >= since";
    EXPECT_EQ(st["totals"]["sent"], 270u);
    EXPECT_EQ(st["totals"]["rejected_by_class"]["insufficient_fee"], 6u);
    EXPECT_EQ(st["totals"]["stats_dropped"], 1u);
    EXPECT_EQ(st["state"], "running");
}

TEST(Run, BudgetStopsTheRun) {
    Fixture f(Scenario::parse(R"(
[scenario]
name = "t"
rate = 100
duration = "60s"
budget = 150
[target]
nodes = ["ws://n:1"]
)", "b.toml"));
    f.run->add(beacon("b1"), f.t0);
    auto out = f.start_all(f.t0);
    EXPECT_NE(out[0].command.payload.find("budget = 150\n"), std::string::npos) << out[0].command.payload;
    f.ack_all(out, f.t0);
    // The beacon stops at its budget share by itself and reports; the run is over early.
    final_report(*f.run, "b1", 150);
    f.tick(f.t0 + 2s);
    EXPECT_EQ(f.run->state(), RunState::kDraining);
    EXPECT_EQ(f.run->reason(), "budget reached");
    f.tick(f.t0 + 3s);
    f.tick(f.t0 + 5s);
    EXPECT_EQ(f.run->state(), RunState::kCompleted);
    EXPECT_EQ(f.run->status(0, f.t0 + 4s)["totals"]["sent"], 150u);
}

TEST(Run, BudgetIsSplitWithoutRemainder) {
    EXPECT_EQ(count_share(1000, 0, 3) + count_share(1000, 1, 3) + count_share(1000, 2, 3), 1000u);
    EXPECT_EQ(count_share(1000, 0, 3), 334u);
    EXPECT_EQ(count_share(1000, 2, 3), 333u);
    EXPECT_EQ(count_share(2, 2, 3), 0u);
}

TEST(Run, GroupAndCountLimitParticipants) {
    Fixture f(scenario("", "[beacons]\ncount = 2\ngroup = \"eu\"\n"));
    EXPECT_FALSE(f.run->add(beacon("us1", {"us"}), f.t0));
    EXPECT_TRUE(f.run->add(beacon("eu1", {"eu"}), f.t0));
    EXPECT_TRUE(f.run->add(beacon("eu2", {"eu", "x"}), f.t0));
    EXPECT_FALSE(f.run->add(beacon("eu3", {"eu"}), f.t0)) << "count reached";
    f.tick(f.t0);
    f.run->stop("test", f.t0);
    auto out = f.tick(f.t0);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().command.target, "group:eu") << "a group run's broadcast stop reaches its group";
}

TEST(Run, NoBeaconsFailsAtOnce) {
    Fixture f(scenario());
    f.tick(f.t0);
    EXPECT_EQ(f.run->state(), RunState::kFailed);
    EXPECT_EQ(f.run->reason(), "no beacons");
}

}  // namespace
}  // namespace bts::broker
