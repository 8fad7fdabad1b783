// The uptime actor: config, schedule, judging and publishing.
#include "actors/uptime/uptime.hpp"

#include "common/util/config.hpp"
#include "common/util/log.hpp"
#include "common/util/zmq_endpoint.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>

namespace bts::uptime {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// ---- config ----------------------------------------------------------------------------------

namespace {

const std::initializer_list<std::string_view> kThresholdKeys = {
    "stale_after",    "cert_warn_days",  "min_participation", "require_trusted_cert",
    "allow_wildcard", "expect_issuer",   "http_status_min",   "http_status_max",
    "es_yellow_is_down"};

Thresholds read_thresholds(const util::TomlTable& t, Thresholds th) {
    th.stale_after = t.get_duration("stale_after", th.stale_after);
    th.cert_warn_days = t.get_int("cert_warn_days", th.cert_warn_days, 0, 3650);
    th.min_participation = t.get_double("min_participation", th.min_participation, 0.0, 100.0);
    th.require_trusted_cert = t.get_bool("require_trusted_cert", th.require_trusted_cert);
    th.allow_wildcard = t.get_bool("allow_wildcard", th.allow_wildcard);
    th.expect_issuer = t.get_string("expect_issuer", th.expect_issuer);
    th.http_status_min = static_cast<int>(t.get_int("http_status_min", th.http_status_min, 100, 599));
    th.http_status_max = static_cast<int>(t.get_int("http_status_max", th.http_status_max, 100, 599));
    th.es_yellow_is_down = t.get_bool("es_yellow_is_down", th.es_yellow_is_down);
    return th;
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

UptimeConfig UptimeConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"log", "uptime", "thresholds", "endpoint"});
    UptimeConfig c;
    const util::TomlTable u = doc.table("uptime");
    u.reject_unknown_keys({"pub", "push", "push_hwm", "interval", "timeout", "jitter",
                           "max_in_flight", "fork_anchor_refresh"});
    c.pub = u.get_string("pub", c.pub);
    c.push = u.get_string("push", c.push);
    c.push_hwm = static_cast<int>(u.get_int("push_hwm", c.push_hwm, 1, 10'000'000));
    c.jitter = u.get_double("jitter", c.jitter, 0.0, 0.5);
    c.max_in_flight = static_cast<std::size_t>(u.get_int("max_in_flight", 1024, 1, 100'000));
    c.fork_anchor_refresh = u.get_duration("fork_anchor_refresh", c.fork_anchor_refresh);
    EndpointConfig defaults;
    defaults.interval = u.get_duration("interval", defaults.interval);
    defaults.timeout = u.get_duration("timeout", defaults.timeout);

    const util::TomlTable th = doc.table("thresholds");
    th.reject_unknown_keys(kThresholdKeys);
    defaults.thresholds = read_thresholds(th, defaults.thresholds);

    for (const util::TomlTable& e : doc.get_table_array("endpoint")) {
        e.reject_unknown_keys({"name", "url", "kind", "chain_id", "interval", "timeout", "ca_file",
                               "reference", "es_path", "stale_after", "cert_warn_days",
                               "min_participation", "require_trusted_cert", "allow_wildcard",
                               "expect_issuer", "http_status_min", "http_status_max",
                               "es_yellow_is_down"});
        EndpointConfig ep = defaults;
        ep.name = e.require_string("name");
        ep.url = e.require_string("url");
        const std::string scheme = ep.url.substr(0, ep.url.find("://"));
        const std::string kind =
            e.get_string("kind", scheme == "ws" || scheme == "wss" ? "api" : "http");
        if (kind == "api") ep.kind = ProbeKind::api;
        else if (kind == "http" || kind == "https") ep.kind = ProbeKind::http;
        else if (kind == "es" || kind == "elasticsearch") ep.kind = ProbeKind::es;
        else e.fail("kind", "must be \"api\", \"http\" or \"es\"");
        ep.chain_id = e.get_string("chain_id", "");
        ep.interval = e.get_duration("interval", ep.interval);
        ep.timeout = e.get_duration("timeout", ep.timeout);
        ep.ca_file = e.get_string("ca_file", "");
        ep.reference = e.get_bool("reference", false);
        ep.es_path = e.get_string("es_path", ep.es_path);
        ep.thresholds = read_thresholds(e, ep.thresholds);
        c.endpoints.push_back(std::move(ep));
    }
    return c;
}

void UptimeConfig::validate() const {
    util::check_config(!pub.empty() || !push.empty(), "uptime.pub",
                       "pub and push are both empty: results would go nowhere");
    // Checked here so that --check catches them, not bind()/connect() at start ("Invalid argument").
    if (!pub.empty()) {
        if (const auto why = util::zmq_endpoint_error(pub)) util::check_config(false, "uptime.pub", *why);
    }
    if (!push.empty()) {
        if (const auto why = util::zmq_endpoint_error(push)) util::check_config(false, "uptime.push", *why);
    }
    util::check_config(max_in_flight >= 1, "uptime.max_in_flight", "must be at least 1");
    util::check_config(fork_anchor_refresh >= std::chrono::seconds(1), "uptime.fork_anchor_refresh",
                       "must be at least 1s");
    util::check_config(!endpoints.empty(), "endpoint", "no [[endpoint]] configured");
    std::set<std::string> names;
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        const std::string key = "endpoint[" + std::to_string(i) + "]";
        endpoints[i].validate(key);
        util::check_config(names.insert(endpoints[i].name).second, key + ".name",
                           "duplicate endpoint name '" + endpoints[i].name + "'");
    }
}

// ---- actor -----------------------------------------------------------------------------------

struct Uptime::Impl {
    struct Endpoint {
        std::unique_ptr<Prober> prober;
        Clock::time_point nominal;  // drift-free grid: start + n·interval
        Clock::duration interval;
        std::optional<Status> last;
        std::string group;  // chain id used for the fork tracker
    };
    struct Due {
        Clock::time_point at;
        std::size_t index;
        bool operator>(const Due& o) const { return at > o.at; }
    };

    Impl(zmq::context_t& ctx, UptimeConfig c, std::shared_ptr<spdlog::logger> l)
        : cfg(std::move(c)), log(std::move(l)), timer(ioc), rng(std::random_device{}()) {
        if (!log) log = spdlog::default_logger();
        // The network clients would warn about every failed connect; failures are results here.
        net_log = log->clone(log->name() + ".net");
        net_log->set_level(spdlog::level::err);
        if (!cfg.pub.empty()) {
            pub = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::pub);
            pub->set(zmq::sockopt::linger, 500);
            pub->set(zmq::sockopt::sndhwm, 100'000);
            pub->bind(cfg.pub);
            pub_endpoint = pub->get(zmq::sockopt::last_endpoint);
        }
        if (!cfg.push.empty()) {
            push = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::push);
            push->set(zmq::sockopt::linger, 1000);
            push->set(zmq::sockopt::sndhwm, cfg.push_hwm);
            push->connect(cfg.push);
        }
        forks.set_anchor_refresh_ms(
            std::chrono::duration_cast<std::chrono::milliseconds>(cfg.fork_anchor_refresh).count());
        const auto now = Clock::now();
        for (std::size_t i = 0; i < cfg.endpoints.size(); ++i) {
            const auto& ep_cfg = cfg.endpoints[i];
            Endpoint ep;
            ep.interval = std::chrono::duration_cast<Clock::duration>(ep_cfg.interval);
            ep.group = ep_cfg.chain_id;
            ep.prober = std::make_unique<Prober>(ioc, ep_cfg, net_log);
            std::uniform_real_distribution<double> offset(0.0, 1.0);
            ep.nominal = now + std::chrono::duration_cast<Clock::duration>(ep.interval * offset(rng));
            endpoints.push_back(std::move(ep));
            heap.push({endpoints.back().nominal, i});
        }
    }

    void arm() {
        if (heap.empty()) return;
        timer.expires_at(heap.top().at);
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) on_timer();
        });
    }

    void on_timer() {
        const auto now = Clock::now();
        while (!heap.empty() && heap.top().at <= now) {
            const Due due = heap.top();
            heap.pop();
            Endpoint& ep = endpoints[due.index];
            // Next turn on the nominal grid, jittered; never before now (a very late loop
            // must not replay missed turns back to back).
            ep.nominal += ep.interval;
            while (ep.nominal + ep.interval / 2 < now) {
                ep.nominal += ep.interval;  // the loop fell behind by whole intervals: skip them
                bump([](UptimeStats& s) { ++s.skipped_busy; });
            }
            std::uniform_real_distribution<double> j(-cfg.jitter / 2, cfg.jitter / 2);
            const auto next = ep.nominal + std::chrono::duration_cast<Clock::duration>(ep.interval * j(rng));
            heap.push({std::max(next, now), due.index});
            if (ep.prober->busy()) {
                bump([](UptimeStats& s) { ++s.skipped_busy; });
            } else if (in_flight < cfg.max_in_flight) {
                begin(due);
            } else {
                ready.push_back(due);
            }
        }
        arm();
    }

    void begin(const Due& due) {
        Endpoint& ep = endpoints[due.index];
        const auto late_us = static_cast<std::uint64_t>(std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - due.at).count()));
        std::optional<std::uint64_t> anchor;
        if (!ep.group.empty()) anchor = forks.anchor(ep.group);
        const std::size_t index = due.index;
        if (!ep.prober->probe(anchor, [this, index](ProbeOutcome&& out) { done(index, std::move(out)); })) {
            bump([](UptimeStats& s) { ++s.skipped_busy; });
            return;
        }
        ++in_flight;
        bump([&](UptimeStats& s) {
            ++s.probes_started;
            s.lateness_sum_us += late_us;
            s.max_lateness_us = std::max(s.max_lateness_us, late_us);
            if (late_us > 100'000) ++s.late_over_100ms;
            s.max_in_flight_seen = std::max<std::uint64_t>(s.max_in_flight_seen, in_flight);
        });
    }

    void done(std::size_t index, ProbeOutcome&& out) {
        --in_flight;
        Endpoint& ep = endpoints[index];
        const EndpointConfig& ep_cfg = ep.prober->config();
        wire::UptimeResult& r = out.result;
        if (ep_cfg.kind == ProbeKind::api && out.obs.failure == Failure::none) {
            // An endpoint without an expected chain id is grouped with the chain it reports.
            if (ep_cfg.chain_id.empty()) ep.group = r.chain_id;
            if (r.chain_id == ep.group && !ep.group.empty()) {
                out.obs.fork = forks.observe(ep.group, ep_cfg.name, ep_cfg.reference, out.block_ids);
                if (out.last_irreversible > 0) forks.offer_lib(ep.group, out.last_irreversible, unix_ms_now());
            }
        }
        const Verdict v = classify(out.obs, ep_cfg.thresholds, r.unix_ms / 1000);
        r.status = std::string(to_string(v.status));
        r.error = v.error;
        if (!ep.last || *ep.last != v.status) {
            if (v.status == Status::up) {
                log->info("{}: {}{}", r.endpoint, ep.last ? std::string(to_string(*ep.last)) + " → " : "", r.status);
            } else {
                log->warn("{}: {}{} ({})", r.endpoint, ep.last ? std::string(to_string(*ep.last)) + " → " : "",
                          r.status, util::printable(util::redact(r.error), 300));  // foreign text
            }
            ep.last = v.status;
        }
        bump([&](UptimeStats& s) {  // before publishing: a receiver may read stats() at once
            ++s.probes_done;
            ++s.by_status[static_cast<int>(v.status)];
        });
        publish(r);
        if (on_result) {
            try {
                on_result(r);
            } catch (const std::exception& e) {
                log->error("uptime: result callback threw: {}", e.what());
            }
        }
        while (!ready.empty() && in_flight < cfg.max_in_flight) {
            const Due next = ready.front();
            ready.pop_front();
            if (endpoints[next.index].prober->busy()) {
                bump([](UptimeStats& s) { ++s.skipped_busy; });
                continue;
            }
            begin(next);
        }
    }

    void publish(const wire::UptimeResult& r) {
        const std::string frame = wire::encode(r);
        try {
            if (pub) {
                pub->send(zmq::buffer(r.endpoint), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
                pub->send(zmq::buffer(frame), zmq::send_flags::dontwait);
            }
            bool dropped = false;
            if (push) dropped = !push->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
            bump([&](UptimeStats& s) {
                ++s.published;
                if (dropped) ++s.push_dropped;
            });
        } catch (const zmq::error_t& e) {
            bump([](UptimeStats& s) { ++s.send_errors; });
            log->error("uptime: send failed: {}", e.what());
        }
    }

    template <class Fn>
    void bump(Fn&& fn) {
        std::lock_guard lock(stats_mutex);
        fn(stats);
    }

    UptimeConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    std::shared_ptr<spdlog::logger> net_log;
    asio::io_context ioc;  // before everything that uses it: destroyed last
    asio::steady_timer timer;
    std::unique_ptr<zmq::socket_t> pub;
    std::unique_ptr<zmq::socket_t> push;
    std::string pub_endpoint;
    std::vector<Endpoint> endpoints;
    std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
    std::deque<Due> ready;  // due, waiting for a free in-flight slot
    std::size_t in_flight = 0;
    ForkTracker forks;
    std::mt19937_64 rng;
    std::function<void(const wire::UptimeResult&)> on_result;
    mutable std::mutex stats_mutex;
    UptimeStats stats;
    std::thread thread;
};

Uptime::Uptime(zmq::context_t& ctx, UptimeConfig cfg, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(ctx, std::move(cfg), std::move(log))) {}

Uptime::~Uptime() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

void Uptime::on_result(std::function<void(const wire::UptimeResult&)> fn) {
    impl_->on_result = std::move(fn);
}

void Uptime::run() {
    impl_->log->info("uptime: probing {} endpoints{}{}", impl_->endpoints.size(),
                     impl_->pub ? ", publishing on " + impl_->pub_endpoint : std::string(),
                     impl_->push ? ", pushing to " + impl_->cfg.push : std::string());
    impl_->arm();
    auto guard = asio::make_work_guard(impl_->ioc);
    impl_->ioc.run();
    impl_->timer.cancel();
    impl_->endpoints.clear();  // drops probes in progress
    impl_->pub.reset();
    impl_->push.reset();
    impl_->log->info("uptime: stopped");
}

void Uptime::start() {
    if (impl_->thread.joinable()) return;
    impl_->thread = std::thread([this] { run(); });
}

void Uptime::stop() {
    impl_->ioc.stop();
    // Join (unless called from the actor's own thread) so that no result callback is still
    // running when stop() returns: callers read what their callback collected right after.
    if (impl_->thread.joinable() && std::this_thread::get_id() != impl_->thread.get_id()) impl_->thread.join();
}

UptimeStats Uptime::stats() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->stats;
}

}  // namespace bts::uptime
