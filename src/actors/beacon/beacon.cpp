// bts-beacon actor: state machine, connections, pacing, tracking and statistics (see beacon.hpp).
#include "actors/beacon/beacon.hpp"

#include "common/net/url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace bts::beacon {

namespace {

constexpr std::uint64_t kMaxBurst = 512;            // sends per wake-up before yielding to replies
constexpr double kAssumedSignRatePerThread = 1500;   // conservative, for expiration planning
// A drain with no block arriving ends this long after the estimated chain time passed the last
// expiration (a node gone for good); with blocks, expiry is judged from them.
constexpr std::int64_t kDrainMarginS = 30;
constexpr auto kDrainCheck = std::chrono::milliseconds(250);
constexpr double kMinSignSlackS = 2.0;  // background signing starts with this much left to send

std::int64_t to_ns(util::Duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string api_as_json(const std::string& api) {
    bool digits = !api.empty() && std::all_of(api.begin(), api.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) return api;
    return nlohmann::json(api).dump();
}

std::string one_line(std::string_view text, std::size_t max = 200) {
    std::string s = util::redact(text.substr(0, max));
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

}  // namespace

std::string_view to_string(State s) {
    switch (s) {
        case State::idle: return "idle";
        case State::configured: return "configured";
        case State::preparing: return "preparing";
        case State::prepared: return "prepared";
        case State::running: return "running";
        case State::draining: return "draining";
        case State::stopped: return "stopped";
    }
    return "idle";
}

struct Beacon::Conn {
    std::size_t index = 0;
    std::string node;  // the node this connection starts with
    std::unique_ptr<net::WsClient> client;
    std::uint32_t in_flight = 0;  // our broadcasts outstanding
    bool up = false;
};

Beacon::Beacon(boost::asio::io_context& ioc, const crypto::Context& ctx, Options options)
    : ioc_(ioc),
      ctx_(ctx),
      opt_(std::move(options)),
      log_(opt_.logger ? opt_.logger : spdlog::default_logger()),
      warn_(*log_),
      pump_timer_(ioc),
      stats_timer_(ioc),
      phase_timer_(ioc) {
    if (!opt_.write_line)
        opt_.write_line = [](std::string_view line) {
            std::cout << line << '\n';
            std::cout.flush();
        };
    tracker_.emplace(interval_, interval_hist_);
}

Beacon::~Beacon() {
    *alive_ = false;
    cancel_prepare_ = true;
    if (worker_.joinable()) worker_.join();
    pump_timer_.cancel();
    stats_timer_.cancel();
    phase_timer_.cancel();
    watcher_.reset();
    conns_.clear();  // WsClient destructors drop their callbacks without calling them
}

std::int64_t Beacon::now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::uint32_t Beacon::chain_time_estimate(std::int64_t now) const {
    std::int64_t elapsed = chain_seen_ns_ ? (now - chain_seen_ns_) / 1'000'000'000 : 0;
    return chain_.head_time + static_cast<std::uint32_t>(std::max<std::int64_t>(elapsed, 0));
}

std::uint64_t Beacon::connections_up() const {
    std::uint64_t n = 0;
    for (const auto& c : conns_) n += c->up;
    return n;
}

void Beacon::set_state(State s, std::string_view why) {
    if (state_ == s) return;
    state_ = s;
    log_->debug("beacon state: {}{}{}", to_string(s), why.empty() ? "" : ": ", why);
    if (on_state_) on_state_(s, why);
}

void Beacon::event(std::string_view level, std::string_view kind, const std::string& text) {
    if (!sink_ || !config_) return;
    wire::RunEvent e;
    e.run_id = config_->run_id;
    e.source = config_->beacon_id;
    e.unix_ms = unix_ms_now();
    e.level = std::string(level);
    e.kind = std::string(kind);
    e.text = text;
    sink_->push(e);
}

// ---------------------------------------------------------------------------------------------
// Commands

void Beacon::handle_command(std::string_view kind, std::string_view payload, Done done) {
    if (kind == wire::command_kind::kConfigure) {
        RunConfig cfg;
        try {
            cfg = RunConfig::from_toml_text(payload, "run config");
        } catch (const std::exception& e) {
            done(false, e.what());
            return;
        }
        configure(std::move(cfg), std::move(done));
    } else if (kind == wire::command_kind::kPrepare) {
        prepare(std::move(done));
    } else if (kind == wire::command_kind::kStart) {
        start(std::move(done));
    } else if (kind == wire::command_kind::kStop) {
        stop(payload.empty() ? "stop command" : payload);
        done(true, {});
    } else if (kind == wire::command_kind::kAbort) {
        abort(payload.empty() ? "abort command" : payload);
        done(true, {});
    } else {
        done(false, "unknown command \"" + std::string(kind.substr(0, 40)) + "\"");
    }
}

void Beacon::reset_run() {
    cancel_prepare_ = true;
    if (worker_.joinable()) worker_.join();
    cancel_prepare_ = false;
    batch_running_ = false;
    pump_timer_.cancel();
    stats_timer_.cancel();
    phase_timer_.cancel();
    discovery_.reset();
    close_connections();
    conns_.clear();
    factory_.reset();
    interval_ = {};
    interval_hist_.reset();
    tracker_.emplace(interval_, interval_hist_);
    pacer_.reset();
    prepared_total_ = 0;
    slot_ = 0;
    sending_ = false;
    pump_scheduled_ = false;
    pump_posted_ = false;
    watcher_.reset();
    watcher_seen_ = {};
    stats_seq_ = 0;
    conn_seen_ = {};
    summary_ = {};
    last_rate_ = 0;
}

void Beacon::configure(RunConfig config, Done done) {
    if (state_ == State::preparing || state_ == State::running || state_ == State::draining) {
        done(false, "cannot configure while " + std::string(to_string(state_)));
        return;
    }
    reset_run();
    auto accounts = resolve_accounts(config, ctx_);
    if (!accounts) {
        done(false, accounts.error());
        return;
    }
    if (config.beacon_id.empty()) config.beacon_id = opt_.beacon_id.empty() ? opt_.host : opt_.beacon_id;
    if (config.run_id.empty()) config.run_id = "run-" + std::to_string(unix_ms_now() / 1000);
    try {
        sink_ = std::make_unique<StatsSink>(config.stats_sinks, opt_.zmq_context, opt_.write_line);
    } catch (const std::exception& e) {
        done(false, e.what());
        return;
    }
    accounts_ = std::move(*accounts);
    config_ = std::move(config);
    summary_.run_id = config_->run_id;
    log_->info("configured run {}: {} node(s) x {} connection(s), rate {}, duration {}, budget {}, {} account(s)",
               config_->run_id, config_->nodes.size(), config_->connections_per_node, util::format_rate(config_->rate),
               util::format_duration(config_->duration), config_->effective_budget(), accounts_.size());
    set_state(State::configured);
    done(true, {});
}

void Beacon::prepare(Done done) {
    if (state_ != State::configured) {
        done(false, "prepare needs a configured beacon (state is " + std::string(to_string(state_)) + ")");
        return;
    }
    pending_done_ = std::move(done);
    set_state(State::preparing);
    try {
        open_connections();
    } catch (const std::exception& e) {
        fail_prepare(e.what());
        return;
    }
    // Connecting and discovery must finish in bounded time; signing then takes what it takes.
    auto limit = config_->connect_timeout * static_cast<long>(config_->nodes.size() + 1) + config_->request_timeout * 8;
    phase_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(limit));
    phase_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        if (state_ == State::preparing && !factory_)
            fail_prepare(connections_up() == 0 ? "no node could be reached: " + conns_.front()->client->connect_info().error
                                               : "discovery did not finish in time");
    });
}

void Beacon::fail_prepare(const std::string& error) {
    log_->error("prepare failed: {}", error);
    cancel_prepare_ = true;
    discovery_.reset();
    phase_timer_.cancel();
    close_connections();
    watcher_.reset();
    summary_.stop_reason = "failed: " + error;
    set_state(State::stopped, error);
    if (auto done = std::move(pending_done_)) done(false, error);
}

void Beacon::open_connections() {
    const auto& cfg = *config_;
    conns_.clear();
    for (std::size_t node = 0; node < cfg.nodes.size(); ++node) {
        for (std::uint32_t k = 0; k < cfg.connections_per_node; ++k) {
            auto conn = std::make_unique<Conn>();
            conn->index = conns_.size();
            conn->node = cfg.nodes[node];
            net::WsClientConfig wc;
            // Rotated list: start with this connection's node, fail over to the others in turn.
            for (std::size_t i = 0; i < cfg.nodes.size(); ++i) wc.urls.push_back(cfg.nodes[(node + i) % cfg.nodes.size()]);
            wc.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.connect_timeout);
            wc.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.request_timeout);
            wc.reconnect_base = std::chrono::milliseconds(100);
            wc.reconnect_max = std::chrono::milliseconds(5000);
            wc.tls.verify = cfg.tls_verify;
            wc.tls.ca_file = cfg.ca_file;
            wc.logger = log_;
            wc.user_agent = "bts-beacon/" BTS_VERSION;
            conn->client = std::make_unique<net::WsClient>(ioc_, std::move(wc));
            std::size_t idx = conn->index;
            conn->client->on_state([this, idx](net::WsState st, const net::ConnectInfo& info, std::string_view reason) {
                on_conn_state(idx, st, info, reason);
            });
            conns_.push_back(std::move(conn));
        }
    }
    for (auto& c : conns_) c->client->start();
}

void Beacon::close_connections() {
    for (auto& c : conns_) {
        c->up = false;
        if (c->client) c->client->stop();
    }
}

void Beacon::on_conn_state(std::size_t index, net::WsState st, const net::ConnectInfo& info, std::string_view reason) {
    if (index >= conns_.size()) return;
    Conn& c = *conns_[index];
    switch (st) {
        case net::WsState::connected: {
            c.up = true;
            auto own = net::parse_url(c.node);
            bool failover = own && own->text() != info.url;
            log_->info("connection {} connected to {}{}", index, info.url, failover ? " (failover from " + c.node + ")" : "");
            if (failover) event("warn", "failover", "connection " + std::to_string(index) + " now on " + info.url);
            if (state_ == State::preparing && !discovery_ && !factory_) {
                DiscoveryRequest req;
                for (const auto& a : accounts_) {
                    req.account_names.push_back(a.name);
                    req.account_keys.push_back(a.key.public_key());
                }
                req.sell_asset = config_->tx.sell_asset;
                req.receive_asset = config_->tx.receive_asset;
                req.need_assets = config_->mix.limit_order_create > 0 || config_->mix.limit_order_cancel > 0;
                req.need_open_orders = config_->mix.limit_order_cancel > 0;
                req.check_keys = config_->check_keys;
                req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config_->request_timeout);
                auto alive = std::weak_ptr<bool>(alive_);
                discovery_ = Discovery::run(*c.client, std::move(req),
                                            [this, alive](const std::string& error, ChainInfo&& ci) {
                                                if (alive.expired()) return;
                                                on_discovered(error, std::move(ci));
                                            });
            }
            if (state_ == State::running && pacer_ && pacer_->unlimited()) pump();
            break;
        }
        case net::WsState::disconnected:
            c.up = false;
            warn_.warn("disconnect", "connection {} to {} lost: {}; reconnecting (next node on failure)", index, info.url,
                       one_line(reason));
            event("warn", "disconnect", "connection " + std::to_string(index) + " to " + info.url + " lost: " + one_line(reason));
            break;
        case net::WsState::connect_failed:
            c.up = false;  // the client logs the failure itself; it is counted in connect_failures
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Prepare

void Beacon::on_discovered(const std::string& error, ChainInfo&& info) {
    discovery_.reset();
    if (state_ != State::preparing) return;
    if (!error.empty()) {
        fail_prepare(error);
        return;
    }
    phase_timer_.cancel();
    chain_ = std::move(info);
    chain_seen_ns_ = now_ns();
    latest_block_id_ = chain_.head_block_id;
    for (const auto& w : chain_.warnings) log_->warn("{}", w);
    log_->info("chain {}: head #{} at {}, prefix {}, max tx size {} B, max expiration {} s, transfer fee {}",
               crypto::to_hex(chain_.chain_id).substr(0, 16), chain_.head_block_num,
               protocol::to_iso_string(protocol::TimePointSec{chain_.head_time}), chain_.address_prefix,
               chain_.max_transaction_size, chain_.max_time_until_expiration, chain_.fees.fee(chain_.fees.transfer));

    const auto& cfg = *config_;
    FactorySetup setup;
    for (std::size_t i = 0; i < accounts_.size(); ++i)
        setup.accounts.push_back({accounts_[i].name, chain_.account_ids[i], accounts_[i].key.public_key()});
    setup.fees = chain_.fees;
    setup.sell_asset = chain_.sell_asset;
    setup.receive_asset = chain_.receive_asset;
    setup.max_transaction_size = chain_.max_transaction_size;
    setup.mix = cfg.mix;
    setup.shape = cfg.tx;
    setup.seed = cfg.seed;
    auto factory = TxFactory::create(std::move(setup));
    if (!factory) {
        fail_prepare(factory.error());
        return;
    }
    factory_.emplace(std::move(*factory));
    // Follow blocks from now on, before anything is sent: no block of the run can be missed.
    start_block_watcher();
    for (const auto& [acct, order] : chain_.open_orders) factory_->add_cancellable(acct, order);
    if (cfg.mix.limit_order_cancel > 0)
        log_->info("{} open order(s) of the run's accounts available to cancel", chain_.open_orders.size());

    // Uniqueness capacity: with W distinct amounts per expiration second, a rate above W pushes
    // expirations ahead of the clock by budget / W seconds; they must stay within the chain's
    // maximum_time_until_expiration.
    budget_ = cfg.effective_budget();
    std::uint64_t w = factory_->per_second_capacity();
    double rate = cfg.rate.is_unlimited() ? 1e300 : cfg.rate.per_second;
    if (static_cast<double>(w) < rate) {
        double drift = static_cast<double>(budget_) / static_cast<double>(w);
        double allowed = chain_.max_time_until_expiration -
                         std::chrono::duration<double>(cfg.tx_lifetime + cfg.start_allowance + cfg.duration).count() - 60;
        if (drift > allowed) {
            fail_prepare("the amount ranges are too narrow for " + std::to_string(budget_) +
                         " unique transactions within the chain's maximum_time_until_expiration: only " +
                         std::to_string(w) + " distinct amounts per expiration second; widen beacon.tx.transfer_amount / "
                         "beacon.tx.order_amount or lower the budget");
            return;
        }
    }
    std::uint64_t count;
    if (cfg.rate.is_unlimited()) {
        count = std::min<std::uint64_t>(budget_, 250'000);
    } else {
        double secs = std::chrono::duration<double>(std::min(cfg.duration, cfg.prepare_ahead)).count();
        count = std::min<std::uint64_t>(budget_, static_cast<std::uint64_t>(std::ceil(cfg.rate.per_second * secs)) + 1);
    }
    launch_batch(static_cast<std::size_t>(count), true);
}

void Beacon::launch_batch(std::size_t count, bool initial) {
    const auto& cfg = *config_;
    if (worker_.joinable()) worker_.join();
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    unsigned threads = cfg.prepare_threads ? cfg.prepare_threads : (initial ? hw : std::max(1u, hw - 1));
    std::int64_t now = now_ns();
    std::uint32_t chain_now = chain_time_estimate(now);
    double est_prep = static_cast<double>(count) / (kAssumedSignRatePerThread * threads) + 1.0;
    double lifetime = std::chrono::duration<double>(cfg.tx_lifetime).count();
    double allowance = std::chrono::duration<double>(cfg.start_allowance).count();
    double ahead;  // seconds from now until this batch's first transaction is meant to be sent
    if (initial) {
        ahead = est_prep + allowance;
        prepare_deadline_ns_ = now + static_cast<std::int64_t>((est_prep + allowance) * 1e9);
    } else if (pacer_ && !pacer_->unlimited()) {
        // The batch's first transaction goes out after every one still ready: that many slots
        // from now (robust to drops and to set_rate restarting the schedule).
        ahead = std::max(est_prep, static_cast<double>(tracker_->ready()) / pacer_->rate());
    } else {
        ahead = est_prep;
    }
    if (cfg.rate.is_unlimited()) ahead += std::min(std::chrono::duration<double>(cfg.duration).count(), 3600.0);
    double max_floor = chain_now + static_cast<double>(chain_.max_time_until_expiration) - 120.0;
    auto floor = static_cast<std::uint32_t>(std::min(chain_now + ahead + lifetime, max_floor));
    factory_->set_reference(latest_block_id_, floor, cfg.rate.is_unlimited() ? 0.0 : cfg.rate.per_second);

    PrepareJob job;
    job.factory = &*factory_;
    job.count = count;
    for (const auto& a : accounts_) job.keys.push_back(&a.key);
    job.chain_id = chain_.chain_id;
    job.json.key_prefix = chain_.address_prefix;
    job.api_json = api_as_json(cfg.broadcast_api);
    job.threads = threads;
    job.cancel = &cancel_prepare_;
    batch_running_ = true;
    log_->debug("preparing {} transactions on {} thread(s), expirations from {}", count, threads,
                protocol::to_iso_string(protocol::TimePointSec{floor}));
    auto alive = std::weak_ptr<bool>(alive_);
    worker_ = std::thread([this, job = std::move(job), alive, initial] {
        auto batch = std::make_unique<PreparedBatch>(prepare_batch(job, ctx_));
        boost::asio::post(ioc_, [this, alive, initial, b = std::shared_ptr<PreparedBatch>(std::move(batch))]() mutable {
            if (alive.expired()) return;
            on_batch(std::make_unique<PreparedBatch>(std::move(*b)), initial);
        });
    });
}

void Beacon::on_batch(std::unique_ptr<PreparedBatch> batch, bool initial) {
    batch_running_ = false;
    if (worker_.joinable()) worker_.join();
    if (batch->cancelled || state_ == State::stopped) return;
    prepared_total_ += batch->txs.size();
    double rate = batch->seconds > 0 ? static_cast<double>(batch->txs.size()) / batch->seconds : 0;
    if (initial) {
        summary_.prepared = batch->txs.size();
        summary_.prepare_seconds = batch->seconds;
        summary_.sign_rate = rate;
        summary_.prepare_threads = batch->threads;
        summary_.bytes_per_prepared_tx = batch->bytes_per_tx();
        summary_.sign_attempts_per_tx =
            batch->txs.empty() ? 0 : static_cast<double>(batch->sign_attempts) / static_cast<double>(batch->txs.size());
        log_->info("prepared {} transactions ({} operations) in {:.2f} s: {:.0f} tx/s on {} thread(s), {:.0f} bytes held "
                   "per transaction, {:.2f} signing attempts per transaction",
                   batch->txs.size(), batch->ops, batch->seconds, rate, batch->threads, batch->bytes_per_tx(),
                   summary_.sign_attempts_per_tx);
    } else {
        log_->debug("refreshed {} transactions in {:.2f} s ({:.0f} tx/s)", batch->txs.size(), batch->seconds, rate);
    }
    tracker_->add_batch(std::move(batch));
    if (initial) {
        prepared_at_ns_ = now_ns();
        if (state_ != State::preparing) return;
        if (connections_up() == 0) {
            fail_prepare("every connection was lost while signing");
            return;
        }
        set_state(State::prepared);
        if (auto done = std::move(pending_done_)) done(true, {});
    } else if (state_ == State::running) {
        pump();
    }
}

void Beacon::maybe_refresh() {
    if (batch_running_ || state_ != State::running || !factory_) return;
    if (prepared_total_ >= budget_) return;
    const auto& cfg = *config_;
    std::uint64_t chunk, low_water;
    if (cfg.rate.is_unlimited()) {
        chunk = 100'000;
        low_water = chunk / 2;
    } else {
        double ahead = std::chrono::duration<double>(cfg.prepare_ahead).count();
        chunk = static_cast<std::uint64_t>(std::ceil(cfg.rate.per_second * ahead));
        // Refill with at least kMinSignSlackS of sending still ready: a busy machine may not
        // schedule the signing thread for a while, and a short prepare_ahead must not turn that
        // into dropped sends.
        low_water = std::max<std::uint64_t>(chunk / 2, static_cast<std::uint64_t>(std::ceil(cfg.rate.per_second * kMinSignSlackS)));
    }
    if (tracker_->ready() >= low_water) return;
    launch_batch(static_cast<std::size_t>(std::min(chunk, budget_ - prepared_total_)), false);
}

// ---------------------------------------------------------------------------------------------
// Run

void Beacon::start(Done done) {
    if (state_ != State::prepared) {
        done(false, "start needs a prepared beacon (state is " + std::string(to_string(state_)) + ")");
        return;
    }
    const auto& cfg = *config_;
    std::int64_t t0 = now_ns();
    if (t0 > prepare_deadline_ns_) {
        done(false, "the prepared transactions are stale (their expiration would not cover the run): prepare again");
        return;
    }
    pacer_.emplace(cfg.rate, t0, to_ns(cfg.late_threshold));
    end_ns_ = t0 + to_ns(cfg.duration);
    segments_ = cfg.segments();
    seg_end_ns_ = t0;
    enter_segment(0, t0);
    last_send_ns_ = t0;
    last_reply_ns_ = t0;
    sending_ = true;
    interval_start_ns_ = t0;
    interval_start_unix_ms_ = unix_ms_now();
    next_stats_ns_ = t0;
    proc_.sample();  // baseline for the first interval's CPU figures
    summary_.configured_rate = cfg.rate.per_second;
    set_state(State::running);
    log_->info("run {} started: {} at {}, up to {} transactions over {}", cfg.run_id, cfg.beacon_id,
               util::format_rate(cfg.rate), budget_, util::format_duration(cfg.duration));
    event("info", "run_started", "rate " + util::format_rate(cfg.rate));
    if (!watcher_) start_block_watcher();
    schedule_stats();
    done(true, {});
    pump();
}

void Beacon::set_rate(util::Rate rate, Done done) {
    if (state_ != State::running || !pacer_) {
        done(false, "set_rate needs a running beacon (state is " + std::string(to_string(state_)) + ")");
        return;
    }
    if (!std::isfinite(rate.per_second) || rate.per_second < 0 || rate.per_second > 10'000'000) {
        done(false, "rate must be within 0 (unlimited)..10M/s");
        return;
    }
    // The rest of the current segment at the new rate, and later segments scaled alike (the
    // broker re-splits the cluster's rate when beacons come and go).
    const double planned = segments_[seg_].rate.per_second;
    const double factor = planned > 0 && rate.per_second > 0 ? rate.per_second / planned : 1.0;
    segments_[seg_].rate = rate;
    segments_[seg_].count.reset();
    for (std::size_t k = seg_ + 1; k < segments_.size(); ++k) {
        auto& sg = segments_[k];
        if (sg.rate.is_unlimited()) continue;
        sg.rate.per_second *= factor;
        if (sg.count) sg.count = static_cast<std::uint64_t>(std::llround(static_cast<double>(*sg.count) * factor));
    }
    std::int64_t now = now_ns();
    pacer_->rebase(rate, now);
    slot_ = 0;
    total_slots_ = pacer_->unlimited() ? UINT64_MAX : pacer_->count_before(seg_end_ns_);
    if (config_->budget == 0) {
        // The budget follows the plan: what was sent, the rest of this segment, later ones.
        std::uint64_t plan = tracker_->sent_total();
        bool unlimited = pacer_->unlimited();
        if (!unlimited) plan += total_slots_;
        std::int64_t at = seg_end_ns_;
        for (std::size_t k = seg_ + 1; k < segments_.size() && !unlimited; ++k) {
            const auto& sg = segments_[k];
            if (sg.rate.is_unlimited()) unlimited = true;
            else plan += sg.count ? *sg.count : Pacer(sg.rate, at, 0).count_before(at + to_ns(sg.duration));
            at += to_ns(sg.duration);
        }
        budget_ = unlimited ? std::max<std::uint64_t>(budget_, 1'000'000) : plan;
    }
    config_->rate = rate;
    summary_.configured_rate = rate.per_second;
    log_->info("rate now {}", util::format_rate(rate));
    pump_timer_.cancel();
    pump_scheduled_ = false;
    done(true, {});
    pump();
}

void Beacon::schedule_pump(std::int64_t at_ns) {
    if (pump_scheduled_ && at_ns >= pump_at_ns_) return;
    pump_scheduled_ = true;
    pump_at_ns_ = at_ns;
    pump_timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(at_ns)));
    pump_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        pump_scheduled_ = false;
        pump();
    });
}

void Beacon::enter_segment(std::size_t k, std::int64_t at_ns) {
    seg_ = k;
    const ScheduleSegment& sg = segments_[k];
    seg_end_ns_ = k + 1 == segments_.size() ? end_ns_ : at_ns + to_ns(sg.duration);
    double rate = sg.rate.per_second;
    // With a count, sends are spaced evenly so that exactly `count` fit in the segment.
    if (sg.count && !sg.rate.is_unlimited())
        rate = *sg.count > 0 ? static_cast<double>(*sg.count) / std::chrono::duration<double>(sg.duration).count()
                             : sg.rate.per_second;
    pacer_->rebase(util::Rate{sg.rate.is_unlimited() ? 0.0 : rate}, at_ns);
    slot_ = 0;
    total_slots_ = pacer_->unlimited() ? UINT64_MAX : pacer_->count_before(seg_end_ns_);
    if (sg.count && !pacer_->unlimited()) total_slots_ = std::min(total_slots_, *sg.count);
    if (k > 0) log_->debug("segment {} of {}: {} for {}", k + 1, segments_.size(), util::format_rate(util::Rate{rate}),
                           util::format_duration(sg.duration));
}

bool Beacon::next_segment() {
    if (seg_ + 1 >= segments_.size()) return false;
    enter_segment(seg_ + 1, seg_end_ns_);
    return true;
}

void Beacon::pump() {
    pump_posted_ = false;
    if (!sending_ || state_ != State::running) return;
    std::int64_t now = now_ns();
    std::uint64_t burst = 0;
    for (;;) {
        if (tracker_->sent_total() >= budget_) {
            finish_sending("budget");
            return;
        }
        if (pacer_->unlimited()) {
            if (now >= seg_end_ns_) {
                if (next_segment()) continue;
                finish_sending("duration");
                return;
            }
            while (tracker_->sent_total() < budget_ && tracker_->ready() > 0) {
                if (!send_one(now, now)) break;
            }
            if (tracker_->sent_total() >= budget_) {
                finish_sending("budget");
                return;
            }
            schedule_pump(seg_end_ns_);  // the end of the segment; replies pump in between
            break;
        }
        // Rate mode: slots intended before the segment's end are sent even when the sender wakes
        // after it (catch-up); a segment ends when its last slot is done, not when the clock
        // passes its end.
        std::uint64_t due = std::min(pacer_->due(now), total_slots_);
        while (slot_ < due) {
            if (tracker_->sent_total() >= budget_) {
                finish_sending("budget");
                return;
            }
            if (burst++ == kMaxBurst) {
                // Let replies and timers run, then carry on catching up.
                pump_posted_ = true;
                boost::asio::post(ioc_, [this] { if (pump_posted_) pump(); });
                maybe_refresh();
                return;
            }
            send_one(pacer_->intended(slot_), now);
            ++slot_;
        }
        if (slot_ >= total_slots_) {
            if (next_segment()) continue;
            finish_sending("duration");
            return;
        }
        schedule_pump(pacer_->intended(slot_));
        break;
    }
    maybe_refresh();
}

Beacon::Conn* Beacon::pick_connection() {
    const std::size_t n = conns_.size();
    const std::uint32_t window = config_->window;
    for (std::size_t i = 0; i < n; ++i) {
        Conn& c = *conns_[(rr_ + i) % n];
        if (c.up && c.in_flight < window && c.client->connected()) {
            rr_ = (rr_ + i + 1) % n;
            return &c;
        }
    }
    return nullptr;
}

bool Beacon::send_one(std::int64_t intended_ns, std::int64_t now_ns_hint) {
    (void)now_ns_hint;
    PreparedTx* tx = tracker_->peek();
    Conn* conn = tx ? pick_connection() : nullptr;
    if (!conn) {
        if (pacer_->unlimited()) return false;  // nothing is due in unlimited mode: wait for room
        ++interval_.dropped_sends;
        pacer_->record_drop();
        if (!tx)
            warn_.warn("no_tx", "send dropped: no signed transaction ready (signing is behind the rate)");
        else
            warn_.warn("no_room", "send dropped: no connection up with room in its window of {}", config_->window);
        return false;
    }
    std::uint64_t n = tracker_->next_to_send();
    std::uint64_t packed = (n << 16) | static_cast<std::uint64_t>(conn->index);
    conn->client->send_raw(
        tx->body, [this, packed](net::RpcResult&& r) { on_broadcast_reply(packed, std::move(r)); },
        std::chrono::duration_cast<std::chrono::milliseconds>(config_->request_timeout));
    ++conn->in_flight;
    std::int64_t t = now_ns();
    tracker_->mark_sent(intended_ns, t);
    std::int64_t lag = pacer_->record_send(intended_ns, t);
    std::uint64_t lag_us = static_cast<std::uint64_t>(lag / 1000);
    interval_hist_.send_lag.record(lag_us);
    if (lag > to_ns(config_->late_threshold)) ++interval_.late_sends;
    interval_.max_send_lag_us = std::max(interval_.max_send_lag_us, lag_us);
    last_send_ns_ = t;
    return true;
}

void Beacon::on_broadcast_reply(std::uint64_t packed, net::RpcResult&& r) {
    std::size_t ci = static_cast<std::size_t>(packed & 0xffff);
    std::uint64_t n = packed >> 16;
    if (ci < conns_.size() && conns_[ci]->in_flight > 0) --conns_[ci]->in_flight;
    if (state_ != State::running && state_ != State::draining) return;  // after the final interval
    std::int64_t now = now_ns();
    ReplyOutcome out;
    switch (r.kind) {
        case net::RpcErrorKind::none:
            out.kind = ReplyOutcome::Kind::accepted;
            out.unexpected = !r.result.is_null();
            if (out.unexpected) warn_.warn("unexpected_result", "broadcast_transaction answered a non-null result: {}",
                                           one_line(net::dump_json(r.result), 120));
            break;
        case net::RpcErrorKind::rpc_error: {
            out.kind = ReplyOutcome::Kind::rejected;
            out.code = r.code;
            out.message = r.message;
            auto cls = classify_rejection(r.code, r.message);
            warn_.warn(to_string(cls), "rejected ({}): code {}: {}", to_string(cls), r.code, one_line(r.message));
            break;
        }
        case net::RpcErrorKind::bad_reply:
            out.kind = ReplyOutcome::Kind::bad_reply;
            break;
        default:
            out.kind = ReplyOutcome::Kind::unknown;
            break;
    }
    tracker_->on_reply(n, out, now);
    last_reply_ns_ = now;
    if (state_ == State::running && pacer_ && pacer_->unlimited() && !pump_posted_) {
        pump_posted_ = true;
        boost::asio::post(ioc_, [this] { if (pump_posted_) pump(); });
    }
    if (state_ == State::draining) check_drained();
}

void Beacon::finish_sending(std::string why) {
    if (!sending_) return;
    sending_ = false;
    pump_timer_.cancel();
    pump_scheduled_ = false;
    summary_.stop_reason = why == "budget" ? "budget" : why == "duration" ? "completed" : why;
    summary_.send_seconds = (last_send_ns_ - pacer_->start()) / 1e9;
    drain_started_ns_ = now_ns();
    log_->info("sending done ({}): {} sent; draining: {} replies due, {} accepted awaiting inclusion{}", summary_.stop_reason,
               tracker_->sent_total(), tracker_->in_flight(), tracker_->awaiting_inclusion(),
               config_->drain_timeout > util::Duration::zero()
                   ? " (at most " + util::format_duration(config_->drain_timeout) + ")"
                   : std::string(" (until they expire)"));
    set_state(State::draining, summary_.stop_reason);
    schedule_drain_check();
    check_drained();
}

void Beacon::schedule_drain_check() {
    phase_timer_.expires_after(kDrainCheck);
    phase_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || state_ != State::draining) return;
        check_drained();
        if (state_ == State::draining) schedule_drain_check();
    });
}

void Beacon::check_drained() {
    if (state_ != State::draining) return;
    if (tracker_->in_flight() == 0 && tracker_->awaiting_inclusion() == 0) {
        finish_run(summary_.stop_reason);
        return;
    }
    const std::int64_t now = now_ns();
    std::string cut;
    if (config_->drain_timeout > util::Duration::zero() && now - drain_started_ns_ >= to_ns(config_->drain_timeout)) {
        cut = "drain_timeout " + util::format_duration(config_->drain_timeout) + " reached";
    } else if (tracker_->in_flight() == 0 &&
               static_cast<std::int64_t>(chain_time_estimate(now)) >
                   static_cast<std::int64_t>(tracker_->max_sent_expiration()) + kDrainMarginS) {
        cut = "no block has shown the chain past the last expiration";
    }
    if (cut.empty()) return;
    log_->warn("drain cut ({}): {} replies outstanding, {} accepted not yet included or expired: reported as "
               "unknown / pending",
               cut, tracker_->in_flight(), tracker_->awaiting_inclusion());
    finish_run(summary_.stop_reason);
}

void Beacon::finish_run(std::string reason) {
    if (state_ != State::running && state_ != State::draining) return;
    if (sending_) {
        sending_ = false;
        summary_.send_seconds = (last_send_ns_ - pacer_->start()) / 1e9;
    }
    pump_timer_.cancel();
    stats_timer_.cancel();
    phase_timer_.cancel();
    cancel_prepare_ = true;
    summary_.stop_reason = std::move(reason);
    tracker_->finalize();  // whatever is still open is counted as unknown / pending
    emit_interval(true);
    // Over the send span; in rate mode each send owns one slot of 1/rate, so a run that sent
    // every slot of its duration reports exactly the configured rate.
    summary_.reply_seconds = (last_reply_ns_ - pacer_->start()) / 1e9;
    double span = summary_.send_seconds;
    if (pacer_ && !pacer_->unlimited() && summary_.totals.sent > 0) span += 1.0 / pacer_->rate();
    summary_.achieved_rate = span > 0 ? static_cast<double>(summary_.totals.sent) / span : 0;
    if (worker_.joinable()) worker_.join();  // cancelled above; the factory is ours again
    if (factory_) summary_.factory = factory_->counters();
    summary_.stats_push_failures = sink_ ? sink_->push_failures() : 0;
    print_summary();
    event("info", "run_finished", summary_.stop_reason);
    set_state(State::stopped, summary_.stop_reason);
    close_connections();
    watcher_.reset();
    if (auto done = std::move(pending_done_)) done(true, {});
}

void Beacon::stop(std::string_view reason) {
    std::string why = "stopped: " + std::string(reason);
    switch (state_) {
        case State::running:
            log_->info("stopping run: {}", reason);
            finish_sending(why);
            break;
        case State::draining:
            log_->info("stop ({}) while draining: the drain goes on (abort cuts it)", reason);
            break;
        case State::preparing:
            fail_prepare(why);
            break;
        case State::configured:
        case State::prepared:
        case State::idle:
            cancel_prepare_ = true;
            close_connections();
            watcher_.reset();
            summary_.stop_reason = why;
            set_state(State::stopped, why);
            break;
        case State::stopped:
            break;
    }
}

void Beacon::abort(std::string_view reason) {
    switch (state_) {
        case State::running:
        case State::draining: {
            log_->info("aborting run: {}", reason);
            std::string why = state_ == State::running ? "aborted: " + std::string(reason)
                                                       : summary_.stop_reason + " (drain aborted: " + std::string(reason) + ")";
            finish_run(why);
            break;
        }
        default:
            stop(reason);
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks

void Beacon::start_block_watcher() {
    const auto& cfg = *config_;
    net::WsClientConfig wc;
    wc.urls = cfg.nodes;
    wc.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.connect_timeout);
    wc.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.request_timeout);
    wc.reconnect_base = std::chrono::milliseconds(100);
    wc.reconnect_max = std::chrono::milliseconds(5000);
    wc.tls.verify = cfg.tls_verify;
    wc.tls.ca_file = cfg.ca_file;
    wc.user_agent = "bts-beacon/" BTS_VERSION;
    auto alive = std::weak_ptr<bool>(alive_);
    try {
        watcher_ = std::make_unique<BlockWatcher>(
            ioc_, std::move(wc),
            [this, alive](BlockSeen&& b) {
                if (!alive.expired()) on_block(std::move(b));
            },
            log_, chain_.head_block_num + 1);
    } catch (const std::exception& e) {
        log_->warn("no block tracking: {}", e.what());
    }
}

void Beacon::on_block(BlockSeen&& b) {
    if (state_ != State::prepared && state_ != State::preparing && state_ != State::running &&
        state_ != State::draining)
        return;
    tracker_->on_block(b.timestamp, b.txs, b.observed_ns);
    if (b.has_id) latest_block_id_ = b.id;
    if (b.timestamp > chain_.head_time) {
        chain_.head_time = b.timestamp;
        chain_seen_ns_ = b.observed_ns;
    }
    check_drained();
}

// ---------------------------------------------------------------------------------------------
// Statistics

void Beacon::schedule_stats() {
    next_stats_ns_ += to_ns(config_->stats_interval);
    stats_timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next_stats_ns_)));
    stats_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || (state_ != State::running && state_ != State::draining)) return;
        emit_interval(false);
        schedule_stats();
    });
}

void Beacon::collect_connectivity() {
    ConnTotals now;
    for (const auto& c : conns_) {
        const auto& k = c->client->counters();
        now.connect_failures += k.connect_failures;
        now.tls_failures += k.tls_failures;
        now.disconnects += k.disconnects;
        now.timeouts += k.timeouts;
        now.bad_replies += k.bad_replies;
    }
    if (watcher_) {
        auto w = watcher_->counters();
        now.connect_failures += w.connection.connect_failures;
        now.tls_failures += w.connection.tls_failures;
        now.disconnects += w.connection.disconnects;
        now.timeouts += w.connection.timeouts;
        now.bad_replies += w.connection.bad_replies + w.bad_notices;
        watcher_seen_ = w;
    } else {
        // The watcher's share stays counted after it is gone.
        now.connect_failures += watcher_seen_.connection.connect_failures;
        now.tls_failures += watcher_seen_.connection.tls_failures;
        now.disconnects += watcher_seen_.connection.disconnects;
        now.timeouts += watcher_seen_.connection.timeouts;
        now.bad_replies += watcher_seen_.connection.bad_replies + watcher_seen_.bad_notices;
    }
    interval_.connect_failures += now.connect_failures - conn_seen_.connect_failures;
    interval_.tls_failures += now.tls_failures - conn_seen_.tls_failures;
    interval_.disconnects += now.disconnects - conn_seen_.disconnects;
    interval_.timeouts += now.timeouts - conn_seen_.timeouts;
    interval_.bad_replies += now.bad_replies - conn_seen_.bad_replies;
    conn_seen_ = now;
}

void Beacon::emit_interval(bool final) {
    std::int64_t now = now_ns();
    collect_connectivity();
    auto p = proc_.sample();
    ProcFigures proc{p.host_cpu_pct, p.proc_cpu_pct, p.rss_bytes};
    auto interval_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(now - interval_start_ns_, 0) / 1'000'000);
    IntervalIdentity id{config_->run_id, config_->beacon_id, opt_.host};
    auto s = make_stats_interval(id, stats_seq_++, interval_start_unix_ms_, interval_ms, config_->rate.per_second,
                                 interval_, interval_hist_, tracker_->in_flight(), proc, final);
    if (sink_) {
        sink_->push(s);
        if (sink_->wants_json()) sink_->send_line(stats_json_line(s, interval_, interval_hist_));
    }
    if (opt_.on_interval) opt_.on_interval(s);
    last_rate_ = interval_ms ? static_cast<double>(interval_.sent) * 1000.0 / static_cast<double>(interval_ms) : 0;
    summary_.totals.add(interval_);
    summary_.hist.merge(interval_hist_);
    ++summary_.intervals;
    interval_ = {};
    interval_hist_.reset();
    interval_start_ns_ = now;
    interval_start_unix_ms_ = unix_ms_now();
}

void Beacon::print_summary() {
    const auto& t = summary_.totals;
    const auto& h = summary_.hist;
    nlohmann::ordered_json j;
    j["type"] = "summary";
    j["run_id"] = summary_.run_id;
    j["beacon_id"] = config_->beacon_id;
    j["reason"] = summary_.stop_reason;
    j["configured_rate"] = summary_.configured_rate;
    j["achieved_rate"] = std::round(summary_.achieved_rate * 100) / 100;
    j["send_seconds"] = std::round(summary_.send_seconds * 1000) / 1000;
    j["reply_seconds"] = std::round(summary_.reply_seconds * 1000) / 1000;
    j["sent"] = t.sent;
    j["accepted"] = t.accepted;
    nlohmann::ordered_json rej = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < kRejectClasses; ++i)
        if (t.rejected[i]) rej[std::string(to_string(static_cast<RejectClass>(i)))] = t.rejected[i];
    j["rejected"] = rej;
    j["late_sends"] = t.late_sends;
    j["dropped_sends"] = t.dropped_sends;
    j["included_txs"] = t.included_txs;
    j["included_ops"] = t.included_ops;
    j["expired_unincluded"] = t.expired_unincluded;
    j["unknown_outcome"] = t.unknown_outcome;
    j["pending_at_cutoff"] = t.pending_at_cutoff;
    j["connect_failures"] = t.connect_failures;
    j["tls_failures"] = t.tls_failures;
    j["disconnects"] = t.disconnects;
    j["timeouts"] = t.timeouts;
    j["bad_replies"] = t.bad_replies + t.unexpected_replies;
    j["acceptance_from_intended_us"] = nlohmann::ordered_json::parse(histogram_json(h.acceptance_from_intended));
    j["acceptance_from_send_us"] = nlohmann::ordered_json::parse(histogram_json(h.acceptance_from_send));
    j["inclusion_us"] = nlohmann::ordered_json::parse(histogram_json(h.inclusion));
    j["send_lag_us"] = nlohmann::ordered_json::parse(histogram_json(h.send_lag));
    j["prepared"] = summary_.prepared;
    j["prepare_seconds"] = std::round(summary_.prepare_seconds * 1000) / 1000;
    j["sign_rate"] = std::round(summary_.sign_rate);
    j["prepare_threads"] = summary_.prepare_threads;
    j["bytes_per_prepared_tx"] = std::round(summary_.bytes_per_prepared_tx);
    j["sign_attempts_per_tx"] = std::round(summary_.sign_attempts_per_tx * 1000) / 1000;
    j["cancels_substituted"] = summary_.factory.cancels_substituted;
    j["intervals"] = summary_.intervals;
    j["stats_push_failures"] = summary_.stats_push_failures;
    if (sink_ && sink_->wants_json())
        sink_->send_line(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    log_->info("run {} {}: sent {} in {:.2f} s ({:.1f} tx/s, target {}), accepted {}, rejected {}, unknown {}, "
               "included {}, expired {}, pending {}, dropped {}, late {}; acceptance p50/p99 {}/{} us, inclusion "
               "p50/p99 {}/{} us, send lag p99 {} us",
               summary_.run_id, summary_.stop_reason, t.sent, summary_.send_seconds, summary_.achieved_rate,
               util::format_rate(config_->rate), t.accepted, t.rejected_total(), t.unknown_outcome, t.included_txs,
               t.expired_unincluded, t.pending_at_cutoff, t.dropped_sends, t.late_sends, h.acceptance_from_intended.percentile(50),
               h.acceptance_from_intended.percentile(99), h.inclusion.percentile(50), h.inclusion.percentile(99),
               h.send_lag.percentile(99));
}

}  // namespace bts::beacon
