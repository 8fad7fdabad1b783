// bts-beacon actor: signs transactions ahead of time, sends them open-loop at exactly the
// configured rate (or as fast as the nodes take them) over several connections to several
// nodes, and reports what happened — every interval, one aggregate — to a collector and/or
// stdout. This header is the manual.
//
// STATES (Beacon::State; names as in wire::Heartbeat::state)
//
//   idle ──configure──▶ configured ──prepare──▶ preparing ──▶ prepared ──start──▶ running
//                                                                                   │
//   stopped ◀──── (drained / drain cap / abort) ◀── draining ◀── (schedule done, budget, stop) ┘
//   stop before running → stopped at once; stop while running → draining (no more sends);
//   abort from any state → stopped at once, what is still open reported as unknown/pending.
//   configure is accepted again from stopped (or configured/prepared, which drops what was
//   prepared).
//
// COMMANDS (handle_command(kind, payload, done); the same for standalone mode and the broker)
//
//   "configure"  payload = run config TOML (RunConfig, see run_config.hpp). Parses and
//                validates; accounts/keys are resolved here (bad key file → error).
//   "prepare"    connects to every node (connections_per_node each), discovers the chain
//                (discovery.hpp), builds the factory (target size above the chain limit is
//                refused here) and signs the first batch on all cores. done() fires when the
//                first batch is signed.
//   "start"      sets t0 = now and starts sending; done() fires at once. Refused when the
//                prepared transactions are older than start_allowance (their expiration would
//                not cover the run): prepare again.
//   "stop"       payload = reason. Stops sending at once; the run drains (below) and ends with
//                its final interval and summary. done() fires at once.
//   "abort"      payload = reason. Ends the run at once, drain included; done() fires at once.
//   done(ok, error) is always called exactly once, on the io thread.
//
// SENDING
//   Rate mode: send n is intended at t0 + n / rate (Pacer). On each wake-up every due send goes
//   out at once (catch-up); lag = actual − intended is recorded; lag > late_threshold counts as
//   a late send. A due send that finds every connection's window (`window` outstanding
//   broadcasts) full, or no connection up, or no signed transaction ready, is DROPPED: counted
//   in dropped_sends and not made up for later (the schedule is never stretched); the
//   transaction it would have used is kept for the next slot.
//   Unlimited mode: keep every connection's window full.
//   Connections take turns (round robin over those up with room). Each connection has the node
//   list rotated to start at its own node, so when a node dies its connections reconnect (with
//   jittered exponential backoff) to the next node: failover.
//   The schedule is a list of segments (RunConfig::segments(): one for a plain rate ×
//   duration), each timed on the beacon's own clock from the end of the previous one; a segment
//   with a count sends exactly that many. Sending ends when the schedule is done or `budget`
//   sends were made, whichever comes first.
//
// DRAINING (a completed run, a budget reached, a stop, the broker's dead-man switch)
//   No more sends. The run waits for every reply still due (request_timeout bounds each) and
//   for every accepted transaction to be included or to expire on chain, then ends: its counts
//   are final and add up (tracker.hpp). It ends earlier only when cut: abort, drain_timeout
//   when set, or — no block arriving — the local estimate of the chain's time passing the last
//   expiration by kDrainMargin; what is open then is reported as unknown_outcome /
//   pending_at_cutoff, never dropped.
//
// TRACKING (tracker.hpp)
//   acceptance latency = reply − intended time (and − actual send); rejections by class from
//   the node's error code and message (stats.hpp RejectClass); inclusion latency = block notice
//   (set_block_applied_callback + get_block, re-subscribed after reconnects)
//   − intended time; expired_unincluded when the chain's head time passes a tx's expiration.
//   Blocks are followed by a BlockWatcher on its own thread and connection (block_watcher.hpp):
//   parsing multi-megabyte blocks must not delay the sender. It starts at discovery and fetches
//   every block from the head seen then, so no block of the run is skipped.
//
// STATISTICS (every stats_interval; stats.hpp)
//   One wire::StatsInterval per interval over ZeroMQ PUSH to each endpoint sink, and/or the same
//   as a JSON line ("type":"interval") on the stdout sink; the last has final = true. At the
//   end a "type":"summary" JSON line (run totals, prepare figures, send lag percentiles) and a
//   summary log line. Connectivity counters are deltas of the connections' counters: connect
//   failures (incl. TLS), disconnects, timeouts, bad replies.
//
// SAFETY
//   Hard duration and budget; stop() stops at once (main wires SIGINT/SIGTERM to it); keys come
//   from a 0600 key file, the devnet seeds or the broker payload and never reach logs, stats or
//   error texts.
//
// THREADS
//   Everything runs on the io_context's one thread except signing — prepare (and, during long
//   runs, background refresh batches) runs on worker threads and posts finished batches back —
//   and block following, which posts each block's summary back.
//   Call every method on the io thread. A broker integration adds a dead-man switch by calling
//   stop("broker heartbeat lost") from its timer on the io thread.
#pragma once

#include "actors/beacon/accounts.hpp"
#include "actors/beacon/block_watcher.hpp"
#include "actors/beacon/discovery.hpp"
#include "actors/beacon/pacer.hpp"
#include "actors/beacon/preparer.hpp"
#include "actors/beacon/run_config.hpp"
#include "actors/beacon/stats.hpp"
#include "actors/beacon/stats_sink.hpp"
#include "actors/beacon/tracker.hpp"
#include "common/net/ws_client.hpp"
#include "common/util/log.hpp"
#include "common/util/proc_stats.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bts::beacon {

enum class State { idle, configured, preparing, prepared, running, draining, stopped };
[[nodiscard]] std::string_view to_string(State s);

// Run totals for the end-of-run summary (also what tests and benchmarks read).
struct RunSummary {
    std::string run_id;
    std::string stop_reason;  // "completed", "budget", "stopped: <reason>", "failed: <error>"
    double configured_rate = 0;
    double send_seconds = 0;     // t0 → last send
    double achieved_rate = 0;    // sent per second over the send span (whole slots in rate mode)
    double reply_seconds = 0;    // t0 → last broadcast reply (throughput = accepted / this)
    Counters totals;
    Histograms hist;
    std::uint64_t prepared = 0;
    double prepare_seconds = 0;      // wall time of the first batch
    double sign_rate = 0;            // transactions signed per second, first batch, all threads
    unsigned prepare_threads = 0;
    double bytes_per_prepared_tx = 0;
    double sign_attempts_per_tx = 0;
    std::uint64_t intervals = 0;
    std::uint64_t stats_push_failures = 0;
    FactoryCounters factory;
};

class Beacon {
public:
    using Done = std::function<void(bool ok, const std::string& error)>;
    using StateHandler = std::function<void(State state, std::string_view why)>;

    struct Options {
        std::string host;       // reported in stats
        std::string beacon_id;  // default when the run config has none
        std::shared_ptr<spdlog::logger> logger;  // null: spdlog default
        void* zmq_context = nullptr;             // for endpoint stats sinks
        StatsSink::LineWriter write_line;        // stdout sink; default: std::cout + flush
        // Also given every interval's statistics (e.g. the broker link's stats summary).
        std::function<void(const wire::StatsInterval&)> on_interval;
    };

    Beacon(boost::asio::io_context& ioc, const crypto::Context& ctx, Options options);
    ~Beacon();
    Beacon(const Beacon&) = delete;
    Beacon& operator=(const Beacon&) = delete;

    // The command protocol (see the top of this file).
    void handle_command(std::string_view kind, std::string_view payload, Done done);
    // The same steps with a config already parsed (standalone mode: file + command line).
    void configure(RunConfig config, Done done);
    void prepare(Done done);
    void start(Done done);
    // Stops sending at once (a running run drains, see DRAINING); before running, stops at
    // once. Safe to call repeatedly and from any io-thread callback.
    void stop(std::string_view reason);
    // Ends the run at once from any state, a drain included.
    void abort(std::string_view reason);
    // While running: a new rate (0 = unlimited) from now on — the broker's ramps and steps. The
    // schedule restarts at now; sends the old rate had not made yet are not owed.
    void set_rate(util::Rate rate, Done done);

    [[nodiscard]] State state() const { return state_; }
    void on_state(StateHandler handler) { on_state_ = std::move(handler); }
    [[nodiscard]] const RunSummary& summary() const { return summary_; }
    [[nodiscard]] const RunConfig* config() const { return config_ ? &*config_ : nullptr; }
    [[nodiscard]] const ChainInfo& chain() const { return chain_; }
    // Transactions/s sent over the last complete interval (for heartbeats).
    [[nodiscard]] double last_interval_rate() const { return last_rate_; }
    [[nodiscard]] std::uint64_t connections_up() const;

private:
    struct Conn;

    void set_state(State s, std::string_view why = {});
    void fail_prepare(const std::string& error);
    void open_connections();
    void on_conn_state(std::size_t index, net::WsState st, const net::ConnectInfo& info, std::string_view reason);
    void on_discovered(const std::string& error, ChainInfo&& info);
    void launch_batch(std::size_t count, bool initial);
    void on_batch(std::unique_ptr<PreparedBatch> batch, bool initial);
    void maybe_refresh();

    void schedule_pump(std::int64_t at_ns);
    void pump();
    bool send_one(std::int64_t intended_ns, std::int64_t now_ns);
    Conn* pick_connection();
    void on_broadcast_reply(std::uint64_t packed, net::RpcResult&& r);
    void enter_segment(std::size_t k, std::int64_t at_ns);
    bool next_segment();
    void finish_sending(std::string why);
    void check_drained();
    void schedule_drain_check();
    void close_connections();
    void reset_run();
    void finish_run(std::string reason);

    void start_block_watcher();
    void on_block(BlockSeen&& block);

    void schedule_stats();
    void emit_interval(bool final);
    void collect_connectivity();
    void print_summary();
    void event(std::string_view level, std::string_view kind, const std::string& text);

    std::int64_t now_ns() const;
    std::uint32_t chain_time_estimate(std::int64_t now) const;

    boost::asio::io_context& ioc_;
    const crypto::Context& ctx_;
    Options opt_;
    std::shared_ptr<spdlog::logger> log_;
    util::RateLimitedWarn warn_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posts from worker threads

    State state_ = State::idle;
    StateHandler on_state_;
    std::optional<RunConfig> config_;
    std::vector<AccountKey> accounts_;
    ChainInfo chain_;
    std::int64_t chain_seen_ns_ = 0;  // when chain_.head_time was learnt
    std::optional<TxFactory> factory_;
    std::unique_ptr<StatsSink> sink_;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::shared_ptr<Discovery> discovery_;
    Done pending_done_;  // prepare's or stop's completion

    // Preparation worker.
    std::thread worker_;
    std::atomic<bool> cancel_prepare_{false};
    bool batch_running_ = false;
    std::uint64_t prepared_total_ = 0;
    std::int64_t prepared_at_ns_ = 0;
    std::int64_t prepare_deadline_ns_ = 0;  // start must come before this

    // Run.
    Counters interval_;
    Histograms interval_hist_;
    std::optional<Tracker> tracker_;
    std::optional<Pacer> pacer_;
    boost::asio::steady_timer pump_timer_;
    boost::asio::steady_timer stats_timer_;
    boost::asio::steady_timer phase_timer_;  // prepare timeout, then drain timeout
    bool pump_scheduled_ = false;
    std::int64_t pump_at_ns_ = 0;
    std::uint64_t slot_ = 0;         // pacer slot (send opportunity) index
    std::uint64_t budget_ = 0;
    std::uint64_t total_slots_ = 0;  // rate mode: slots of the current segment
    std::int64_t end_ns_ = 0;        // t0 + duration
    std::vector<ScheduleSegment> segments_;
    std::size_t seg_ = 0;            // current segment
    std::int64_t seg_end_ns_ = 0;    // its end
    std::int64_t drain_started_ns_ = 0;
    std::int64_t last_send_ns_ = 0;
    std::int64_t last_reply_ns_ = 0;
    std::size_t rr_ = 0;
    bool sending_ = false;
    bool pump_posted_ = false;

    // Block tracking (own thread and connection).
    std::unique_ptr<BlockWatcher> watcher_;
    BlockWatcherCounters watcher_seen_;
    protocol::BlockId latest_block_id_{};

    // Statistics.
    util::ProcSampler proc_;
    std::uint64_t stats_seq_ = 0;
    std::int64_t interval_start_ns_ = 0;
    std::int64_t interval_start_unix_ms_ = 0;
    std::int64_t next_stats_ns_ = 0;
    RunSummary summary_;
    double last_rate_ = 0;
    struct ConnTotals {
        std::uint64_t connect_failures = 0, tls_failures = 0, disconnects = 0, timeouts = 0, bad_replies = 0;
    } conn_seen_;
};

}  // namespace bts::beacon
