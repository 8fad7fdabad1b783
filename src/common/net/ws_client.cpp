// Asynchronous websocket JSON-RPC client for BitShares nodes (see ws_client.hpp for the manual).
#include "common/net/ws_client.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "common/net/detail/connect.hpp"
#include "common/net/detail/log_limit.hpp"
#include "common/net/url.hpp"
#include "common/util/log.hpp"

namespace bts::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using detail::Clock;
using detail::elapsed_us;
using detail::PlainStream;
using detail::TlsStream;
using nlohmann::json;

std::string_view to_string(RpcErrorKind kind) noexcept {
  switch (kind) {
    case RpcErrorKind::none: return "ok";
    case RpcErrorKind::rpc_error: return "rpc_error";
    case RpcErrorKind::timeout: return "timeout";
    case RpcErrorKind::disconnected: return "disconnected";
    case RpcErrorKind::bad_reply: return "bad_reply";
    case RpcErrorKind::not_sent: return "not_sent";
  }
  return "unknown";
}

std::string WsClientConfig::validate() const {
  if (urls.empty()) return "urls: at least one ws:// or wss:// URL is required";
  for (std::size_t i = 0; i < urls.size(); ++i) {
    std::string error;
    const auto url = parse_url(urls[i], &error);
    if (!url) return "urls[" + std::to_string(i) + "]: " + error;
    if (!url->websocket()) {
      return "urls[" + std::to_string(i) + "]: '" + util::redact_url(urls[i]) + "' is not a ws:// or wss:// URL";
    }
  }
  if (connect_timeout.count() <= 0) return "connect_timeout must be positive";
  if (request_timeout.count() < 0) return "request_timeout must not be negative (0 = none)";
  if (idle_timeout.count() < 0) return "idle_timeout must not be negative (0 = none)";
  if (reconnect_base.count() <= 0) return "reconnect_base must be positive";
  if (reconnect_max < reconnect_base) return "reconnect_max must be >= reconnect_base";
  if (max_message_bytes == 0) return "max_message_bytes must be positive";
  return {};
}

namespace {

// What the client needs from a connection, whatever its stream type.
class ClientConn {
 public:
  virtual ~ClientConn() = default;
  virtual void start() = 0;
  virtual void write(std::string text) = 0;
  virtual void close_graceful() = 0;
  virtual void kill() = 0;
};

}  // namespace

struct WsClient::Impl : std::enable_shared_from_this<WsClient::Impl> {
  struct Pending {
    ResultCallback callback;
    Clock::time_point deadline;
  };
  enum class Phase { idle, connecting, connected, backoff };
  static constexpr auto kNoDeadline = Clock::time_point::max();

  Impl(asio::io_context& io, WsClientConfig c)
      : ioc(io), cfg(std::move(c)), log(cfg.logger ? cfg.logger : spdlog::default_logger()), reconnect_timer(io),
        deadline_timer(io), rng(std::random_device{}()) {}

  // Connection events; `gen` identifies the connection so stale ones are ignored.
  void conn_up(uint64_t gen, const ConnectInfo& connect_info);
  void conn_failed(uint64_t gen, const ConnectInfo& connect_info);
  void conn_message(uint64_t gen, std::string_view text);
  void conn_down(uint64_t gen, const std::string& reason);

  void connect();
  void schedule_reconnect();
  void start();
  void stop(bool destroying);
  [[nodiscard]] bool is_connected() const noexcept { return phase == Phase::connected && conn != nullptr; }
  void submit(uint64_t id, std::string text, ResultCallback callback, std::chrono::milliseconds timeout);
  void post_failure(ResultCallback callback, RpcErrorKind kind, std::string message);
  void fail_all_pending(RpcErrorKind kind, const std::string& reason);
  void arm_deadline_timer();
  void on_deadline_timer();
  void maybe_compact_deadlines();
  void complete(ResultCallback& callback, RpcResult&& result);
  void emit_state(WsState state, std::string_view reason);
  void handle_notice(json& doc);
  void bad_reply(std::string_view why, std::string_view text);

  template <class... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
    uint64_t suppressed = 0;
    if (!warn_limit.allow(suppressed)) return;
    log->warn(format, std::forward<Args>(args)...);
    if (suppressed > 0) log->warn("ws_client: {} similar warnings suppressed", suppressed);
  }

  asio::io_context& ioc;
  WsClientConfig cfg;
  std::vector<Url> urls;
  std::shared_ptr<asio::ssl::context> ssl;
  std::shared_ptr<spdlog::logger> log;
  detail::LogLimit warn_limit;
  WsClientCounters counters;
  ConnectInfo info;
  std::shared_ptr<ClientConn> conn;
  uint64_t generation = 0;
  Phase phase = Phase::idle;
  bool destroyed = false;
  std::size_t url_index = 0;
  unsigned attempt = 0;
  asio::steady_timer reconnect_timer;
  asio::steady_timer deadline_timer;
  Clock::time_point deadline_armed = kNoDeadline;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, Pending> pending;
  // Min-heap of (deadline, id). Answered requests are not removed (lazy deletion); the heap is
  // rebuilt when stale entries dominate. One timer serves all requests.
  std::vector<std::pair<Clock::time_point, uint64_t>> deadlines;
  std::unordered_map<uint64_t, std::shared_ptr<NoticeHandler>> notice_handlers;
  StateHandler on_state;
  std::minstd_rand rng;
};

namespace {

// One websocket connection attempt and, if it succeeds, the connection. Reports to the owning
// Impl through a weak pointer, so a destroyed client is never touched.
template <class Stream>
class WsConn final : public ClientConn, public std::enable_shared_from_this<WsConn<Stream>> {
 public:
  template <class... StreamArgs>
  WsConn(std::weak_ptr<WsClient::Impl> owner, uint64_t gen, const Url& url, const WsClientConfig& cfg,
         asio::io_context& ioc, StreamArgs&&... stream_args)
      : owner_(std::move(owner)), gen_(gen), url_(url), host_header_(url.host_header()),
        connect_timeout_(cfg.connect_timeout), idle_timeout_(cfg.idle_timeout),
        max_message_bytes_(cfg.max_message_bytes), user_agent_(cfg.user_agent),
        ws_(std::forward<StreamArgs>(stream_args)...), resolver_(ioc), timer_(ioc) {
    info_.url = url.text();
  }

  void start() override {
    state_ = State::connecting;
    timer_.expires_after(connect_timeout_);
    timer_.async_wait([self = this->shared_from_this()](const beast::error_code& ec) {
      if (!ec) self->on_connect_timeout();
    });
    detail::async_connect_stream(ws_.next_layer(), resolver_, &cancelled_, url_,
                                 [self = this->shared_from_this()](detail::ConnectOutcome&& outcome) {
                                   self->on_stream(std::move(outcome));
                                 });
  }

  void write(std::string text) override {
    if (state_ != State::open) return;
    queue_.push_back(std::move(text));
    if (!writing_) do_write();
  }

  void close_graceful() override {
    if (state_ != State::open) return kill();
    state_ = State::closing;
    // Bounded by the websocket handshake timeout set after connecting.
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](const beast::error_code&) { self->kill(); });
  }

  void kill() override {
    state_ = State::dead;
    cancelled_ = true;
    timer_.cancel();
    resolver_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

 private:
  enum class State { idle, connecting, open, closing, dead };

  void on_connect_timeout() {
    if (state_ != State::connecting) return;
    timed_out_ = true;
    cancelled_ = true;
    resolver_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

  void on_stream(detail::ConnectOutcome&& outcome) {
    info_.timings = outcome.timings;
    info_.remote_endpoint = std::move(outcome.remote);
    info_.tls = std::move(outcome.tls);
    if (state_ != State::connecting) return;
    if (!outcome.ok || timed_out_) return fail_connect(outcome.phase, outcome.error, outcome.tls_failure);
    t_ws_ = Clock::now();
    ws_.set_option(websocket::stream_base::decorator(
        [ua = user_agent_](websocket::request_type& req) { req.set(http::field::user_agent, ua); }));
    ws_.read_message_max(max_message_bytes_);
    ws_.async_handshake(host_header_, url_.target, [self = this->shared_from_this()](const beast::error_code& ec) {
      self->on_handshake(ec);
    });
  }

  void on_handshake(const beast::error_code& ec) {
    info_.timings.ws_us = elapsed_us(t_ws_);
    if (state_ != State::connecting) return;
    if (ec || timed_out_) {
      return fail_connect("websocket handshake",
                          "websocket handshake with " + host_header_ + url_.target + " failed: " + ec.message(), false);
    }
    timer_.cancel();
    websocket::stream_base::timeout opt{};
    opt.handshake_timeout = connect_timeout_;  // also bounds the close handshake in stop()
    if (idle_timeout_.count() > 0) {
      opt.idle_timeout = idle_timeout_;
      opt.keep_alive_pings = true;
    } else {
      opt.idle_timeout = websocket::stream_base::none();
      opt.keep_alive_pings = false;
    }
    ws_.set_option(opt);
    ws_.text(true);
    state_ = State::open;
    info_.ok = true;
    if (auto owner = owner_.lock()) owner->conn_up(gen_, info_);
    if (state_ == State::open) do_read();
  }

  void fail_connect(const char* phase, const std::string& error, bool tls_failure) {
    kill();
    info_.ok = false;
    info_.tls_failure = tls_failure && !timed_out_;
    if (timed_out_) {
      info_.error = "connect to " + info_.url + " timed out after " + std::to_string(connect_timeout_.count()) +
                    " ms (during " + phase + ")";
    } else {
      info_.error = "connect to " + info_.url + ": " + error;
    }
    if (auto owner = owner_.lock()) owner->conn_failed(gen_, info_);
  }

  void do_read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const beast::error_code& ec) {
    if (state_ != State::open) return;  // closing or killed: the owner already knows
    if (ec) return lost(describe(ec));
    const auto data = buffer_.data();
    if (auto owner = owner_.lock()) {
      owner->conn_message(gen_, std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > 1024 * 1024) buffer_.shrink_to_fit();  // one huge reply must not pin memory
    if (state_ == State::open) do_read();
  }

  void do_write() {
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(const beast::error_code& ec) {
    writing_ = false;
    if (state_ != State::open) return;
    if (ec) return lost("write failed: " + ec.message());
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  void lost(const std::string& reason) {
    kill();
    if (auto owner = owner_.lock()) owner->conn_down(gen_, reason);
  }

  std::string describe(const beast::error_code& ec) {
    if (ec == websocket::error::closed) {
      const auto& r = ws_.reason();
      std::string out = "closed by server (code " + std::to_string(r.code);
      if (!r.reason.empty()) out += ": " + std::string(r.reason.data(), r.reason.size());
      return out + ")";
    }
    if (ec == asio::error::eof) return "connection closed by server";
    if (ec == beast::error::timeout) {
      return "no data for " + std::to_string(idle_timeout_.count()) + " ms (idle timeout)";
    }
    if (ec == websocket::error::message_too_big) {
      return "reply larger than max_message_bytes (" + std::to_string(max_message_bytes_) + ")";
    }
    return ec.message();
  }

  std::weak_ptr<WsClient::Impl> owner_;
  uint64_t gen_;
  Url url_;
  std::string host_header_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds idle_timeout_;
  std::size_t max_message_bytes_;
  std::string user_agent_;
  websocket::stream<Stream> ws_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  ConnectInfo info_;
  Clock::time_point t_ws_;
  State state_ = State::idle;
  bool writing_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
};

}  // namespace

void WsClient::Impl::connect() {
  phase = Phase::connecting;
  ++generation;
  const Url& url = urls[url_index];
  std::weak_ptr<Impl> weak = shared_from_this();
  if (url.tls()) {
    conn = std::make_shared<WsConn<TlsStream>>(weak, generation, url, cfg, ioc, ioc, *ssl);
  } else {
    conn = std::make_shared<WsConn<PlainStream>>(weak, generation, url, cfg, ioc, ioc);
  }
  conn->start();
}

void WsClient::Impl::schedule_reconnect() {
  if (!cfg.auto_reconnect) {
    phase = Phase::idle;
    return;
  }
  phase = Phase::backoff;
  const double base = static_cast<double>(cfg.reconnect_base.count());
  const double cap = static_cast<double>(cfg.reconnect_max.count());
  const double full = std::min(cap, base * std::ldexp(1.0, static_cast<int>(std::min(attempt, 30u))));
  ++attempt;
  // Jitter: clients disconnected together by a node restart must not reconnect in lockstep.
  std::uniform_real_distribution<double> jitter(full / 2, full);
  const auto delay = std::chrono::microseconds(static_cast<int64_t>(jitter(rng) * 1000.0));
  reconnect_timer.expires_after(delay);
  reconnect_timer.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
    if (ec) return;
    const auto self = weak.lock();
    if (self && !self->destroyed && self->phase == Phase::backoff) self->connect();
  });
}

void WsClient::Impl::start() {
  if (destroyed || phase != Phase::idle) return;
  attempt = 0;
  connect();
}

void WsClient::Impl::stop(bool destroying) {
  phase = Phase::idle;
  ++generation;  // whatever the old connection still reports is ignored
  reconnect_timer.cancel();
  deadline_timer.cancel();
  deadline_armed = kNoDeadline;
  if (conn) {
    if (destroying) {
      conn->kill();
    } else {
      conn->close_graceful();
    }
    conn.reset();
  }
  if (destroying) {
    pending.clear();
    deadlines.clear();
    notice_handlers.clear();
    on_state = nullptr;
    return;
  }
  fail_all_pending(RpcErrorKind::disconnected, "client stopped");
}

void WsClient::Impl::conn_up(uint64_t gen, const ConnectInfo& connect_info) {
  if (gen != generation || phase != Phase::connecting) return;
  phase = Phase::connected;
  attempt = 0;
  ++counters.connects;
  info = connect_info;
  log->info("ws_client: connected to {} ({})", info.url, info.remote_endpoint);
  emit_state(WsState::connected, "");
}

void WsClient::Impl::conn_failed(uint64_t gen, const ConnectInfo& connect_info) {
  if (gen != generation || phase != Phase::connecting) return;
  ++counters.connect_failures;
  if (connect_info.tls_failure) ++counters.tls_failures;
  info = connect_info;
  conn.reset();
  warn("ws_client: {}", info.error);
  url_index = (url_index + 1) % urls.size();
  phase = Phase::backoff;  // before the callback, so a stop()/start() inside it wins
  emit_state(WsState::connect_failed, info.error);
  if (phase == Phase::backoff) schedule_reconnect();
}

void WsClient::Impl::conn_down(uint64_t gen, const std::string& reason) {
  if (gen != generation || phase != Phase::connected) return;
  ++counters.disconnects;
  conn.reset();
  phase = Phase::backoff;
  warn("ws_client: connection to {} lost: {}", info.url, reason);
  const std::string url = info.url;
  url_index = (url_index + 1) % urls.size();
  fail_all_pending(RpcErrorKind::disconnected, "connection to " + url + " lost: " + reason);
  if (phase != Phase::backoff) return;  // a callback called stop()
  emit_state(WsState::disconnected, reason);
  if (phase == Phase::backoff) schedule_reconnect();
}

void WsClient::Impl::emit_state(WsState state, std::string_view reason) {
  if (!on_state) return;
  const StateHandler handler = on_state;  // the callback may replace on_state
  try {
    handler(state, info, reason);
  } catch (const std::exception& e) {
    ++counters.callback_errors;
    warn("ws_client: state callback threw: {}", e.what());
  } catch (...) {
    ++counters.callback_errors;
    warn("ws_client: state callback threw a non-standard exception");
  }
}

void WsClient::Impl::complete(ResultCallback& callback, RpcResult&& result) {
  if (!callback) return;
  try {
    callback(std::move(result));
  } catch (const std::exception& e) {
    ++counters.callback_errors;
    warn("ws_client: result callback threw: {}", e.what());
  } catch (...) {
    ++counters.callback_errors;
    warn("ws_client: result callback threw a non-standard exception");
  }
}

void WsClient::Impl::post_failure(ResultCallback callback, RpcErrorKind kind, std::string message) {
  asio::post(ioc, [weak = weak_from_this(), callback = std::move(callback), kind,
                   message = std::move(message)]() mutable {
    const auto self = weak.lock();
    if (!self || self->destroyed) return;
    RpcResult result;
    result.kind = kind;
    result.message = std::move(message);
    self->complete(callback, std::move(result));
  });
}

void WsClient::Impl::fail_all_pending(RpcErrorKind kind, const std::string& reason) {
  auto failed = std::move(pending);
  pending.clear();
  deadlines.clear();
  std::vector<uint64_t> ids;
  ids.reserve(failed.size());
  for (const auto& entry : failed) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());  // fail in send order: callers may rely on it
  for (const uint64_t id : ids) {
    RpcResult result;
    result.kind = kind;
    result.message = reason;
    complete(failed[id].callback, std::move(result));
    if (destroyed) return;
  }
}

void WsClient::Impl::submit(uint64_t id, std::string text, ResultCallback callback,
                            std::chrono::milliseconds timeout) {
  auto [it, inserted] = pending.try_emplace(id);
  if (!inserted) {
    return post_failure(std::move(callback), RpcErrorKind::not_sent,
                        "request id " + std::to_string(id) + " is already in flight");
  }
  const auto t = timeout == kDefaultTimeout ? cfg.request_timeout : timeout;
  it->second.callback = std::move(callback);
  it->second.deadline = t.count() > 0 ? Clock::now() + t : kNoDeadline;
  if (it->second.deadline != kNoDeadline) {
    deadlines.emplace_back(it->second.deadline, id);
    std::push_heap(deadlines.begin(), deadlines.end(), std::greater<>{});
    arm_deadline_timer();
  }
  ++counters.requests;
  conn->write(std::move(text));
}

void WsClient::Impl::arm_deadline_timer() {
  if (deadlines.empty()) return;
  const auto next = deadlines.front().first;
  if (next >= deadline_armed) return;
  deadline_armed = next;
  deadline_timer.expires_at(next);  // cancels an earlier wait; its handler sees operation_aborted
  deadline_timer.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
    if (ec) return;
    const auto self = weak.lock();
    if (self && !self->destroyed) self->on_deadline_timer();
  });
}

void WsClient::Impl::on_deadline_timer() {
  deadline_armed = kNoDeadline;
  const auto now = Clock::now();
  while (!deadlines.empty() && deadlines.front().first <= now) {
    const auto [deadline, id] = deadlines.front();
    std::pop_heap(deadlines.begin(), deadlines.end(), std::greater<>{});
    deadlines.pop_back();
    const auto it = pending.find(id);
    if (it == pending.end() || it->second.deadline != deadline) continue;  // answered already
    ResultCallback callback = std::move(it->second.callback);
    pending.erase(it);
    ++counters.timeouts;
    RpcResult result;
    result.kind = RpcErrorKind::timeout;
    result.message = "no reply to request " + std::to_string(id) + " in time";
    complete(callback, std::move(result));
    if (destroyed) return;
  }
  maybe_compact_deadlines();
  arm_deadline_timer();
}

void WsClient::Impl::maybe_compact_deadlines() {
  if (deadlines.size() < 1024 || deadlines.size() < 4 * pending.size()) return;
  deadlines.clear();
  for (const auto& [id, p] : pending) {
    if (p.deadline != kNoDeadline) deadlines.emplace_back(p.deadline, id);
  }
  std::make_heap(deadlines.begin(), deadlines.end(), std::greater<>{});
}

void WsClient::Impl::bad_reply(std::string_view why, std::string_view text) {
  ++counters.bad_replies;
  // The node's bytes, escaped: a reply must not write control sequences into the operator's log.
  warn("ws_client: bad reply from {}: {}: '{}'", info.url, why, util::printable(text, 160));
}

void WsClient::Impl::handle_notice(json& doc) {
  const auto params = doc.find("params");
  if (params == doc.end() || !params->is_array() || params->size() < 2 || !(*params)[0].is_number_integer() ||
      (*params)[0].get<int64_t>() < 0) {
    ++counters.unknown_notices;
    warn("ws_client: malformed notice from {}", info.url);
    return;
  }
  const auto callback_id = (*params)[0].get<uint64_t>();
  const auto it = notice_handlers.find(callback_id);
  if (it == notice_handlers.end()) {
    ++counters.unknown_notices;
    return;
  }
  ++counters.notices;
  const auto handler = it->second;  // keeps it alive if the handler removes itself
  try {
    (*handler)(std::move((*params)[1]));
  } catch (const std::exception& e) {
    ++counters.callback_errors;
    warn("ws_client: notice handler {} threw: {}", callback_id, e.what());
  } catch (...) {
    ++counters.callback_errors;
    warn("ws_client: notice handler {} threw a non-standard exception", callback_id);
  }
}

void WsClient::Impl::conn_message(uint64_t gen, std::string_view text) {
  if (gen != generation || phase != Phase::connected) return;
  if (json_depth_exceeds(text, cfg.max_json_depth)) return bad_reply("JSON nested too deep", text);
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad_reply("not JSON", text);
  if (!doc.is_object()) return bad_reply("not a JSON object", text);
  const auto id_it = doc.find("id");
  if (id_it == doc.end() || id_it->is_null()) {
    const auto method = doc.find("method");
    if (method != doc.end() && method->is_string() && method->get_ref<const std::string&>() == "notice") {
      return handle_notice(doc);
    }
    return bad_reply("no id and not a notice", text);
  }
  if (!id_it->is_number_integer() || (id_it->is_number_integer() && !id_it->is_number_unsigned() &&
                                      id_it->get<int64_t>() < 0)) {
    return bad_reply("id is not a non-negative integer", text);
  }
  const auto id = id_it->get<uint64_t>();
  const auto it = pending.find(id);
  if (it == pending.end()) {
    if (id != 0 && id < next_id) {
      ++counters.late_replies;  // its request timed out or was failed already
      return;
    }
    return bad_reply("reply to an id never sent", text);
  }
  ResultCallback callback = std::move(it->second.callback);
  pending.erase(it);
  RpcResult result;
  if (const auto error = doc.find("error"); error != doc.end() && !error->is_null()) {
    ++counters.replies;
    ++counters.rpc_errors;
    result.kind = RpcErrorKind::rpc_error;
    if (error->is_object()) {
      if (const auto c = error->find("code"); c != error->end() && c->is_number_integer()) result.code = c->get<int64_t>();
      if (const auto m = error->find("message"); m != error->end() && m->is_string()) {
        result.message = std::move(m->get_ref<std::string&>());
      }
      if (const auto d = error->find("data"); d != error->end()) result.data = std::move(*d);
    } else {
      result.message = dump_json(*error);
    }
    // Callers print "get_chain_id: <message>": never an empty one.
    if (result.message.find_first_not_of(" \t\r\n") == std::string::npos) {
      result.message = "node error without a message";
      if (result.code != 0) result.message += " (code " + std::to_string(result.code) + ")";
    }
  } else if (const auto value = doc.find("result"); value != doc.end()) {
    ++counters.replies;
    result.result = std::move(*value);
  } else {
    ++counters.bad_replies;
    warn("ws_client: reply to request {} from {} has neither result nor error", id, info.url);
    result.kind = RpcErrorKind::bad_reply;
    result.message = "reply has neither result nor error";
  }
  complete(callback, std::move(result));
  maybe_compact_deadlines();
}

WsClient::WsClient(asio::io_context& ioc, WsClientConfig config) {
  if (auto error = config.validate(); !error.empty()) throw std::invalid_argument("ws_client: " + error);
  impl_ = std::make_shared<Impl>(ioc, std::move(config));
  bool any_tls = false;
  for (const auto& text : impl_->cfg.urls) {
    impl_->urls.push_back(*parse_url(text));
    any_tls = any_tls || impl_->urls.back().tls();
  }
  if (any_tls) impl_->ssl = detail::make_client_context(impl_->cfg.tls);
}

WsClient::~WsClient() {
  impl_->destroyed = true;
  impl_->stop(/*destroying=*/true);
}

void WsClient::start() { impl_->start(); }
void WsClient::stop() { impl_->stop(/*destroying=*/false); }
bool WsClient::connected() const noexcept { return impl_->is_connected(); }
void WsClient::on_state(StateHandler handler) { impl_->on_state = std::move(handler); }

void WsClient::on_notice(uint64_t callback_id, NoticeHandler handler) {
  impl_->notice_handlers[callback_id] = std::make_shared<NoticeHandler>(std::move(handler));
}

void WsClient::remove_notice(uint64_t callback_id) { impl_->notice_handlers.erase(callback_id); }
uint64_t WsClient::next_id() noexcept { return impl_->next_id++; }

uint64_t WsClient::call(const RpcApi& api, std::string_view method, const json& params, ResultCallback callback,
                        std::chrono::milliseconds timeout) {
  const uint64_t id = impl_->next_id++;
  if (!impl_->is_connected()) {
    impl_->post_failure(std::move(callback), RpcErrorKind::not_sent, "not connected");
  } else if (!params.is_null() && !params.is_array()) {
    impl_->post_failure(std::move(callback), RpcErrorKind::not_sent, "params must be a JSON array");
  } else {
    impl_->submit(id, make_rpc_call(id, api, method, params), std::move(callback), timeout);
  }
  return id;
}

uint64_t WsClient::send_raw(std::string_view body_tail, ResultCallback callback, std::chrono::milliseconds timeout) {
  const uint64_t id = impl_->next_id++;
  if (!impl_->is_connected()) {
    impl_->post_failure(std::move(callback), RpcErrorKind::not_sent, "not connected");
    return id;
  }
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, id);
  std::string text;
  text.reserve(body_tail.size() + 8 + static_cast<std::size_t>(r.ptr - digits));
  text += "{\"id\":";
  text.append(digits, r.ptr);
  text += ',';
  text += body_tail;
  impl_->submit(id, std::move(text), std::move(callback), timeout);
  return id;
}

void WsClient::send_raw_with_id(uint64_t id, std::string text, ResultCallback callback,
                                std::chrono::milliseconds timeout) {
  if (!impl_->is_connected()) {
    return impl_->post_failure(std::move(callback), RpcErrorKind::not_sent, "not connected");
  }
  impl_->submit(id, std::move(text), std::move(callback), timeout);
}

const WsClientCounters& WsClient::counters() const noexcept { return impl_->counters; }
const ConnectInfo& WsClient::connect_info() const noexcept { return impl_->info; }
std::size_t WsClient::pending() const noexcept { return impl_->pending.size(); }

}  // namespace bts::net
