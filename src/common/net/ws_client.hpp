// Asynchronous websocket JSON-RPC client for BitShares nodes: ws/wss, id matching, per-request
// timeouts, notices, reconnect with jittered backoff and failover across URLs.
//
// Threading: the client lives on an io_context the caller owns and runs from ONE thread; call every
// method from that thread (boost::asio::post to get there). Callbacks run on that thread too.
// Destroy the client before the io_context.
//
// Life cycle:
//   WsClient c(ioc, cfg);         // validates URLs / CA file, throws std::invalid_argument / runtime_error
//   c.on_state(...); c.on_notice(...);
//   c.start();                    // connects to urls[0]; on failure tries the next URL after a backoff
//   ... c.call(...) ...           // only while connected(); otherwise fails at once with not_sent
//   c.stop();                     // graceful close; pending requests fail with `disconnected`
//
// Requests: every request carries a numeric id from one counter (next_id()); the reply is matched by
// id, so any number may be in flight and replies may come in any order. Each request ends in exactly
// one callback with an RpcResult: the result, the node's error (rpc_error), or timeout /
// disconnected / bad_reply / not_sent. Callbacks never run inside call()/send_raw(): immediate
// failures are posted.
//
// Hot path for pre-serialised bodies (the load generator): build the tail once with
// make_rpc_call_tail() and call send_raw(tail, cb) — the client prepends `{"id":N,` and sends; no JSON
// is built or re-serialised. Replies are parsed once with nlohmann; the result is moved, not copied.
//
// Notices (`{"method":"notice","params":[CB,[payload]]}`) go to the handler registered with
// on_notice(CB, ...). Registrations survive reconnects, but the node forgets its callbacks when a
// connection drops: re-issue the subscribing call (e.g. set_block_applied_callback) from on_state.
//
// Malformed input never throws out of the loop: text that is not JSON, not an object, has no usable
// id, or answers an id never issued is counted in bad_replies and dropped (a request it should have
// answered then times out). A reply that arrives after its request timed out counts in late_replies.
// Exceptions thrown by callbacks are caught and counted in callback_errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/net/connect_info.hpp"
#include "common/net/json_rpc.hpp"

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::net {

enum class RpcErrorKind {
  none,          // success: RpcResult::result holds the value
  rpc_error,     // the node answered with an error object: code / message / data
  timeout,       // no reply within the request's timeout (the connection stays up)
  disconnected,  // the connection dropped (or stop()) after the request was sent: outcome unknown
  bad_reply,     // a reply with this id arrived but had neither "result" nor a usable "error"
  not_sent,      // never sent: not connected, or the id was already in flight
};
[[nodiscard]] std::string_view to_string(RpcErrorKind kind) noexcept;

struct RpcResult {
  RpcErrorKind kind = RpcErrorKind::none;
  nlohmann::json result;  // the "result" member when ok()
  int64_t code = 0;       // rpc_error: error.code (the fc exception code)
  std::string message;    // rpc_error: error.message; other kinds: a one-line reason
  nlohmann::json data;    // rpc_error: error.data (null if absent)
  [[nodiscard]] bool ok() const noexcept { return kind == RpcErrorKind::none; }
};

using ResultCallback = std::function<void(RpcResult&& result)>;
// `args` is the notice's argument array (params[1]); for a one-argument callback use args[0].
using NoticeHandler = std::function<void(nlohmann::json&& args)>;

enum class WsState {
  connected,       // websocket handshake done; requests may be sent
  disconnected,    // an established connection ended (not reported after stop())
  connect_failed,  // one connect attempt failed (DNS, TCP, TLS, websocket handshake, or timeout)
};
// `info` describes the connect attempt (URL, timings, TLS details, error); `reason` says why a
// connection ended or failed ("" for connected).
using StateHandler = std::function<void(WsState state, const ConnectInfo& info, std::string_view reason)>;

// Passing this as a timeout means "use WsClientConfig::request_timeout".
inline constexpr std::chrono::milliseconds kDefaultTimeout{-1};

struct WsClientConfig {
  std::vector<std::string> urls;  // tried in order, then round-robin; ws:// or wss://
  std::chrono::milliseconds connect_timeout{10'000};  // DNS + TCP + TLS + websocket handshake
  std::chrono::milliseconds request_timeout{30'000};  // default per request; 0 = none
  // When > 0, a websocket ping is sent after idle_timeout/2 of silence and the connection is
  // dropped after idle_timeout without any data: finds dead peers behind silent networks.
  std::chrono::milliseconds idle_timeout{0};
  bool auto_reconnect = true;
  // Delay before attempt n (n = failures since the last success) is uniform in [d/2, d] with
  // d = min(reconnect_max, reconnect_base * 2^n): spread-out reconnects after a node restart.
  std::chrono::milliseconds reconnect_base{200};
  std::chrono::milliseconds reconnect_max{30'000};
  TlsOptions tls;
  std::size_t max_message_bytes = 64 * 1024 * 1024;  // larger replies drop the connection
  std::size_t max_json_depth = kMaxJsonDepth;        // deeper replies are bad_replies
  std::string user_agent = "bts-stress";
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger

  // "" when usable, else a one-line reason naming the field (e.g. a bad URL).
  [[nodiscard]] std::string validate() const;
};

// Plain counters; the owner reads them on the io thread (copy the struct to snapshot).
struct WsClientCounters {
  uint64_t connects = 0;          // successful connects (websocket handshake done)
  uint64_t connect_failures = 0;  // failed connect attempts, all causes (includes tls_failures)
  uint64_t tls_failures = 0;      // attempts that failed in the TLS handshake
  uint64_t disconnects = 0;       // established connections lost (not counted for stop())
  uint64_t timeouts = 0;          // requests that timed out
  uint64_t bad_replies = 0;       // malformed text, non-objects, replies to unknown ids, bad shapes
  uint64_t late_replies = 0;      // replies to ids that had already timed out or been failed
  uint64_t requests = 0;          // requests written
  uint64_t replies = 0;           // replies matched to a pending request (result or error)
  uint64_t rpc_errors = 0;        // replies carrying an error object
  uint64_t notices = 0;           // notices delivered to a handler
  uint64_t unknown_notices = 0;   // notices for callback ids without a handler, or malformed
  uint64_t callback_errors = 0;   // exceptions thrown by user callbacks
};

class WsClient {
 public:
  // Throws std::invalid_argument when config.validate() fails, std::runtime_error when the CA file
  // cannot be loaded. Does not connect until start().
  WsClient(boost::asio::io_context& ioc, WsClientConfig config);
  // Closes at once; pending callbacks and handlers are dropped without being called.
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Starts connecting (no-op if already started). After stop(), start() connects again.
  void start();
  // Closes the connection (websocket close handshake when connected) and cancels reconnects. Every
  // pending request fails with `disconnected`; those callbacks run before stop() returns. Safe to
  // call from any callback.
  void stop();
  [[nodiscard]] bool connected() const noexcept;

  // Handlers. Set them before start(); replacing one later is fine.
  void on_state(StateHandler handler);
  void on_notice(uint64_t callback_id, NoticeHandler handler);
  void remove_notice(uint64_t callback_id);

  // Reserves a request id for send_raw_with_id(). Ids are never reused.
  [[nodiscard]] uint64_t next_id() noexcept;

  // Sends `{"id":N,"method":"call","params":[api,"method",params]}` (params must be an array, or null
  // for []). Returns the id N.
  uint64_t call(const RpcApi& api, std::string_view method, const nlohmann::json& params, ResultCallback callback,
                std::chrono::milliseconds timeout = kDefaultTimeout);
  // Sends `{"id":N,` + body_tail, where body_tail is everything after the id, e.g. from
  // make_rpc_call_tail(): `"method":"call","params":[2,"broadcast_transaction",[{...}]]}`. Returns N.
  uint64_t send_raw(std::string_view body_tail, ResultCallback callback,
                    std::chrono::milliseconds timeout = kDefaultTimeout);
  // Sends `text` verbatim; the caller put `id` (from next_id()) into it. The reply is matched by id.
  void send_raw_with_id(uint64_t id, std::string text, ResultCallback callback,
                        std::chrono::milliseconds timeout = kDefaultTimeout);

  [[nodiscard]] const WsClientCounters& counters() const noexcept;
  // The most recent connect attempt (successful or not): URL, timings, TLS details, error.
  [[nodiscard]] const ConnectInfo& connect_info() const noexcept;
  [[nodiscard]] std::size_t pending() const noexcept;  // requests awaiting a reply

  struct Impl;  // implementation; public only so the .cpp's connection classes can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bts::net
