// A small read-only HTTP/1.1 server (Beast) for the stats page: GET/HEAD routed to one handler,
// plus server-sent events (text/event-stream) broadcast to every subscribed browser.
//
// Limits that keep a public page safe: GET and HEAD only (others 405); request line and headers
// at most 8 KiB, no bodies; 30 s to send a request; at most max_connections connections (more
// are closed at once); an event-stream client that does not read (queue > 1 MiB) is dropped.
// Responses carry nosniff and a same-origin Content-Security-Policy; /api/ responses may be
// read cross-origin (the existing stats pages consume them).
//
// Threading: runs on the caller's io_context, one thread; every method from that thread.
#pragma once

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

namespace bts::stats {

struct HttpRequest {
    std::string method;  // "GET" or "HEAD"
    std::string path;    // as sent (not decoded), without the query
    std::string query;   // after '?', "" if none
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string cache_control = "no-store";
    bool event_stream = false;  // turn this connection into an SSE subscriber (body ignored)
};

struct HttpServerStats {
    std::uint64_t connections = 0;
    std::uint64_t rejected = 0;  // over max_connections
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t sse_dropped = 0;  // slow event-stream readers
};

class HttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    // Binds address:port (port 0 = ephemeral). Throws std::runtime_error naming the address.
    HttpServer(boost::asio::io_context& ioc, const std::string& address, std::uint16_t port,
               Handler handler, std::size_t max_connections = 256);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    // Sends `event: NAME\ndata: DATA\n\n` to every event-stream client. DATA must be one line.
    void broadcast(std::string_view event, std::string_view data);
    [[nodiscard]] std::size_t event_clients() const;
    [[nodiscard]] const HttpServerStats& stats() const;
    void stop();  // closes the listener and every connection

    struct Core;

private:
    std::shared_ptr<Core> core_;
};

// Query parameter `key` of "a=1&b=2" (not percent-decoded beyond '+' → ' '); "" if absent.
[[nodiscard]] std::string query_param(std::string_view query, std::string_view key);
// Decodes %XX escapes and '+'; malformed escapes stay as they are.
[[nodiscard]] std::string percent_decode(std::string_view text);

}  // namespace bts::stats
