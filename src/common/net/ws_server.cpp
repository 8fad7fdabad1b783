// Websocket JSON-RPC server (plus HTTP POST on the same port) for BitShares-style APIs, on Beast.
#include "common/net/ws_server.hpp"

#include <deque>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "common/net/detail/log_limit.hpp"
#include "common/net/detail/tls.hpp"

namespace bts::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {
// A client must finish TLS + the HTTP upgrade request quickly; idle HTTP keep-alive is short too.
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
constexpr auto kHttpIdleTimeout = std::chrono::seconds(60);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;
}  // namespace

namespace detail {

// What SessionHandle and the server core need from a connection, whatever its stream type.
class ServerSession {
 public:
  virtual ~ServerSession() = default;
  virtual bool send(std::string text) = 0;
  virtual void close() = 0;                          // graceful
  virtual void abort(std::string_view reason) = 0;   // immediate
  [[nodiscard]] virtual bool is_http() const = 0;
  [[nodiscard]] virtual bool is_open() const = 0;
  SessionId id = 0;
  std::string remote;
};

}  // namespace detail

struct WsServer::Core : std::enable_shared_from_this<WsServer::Core> {
  Core(asio::io_context& io, WsServerConfig c)
      : ioc(io), cfg(std::move(c)), acceptor(io), accept_retry(io),
        log(cfg.logger ? cfg.logger : spdlog::default_logger()) {}

  void start_accept();
  void on_accept(const beast::error_code& ec, tcp::socket socket);
  void handle_text(const std::shared_ptr<detail::ServerSession>& session, std::string_view text);
  void session_opened(const std::shared_ptr<detail::ServerSession>& session);
  void session_closed(SessionId id, bool opened, std::string_view reason);
  void stop();

  template <class... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
    uint64_t suppressed = 0;
    if (!warn_limit.allow(suppressed)) return;
    log->warn(format, std::forward<Args>(args)...);
    if (suppressed > 0) log->warn("ws_server: {} similar warnings suppressed", suppressed);
  }

  asio::io_context& ioc;
  WsServerConfig cfg;
  WsServer::RequestHandler on_request;
  WsServer::OpenHandler on_open;
  WsServer::CloseHandler on_close;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::shared_ptr<asio::ssl::context> ssl;
  std::unordered_map<SessionId, std::shared_ptr<detail::ServerSession>> sessions;
  SessionId next_id = 1;
  bool stopped = false;
  uint16_t port = 0;
  WsServerStats stats;
  std::shared_ptr<spdlog::logger> log;
  detail::LogLimit warn_limit;
};

namespace {

// One accepted connection. It starts as HTTP; the first request either upgrades it to a websocket
// or makes it an HTTP keep-alive exchange. The websocket stream is created up front and the HTTP
// phase uses its next layer, so no stream has to be moved between objects.
template <class Stream>
class Session final : public detail::ServerSession, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<WsServer::Core> core, Args&&... stream_args)
      : core_(std::move(core)), ws_(std::forward<Args>(stream_args)...) {}

  void run() {
    beast::get_lowest_layer(ws_).expires_after(kHandshakeTimeout);
    if constexpr (kIsTls<Stream>) {
      ws_.next_layer().async_handshake(asio::ssl::stream_base::server,
                                       [self = this->shared_from_this()](const beast::error_code& ec) {
                                         if (ec) {
                                           ++self->core_->stats.tls_failures;
                                           self->core_->warn("ws_server: TLS handshake with {} failed: {}",
                                                             self->remote, ec.message());
                                           return self->finish("TLS handshake failed: " + ec.message());
                                         }
                                         self->read_request();
                                       });
    } else {
      read_request();
    }
  }

  bool send(std::string text) override {
    if (finished_ || closing_) return false;
    if (mode_ == Mode::http) return http_reply(std::move(text));
    if (mode_ != Mode::websocket) return false;
    if (queued_bytes_ + text.size() > core_->cfg.max_send_queue_bytes) {
      ++core_->stats.send_queue_overflows;
      core_->warn("ws_server: session {} ({}) stopped reading: {} bytes queued, dropping it", id, remote,
                  queued_bytes_);
      abort("send queue overflow");
      return false;
    }
    ++core_->stats.messages_out;
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (!writing_) do_write();
    return true;
  }

  void close() override {
    if (finished_ || closing_) return;
    closing_ = true;
    if (mode_ != Mode::websocket) return abort("closed by server");
    if (!writing_) start_close();  // else on_write starts it once the queue is flushed
  }

  void abort(std::string_view reason) override { finish(reason); }

  [[nodiscard]] bool is_http() const override { return mode_ == Mode::http; }
  [[nodiscard]] bool is_open() const override { return !finished_ && !closing_ && mode_ != Mode::handshake; }

 private:
  enum class Mode { handshake, websocket, http };

  void read_request() {
    parser_.emplace();
    parser_->body_limit(core_->cfg.max_message_bytes);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(ws_).expires_after(mode_ == Mode::http ? std::chrono::seconds(kHttpIdleTimeout)
                                                                   : std::chrono::seconds(kHandshakeTimeout));
    http::async_read(ws_.next_layer(), buffer_, *parser_,
                     [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                       self->on_request(ec);
                     });
  }

  void on_request(const beast::error_code& ec) {
    if (finished_) return;
    if (ec == http::error::end_of_stream) return finish("peer closed");
    if (ec == http::error::body_limit) {
      http_keep_alive_ = false;
      return respond(http::status::payload_too_large, "request body too large\n", "text/plain");
    }
    if (ec) return finish(ec.message());
    auto& req = parser_->get();
    if (mode_ == Mode::handshake && websocket::is_upgrade(req)) {
      beast::get_lowest_layer(ws_).expires_never();  // websocket timeouts take over
      ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      ws_.set_option(websocket::stream_base::decorator(
          [](websocket::response_type& res) { res.set(http::field::server, "bts-stress"); }));
      ws_.read_message_max(core_->cfg.max_message_bytes);
      ws_.async_accept(req, [self = this->shared_from_this()](const beast::error_code& ec2) {
        self->on_accept(ec2);
      });
      return;
    }
    ++core_->stats.http_requests;
    // The handler may take its time (e.g. wait for a block); only the response write is timed.
    beast::get_lowest_layer(ws_).expires_never();
    const bool first = mode_ == Mode::handshake;
    mode_ = Mode::http;
    http_keep_alive_ = req.keep_alive();
    http_version_ = req.version();
    if (first) {
      opened_ = true;
      core_->session_opened(this->shared_from_this());
      if (finished_) return;
    }
    if (req.method() != http::verb::post) {
      return respond(http::status::method_not_allowed, "POST a JSON-RPC request, or upgrade to a websocket\n",
                     "text/plain");
    }
    awaiting_reply_ = true;
    const std::string body = std::move(req.body());
    core_->handle_text(this->shared_from_this(), body);
  }

  void on_accept(const beast::error_code& ec) {
    if (finished_) return;
    if (ec) return finish("websocket handshake failed: " + ec.message());
    mode_ = Mode::websocket;
    parser_.reset();
    ++core_->stats.websocket_sessions;
    ws_.text(true);
    opened_ = true;
    core_->session_opened(this->shared_from_this());
    if (!finished_) do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(const beast::error_code& ec) {
    if (finished_) return;
    if (ec) {
      if (ec == websocket::error::closed) return finish("closed by peer");
      if (ec == websocket::error::message_too_big) {
        ++core_->stats.bad_requests;
        core_->warn("ws_server: session {} ({}) sent a frame over {} bytes, closing", id, remote,
                    core_->cfg.max_message_bytes);
      }
      return finish(ec.message());
    }
    const auto data = buffer_.data();
    core_->handle_text(this->shared_from_this(),
                       std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > 1024 * 1024) buffer_.shrink_to_fit();  // one huge frame must not pin memory
    if (!finished_) do_read();
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
    if (finished_) return;
    if (ec) return finish("write failed: " + ec.message());
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (closing_) start_close();
  }

  void start_close() {
    ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](const beast::error_code& ec) {
      self->finish(ec ? "close failed: " + ec.message() : std::string("closed by server"));
    });
  }

  bool http_reply(std::string text) {
    if (!awaiting_reply_ || writing_) return false;
    awaiting_reply_ = false;
    ++core_->stats.messages_out;
    respond(http::status::ok, std::move(text), "application/json");
    return true;
  }

  void respond(http::status status, std::string body, std::string_view content_type) {
    response_.emplace(status, http_version_);
    response_->set(http::field::server, "bts-stress");
    response_->set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    response_->keep_alive(http_keep_alive_);
    response_->body() = std::move(body);
    response_->prepare_payload();
    beast::get_lowest_layer(ws_).expires_after(kHandshakeTimeout);
    writing_ = true;
    http::async_write(ws_.next_layer(), *response_,
                      [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
                        self->writing_ = false;
                        if (self->finished_) return;
                        if (ec) return self->finish("write failed: " + ec.message());
                        self->response_.reset();
                        if (!self->http_keep_alive_ || self->closing_) return self->finish("HTTP exchange done");
                        self->read_request();
                      });
  }

  // Ends the session exactly once: closes the socket and tells the core. Pending operations then
  // complete with errors and find finished_ set.
  void finish(std::string_view reason) {
    if (finished_) return;
    finished_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    core_->session_closed(id, opened_, reason);
  }

  std::shared_ptr<WsServer::Core> core_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  Mode mode_ = Mode::handshake;
  unsigned http_version_ = 11;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool opened_ = false;
  bool awaiting_reply_ = false;
  bool http_keep_alive_ = false;
};

}  // namespace

void WsServer::Core::start_accept() {
  if (stopped) return;
  acceptor.async_accept([self = shared_from_this()](const beast::error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void WsServer::Core::on_accept(const beast::error_code& ec, tcp::socket socket) {
  if (stopped || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Typically EMFILE: retry after a pause rather than spinning on the error.
    warn("ws_server: accept failed: {}", ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([self = shared_from_this()](const beast::error_code& wec) {
      if (!wec) self->start_accept();
    });
    return;
  }
  ++stats.accepted;
  beast::error_code ignored;
  std::string remote;
  if (auto ep = socket.remote_endpoint(ignored); !ignored) {
    remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  if (sessions.size() >= cfg.max_connections) {
    ++stats.rejected;
    warn("ws_server: rejecting {}: {} connections open (max_connections)", remote, sessions.size());
    socket.close(ignored);
    return start_accept();
  }
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<detail::ServerSession> session;
  auto run = [&](auto s) {
    s->id = next_id++;
    s->remote = std::move(remote);
    session = s;
    sessions.emplace(s->id, session);
    s->run();
  };
  if (ssl) {
    run(std::make_shared<Session<TlsStream>>(shared_from_this(), std::move(socket), *ssl));
  } else {
    run(std::make_shared<Session<PlainStream>>(shared_from_this(), std::move(socket)));
  }
  start_accept();
}

void WsServer::Core::session_opened(const std::shared_ptr<detail::ServerSession>& session) {
  if (!on_open) return;
  try {
    on_open(SessionHandle(session, session->id));
  } catch (const std::exception& e) {
    ++stats.handler_errors;
    warn("ws_server: open handler threw: {}", e.what());
  } catch (...) {
    ++stats.handler_errors;
    warn("ws_server: open handler threw a non-standard exception");
  }
}

void WsServer::Core::session_closed(SessionId id, bool opened, std::string_view reason) {
  sessions.erase(id);
  if (!opened || !on_close) return;
  try {
    on_close(id, reason);
  } catch (const std::exception& e) {
    ++stats.handler_errors;
    warn("ws_server: close handler threw: {}", e.what());
  } catch (...) {
    ++stats.handler_errors;
    warn("ws_server: close handler threw a non-standard exception");
  }
}

void WsServer::Core::handle_text(const std::shared_ptr<detail::ServerSession>& session, std::string_view text) {
  ++stats.messages_in;
  RpcRequest request;
  RpcParseError error;
  if (!parse_rpc_request(text, request, error, cfg.max_json_depth)) {
    ++stats.bad_requests;
    warn("ws_server: bad request from {} (session {}): {}", session->remote, session->id, error.message);
    session->send(make_rpc_error(request.id, error.code, error.message, error.name));
    return;
  }
  if (!on_request) {
    session->send(make_rpc_error(request.id, rpc_code::unspecified, "server has no request handler"));
    return;
  }
  const nlohmann::json id = request.id;  // kept for the error reply if the handler throws
  try {
    on_request(SessionHandle(session, session->id), std::move(request));
  } catch (const std::exception& e) {
    ++stats.handler_errors;
    warn("ws_server: handler threw for session {}: {}", session->id, e.what());
    session->send(make_rpc_error(id, rpc_code::unspecified, std::string("internal error: ") + e.what()));
  } catch (...) {
    ++stats.handler_errors;
    warn("ws_server: handler threw a non-standard exception for session {}", session->id);
    session->send(make_rpc_error(id, rpc_code::unspecified, "internal error"));
  }
}

void WsServer::Core::stop() {
  if (stopped) return;
  stopped = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  // Copy first: abort() erases from `sessions` through session_closed().
  std::vector<std::shared_ptr<detail::ServerSession>> all;
  all.reserve(sessions.size());
  for (auto& [id, s] : sessions) all.push_back(s);
  for (auto& s : all) s->abort("server stopped");
  sessions.clear();
}

WsServer::WsServer(asio::io_context& ioc, WsServerConfig config, RequestHandler on_request, OpenHandler on_open,
                   CloseHandler on_close)
    : core_(std::make_shared<Core>(ioc, std::move(config))) {
  core_->on_request = std::move(on_request);
  core_->on_open = std::move(on_open);
  core_->on_close = std::move(on_close);
  const auto& cfg = core_->cfg;
  if (cfg.tls_cert_file.empty() != cfg.tls_key_file.empty()) {
    throw std::runtime_error("ws_server: tls_cert_file and tls_key_file must be set together");
  }
  if (!cfg.tls_cert_file.empty()) core_->ssl = detail::make_server_context(cfg.tls_cert_file, cfg.tls_key_file);
  beast::error_code ec;
  const auto address = asio::ip::make_address(cfg.address, ec);
  if (ec) throw std::runtime_error("ws_server: invalid listen address '" + cfg.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, cfg.port);
  const std::string where = cfg.address + ":" + std::to_string(cfg.port);
  auto& acc = core_->acceptor;
  if (acc.open(endpoint.protocol(), ec); ec) throw std::runtime_error("ws_server: cannot open socket for " + where + ": " + ec.message());
  // A restarted node must be able to rebind while old connections linger in TIME_WAIT.
  acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (acc.bind(endpoint, ec); ec) throw std::runtime_error("ws_server: cannot bind " + where + ": " + ec.message());
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec) {
    throw std::runtime_error("ws_server: cannot listen on " + where + ": " + ec.message());
  }
  core_->port = acc.local_endpoint().port();
  core_->start_accept();
}

WsServer::~WsServer() {
  core_->on_request = nullptr;
  core_->on_open = nullptr;
  core_->on_close = nullptr;
  core_->stop();
}

uint16_t WsServer::port() const noexcept { return core_->port; }
bool WsServer::tls() const noexcept { return core_->ssl != nullptr; }
void WsServer::stop() { core_->stop(); }
std::size_t WsServer::session_count() const noexcept { return core_->sessions.size(); }
const WsServerStats& WsServer::stats() const noexcept { return core_->stats; }

SessionHandle WsServer::session(SessionId id) const {
  const auto it = core_->sessions.find(id);
  if (it == core_->sessions.end()) return {};
  return SessionHandle(it->second, id);
}

bool SessionHandle::is_open() const {
  const auto s = session_.lock();
  return s && s->is_open();
}

bool SessionHandle::is_http() const {
  const auto s = session_.lock();
  return s && s->is_http();
}

std::string SessionHandle::remote() const {
  const auto s = session_.lock();
  return s && s->is_open() ? s->remote : std::string();
}

bool SessionHandle::send(std::string text) const {
  const auto s = session_.lock();
  return s && s->send(std::move(text));
}

bool SessionHandle::reply(const nlohmann::json& id, const nlohmann::json& result) const {
  const auto s = session_.lock();
  return s && s->send(make_rpc_result(id, result));
}

bool SessionHandle::reply_error(const nlohmann::json& id, int64_t code, std::string_view message,
                                std::string_view name) const {
  const auto s = session_.lock();
  return s && s->send(make_rpc_error(id, code, message, name));
}

bool SessionHandle::notice(uint64_t callback_id, const nlohmann::json& payload) const {
  const auto s = session_.lock();
  if (!s || s->is_http()) return false;
  return s->send(make_rpc_notice(callback_id, payload));
}

void SessionHandle::close() const {
  if (const auto s = session_.lock()) s->close();
}

}  // namespace bts::net
