// The collector actor: PULL → validate → store/spool/aggregate → PUB.
#include "actors/collector/collector.hpp"

#include "actors/collector/aggregator.hpp"
#include "actors/collector/curve.hpp"
#include "common/control/curve.hpp"
#include "actors/collector/documents.hpp"
#include "actors/collector/json_writer.hpp"
#include "actors/collector/sqlite_store.hpp"
#include "common/util/log.hpp"
#include "common/wire.hpp"

#include <czmq.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

namespace bts::collector {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

milliseconds ms(util::Duration d) { return std::chrono::duration_cast<milliseconds>(d); }

// Without the embedded store, duplicates are recognised by id among the last `capacity` ids
// (Elasticsearch refuses older replays by itself with 409).
class RecentIds {
public:
    explicit RecentIds(std::size_t capacity) : capacity_(capacity) {}
    bool insert(const std::string& id) {
        if (!set_.insert(id).second) return false;
        order_.push_back(id);
        if (order_.size() > capacity_) {
            set_.erase(order_.front());
            order_.pop_front();
        }
        return true;
    }

private:
    std::size_t capacity_;
    std::unordered_set<std::string> set_;
    std::deque<std::string> order_;
};

std::string last_endpoint(zsock_t* sock) {
    char* e = zsock_last_endpoint(sock);
    std::string s = e ? e : "";
    zstr_free(&e);
    return s;
}

zsock_t* bind_socket(int type, const std::string& endpoint, const CurveConfig& curve, std::uint64_t hwm,
                     std::string& bound) {
    zsock_t* sock = zsock_new(type);
    if (!sock) throw std::runtime_error("cannot create a ZeroMQ socket");
    zsock_set_linger(sock, 0);
    if (type == ZMQ_PULL) {
        zsock_set_rcvhwm(sock, static_cast<int>(std::min<std::uint64_t>(hwm, INT32_MAX)));
        // The largest honest message (three full histograms) is ~60 KiB; a peer sending more is
        // disconnected by ZeroMQ before anything is allocated for it.
        zsock_set_maxmsgsize(sock, 1 << 20);
    }
    if (type == ZMQ_PUB) zsock_set_sndhwm(sock, 100000);
    try {
        if (curve.enabled()) apply_curve_server(sock, curve);
    } catch (...) {
        zsock_destroy(&sock);
        throw;
    }
    if (zsock_bind(sock, "%s", endpoint.c_str()) == -1) {
        std::string err = zmq_strerror(zmq_errno());
        zsock_destroy(&sock);
        throw std::runtime_error("cannot bind " + endpoint + ": " + err);
    }
    bound = last_endpoint(sock);
    if (bound.empty()) bound = endpoint;
    return sock;
}

}  // namespace

std::string stats_json(const CollectorStats& s, const std::string& instance) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().kv("instance", instance).kv("unix_ms", unix_ms_now());
    w.kv("received", s.received).kv("malformed", s.malformed).kv("invalid", s.invalid);
    w.kv("duplicates", s.duplicates).kv("intervals", s.intervals).kv("events", s.events).kv("uptime", s.uptime);
    w.kv("totals_emitted", s.totals_emitted).kv("published", s.published).kv("store_errors", s.store_errors);
    w.kv("store_pending", s.store_pending).kv("spool_dropped", s.spool_dropped).kv("spool_errors", s.spool_errors);
    w.kv("lag_ms", s.lag_ms).kv("open_seconds", s.open_seconds).kv("es_enabled", s.es_enabled);
    if (s.es_enabled) {
        w.key("es").begin_object();
        w.kv("stored", s.es.stored).kv("duplicates", s.es.duplicates).kv("item_retries", s.es.item_retries);
        w.kv("dead_letters", s.es.dead_letters).kv("requests", s.es.requests);
        w.kv("request_failures", s.es.request_failures).kv("spool_bytes", s.es.spool_bytes);
        w.kv("spool_items", s.es.spool_items).kv("lag_ms", s.es.lag_ms).kv("available", s.es.available);
        w.kv("templates_installed", s.es.templates_installed);
        w.end_object();
    }
    w.end_object();
    return out;
}

struct Collector::State {
    State(const CollectorConfig& c, std::shared_ptr<spdlog::logger> l)
        : cfg(c), log(l ? std::move(l) : spdlog::default_logger()), bad_input(*log), indices(c.es.index_prefix),
          recent(200'000) {}

    CollectorConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    util::RateLimitedWarn bad_input;  // collector thread only
    EsIndices indices;
    std::unique_ptr<control::Authenticator> auth;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<Spool> spool;
    std::unique_ptr<EsSink> es;
    std::unique_ptr<Aggregator> aggregator;
    zsock_t* pull = nullptr;
    zsock_t* pub = nullptr;
    std::string endpoint, pub_endpoint;
    zactor_t* actor = nullptr;

    mutable std::mutex stats_mu;
    CollectorStats shared;  // snapshot for stats(), under stats_mu

    // Collector thread only.
    CollectorStats st;
    RecentIds recent;
    std::string es_buf;  // bulk items of rows not yet committed
    std::size_t es_items = 0;
    bool spool_full_warned = false;

    void run(zsock_t* pipe);
    void handle_frame(const char* data, std::size_t size);
    void handle(const wire::StatsInterval& m, std::string_view frame, std::int64_t now_ms);
    void handle(const wire::RunEvent& m, std::string_view frame);
    void handle(const wire::UptimeResult& m, std::string_view frame);
    bool is_new(AddResult r, const std::string& id);
    void publish(const std::string& topic, std::string_view payload);
    void emit_totals(const std::vector<Aggregator::Emitted>& totals);
    void commit();
    void drain(milliseconds idle);
    void publish_stats();
    void update_shared();
    std::size_t read_available(std::size_t max);
};

void Collector::State::publish(const std::string& topic, std::string_view payload) {
    if (!pub) return;
    void* s = zsock_resolve(pub);
    if (zmq_send(s, topic.data(), topic.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
    zmq_send(s, payload.data(), payload.size(), ZMQ_DONTWAIT);
    ++st.published;
}

bool Collector::State::is_new(AddResult r, const std::string& id) {
    if (store) {
        if (r == AddResult::kDuplicate) {
            ++st.duplicates;
            return false;
        }
        if (r == AddResult::kError) {
            ++st.store_errors;
            bad_input.warn("store", "store write failed: {}", store->last_error());
        }
        return true;  // an unstored message still goes to Elasticsearch and the live stream
    }
    if (!recent.insert(id)) {
        ++st.duplicates;
        return false;
    }
    return true;
}

void Collector::State::handle(const wire::StatsInterval& m, std::string_view frame, std::int64_t now_ms) {
    const IntervalSummary sum = summarize(m);
    AddResult r = store ? store->add_interval(m, sum, frame, now_ms) : AddResult::kNew;
    if (!is_new(r, store ? std::string() : doc_id(m))) return;
    ++st.intervals;
    st.lag_ms = now_ms - m.interval_start_ms - static_cast<std::int64_t>(m.interval_ms);
    aggregator->add(m);
    if (spool) {
        append_bulk_item(es_buf, indices, m, sum, frame);
        ++es_items;
    }
    publish("interval/" + m.run_id + "/" + m.beacon_id, frame);
}

void Collector::State::handle(const wire::RunEvent& m, std::string_view frame) {
    std::string id = doc_id(m);
    AddResult r = store ? store->add_event(m, id) : AddResult::kNew;
    if (!is_new(r, id)) return;
    ++st.events;
    if (spool) {
        append_bulk_item(es_buf, indices, m);
        ++es_items;
    }
    publish("event/" + m.run_id + "/" + m.source, frame);
}

void Collector::State::handle(const wire::UptimeResult& m, std::string_view frame) {
    std::string id = doc_id(m);
    AddResult r = store ? store->add_uptime(m, id) : AddResult::kNew;
    if (!is_new(r, id)) return;
    ++st.uptime;
    if (spool) {
        append_bulk_item(es_buf, indices, m);
        ++es_items;
    }
    publish("uptime/" + m.endpoint, frame);
}

void Collector::State::handle_frame(const char* data, std::size_t size) {
    std::string_view frame(data, size);
    auto msg = wire::decode(frame);
    if (!msg) {
        ++st.malformed;
        bad_input.warn("decode", "dropped a malformed message: {}", util::redact(msg.error()));
        return;
    }
    if (auto reason = check_storable(*msg)) {
        ++st.invalid;
        bad_input.warn(std::string("invalid:") + std::string(wire::type_name(*msg)), "dropped a message: {}",
                       util::redact(*reason));
        return;
    }
    if (auto* s = std::get_if<wire::StatsInterval>(&*msg))
        handle(*s, frame, unix_ms_now());
    else if (auto* e = std::get_if<wire::RunEvent>(&*msg))
        handle(*e, frame);
    else if (auto* u = std::get_if<wire::UptimeResult>(&*msg))
        handle(*u, frame);
}

// Reads up to `max` waiting messages without blocking; returns how many.
std::size_t Collector::State::read_available(std::size_t max) {
    void* s = zsock_resolve(pull);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    std::size_t n = 0;
    for (; n < max; ++n) {
        if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0) break;
        ++st.received;
        if (zmq_msg_more(&msg)) {
            // One frame per message: skip the rest of a multi-frame message.
            ++st.malformed;
            bad_input.warn("frames", "dropped a multi-frame message (expected one frame)");
            while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, s, 0) >= 0) {}
            continue;
        }
        handle_frame(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    return n;
}

void Collector::State::emit_totals(const std::vector<Aggregator::Emitted>& totals) {
    for (const auto& e : totals) {
        ++st.totals_emitted;
        if (store && !store->put_totals(e.totals, e.version)) {
            ++st.store_errors;
            bad_input.warn("store", "store write failed: {}", store->last_error());
        }
        if (spool) {
            append_bulk_item(es_buf, indices, e.totals, e.version);
            ++es_items;
        }
        if (pub) publish("totals/" + e.totals.run_id, wire::encode(e.totals));
    }
}

// The durable step, in this order: Elasticsearch documents to the spool, then the store commit.
void Collector::State::commit() {
    if (spool && es_items > 0) {
        switch (spool->append(es_buf, es_items)) {
            case Spool::AppendResult::kOk:
                spool_full_warned = false;
                break;
            case Spool::AppendResult::kFull:
                st.spool_dropped += es_items;
                if (!spool_full_warned) {
                    log->error(
                        "spool FULL ({} bytes, limit elasticsearch.spool_max_bytes = {}): Elasticsearch is not "
                        "keeping up or is down; dropping documents for Elasticsearch (they remain in the "
                        "embedded store{})",
                        spool->pending_bytes(), spool->max_bytes(), store ? "" : " — which is DISABLED: they are lost");
                    spool_full_warned = true;
                }
                bad_input.warn("spool-full", "spool full: dropped {} documents for Elasticsearch ({} so far)",
                               es_items, st.spool_dropped);
                break;
            case Spool::AppendResult::kError:
                st.spool_errors += 1;
                st.spool_dropped += es_items;
                bad_input.warn("spool-error", "spool write failed, {} documents for Elasticsearch dropped: {}",
                               es_items, spool->last_error());
                break;
        }
        es_buf.clear();
        es_items = 0;
    }
    if (store && store->pending() > 0 && !store->commit()) {
        ++st.store_errors;
        bad_input.warn("commit", "store commit failed (will retry): {}", store->last_error());
    }
}

void Collector::State::drain(milliseconds idle) {
    void* s = zsock_resolve(pull);
    zmq_pollitem_t item{s, 0, ZMQ_POLLIN, 0};
    const auto hard_stop = Clock::now() + std::max(idle * 20, milliseconds(2000));
    while (Clock::now() < hard_stop) {
        if (zmq_poll(&item, 1, idle.count()) <= 0) break;
        read_available(10'000);
        if (store && store->pending() >= cfg.store.commit_rows) commit();
    }
}

void Collector::State::update_shared() {
    st.store_pending = store ? store->pending() : 0;
    st.open_seconds = aggregator->open_seconds();
    if (spool) st.spool_errors = std::max<std::uint64_t>(st.spool_errors, spool->errors());
    std::lock_guard lock(stats_mu);
    shared = st;
}

void Collector::State::publish_stats() {
    CollectorStats s;
    {
        std::lock_guard lock(stats_mu);
        s = shared;
    }
    s.es_enabled = es != nullptr;
    if (es) s.es = es->stats();
    std::string json = stats_json(s, cfg.instance);
    log->info("stats: {}", json);
    publish("collector/" + cfg.instance, json);
}

void Collector::State::run(zsock_t* pipe) {
    zsock_signal(pipe, 0);
    void* pull_s = zsock_resolve(pull);
    void* pipe_s = zsock_resolve(pipe);
    const milliseconds commit_every = ms(cfg.store.commit_interval);
    const milliseconds tick_every(100);
    const milliseconds stats_every = ms(cfg.stats_interval);
    const milliseconds sync_every = ms(cfg.es.spool_sync_interval);
    auto next_commit = Clock::now() + commit_every;
    auto next_tick = Clock::now() + tick_every;
    auto next_stats = Clock::now() + stats_every;
    auto next_sync = Clock::now() + sync_every;
    for (;;) {
        auto now = Clock::now();
        auto deadline = std::min(next_tick, next_commit);
        auto wait = std::max<std::int64_t>(0, std::chrono::duration_cast<milliseconds>(deadline - now).count());
        zmq_pollitem_t items[2] = {{pipe_s, 0, ZMQ_POLLIN, 0}, {pull_s, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(items, 2, wait);
        if (rc < 0 && zmq_errno() == ETERM) break;
        try {
            if (items[0].revents & ZMQ_POLLIN) {
                char* cmd = zstr_recv(pipe);
                std::string c = cmd ? cmd : "$TERM";
                zstr_free(&cmd);
                if (c == "$TERM") {
                    drain(ms(cfg.drain_on_stop));
                    emit_totals(aggregator->flush());
                    commit();
                    if (spool) spool->sync();
                    update_shared();
                    log->info("collector stopped: {}", stats_json(st, cfg.instance));
                    break;
                }
                if (c == "FLUSH") {
                    read_available(1'000'000);
                    emit_totals(aggregator->flush());
                    commit();
                    if (spool) spool->sync();
                    update_shared();
                    zstr_send(pipe, "OK");
                }
            }
            if (items[1].revents & ZMQ_POLLIN) {
                // A bounded batch, so commits and ticks keep their schedule under load.
                read_available(5'000);
                if (store && store->pending() >= cfg.store.commit_rows) {
                    commit();
                    next_commit = Clock::now() + commit_every;
                }
            }
            now = Clock::now();
            if (now >= next_tick) {
                next_tick = now + tick_every;
                emit_totals(aggregator->due(unix_ms_now()));
                update_shared();
            }
            if (now >= next_commit) {
                commit();
                next_commit = now + commit_every;
            }
            if (spool && now >= next_sync) {
                spool->sync();
                next_sync = now + sync_every;
            }
            if (now >= next_stats) {
                publish_stats();
                next_stats = now + stats_every;
            }
        } catch (const std::exception& e) {
            // Loop boundary: count, log, keep going (an exception here is a bug or OOM).
            ++st.store_errors;
            bad_input.warn("loop", "collector loop error: {}", e.what());
        }
    }
}

namespace {
void actor_main(zsock_t* pipe, void* args) { static_cast<Collector::State*>(args)->run(pipe); }
}  // namespace

Collector::Collector(const CollectorConfig& config, std::shared_ptr<spdlog::logger> logger)
    : state_(std::make_unique<State>(config, std::move(logger))) {
    State& s = *state_;
    zsys_init();
    try {
        if (s.cfg.curve.enabled() || s.cfg.publish_curve.enabled())
            s.auth = std::make_unique<control::Authenticator>(s.cfg.curve.enabled() ? s.cfg.curve.allowed_clients
                                                                                    : s.cfg.publish_curve.allowed_clients);
        if (s.cfg.store.enabled) s.store = std::make_unique<SqliteStore>(s.cfg.store);
        if (s.cfg.es.enabled) {
            s.spool = std::make_unique<Spool>(Spool::Options{s.cfg.es.spool_dir, s.cfg.es.spool_max_bytes,
                                                             s.cfg.es.spool_segment_bytes});
            s.es = std::make_unique<EsSink>(s.cfg.es, *s.spool, s.log);
        }
        Aggregator::Loader loader;
        if (s.store) {
            SqliteStore* store = s.store.get();
            loader = [store](const std::string& run, std::int64_t from, std::int64_t to) {
                return store->interval_frames(run, from, to);
            };
        }
        s.aggregator = std::make_unique<Aggregator>(ms(s.cfg.totals_delay), ms(s.cfg.totals_linger), loader);
        if (s.store) {
            // Totals a previous (crashed) collector had not written: emitted on the first tick.
            auto stale = s.store->stale_seconds();
            for (const auto& [run, second] : stale) s.aggregator->rebuild(run, second);
            if (!stale.empty()) s.log->info("rebuilding the cluster totals of {} seconds left over by the last run", stale.size());
        }
        s.pull = bind_socket(ZMQ_PULL, s.cfg.listen, s.cfg.curve, s.cfg.receive_hwm, s.endpoint);
        if (!s.cfg.publish.empty())
            s.pub = bind_socket(ZMQ_PUB, s.cfg.publish, s.cfg.publish_curve, 0, s.pub_endpoint);
    } catch (...) {
        zsock_destroy(&s.pull);
        zsock_destroy(&s.pub);
        throw;
    }
    if (s.es) s.es->start();
    s.actor = zactor_new(actor_main, &s);
    if (!s.actor) {
        if (s.es) s.es->stop();
        zsock_destroy(&s.pull);
        zsock_destroy(&s.pub);
        throw std::runtime_error("cannot start the collector thread");
    }
    s.log->info("bts-collector ready (instance {}): PULL {}{}{}, store {}, elasticsearch {}", s.cfg.instance, s.endpoint,
                s.cfg.curve.enabled() ? " (CURVE)" : "", s.pub ? ", PUB " + s.pub_endpoint : std::string(),
                s.store ? s.store->path() : "off", s.es ? util::redact_url(s.cfg.es.url) : "off");
}

Collector::~Collector() {
    State& s = *state_;
    zactor_destroy(&s.actor);  // sends $TERM and waits: drain, commit, spool sync
    if (s.es) s.es->stop();
    zsock_destroy(&s.pull);
    zsock_destroy(&s.pub);
    s.es.reset();
    s.spool.reset();
    s.store.reset();
    s.auth.reset();
}

const std::string& Collector::endpoint() const { return state_->endpoint; }
const std::string& Collector::publish_endpoint() const { return state_->pub_endpoint; }

void Collector::flush() {
    zstr_send(state_->actor, "FLUSH");
    char* reply = zstr_recv(state_->actor);
    zstr_free(&reply);
}

CollectorStats Collector::stats() const {
    CollectorStats s;
    {
        std::lock_guard lock(state_->stats_mu);
        s = state_->shared;
    }
    s.es_enabled = state_->es != nullptr;
    if (state_->es) s.es = state_->es->stats();
    return s;
}

}  // namespace bts::collector
