// Probers for API nodes (websocket JSON-RPC), HTTP(S) pages and Elasticsearch health.
#include "actors/uptime/probe.hpp"

#include "common/net/http_client.hpp"
#include "common/net/url.hpp"
#include "common/net/ws_client.hpp"
#include "common/util/config.hpp"
#include "common/util/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace bts::uptime {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string_view to_string(ProbeKind k) noexcept {
    switch (k) {
        case ProbeKind::api: return "api";
        case ProbeKind::http: return "http";
        case ProbeKind::es: return "es";
    }
    return "api";
}

std::string EndpointConfig::wire_kind() const {
    if (kind == ProbeKind::es) return "es";
    const auto colon = url.find("://");
    return colon == std::string::npos ? std::string(to_string(kind)) : url.substr(0, colon);
}

void EndpointConfig::validate(std::string_view key) const {
    auto k = [&](std::string_view field) { return std::string(key) + "." + std::string(field); };
    util::check_config(!name.empty(), k("name"), "must not be empty");
    util::check_config(name.size() <= 200, k("name"), "longer than 200 characters");
    for (char c : name) {
        util::check_config(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, k("name"),
                           "must not contain control characters");
    }
    std::string why;
    const auto parsed = net::parse_url(url, &why);
    util::check_config(parsed.has_value(), k("url"), why);
    if (kind == ProbeKind::api) {
        util::check_config(parsed->websocket(), k("url"), "an api endpoint needs ws:// or wss://");
    } else {
        util::check_config(!parsed->websocket(), k("url"),
                           "an http or es endpoint needs http:// or https://");
    }
    if (!chain_id.empty()) {
        bool hex = chain_id.size() == 64;
        for (char c : chain_id) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
        util::check_config(hex, k("chain_id"), "must be 64 hex digits");
    }
    util::check_config(interval >= std::chrono::milliseconds(100), k("interval"),
                       "must be at least 100ms");
    util::check_config(timeout >= std::chrono::milliseconds(10), k("timeout"),
                       "must be at least 10ms");
    util::check_config(timeout <= interval, k("timeout"), "must not exceed the interval");
    util::check_config(es_path.starts_with("/"), k("es_path"), "must start with '/'");
    thresholds.validate(key);
}

std::string public_url(std::string_view url) {
    std::string out(url.substr(0, url.find_first_of("?#")));
    const auto scheme = out.find("://");
    const std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
    const auto path = out.find('/', host_start);
    const auto at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
    return out;
}

namespace {

std::int64_t since_us(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint64_t as_u64(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

void apply_timings(wire::UptimeResult& r, const net::ConnectTimings& t) {
    r.dns_us = as_u64(t.dns_us);
    r.connect_us = as_u64(t.tcp_us);
    r.tls_us = as_u64(t.tls_us);
    r.ws_us = as_u64(t.ws_us);
}

void apply_tls(ProbeOutcome& out, const std::optional<net::TlsInfo>& tls, std::int64_t now_unix) {
    if (!tls || tls->not_after == 0) return;
    auto& r = out.result;
    auto& o = out.obs;
    o.cert_seen = true;
    o.cert_not_after = tls->not_after;
    o.cert_name_matches = tls->host_matched;
    // verified covers chain AND host; the host and the dates are judged separately, so a chain
    // is "trusted" when those were the only complaints.
    const auto& e = tls->verify_error;
    o.cert_trusted = tls->verified || e == "hostname mismatch" || e == "IP address mismatch" ||
                     e == "certificate has expired" || e == "certificate is not yet valid";
    o.cert_verify_error = e;
    bool wildcard = is_wildcard_name(tls->subject_cn);
    for (const auto& san : tls->subject_alt_names) wildcard = wildcard || is_wildcard_name(san);
    o.cert_wildcard = wildcard;
    o.cert_issuer = tls->issuer;
    r.cert_not_after_unix = tls->not_after;
    r.cert_days_left = cert_days_left(tls->not_after, now_unix);
    r.cert_issuer = tls->issuer;
    r.cert_subject = tls->subject;
    r.cert_name_matches = tls->host_matched;
    r.cert_wildcard = wildcard;
}

}  // namespace

struct Prober::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io, EndpointConfig c, std::shared_ptr<spdlog::logger> log)
        : ioc(io), cfg(std::move(c)), timer(io) {
        const std::string probe_url =
            cfg.kind == ProbeKind::es ? join_es_url(cfg.url, cfg.es_path) : cfg.url;
        target_url = probe_url;
        net::TlsOptions tls{.verify = false, .ca_file = cfg.ca_file};
        // The client's own timeouts are a backstop; the probe's timer decides TIMEOUT.
        const auto backstop = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.timeout) +
                              std::chrono::seconds(1);
        if (cfg.kind == ProbeKind::api) {
            net::WsClientConfig wc;
            wc.urls = {probe_url};
            wc.connect_timeout = backstop;
            wc.request_timeout = backstop;
            wc.auto_reconnect = false;
            wc.tls = tls;
            wc.max_message_bytes = 4 * 1024 * 1024;
            wc.user_agent = "bts-uptime/" BTS_VERSION;
            wc.logger = log;
            ws = std::make_unique<net::WsClient>(ioc, std::move(wc));
        } else {
            net::HttpClientConfig hc;
            hc.tls = tls;
            hc.connect_timeout = backstop;
            hc.request_timeout = backstop;
            hc.max_body_bytes = 1024 * 1024;
            hc.keep_alive = false;  // every probe measures a fresh connection
            hc.user_agent = "bts-uptime/" BTS_VERSION;
            hc.logger = log;
            http = std::make_unique<net::HttpClient>(ioc, std::move(hc));
        }
    }

    static std::string join_es_url(const std::string& base, const std::string& path) {
        std::string b = base;
        while (!b.empty() && b.back() == '/') b.pop_back();
        return b + path;
    }

    void start(std::optional<std::uint64_t> anchor_height, ProbeDone cb) {
        busy = true;
        ++gen;
        done = std::move(cb);
        anchor = anchor_height;
        out = ProbeOutcome{};
        auto& r = out.result;
        r.endpoint = cfg.name;
        r.url = public_url(cfg.url);
        r.kind = cfg.wire_kind();
        r.unix_ms = unix_ms_now();
        out.obs.api = cfg.kind == ProbeKind::api;
        out.obs.expected_chain_id = cfg.chain_id;
        phase = "connect";
        t0 = Clock::now();
        timer.expires_after(cfg.timeout);
        timer.async_wait([w = weak_from_this(), g = gen](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = w.lock(); self && self->gen == g && self->busy) self->on_timeout();
        });
        if (ws) {
            ws->on_state([w = weak_from_this(), g = gen](net::WsState state,
                                                          const net::ConnectInfo& info,
                                                          std::string_view reason) {
                auto self = w.lock();
                if (!self || self->gen != g || !self->busy) return;
                self->on_ws_state(state, info, reason);
            });
            ws->start();
        } else {
            net::HttpRequest req;
            req.url = target_url;
            req.headers = {{"Accept", cfg.kind == ProbeKind::es ? "application/json" : "*/*"}};
            http->request(std::move(req), [w = weak_from_this(), g = gen](net::HttpResponse&& resp) {
                auto self = w.lock();
                if (!self || self->gen != g || !self->busy) return;
                self->on_http(std::move(resp));
            });
        }
    }

    // ---- websocket API node ----

    void on_ws_state(net::WsState state, const net::ConnectInfo& info, std::string_view reason) {
        apply_timings(out.result, info.timings);
        apply_tls(out, info.tls, out.result.unix_ms / 1000);
        if (state == net::WsState::connect_failed) {
            return fail(Failure::connect, info.error.empty() ? std::string(reason) : info.error);
        }
        if (state == net::WsState::disconnected) {
            return fail(Failure::protocol, "connection lost: " + std::string(reason));
        }
        phase = "API calls";
        t_rpc = Clock::now();
        const auto g = gen;
        auto guard = [w = weak_from_this(), g](auto fn) {
            return [w, g, fn](net::RpcResult&& res) {
                auto self = w.lock();
                if (!self || self->gen != g || !self->busy) return;
                fn(*self, std::move(res));
            };
        };
        if (anchor && *anchor == 0) anchor.reset();  // block 0 has no header
        calls_left = anchor ? 3 : 2;
        ws->call(std::int64_t{0}, "get_chain_id", json::array(),
                 guard([](Impl& s, net::RpcResult&& res) { s.on_chain_id(std::move(res)); }));
        ws->call(std::int64_t{0}, "get_dynamic_global_properties", json::array(),
                 guard([](Impl& s, net::RpcResult&& res) { s.on_dgp(std::move(res)); }));
        if (anchor) {
            ws->call(std::int64_t{0}, "get_block_header", json::array({*anchor}),
                     guard([](Impl& s, net::RpcResult&& res) { s.on_header(std::move(res)); }));
        }
    }

    static std::string rpc_failure(std::string_view what, const net::RpcResult& res) {
        return std::string(what) + " failed: " + std::string(net::to_string(res.kind)) +
               (res.message.empty() ? "" : ": " + util::printable(res.message, 200));  // the node's text, escaped
    }

    void on_chain_id(net::RpcResult&& res) {
        out.result.rpc_us = as_u64(since_us(t_rpc));
        if (!res.ok()) return fail(Failure::protocol, rpc_failure("get_chain_id", res));
        if (!res.result.is_string()) return fail(Failure::protocol, "get_chain_id: not a string");
        out.result.chain_id = res.result.get<std::string>().substr(0, 64);
        out.obs.chain_id = out.result.chain_id;
        call_done();
    }

    void on_dgp(net::RpcResult&& res) {
        if (!res.ok()) return fail(Failure::protocol, rpc_failure("get_dynamic_global_properties", res));
        const json& d = res.result;
        if (!d.is_object()) return fail(Failure::protocol, "get_dynamic_global_properties: not an object");
        const auto num = [&](const char* key) -> std::optional<std::uint64_t> {
            const auto it = d.find(key);
            if (it == d.end()) return std::nullopt;
            if (it->is_number_unsigned()) return it->get<std::uint64_t>();
            if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
                return static_cast<std::uint64_t>(it->get<std::int64_t>());
            }
            return std::nullopt;
        };
        const auto head = num("head_block_number");
        const auto time_it = d.find("time");
        std::optional<std::int64_t> head_time;
        if (time_it != d.end() && time_it->is_string()) head_time = parse_node_time(time_it->get<std::string>());
        if (!head || !head_time) {
            return fail(Failure::protocol, "get_dynamic_global_properties: no head_block_number/time");
        }
        out.result.head_block_num = *head;
        const double now_s = static_cast<double>(unix_ms_now()) / 1000.0;
        out.result.head_block_age_s = std::max(0.0, now_s - static_cast<double>(*head_time));
        out.obs.head_known = true;
        out.obs.head_age_s = out.result.head_block_age_s;
        if (const auto lib = num("last_irreversible_block_num")) out.last_irreversible = *lib;
        if (const auto id = d.find("head_block_id"); id != d.end() && id->is_string()) {
            out.block_ids.emplace_back(*head, id->get<std::string>());
        }
        if (const auto slots = d.find("recent_slots_filled"); slots != d.end()) {
            std::optional<double> p;
            if (slots->is_string()) p = participation_from_slots(slots->get<std::string>());
            else if (slots->is_number_unsigned()) p = participation_from_slots(std::to_string(slots->get<std::uint64_t>()));
            if (p) {
                out.obs.participation_known = true;
                out.obs.participation = *p;
                out.result.participation = *p;
            }
        }
        call_done();
    }

    void on_header(net::RpcResult&& res) {
        // A node that cannot serve the header (pruned, unknown method) only loses the anchor
        // comparison; it is not down for that.
        if (res.ok() && res.result.is_object()) {
            if (const auto prev = res.result.find("previous"); prev != res.result.end() && prev->is_string()) {
                out.block_ids.emplace_back(*anchor - 1, prev->get<std::string>());
            }
        }
        call_done();
    }

    void call_done() {
        if (--calls_left == 0) finish();
    }

    // ---- HTTP(S) / Elasticsearch ----

    void on_http(net::HttpResponse&& resp) {
        apply_timings(out.result, resp.timings);
        apply_tls(out, resp.tls, out.result.unix_ms / 1000);
        if (resp.timed_out) return fail(Failure::timeout, "no response within " + util::format_duration(cfg.timeout));
        if (!resp.ok()) return fail(Failure::connect, resp.error);
        out.result.rpc_us = as_u64(resp.ttfb_us);
        out.obs.http_status = resp.status;
        if (cfg.kind == ProbeKind::es && resp.status >= 200 && resp.status < 300) {
            json body = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
            const auto it = body.is_object() ? body.find("status") : body.end();
            if (body.is_discarded() || !body.is_object() || it == body.end() || !it->is_string()) {
                return fail(Failure::protocol, "not an Elasticsearch health reply");
            }
            out.obs.es_status = it->get<std::string>().substr(0, 16);
        }
        finish();
    }

    // ---- common ----

    void on_timeout() {
        fail(Failure::timeout, "no complete answer within " + util::format_duration(cfg.timeout) +
                                   " (during " + phase + ")");
    }

    void fail(Failure f, std::string text) {
        out.obs.failure = f;
        out.obs.failure_text = std::move(text);
        finish();
    }

    void finish() {
        busy = false;
        ++gen;  // whatever the clients still report about this probe is ignored
        timer.cancel();
        out.result.duration_us = as_u64(since_us(t0));
        if (ws) ws->stop();
        ProbeDone cb = std::move(done);
        done = nullptr;
        if (cb) cb(std::move(out));
    }

    asio::io_context& ioc;
    EndpointConfig cfg;
    std::string target_url;
    asio::steady_timer timer;
    std::unique_ptr<net::WsClient> ws;
    std::unique_ptr<net::HttpClient> http;
    bool busy = false;
    std::uint64_t gen = 0;
    ProbeDone done;
    ProbeOutcome out;
    std::optional<std::uint64_t> anchor;
    std::string phase;
    Clock::time_point t0;
    Clock::time_point t_rpc;
    int calls_left = 0;
};

Prober::Prober(asio::io_context& ioc, EndpointConfig cfg, std::shared_ptr<spdlog::logger> net_log)
    : impl_(std::make_shared<Impl>(ioc, std::move(cfg), std::move(net_log))) {}

Prober::~Prober() {
    impl_->busy = false;
    ++impl_->gen;
    impl_->done = nullptr;
    impl_->timer.cancel();
}

bool Prober::probe(std::optional<std::uint64_t> anchor, ProbeDone done) {
    if (impl_->busy) return false;
    impl_->start(anchor, std::move(done));
    return true;
}

bool Prober::busy() const noexcept { return impl_->busy; }
const EndpointConfig& Prober::config() const noexcept { return impl_->cfg; }

}  // namespace bts::uptime
