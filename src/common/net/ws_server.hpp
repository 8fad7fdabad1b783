// Websocket JSON-RPC server (plus HTTP POST on the same port) for BitShares-style APIs, on Beast.
//
// The server runs on an io_context the caller owns and runs from ONE thread; every method here and
// on SessionHandle must be called from that thread (use boost::asio::post to get there).
//
// Wire behaviour (graphene-protocol.md §10):
//   * Each text frame is one request. The server parses the envelope itself
//     (`{"id":..,"method":"call","params":[API,"m",[args]]}` or the shortcut `{"id":..,"method":"m",
//     "params":[..]}` → API 0) and hands the handler an RpcRequest. Malformed input never reaches the
//     handler: invalid JSON gets `{"id":null,..."error":{"code":4,...parse_error_exception...}}`, a bad
//     shape gets code 5 (invalid_arg_exception) with the request id when it was readable.
//   * The handler answers whenever it likes — immediately or much later, in any order — through the
//     SessionHandle it received: reply(), reply_error(), or raw send(). Reading continues meanwhile,
//     so any number of requests may be in flight per connection.
//   * notice(cb, payload) sends `{"method":"notice","params":[cb,[payload]]}` at any time.
//   * Outgoing frames queue per session (Beast allows one write at a time). A session whose queue
//     exceeds max_send_queue_bytes is a stalled reader: it is dropped and counted.
//   * HTTP POST of the same JSON to any path is accepted too (bitshares-core does this); the first
//     reply()/send() after such a request becomes the HTTP response body. Notices cannot be
//     delivered over HTTP and are refused (return false). Other methods get 405.
//   * Exceptions thrown by handlers are caught, counted in handler_errors and answered with an
//     error reply (code 0) — they never escape the io_context loop.
//
// Example:
//   WsServer server(ioc, {.port = 0}, [&](const SessionHandle& s, RpcRequest&& r) {
//     if (r.method == "get_chain_id") s.reply(r.id, chain_id);
//     else s.reply_error(r.id, rpc_code::assert_exception, "Assert Exception: unknown method");
//   });
//   uint16_t port = server.port();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/net/json_rpc.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::net {

using SessionId = uint64_t;  // unique per server, never reused; 0 = no session

struct WsServerConfig {
  std::string address = "127.0.0.1";                  // listen address (IPv4 or IPv6 literal)
  uint16_t port = 0;                                  // 0 = ephemeral; read the real one with port()
  std::size_t max_message_bytes = 4 * 1024 * 1024;    // larger frames / HTTP bodies close the session
  std::size_t max_connections = 1024;                 // further connections are accepted and closed at once
  std::size_t max_send_queue_bytes = 64 * 1024 * 1024;  // per session; beyond = slow consumer, dropped
  std::size_t max_json_depth = kMaxJsonDepth;
  std::string tls_cert_file;  // both set: the port speaks wss:// and https:// only (PEM chain + key)
  std::string tls_key_file;
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger
};

// Counters, read by the owner on the io thread.
struct WsServerStats {
  uint64_t accepted = 0;              // TCP connections accepted (incl. rejected ones)
  uint64_t rejected = 0;              // closed at once because max_connections was reached
  uint64_t websocket_sessions = 0;    // websocket upgrades completed
  uint64_t http_requests = 0;         // HTTP requests read (any method)
  uint64_t messages_in = 0;           // request texts received (websocket frames + HTTP POST bodies)
  uint64_t messages_out = 0;          // frames / HTTP responses queued
  uint64_t bad_requests = 0;          // invalid JSON or shape, answered by the server itself
  uint64_t handler_errors = 0;        // exceptions thrown by a handler
  uint64_t send_queue_overflows = 0;  // sessions dropped for not reading
  uint64_t tls_failures = 0;          // TLS handshakes that failed
};

namespace detail {
class ServerSession;
}

// A weak, copyable reference to one connection. Every call is a no-op returning false once the
// connection is gone, so handlers may keep handles for late replies and notices without tracking
// lifetimes.
class SessionHandle {
 public:
  SessionHandle() = default;
  // Made by the server; `session` must belong to it.
  SessionHandle(std::weak_ptr<detail::ServerSession> session, SessionId id) noexcept
      : session_(std::move(session)), id_(id) {}

  [[nodiscard]] SessionId id() const noexcept { return id_; }
  [[nodiscard]] bool is_open() const;
  [[nodiscard]] bool is_http() const;       // an HTTP POST exchange rather than a websocket
  [[nodiscard]] std::string remote() const;  // "ip:port" of the peer, "" once closed

  // Queues one text frame verbatim (over HTTP: the response body). False if closed or refused.
  bool send(std::string text) const;
  // `{"id":ID,"jsonrpc":"2.0","result":RESULT}`.
  bool reply(const nlohmann::json& id, const nlohmann::json& result) const;
  // BitShares error shape with `code` in error.code and error.data.code, `name` in error.data.name.
  bool reply_error(const nlohmann::json& id, int64_t code, std::string_view message,
                   std::string_view name = "exception") const;
  // `{"method":"notice","params":[callback_id,[payload]]}`; false over HTTP or when closed.
  bool notice(uint64_t callback_id, const nlohmann::json& payload) const;
  // Graceful close: queued frames are flushed first, then a websocket close handshake.
  void close() const;

 private:
  std::weak_ptr<detail::ServerSession> session_;
  SessionId id_ = 0;
};

class WsServer {
 public:
  // Called once per well-formed request. `request` is the caller's to move from.
  using RequestHandler = std::function<void(const SessionHandle& session, RpcRequest&& request)>;
  // Called when a session is established (websocket accepted, or first HTTP request read).
  using OpenHandler = std::function<void(const SessionHandle& session)>;
  // Called exactly once for every opened session when it ends, with a short reason.
  using CloseHandler = std::function<void(SessionId id, std::string_view reason)>;

  // Binds and starts accepting (handlers run once the io_context runs). Throws std::runtime_error
  // naming the address or file on bind failure, bad address, or unreadable TLS files.
  WsServer(boost::asio::io_context& ioc, WsServerConfig config, RequestHandler on_request,
           OpenHandler on_open = {}, CloseHandler on_close = {});
  // Stops like stop() but without calling on_close (the owner is going away).
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  [[nodiscard]] uint16_t port() const noexcept;  // the bound port (useful with port 0)
  [[nodiscard]] bool tls() const noexcept;

  // Stops accepting and drops every connection at once, without a close handshake — to clients it
  // looks like a killed node. on_close runs for each open session. Idempotent.
  void stop();

  [[nodiscard]] SessionHandle session(SessionId id) const;  // empty handle if unknown
  [[nodiscard]] std::size_t session_count() const noexcept;
  [[nodiscard]] const WsServerStats& stats() const noexcept;

  struct Core;  // implementation; public only so the .cpp's session classes can name it

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace bts::net
