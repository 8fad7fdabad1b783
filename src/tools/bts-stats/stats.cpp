// bts-stats core: config, feeds (ZeroMQ SUB), store, model and HTTP routes wired on one thread.
#include "tools/bts-stats/stats.hpp"

#include "common/util/config.hpp"
#include "common/util/log.hpp"
#include "common/wire.hpp"
#include "tools/bts-stats/http_server.hpp"
#include "tools/bts-stats/model.hpp"
#include "tools/bts-stats/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bts::stats {

namespace asio = boost::asio;
using nlohmann::json;

// ---- config ----------------------------------------------------------------------------------

StatsConfig StatsConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"log", "stats"});
    const util::TomlTable t = doc.table("stats");
    t.reject_unknown_keys({"listen", "port", "store", "uptime_feeds", "collector_feed", "feed_stale_after",
                           "uptime_refresh", "raw_retention", "hourly_retention", "spark_points",
                           "max_connections", "title", "web_dir", "endpoints", "max_clock_skew"});
    StatsConfig c;
    c.listen = t.get_string("listen", c.listen);
    c.port = static_cast<std::uint16_t>(t.get_int("port", c.port, 0, 65535));
    c.store = t.get_string("store", c.store);
    c.uptime_feeds = t.get_string_array("uptime_feeds", c.uptime_feeds);
    c.collector_feed = t.get_string("collector_feed", c.collector_feed);
    c.feed_stale_after = t.get_duration("feed_stale_after", c.feed_stale_after);
    c.uptime_refresh = t.get_duration("uptime_refresh", c.uptime_refresh);
    c.raw_retention = t.get_duration("raw_retention", c.raw_retention);
    c.hourly_retention = t.get_duration("hourly_retention", c.hourly_retention);
    c.spark_points = static_cast<std::size_t>(t.get_int("spark_points", 60, 2, 1000));
    c.max_connections = static_cast<std::size_t>(t.get_int("max_connections", 256, 1, 100'000));
    c.title = t.get_string("title", c.title);
    c.web_dir = t.get_string("web_dir", c.web_dir);
    c.endpoints = t.get_string_array("endpoints", c.endpoints);
    c.max_clock_skew = t.get_duration("max_clock_skew", c.max_clock_skew);
    return c;
}

void StatsConfig::validate() const {
    util::check_config(!listen.empty(), "stats.listen", "must not be empty");
    util::check_config(!store.empty(), "stats.store", "must not be empty (\":memory:\" keeps no history)");
    util::check_config(!uptime_feeds.empty() || !collector_feed.empty(), "stats.uptime_feeds",
                       "no feed configured: nothing to show");
    util::check_config(feed_stale_after >= std::chrono::seconds(1), "stats.feed_stale_after", "must be at least 1s");
    util::check_config(uptime_refresh >= std::chrono::seconds(1), "stats.uptime_refresh", "must be at least 1s");
    util::check_config(raw_retention >= std::chrono::hours(1), "stats.raw_retention", "must be at least 1h");
    util::check_config(hourly_retention >= std::chrono::hours(24 * 30), "stats.hourly_retention",
                       "must be at least 30d (the page shows 30-day uptime)");
    util::check_config(title.size() <= 200, "stats.title", "longer than 200 characters");
    if (!web_dir.empty()) {
        // The error_code overload: an unusable path (too long, no permission) is a config error,
        // not an exception escaping main().
        std::error_code ec;
        const bool dir = std::filesystem::is_directory(web_dir, ec);
        util::check_config(!ec && dir, "stats.web_dir", ec ? "unusable: " + ec.message() : "not a directory");
    }
    for (const auto& e : endpoints) {
        util::check_config(!e.empty() && e.size() <= 200, "stats.endpoints", "names must be 1 to 200 characters");
    }
    util::check_config(max_clock_skew >= std::chrono::seconds(1), "stats.max_clock_skew", "must be at least 1s");
}

// ---- app ---------------------------------------------------------------------------------------

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t to_ms(util::Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse json_response(const json& j) { return HttpResponse{200, "application/json; charset=utf-8", dump(j)}; }

HttpResponse not_found() { return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"}; }

}  // namespace

struct StatsApp::Impl {
    struct Feed {
        std::unique_ptr<zmq::socket_t> socket;
        std::size_t health;  // index into model.feeds()
        bool collector;
    };

    Impl(zmq::context_t& ctx, StatsConfig c, std::shared_ptr<spdlog::logger> l)
        : cfg(std::move(c)),
          log(l ? std::move(l) : spdlog::default_logger()),
          bad_input(*log),
          model(ModelLimits{.spark_points = cfg.spark_points, .max_skew_ms = to_ms(cfg.max_clock_skew)}),
          store(cfg.store, StoreLimits{to_ms(cfg.raw_retention), to_ms(cfg.hourly_retention)}),
          poll_timer(ioc),
          tick_timer(ioc) {
        auto add_feed = [&](const std::string& name, const std::string& ep, bool collector) {
            Feed f;
            f.socket = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::sub);
            f.socket->set(zmq::sockopt::linger, 0);
            f.socket->set(zmq::sockopt::rcvhwm, 100'000);
            f.socket->set(zmq::sockopt::reconnect_ivl, 200);
            f.socket->set(zmq::sockopt::reconnect_ivl_max, 5000);
            f.socket->set(zmq::sockopt::subscribe, "");
            f.socket->connect(ep);
            f.collector = collector;
            f.health = model.feeds().size();
            model.feeds().push_back(FeedHealth{.name = name, .endpoint = ep, .stale_after_ms = to_ms(cfg.feed_stale_after)});
            feeds.push_back(std::move(f));
        };
        for (const auto& ep : cfg.uptime_feeds) add_feed("uptime", ep, false);
        if (!cfg.collector_feed.empty()) add_feed("collector", cfg.collector_feed, true);

        // Rebuild the page from the store: the last day's results (sparklines and statuses).
        model.set_endpoints({cfg.endpoints.begin(), cfg.endpoints.end()});
        const auto t = now_ms();
        // The same admission rules as live results: a row from the future (stored before they
        // existed) or for an endpoint no longer configured stays in the file but off the page.
        for (const auto& r : store.recent(t - 24 * 3'600'000LL, cfg.spark_points)) (void)model.offer_result(r, t, true);
        refresh_uptime(t);

        server = std::make_unique<HttpServer>(
            ioc, cfg.listen, cfg.port, [this](const HttpRequest& r) { return route(r); }, cfg.max_connections);
    }

    // ---- HTTP ----

    HttpResponse route(const HttpRequest& r) {
        const auto t = now_ms();
        if (r.path == "/" || r.path == "/index.html") return asset("/static/index.html");
        if (r.path == "/dashboard" || r.path == "/dashboard.html") return asset("/static/dashboard.html");
        if (r.path.starts_with("/static/")) return asset(r.path);
        if (r.path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
        if (r.path == "/events") {
            HttpResponse resp;
            resp.event_stream = true;
            return resp;
        }
        if (r.path == "/api/status.json") {
            json j = model.status_json(t);
            j["title"] = cfg.title;
            j["daily"] = store.daily(t, 90, model.endpoint_names());  // the 90-day strip
            return json_response(j);
        }
        if (r.path == "/api/run.json") {
            json j = model.run_json(t);
            j["title"] = cfg.title;
            return json_response(j);
        }
        if (r.path.starts_with("/api/history/") && r.path.ends_with(".json")) {
            const std::string name = percent_decode(
                std::string_view(r.path).substr(13, r.path.size() - 13 - 5));
            util::Duration since = std::chrono::hours(24);
            if (const auto s = query_param(r.query, "since"); !s.empty()) {
                const auto parsed = util::parse_duration(s);
                if (!parsed) return HttpResponse{400, "text/plain; charset=utf-8", "bad 'since'\n"};
                since = *parsed;
            }
            std::size_t limit = 1000;
            if (const auto l = query_param(r.query, "limit"); !l.empty()) {
                const auto parsed = util::parse_count(l);
                if (!parsed || *parsed == 0) return HttpResponse{400, "text/plain; charset=utf-8", "bad 'limit'\n"};
                limit = static_cast<std::size_t>(std::min<std::uint64_t>(*parsed, 20'000));
            }
            store.flush();
            const auto since_ms = t - std::min<std::int64_t>(to_ms(since), t);
            return json_response(json{{"endpoint", public_text(name, 200)},
                                      {"since_ms", since_ms},
                                      {"documents", store.history(name, since_ms, limit)}});
        }
        return not_found();
    }

    HttpResponse asset(const std::string& path) {
        const WebAsset* a = find_web_asset(path);
        if (!a) return not_found();
        HttpResponse resp{200, a->content_type, std::string(a->body, a->size), "no-cache"};
        if (!cfg.web_dir.empty()) {
            // Development: the file on disk wins; the embedded copy stays the fallback. Only the
            // names of embedded assets are served, so no path from the request reaches the disk.
            const auto file = std::filesystem::path(cfg.web_dir) / std::filesystem::path(path).filename();
            if (std::ifstream in(file, std::ios::binary); in) {
                std::ostringstream ss;
                ss << in.rdbuf();
                resp.body = ss.str();
            }
        }
        return resp;
    }

    // ---- feeds ----

    void poll() {
        const auto t = now_ms();
        std::size_t budget = 5000;  // per tick, so HTTP stays responsive under a flood
        for (auto& f : feeds) {
            while (budget > 0) {
                std::vector<zmq::message_t> parts;
                zmq::message_t part;
                try {
                    if (!f.socket->recv(part, zmq::recv_flags::dontwait)) break;
                    parts.push_back(std::move(part));
                    while (parts.back().more() && parts.size() < 8) {
                        zmq::message_t next;
                        if (!f.socket->recv(next, zmq::recv_flags::dontwait)) break;
                        parts.push_back(std::move(next));
                    }
                } catch (const zmq::error_t& e) {
                    log->error("bts-stats: receive failed: {}", e.what());
                    break;
                }
                --budget;
                handle(f, parts, t);
            }
        }
        poll_timer.expires_after(std::chrono::milliseconds(50));
        poll_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) poll();
        });
    }

    void handle(Feed& f, const std::vector<zmq::message_t>& parts, std::int64_t t) {
        FeedHealth& h = model.feeds()[f.health];
        h.last_message_ms = t;
        ++h.messages;
        if (parts.empty()) return;
        const std::string_view topic = parts.size() >= 2 ? parts[0].to_string_view() : std::string_view();
        if (f.collector && topic.starts_with("collector/")) return;  // self-report: a sign of life
        const auto decoded = wire::decode(parts.back().to_string_view());
        if (!decoded) {
            ++h.malformed;
            bad_input.warn(h.endpoint, "bts-stats: dropped malformed message from {}: {}", h.endpoint,
                           decoded.error());
            return;
        }
        const std::string old_run = model.run_id();
        if (const auto* r = std::get_if<wire::UptimeResult>(&*decoded)) {
            const bool is_new_endpoint = model.endpoint_json(r->endpoint, t).is_null();
            const Admission a = model.offer_result(*r, t);
            if (a == Admission::duplicate) return;  // the same result through the other feed
            if (a != Admission::added) {
                ++h.rejected;
                bad_input.warn(h.endpoint + "/rejected", "bts-stats: refused a result from {} for \"{}\": {} ({} so far)",
                               h.endpoint, public_text(r->endpoint, 100), to_string(a), h.rejected);
                return;
            }
            if (!store.add(*r) && !store.last_error().empty()) {
                bad_input.warn("store", "bts-stats: store: {}", store.last_error());
            }
            if (is_new_endpoint) {
                store.flush();
                refresh_uptime(t);
            }
            server->broadcast("uptime", dump(model.endpoint_json(r->endpoint, t)));
        } else if (const auto* c = std::get_if<wire::ClusterTotals>(&*decoded)) {
            model.add_totals(*c);
            if (model.run_id() != old_run) server->broadcast("run", dump(json{{"run_id", model.run_id()}}));
            server->broadcast("totals", dump(Model::totals_json(*c)));
        } else if (const auto* s = std::get_if<wire::StatsInterval>(&*decoded)) {
            model.add_interval(*s, t);
            if (model.run_id() != old_run) server->broadcast("run", dump(json{{"run_id", model.run_id()}}));
            server->broadcast("beacon", dump(model.beacon_json(s->beacon_id, t)));
        } else if (const auto* e = std::get_if<wire::RunEvent>(&*decoded)) {
            model.add_event(*e);
            server->broadcast("runevent", dump(Model::event_json(*e)));
        }
        // Other message types (commands, heartbeats) are not for this page.
    }

    void refresh_uptime(std::int64_t t) {
        for (const auto& [name, p] : store.uptime(t)) model.set_uptime(name, p);
    }

    // Once a second: commit, feed health to the pages; every uptime_refresh: percentages;
    // hourly: retention.
    void tick() {
        const auto t = now_ms();
        store.flush();
        server->broadcast("feeds", dump(model.feeds_json(t)));
        if (t - last_refresh_ms >= to_ms(cfg.uptime_refresh)) {
            last_refresh_ms = t;
            refresh_uptime(t);
        }
        if (t - last_prune_ms >= 3'600'000) {
            last_prune_ms = t;
            const auto n = store.prune(t);
            if (n > 0) log->info("bts-stats: pruned {} rows past retention", n);
        }
        if (store.errors() != reported_errors) {
            reported_errors = store.errors();
            log->warn("bts-stats: store errors: {} (last: {})", reported_errors, store.last_error());
        }
        tick_timer.expires_after(std::chrono::seconds(1));
        tick_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) tick();
        });
    }

    StatsConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    util::RateLimitedWarn bad_input;
    Model model;
    UptimeStore store;
    asio::io_context ioc;
    asio::steady_timer poll_timer;
    asio::steady_timer tick_timer;
    std::vector<Feed> feeds;
    std::unique_ptr<HttpServer> server;
    std::int64_t last_refresh_ms = 0;
    std::int64_t last_prune_ms = 0;
    std::uint64_t reported_errors = 0;
};

StatsApp::StatsApp(zmq::context_t& ctx, StatsConfig cfg, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(ctx, std::move(cfg), std::move(log))) {}

StatsApp::~StatsApp() = default;

std::uint16_t StatsApp::port() const { return impl_->server->port(); }

void StatsApp::run() {
    auto& i = *impl_;
    std::string feeds;
    for (const auto& f : i.model.feeds()) feeds += (feeds.empty() ? "" : ", ") + f.name + " " + f.endpoint;
    i.log->info("bts-stats: serving on http://{}:{}/ (feeds: {}; store {})", i.cfg.listen, port(), feeds, i.cfg.store);
    i.poll();
    i.tick();
    i.ioc.run();
    i.server->stop();
    i.store.flush();
    i.log->info("bts-stats: stopped");
}

void StatsApp::stop() { impl_->ioc.stop(); }

}  // namespace bts::stats
