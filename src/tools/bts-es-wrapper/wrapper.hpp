// bts-es-wrapper: a read-only HTTP service in front of an Elasticsearch cluster, for the public.
//
// Served (everything else is refused with 403 JSON and never reaches Elasticsearch):
//   GET /get_account_history, /get_single_operation, /get_trx, /is_alive — the community
//       bitshares-es-wrapper's endpoints, parameter names and result shapes (see /openapi.json);
//   GET /openapi.json — the OpenAPI 3 document of this service;
//   GET|POST /<indices>/_search, /<indices>/_count, /<indices>/_msearch, /_msearch,
//   GET /<indices>/_mapping, GET /_cat/indices[/<indices>] — passed through when every index
//       expression is covered by allowed_indices, the body is JSON without scripts (script,
//       script_score, script_fields, scripted_metric, bucket_script, bucket_selector,
//       runtime_mappings), without regexp, leading-wildcard wildcard/query_string, terms lookups
//       or more_like_this (they read other indices), with size ≤ max_size, from + size ≤
//       max_window, every bucket aggregation's size ≤ max_buckets and at most max_aggs of them;
//       query parameters from a per-API allow-list. The search "timeout" and "terminate_after"
//       are set (or lowered) to the configured bounds before forwarding.
// Per client (IP, or X-Forwarded-For's last hop when trust_forwarded_for): a token bucket of
// `rate` requests/s and `burst` → 429 with Retry-After. CORS for cors_origins. One access-log line
// per request (JSON). TLS when tls_cert/tls_key are set. Connection limits from the shared server
// core (common/net/http_server.hpp).
#pragma once

#include "common/net/http_server.hpp"
#include "common/util/config.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::eswrapper {

struct WrapperConfig {
    std::string listen = "127.0.0.1";
    std::uint16_t port = 5000;
    std::string es_url = "http://127.0.0.1:9200";
    std::string es_user;
    std::string es_password_file;
    std::string es_api_key_file;
    std::string es_ca_file;
    std::chrono::milliseconds es_timeout{15'000};      // whole upstream exchange
    std::chrono::milliseconds search_timeout{10'000};  // the search "timeout" sent to ES
    std::uint64_t terminate_after = 1'000'000;         // docs per shard before a search stops
    std::vector<std::string> allowed_indices = {"bitshares-*", "objects-*", "bts-*"};
    std::string history_index = "bitshares-*";  // what the community endpoints search
    std::uint64_t max_size = 1000;              // hits per request
    std::uint64_t max_window = 10'000;          // from + size
    std::uint64_t max_buckets = 1000;           // per bucket aggregation, nested sizes multiplied
    std::uint64_t max_aggs = 20;
    std::uint64_t max_body = 64 * 1024;
    double rate = 20;  // requests/s per client
    double burst = 40;
    std::vector<std::string> cors_origins = {"*"};
    std::string access_log = "-";  // file, "-" = stdout, "" = off
    bool trust_forwarded_for = false;
    std::string tls_cert;
    std::string tls_key;
    std::uint64_t max_connections = 512;
    std::uint64_t max_connections_per_ip = 64;
    std::chrono::milliseconds request_timeout{10'000};

    static WrapperConfig from_toml(const util::TomlDoc& doc);
    void validate() const;
};

// The pure request guard (tests call it directly too): "" when the request may go to ES, else the
// reason. `path` is the URL path, `query` the raw query string; `body` may be rewritten (timeouts).
struct GuardResult {
    int status = 200;     // 200 ok, 400 malformed, 403 refused
    std::string reason;   // when refused
    std::string es_path;  // what to send upstream (path + "?" + query)
    std::string body;     // what to send upstream
    std::string content_type = "application/json";
};
[[nodiscard]] GuardResult guard_passthrough(const WrapperConfig& cfg, const std::string& method,
                                            const std::string& path, const std::string& query,
                                            const std::string& body);

class EsWrapper {
  public:
    // Starts listening; throws std::runtime_error (bad address, TLS files, credentials files).
    EsWrapper(boost::asio::io_context& ioc, WrapperConfig cfg, std::shared_ptr<spdlog::logger> log);
    ~EsWrapper();
    EsWrapper(const EsWrapper&) = delete;
    EsWrapper& operator=(const EsWrapper&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] const net::HttpServerStats& server_stats() const;
    void stop();

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace bts::eswrapper
