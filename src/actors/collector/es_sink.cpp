// Shipping the spool to Elasticsearch: templates, _bulk batches, per-item outcomes, backoff.
#include "actors/collector/es_sink.hpp"

#include "actors/collector/documents.hpp"
#include "common/net/http_client.hpp"
#include "common/util/log.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

namespace bts::collector {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_secret_file(const std::string& path, const char* what) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read " + what + " file");
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) throw std::runtime_error(path + ": " + what + " file is empty");
    return line;
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string es_authorization(const EsConfig& c) {
    if (!c.username.empty()) {
        std::string pw = c.password_file.empty() ? c.password : read_secret_file(c.password_file, "password");
        return "Basic " + base64(c.username + ":" + pw);
    }
    std::string key = c.api_key_file.empty() ? c.api_key : read_secret_file(c.api_key_file, "API key");
    if (key.empty()) return {};
    return "ApiKey " + (key.find(':') != std::string::npos ? base64(key) : key);
}

struct EsSink::Impl {
    Impl(const EsConfig& c, Spool& s, std::shared_ptr<spdlog::logger> l)
        : cfg(c), spool(s), log(l ? std::move(l) : spdlog::default_logger()), warn(*log, 3, std::chrono::seconds(30)),
          rng(std::random_device{}()) {
        base = cfg.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        auth = es_authorization(cfg);
        net::HttpClientConfig hc;
        hc.tls.verify = cfg.tls_verify;
        hc.tls.ca_file = cfg.ca_file;
        auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.request_timeout);
        hc.request_timeout = timeout;
        hc.connect_timeout = std::min(timeout, std::chrono::milliseconds(10'000));
        hc.user_agent = "bts-collector/" BTS_VERSION;
        hc.logger = log;
        hc.max_idle_per_origin = 2;
        http = std::make_unique<net::HttpClient>(ioc, hc);
    }

    const EsConfig cfg;
    Spool& spool;
    std::shared_ptr<spdlog::logger> log;
    util::RateLimitedWarn warn;  // used on the sink thread only
    std::mt19937_64 rng;
    std::string base;
    std::string auth;  // never logged
    boost::asio::io_context ioc;
    std::unique_ptr<net::HttpClient> http;

    std::mutex stop_mu;
    std::condition_variable stop_cv;
    std::atomic<bool> stopping{false};

    std::atomic<std::uint64_t> stored{0}, duplicates{0}, item_retries{0}, dead_letters{0}, requests{0},
        request_failures{0};
    std::atomic<bool> available{false}, templates_installed{false};
    std::atomic<std::int64_t> pending_since_ms{0};  // unix ms; 0 = nothing waiting
    std::uint64_t consecutive_failures = 0;
    std::ofstream dead;

    // Sleeps, waking early on stop. False when stopping.
    bool sleep(std::chrono::milliseconds d) {
        std::unique_lock lock(stop_mu);
        return !stop_cv.wait_for(lock, d, [&] { return stopping.load(); });
    }

    std::chrono::milliseconds backoff(unsigned attempt) {
        auto init = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.backoff_init).count();
        auto max = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.backoff_max).count();
        double d = static_cast<double>(init) * std::pow(2.0, std::min(attempt, 30u));
        d = std::min(d, static_cast<double>(max));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return std::chrono::milliseconds(static_cast<std::int64_t>(d * jitter(rng)) + 1);
    }

    net::HttpResponse send(const char* method, const std::string& path, std::string body, const char* type) {
        net::HttpRequest req;
        req.method = method;
        req.url = base + path;
        if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
        if (type) req.headers.emplace_back("Content-Type", type);
        req.headers.emplace_back("Accept", "application/json");
        req.body = std::move(body);
        net::HttpResponse resp;
        bool done = false;
        ++requests;
        http->request(std::move(req), [&](net::HttpResponse&& r) {
            resp = std::move(r);
            done = true;
        });
        ioc.restart();
        while (!done && !stopping) ioc.run_one_for(std::chrono::milliseconds(50));
        if (!done) resp.error = "stopping";
        return resp;
    }

    void failed(const std::string& what) {
        ++request_failures;
        ++consecutive_failures;
        if (available.exchange(false) || consecutive_failures == 1)
            log->warn("Elasticsearch unavailable ({}); documents wait in the spool ({} items)", what,
                      spool.pending_items());
        else
            warn.warn("es-down", "Elasticsearch still unavailable ({}); spool holds {} items, {} bytes", what,
                      spool.pending_items(), spool.pending_bytes());
    }

    void succeeded() {
        if (!available.exchange(true) && consecutive_failures > 0)
            log->info("Elasticsearch reachable again after {} failed requests; replaying {} spooled items",
                      consecutive_failures, spool.pending_items());
        consecutive_failures = 0;
    }

    static std::string describe(const net::HttpResponse& r) {
        if (!r.ok()) return r.error;
        std::string body = r.body.substr(0, 200);
        for (char& c : body)
            if (c == '\n' || c == '\r') c = ' ';
        return "HTTP " + std::to_string(r.status) + " " + util::redact(body);
    }

    static bool retryable(int status) { return status == 429 || status >= 500; }

    bool install_templates() {
        unsigned attempt = 0;
        for (const auto& [name, body] : index_templates(cfg.index_prefix)) {
            for (;;) {
                if (stopping) return false;
                auto r = send("PUT", "/_index_template/" + name, body, "application/json");
                if (stopping) return false;
                if (r.ok() && r.status >= 200 && r.status < 300) {
                    succeeded();
                    break;
                }
                if (!r.ok() || retryable(r.status) || r.status == 401 || r.status == 403) {
                    failed("installing template " + name + ": " + describe(r));
                    if (!sleep(backoff(attempt++))) return false;
                    continue;
                }
                succeeded();
                log->error("Elasticsearch refused index template {} ({}); continuing without it", name, describe(r));
                break;
            }
        }
        log->info("Elasticsearch index templates installed ({}-*)", cfg.index_prefix);
        templates_installed = true;
        return true;
    }

    void dead_letter(std::string_view item, int status, const std::string& reason) {
        ++dead_letters;
        if (!dead.is_open()) {
            dead.open(cfg.dead_letter_file, std::ios::app);
            if (!dead) {
                log->error("cannot open dead-letter file {}; dropping a rejected document", cfg.dead_letter_file);
                return;
            }
        }
        auto nl = item.find('\n');
        std::string_view action = item.substr(0, nl);
        std::string_view doc = item.substr(nl + 1);
        if (!doc.empty() && doc.back() == '\n') doc.remove_suffix(1);
        nlohmann::json reason_json = nlohmann::json::parse(reason, nullptr, false);
        if (reason_json.is_discarded()) reason_json = reason;
        dead << "{\"@timestamp\":\"" << iso8601_ms(unix_ms_now()) << "\",\"status\":" << status
             << ",\"reason\":" << reason_json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             << ",\"action\":" << action << ",\"document\":" << doc << "}\n";
        dead.flush();
        warn.warn("dead-letter", "Elasticsearch rejected a document (status {}): {}; written to {}", status,
                  util::redact(reason.substr(0, 300)), cfg.dead_letter_file);
    }

    // Sends items[todo] until each is stored, already there, or dead-lettered. False on stop.
    bool ship(const std::vector<std::string_view>& items) {
        std::vector<std::size_t> todo(items.size());
        for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
        unsigned attempt = 0;
        std::size_t chunk = todo.size();
        while (!todo.empty()) {
            std::vector<std::size_t> retry;
            for (std::size_t start = 0; start < todo.size();) {
                if (stopping) return false;
                std::size_t n = std::min(chunk, todo.size() - start);
                std::string body;
                std::size_t bytes = 0;
                for (std::size_t k = 0; k < n; ++k) bytes += items[todo[start + k]].size();
                body.reserve(bytes);
                for (std::size_t k = 0; k < n; ++k) body += items[todo[start + k]];
                auto r = send("POST", "/_bulk", std::move(body), "application/x-ndjson");
                if (stopping) return false;
                if (!r.ok() || retryable(r.status) || r.status == 401 || r.status == 403 || r.status == 404) {
                    failed(describe(r));
                    if (!sleep(backoff(attempt++))) return false;
                    continue;  // the same chunk again
                }
                if (r.status == 413 && n > 1) {
                    chunk = std::max<std::size_t>(1, n / 2);
                    log->warn("Elasticsearch: bulk request too large ({} items); splitting", n);
                    continue;
                }
                succeeded();
                if (r.status < 200 || r.status >= 300) {
                    for (std::size_t k = 0; k < n; ++k) dead_letter(items[todo[start + k]], r.status, describe(r));
                    start += n;
                    continue;
                }
                // Fast path: nothing failed.
                if (r.body.find("\"errors\":false") < 200) {
                    stored += n;
                    start += n;
                    continue;
                }
                auto j = nlohmann::json::parse(r.body, nullptr, false);
                const nlohmann::json* list = nullptr;
                if (j.is_object() && j.contains("items") && j["items"].is_array()) list = &j["items"];
                if (!list || list->size() != n) {
                    // Unusable answer: resend them all (anything stored comes back as 409).
                    failed("malformed _bulk response: " + describe(r));
                    for (std::size_t k = 0; k < n; ++k) retry.push_back(todo[start + k]);
                    start += n;
                    continue;
                }
                for (std::size_t k = 0; k < n; ++k) {
                    const auto& entry = (*list)[k];
                    const nlohmann::json* result = nullptr;
                    if (entry.is_object() && !entry.empty()) result = &entry.begin().value();
                    int status = 0;
                    if (result && result->is_object() && result->contains("status") &&
                        (*result)["status"].is_number_integer())
                        status = (*result)["status"].get<int>();
                    std::size_t idx = todo[start + k];
                    if (status == 200 || status == 201) {
                        ++stored;
                    } else if (status == 409) {
                        ++duplicates;
                    } else if (status == 0 || retryable(status)) {
                        retry.push_back(idx);
                    } else {
                        std::string reason = result && result->contains("error")
                                                 ? (*result)["error"].dump(-1, ' ', false,
                                                                           nlohmann::json::error_handler_t::replace)
                                                 : "status " + std::to_string(status);
                        dead_letter(items[idx], status, reason);
                    }
                }
                start += n;
            }
            if (retry.empty()) break;
            item_retries += retry.size();
            warn.warn("item-retry", "Elasticsearch asked to retry {} documents (429/5xx); backing off", retry.size());
            if (!sleep(backoff(attempt++))) return false;
            todo = std::move(retry);
        }
        return true;
    }

    static std::vector<std::string_view> split(const std::string& bytes) {
        std::vector<std::string_view> items;
        std::size_t start = 0, pos = 0;
        int lines = 0;
        while ((pos = bytes.find('\n', pos)) != std::string::npos) {
            ++pos;
            if (++lines % 2 == 0) {
                items.emplace_back(bytes.data() + start, pos - start);
                start = pos;
            }
        }
        return items;
    }

    void run() {
        if (cfg.install_templates && !install_templates()) return;
        templates_installed = true;
        const auto flush = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.flush_interval);
        // Items already spooled at start-up waited long enough: ship them at once.
        Clock::time_point first_seen = Clock::now() - flush;
        bool waiting = spool.pending_items() > 0;
        if (waiting) pending_since_ms = unix_ms_now();
        while (!stopping) {
            std::uint64_t pending = spool.pending_items();
            if (pending == 0) {
                waiting = false;
                pending_since_ms = 0;
                spool.wait(0, std::chrono::milliseconds(500));
                continue;
            }
            if (!waiting) {
                waiting = true;
                first_seen = Clock::now();
                pending_since_ms = unix_ms_now();
            }
            if (pending < cfg.bulk_max_docs && Clock::now() - first_seen < flush) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(first_seen + flush - Clock::now());
                spool.wait(cfg.bulk_max_docs - 1, std::max(left, std::chrono::milliseconds(1)));
                if (spool.pending_items() < cfg.bulk_max_docs && Clock::now() - first_seen < flush) continue;
            }
            Spool::Position from = spool.cursor();
            Spool::Batch batch = spool.read(from, cfg.bulk_max_docs, cfg.bulk_max_bytes);
            if (batch.items == 0) {
                if (batch.end == from) {  // a read error, or the counter ran ahead of the files
                    warn.warn("spool-read", "spool: nothing readable at the cursor ({})", spool.last_error());
                    sleep(std::chrono::milliseconds(200));
                } else {
                    spool.commit(batch.end, 0);  // skip an empty segment end
                }
                continue;
            }
            auto items = split(batch.bytes);
            const auto ship_start = Clock::now();
            const std::int64_t ship_start_ms = unix_ms_now();
            if (!ship(items)) return;
            spool.commit(batch.end, batch.items);
            // What arrived meanwhile has waited since the shipping started, at least.
            waiting = spool.pending_items() > 0;
            first_seen = ship_start;
            pending_since_ms = waiting ? ship_start_ms : 0;
        }
    }
};

EsSink::EsSink(const EsConfig& config, Spool& spool, std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>(config, spool, std::move(logger))) {}

EsSink::~EsSink() {
    stop();
    impl_->http.reset();  // before the io_context
}

void EsSink::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] {
        try {
            impl_->run();
        } catch (const std::exception& e) {
            impl_->log->error("Elasticsearch sink stopped: {}", e.what());
        }
    });
}

void EsSink::stop() {
    {
        std::lock_guard lock(impl_->stop_mu);
        impl_->stopping = true;
    }
    impl_->stop_cv.notify_all();
    impl_->spool.wake();
    if (thread_.joinable()) thread_.join();
}

EsSinkStats EsSink::stats() const {
    EsSinkStats s;
    s.stored = impl_->stored;
    s.duplicates = impl_->duplicates;
    s.item_retries = impl_->item_retries;
    s.dead_letters = impl_->dead_letters;
    s.requests = impl_->requests;
    s.request_failures = impl_->request_failures;
    s.spool_bytes = impl_->spool.pending_bytes();
    s.spool_items = impl_->spool.pending_items();
    std::int64_t since = impl_->pending_since_ms;
    s.lag_ms = since && s.spool_items ? unix_ms_now() - since : 0;
    s.available = impl_->available;
    s.templates_installed = impl_->templates_installed;
    return s;
}

}  // namespace bts::collector
