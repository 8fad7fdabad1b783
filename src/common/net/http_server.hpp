// The one HTTP/1.1 server core (Beast) of bts-stress: bts-stats, bts-es-wrapper (and the devnet's
// HTTP side) are built on it, so the limits that keep a public server up live here, in one place.
//
// Limits (HttpServerLimits; every one applies to every server):
//   - at most max_connections connections, at most max_connections_per_ip from one address; when a
//     cap is reached, the connection that has waited longest for a request (idle keep-alive or a
//     half-sent request) is closed to make room, and only if none is idle is the new one refused —
//     so idle or slowloris sockets can never lock out a real request (issue 17: "500 idle sockets
//     made /healthz refuse for 30 s");
//   - request_timeout: a request (line, headers, body) must arrive within it, and a keep-alive
//     connection may idle that long between requests; then the connection is closed;
//   - request line + headers ≤ max_header_bytes (431 beyond), body ≤ max_body_bytes (413 beyond;
//     0 = no bodies: only GET/HEAD/OPTIONS are read);
//   - at most max_event_streams server-sent-event subscribers: a new one closes the oldest, and
//     when a cap above is reached with nothing idle, the oldest stream makes room (issue 17: "300
//     held /events streams block the page"); a subscriber that does not read
//     (queue > max_event_queue_bytes) is dropped.
// TLS: set tls.cert_file and tls.key_file (PEM) and every connection is HTTPS (TLS 1.2+).
//
// Threading: runs on the caller's io_context, one thread; every method and the handler are called
// on it. An async handler may answer later (e.g. after an upstream request) by calling `respond`
// exactly once, on that thread; if the connection went away meanwhile, the answer is dropped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bts::net {

struct HttpServerRequest {
    std::string method;  // upper case, as sent ("GET", "POST", ...)
    std::string target;  // as sent: path and query, not decoded
    std::string path;    // target before '?'
    std::string query;   // after '?', "" if none
    std::vector<std::pair<std::string, std::string>> headers;  // names lower case
    std::string body;
    std::string remote_ip;
    std::uint64_t connection_id = 0;
    std::chrono::steady_clock::time_point received;  // when the whole request was read

    // First header named `name` (give it lower case), "" if absent.
    [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

struct HttpServerResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string cache_control = "no-store";
    std::vector<std::pair<std::string, std::string>> headers{};  // extra headers
    bool event_stream = false;  // turn this connection into an SSE subscriber (body ignored)
};

struct HttpServerLimits {
    std::size_t max_connections = 512;
    std::size_t max_connections_per_ip = 64;
    std::chrono::milliseconds request_timeout{10'000};
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 0;
    std::size_t max_event_streams =
        32;  // below max_connections_per_ip: streams never fill a client's share
    std::size_t max_event_queue_bytes = 1024 * 1024;
};

struct HttpServerTls {
    std::string cert_file;  // PEM certificate chain; empty = plain HTTP
    std::string key_file;   // PEM private key
};

struct HttpServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = ephemeral
    std::string server_name = "bts";
    HttpServerLimits limits;
    HttpServerTls tls;
    // Added to every response (e.g. security headers), before the response's own headers.
    std::vector<std::pair<std::string, std::string>> default_headers;
};

struct HttpServerStats {
    std::uint64_t connections = 0;
    std::uint64_t rejected = 0;  // refused: a cap reached and nothing idle to close
    std::uint64_t evicted = 0;   // idle connections closed to make room
    std::uint64_t timeouts = 0;  // requests not received within request_timeout
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;  // malformed, headers or body too large
    std::uint64_t tls_failures = 0;
    std::uint64_t sse_dropped = 0;  // slow event-stream readers
    std::uint64_t sse_shed = 0;     // oldest event streams closed for a new one
};

class HttpServer {
  public:
    using Respond = std::function<void(HttpServerResponse)>;
    using AsyncHandler = std::function<void(HttpServerRequest&&, Respond)>;
    using Handler = std::function<HttpServerResponse(const HttpServerRequest&)>;

    // Binds options.address:port. Throws std::runtime_error naming the address, or the TLS file.
    HttpServer(boost::asio::io_context& ioc, HttpServerOptions options, AsyncHandler handler);
    HttpServer(boost::asio::io_context& ioc, HttpServerOptions options, Handler handler);
    // bts-stats' read-only page: GET/HEAD only, its security headers, CORS on /api/.
    HttpServer(boost::asio::io_context& ioc, const std::string& address, std::uint16_t port,
               Handler handler, std::size_t max_connections = 512);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    // Sends `event: NAME\ndata: DATA\n\n` to every event-stream client. DATA must be one line.
    void broadcast(std::string_view event, std::string_view data);
    [[nodiscard]] std::size_t event_clients() const;
    [[nodiscard]] std::size_t open_connections() const;
    [[nodiscard]] const HttpServerStats& stats() const;
    void stop();  // closes the listener and every connection

    struct Core;

  private:
    std::shared_ptr<Core> core_;
};

// Query parameter `key` of "a=1&b=2", percent-decoded ('+' → ' '); "" if absent.
[[nodiscard]] std::string query_param(std::string_view query, std::string_view key);
// Every key=value pair of a query, decoded, in order.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> query_params(std::string_view query);
// Decodes %XX escapes and '+'; malformed escapes stay as they are.
[[nodiscard]] std::string percent_decode(std::string_view text);

}  // namespace bts::net
