// Small asynchronous HTTP(S) client: one request → one response, with keep-alive connection reuse.
// Used by the Elasticsearch sink and the HTTPS uptime probe.
//
// Threading: like WsClient — one io_context the caller owns, run from one thread; call request()
// from that thread; callbacks run there. Destroy the client before the io_context.
//
//   HttpClient http(ioc, {});
//   HttpRequest req;
//   req.method = "POST";
//   req.url = "https://es:9200/_bulk";
//   req.headers = {{"Content-Type", "application/x-ndjson"}};
//   req.body = std::move(ndjson);
//   http.request(std::move(req), [](HttpResponse&& r) {
//     if (!r.ok()) ...r.error...; else ...r.status, r.body...
//   });
//
// Every request ends in exactly one callback, never inside request() itself. A response with any
// status (404, 500, ...) is ok(); error is set only when no response was received (bad URL, DNS,
// connect, TLS, timeout, malformed response, body over max_body_bytes).
//
// Keep-alive: after a complete response that allows it, the connection goes to a per-origin idle
// pool and the next request to that origin reuses it (timings are then 0, reused_connection true).
// If a reused connection turns out to be dead before any response byte arrives, the request is
// retried once on a fresh connection — note this may repeat a POST the server had received.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/net/connect_info.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // any standard verb, upper case
  std::string url;             // http:// or https://
  HttpHeaders headers;         // added as given; Host, User-Agent and Content-Length are set for you
  std::string body;
  std::chrono::milliseconds timeout{0};  // whole exchange incl. connect; 0 = config default
};

struct HttpResponse {
  std::string error;         // empty when a response was received
  bool timed_out = false;
  bool tls_failure = false;
  int status = 0;            // e.g. 200
  HttpHeaders headers;
  std::string body;
  ConnectTimings timings;    // of the connection used; all 0 when reused
  int64_t ttfb_us = 0;       // request written → response header parsed
  int64_t total_us = 0;      // request() → callback
  bool reused_connection = false;
  std::string remote_endpoint;
  std::optional<TlsInfo> tls;  // https: the peer certificate of the connection used

  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
  // First header named `name` (case-insensitive), "" if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

using ResponseCallback = std::function<void(HttpResponse&& response)>;

struct HttpClientConfig {
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{10'000};  // DNS + TCP + TLS
  std::chrono::milliseconds request_timeout{30'000};  // whole exchange, unless the request sets one
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  bool keep_alive = true;
  std::size_t max_idle_per_origin = 4;
  std::chrono::milliseconds idle_timeout{30'000};  // idle pooled connections older than this are closed
  std::string user_agent = "bts-stress";
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger
};

struct HttpClientCounters {
  uint64_t requests = 0;
  uint64_t responses = 0;      // responses received (any status)
  uint64_t failures = 0;       // requests that ended with error set (includes timeouts, tls_failures)
  uint64_t timeouts = 0;
  uint64_t tls_failures = 0;
  uint64_t connects = 0;       // new connections established
  uint64_t reused = 0;         // requests sent on a pooled connection
  uint64_t stale_retries = 0;  // requests retried because a pooled connection was dead
};

class HttpClient {
 public:
  // Throws std::runtime_error if config.tls.ca_file cannot be loaded.
  HttpClient(boost::asio::io_context& ioc, HttpClientConfig config = {});
  // Aborts everything; outstanding callbacks are dropped without being called.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void request(HttpRequest request, ResponseCallback callback);
  void close_idle();  // closes pooled connections
  [[nodiscard]] std::size_t idle_connections() const noexcept;
  [[nodiscard]] const HttpClientCounters& counters() const noexcept;

  struct Impl;  // implementation; public only so the .cpp's connection classes can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bts::net
