// CommandDriver against a scripted beacon: desired-state commands become the missing steps of
// the state machine from any state, acks come after the steps, stop and the dead-man switch
// cancel what is queued, rates wait for the start.
#include "common/control/command_driver.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bts::control {
namespace {

// A beacon whose prepare completes only when the test says so (it is asynchronous for real).
struct ScriptedBeacon {
    std::string state = "idle";
    std::string run_id;
    std::vector<std::string> calls;
    BeaconOps::Done pending_prepare;
    bool fail_configure = false;
    double rate = -1;

    BeaconOps ops() {
        BeaconOps o;
        o.state = [this] { return state; };
        o.run_id = [this] { return run_id; };
        o.configure = [this](const std::string& payload, BeaconOps::Done done) {
            calls.push_back("configure:" + payload);
            if (state == "preparing" || state == "running") return done(false, "busy");
            if (fail_configure) return done(false, "bad config");
            run_id = payload;  // the test's payload is the run id
            state = "configured";
            done(true, {});
        };
        o.prepare = [this](BeaconOps::Done done) {
            calls.push_back("prepare");
            state = "preparing";
            pending_prepare = std::move(done);
        };
        o.start = [this](BeaconOps::Done done) {
            calls.push_back("start");
            if (state != "prepared") return done(false, "not prepared");
            state = "running";
            done(true, {});
        };
        o.stop = [this](const std::string& reason) {
            calls.push_back("stop:" + reason);
            if (state == "preparing" && pending_prepare) {
                auto d = std::move(pending_prepare);
                pending_prepare = nullptr;
                state = "stopped";
                d(false, "stopped");
            }
            state = "stopped";
        };
        o.set_rate = [this](double r, BeaconOps::Done done) {
            calls.push_back("rate:" + std::to_string(static_cast<int>(r)));
            rate = r;
            done(true, {});
        };
        return o;
    }
    void finish_prepare() {
        state = "prepared";
        auto d = std::move(pending_prepare);
        pending_prepare = nullptr;
        d(true, {});
    }
};

struct Acks {
    std::vector<std::pair<wire::Command, bool>> list;
    std::string last_error;
    CommandDriver::Ack fn() {
        return [this](const wire::Command& c, bool ok, const std::string& e) {
            list.emplace_back(c, ok);
            last_error = e;
        };
    }
};

wire::Command cmd(std::string run, std::uint64_t seq, std::string kind, std::string payload = {}) {
    return wire::Command{std::move(run), seq, "b1", std::move(kind), payload.empty() ? std::string() : payload};
}

TEST(CommandDriver, LateJoinerStartGoesThroughEveryStep) {
    ScriptedBeacon b;
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 10, "start", "r1"));
    EXPECT_EQ(b.calls, (std::vector<std::string>{"configure:r1", "prepare"}));
    EXPECT_TRUE(acks.list.empty()) << "acked only when the beacon runs";
    // The re-published rate overtakes the start: kept for later, acked.
    d.on_command(cmd("r1", 12, "rate", "45"));
    ASSERT_EQ(acks.list.size(), 1u);
    EXPECT_EQ(acks.list[0].first.seq, 12u);
    EXPECT_DOUBLE_EQ(b.rate, -1);
    b.finish_prepare();
    EXPECT_EQ(b.state, "running");
    ASSERT_EQ(acks.list.size(), 2u);
    EXPECT_EQ(acks.list[1].first.seq, 10u);
    EXPECT_TRUE(acks.list[1].second);
    EXPECT_DOUBLE_EQ(b.rate, 45) << "the kept rate applies right after the start";
    // Running: a new rate applies at once.
    d.on_command(cmd("r1", 13, "rate", "unlimited"));
    EXPECT_DOUBLE_EQ(b.rate, 0);
}

TEST(CommandDriver, StagesOneByOneAndNothingTwice) {
    ScriptedBeacon b;
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 1, "configure", "r1"));
    d.on_command(cmd("r1", 2, "prepare", "r1"));
    d.on_command(cmd("r1", 3, "start", "r1"));  // queued behind the prepare
    EXPECT_EQ(d.queued(), 1u);
    b.finish_prepare();
    EXPECT_EQ(b.calls, (std::vector<std::string>{"configure:r1", "prepare", "start"}));
    ASSERT_EQ(acks.list.size(), 3u);
    // The same stage again (e.g. after the broker came back): already there, just acked.
    d.on_command(cmd("r1", 3, "start", "r1"));
    EXPECT_EQ(b.calls.size(), 3u);
    EXPECT_EQ(acks.list.size(), 4u);
}

TEST(CommandDriver, AnotherRunStopsTheCurrentOneFirst) {
    ScriptedBeacon b;
    b.state = "running";
    b.run_id = "old";
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("new", 5, "configure", "new"));
    EXPECT_EQ(b.calls, (std::vector<std::string>{"stop:superseded by run new", "configure:new"}));
    EXPECT_TRUE(acks.list.back().second);
}

TEST(CommandDriver, StoppedBeaconRejoinsItsRun) {
    ScriptedBeacon b;
    b.state = "stopped";  // e.g. by the dead-man switch
    b.run_id = "r1";
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 7, "start", "r1"));
    b.finish_prepare();
    EXPECT_EQ(b.state, "running");
}

TEST(CommandDriver, ARunOnceStartedIsNeverStartedAgain) {
    // The dead-man switch stopped the run; when the broker is back and re-publishes "start" of
    // that run, the beacon must not send its load again (the run's record would double).
    ScriptedBeacon b;
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 1, "start", "r1"));
    b.finish_prepare();
    ASSERT_EQ(b.state, "running");
    d.on_broker_lost("silent for 3s");
    EXPECT_EQ(b.state, "stopped");
    b.calls.clear();
    d.on_command(cmd("r1", 9, "start", "r1"));
    EXPECT_TRUE(b.calls.empty()) << "no configure/prepare/start of a spent run";
    ASSERT_FALSE(acks.list.empty());
    EXPECT_EQ(acks.list.back().first.seq, 9u);
    EXPECT_TRUE(acks.list.back().second) << "acknowledged as done";
    // A new run is started as usual.
    d.on_command(cmd("r2", 10, "start", "r2"));
    b.finish_prepare();
    EXPECT_EQ(b.state, "running");
}

TEST(CommandDriver, AbortIsPassedOnAsAbort) {
    ScriptedBeacon b;
    std::vector<std::string> aborted;
    auto ops = b.ops();
    ops.abort = [&](const std::string& reason) { aborted.push_back(reason); };
    Acks acks;
    CommandDriver d(ops, acks.fn());
    d.on_command(cmd("r1", 3, "abort", "operator"));
    ASSERT_EQ(aborted.size(), 1u);
    EXPECT_EQ(aborted[0], "operator");
    EXPECT_TRUE(acks.list.back().second);
}

TEST(CommandDriver, StopAndDeadManCancelQueuedWork) {
    ScriptedBeacon b;
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 1, "prepare", "r1"));
    d.on_command(cmd("r1", 2, "start", "r1"));
    d.on_command(cmd("r1", 3, "stop"));
    EXPECT_EQ(b.state, "stopped");
    EXPECT_EQ(d.queued(), 0u);
    EXPECT_FALSE(d.busy());
    ASSERT_EQ(acks.list.size(), 1u) << "the cancelled prepare's late failure is not acked";
    EXPECT_EQ(acks.list[0].first.kind, "stop");

    d.on_command(cmd("r2", 4, "prepare", "r2"));
    d.on_broker_lost("silent for 3s");
    EXPECT_EQ(b.calls.back(), "stop:broker lost: silent for 3s");
    EXPECT_FALSE(d.busy());
}

TEST(CommandDriver, FailuresAreAckedWithTheReason) {
    ScriptedBeacon b;
    b.fail_configure = true;
    Acks acks;
    CommandDriver d(b.ops(), acks.fn());
    d.on_command(cmd("r1", 1, "start", "r1"));
    ASSERT_EQ(acks.list.size(), 1u);
    EXPECT_FALSE(acks.list[0].second);
    EXPECT_EQ(acks.last_error, "bad config");
    d.on_command(cmd("r1", 2, "rate", "fast"));
    EXPECT_FALSE(acks.list.back().second);
    d.on_command(cmd("r1", 3, "launch"));
    EXPECT_FALSE(acks.list.back().second);
    EXPECT_EQ(parse_rate_payload("33.334"), 33.334);
    EXPECT_EQ(parse_rate_payload("unlimited"), 0.0);
    EXPECT_FALSE(parse_rate_payload("-1"));
    EXPECT_FALSE(parse_rate_payload("1e999"));
}

}  // namespace
}  // namespace bts::control
