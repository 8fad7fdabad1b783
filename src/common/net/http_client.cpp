// Small asynchronous HTTP(S) client with keep-alive reuse (see http_client.hpp for the manual).
#include "common/net/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "common/net/detail/connect.hpp"
#include "common/net/detail/log_limit.hpp"
#include "common/net/url.hpp"
#include "common/util/log.hpp"

namespace bts::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using detail::Clock;
using detail::elapsed_us;
using detail::PlainStream;
using detail::TlsStream;

std::string_view HttpResponse::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

namespace {

class HttpConnBase;

// One request from request() to its callback, across a possible retry on a fresh connection.
struct Exchange {
  explicit Exchange(asio::io_context& ioc) : timer(ioc) {}
  Url url;
  std::string origin;
  http::request<http::string_body> req;
  ResponseCallback callback;
  Clock::time_point started;
  asio::steady_timer timer;
  std::shared_ptr<HttpConnBase> conn;
  bool done = false;
  bool timed_out = false;
  bool retried = false;
};

class HttpConnBase {
 public:
  virtual ~HttpConnBase() = default;
  virtual void run(std::shared_ptr<Exchange> ex) = 0;
  virtual void kill() = 0;

  std::string origin;
  bool connected = false;
  bool dead = false;
  Clock::time_point idle_since;
  ConnectTimings timings;
  std::string remote;
  std::optional<TlsInfo> tls;
};

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(asio::io_context& io, HttpClientConfig c)
      : ioc(io), cfg(std::move(c)), log(cfg.logger ? cfg.logger : spdlog::default_logger()) {}

  void request(HttpRequest request, ResponseCallback callback);
  void start(const std::shared_ptr<Exchange>& ex, bool allow_reuse);
  // A connection reports the end of an exchange; `reusable` = the response allows keep-alive.
  void done(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<HttpConnBase>& conn, HttpResponse&& response,
            bool reusable);
  // `stale` = failed on a reused connection before any response byte: worth one retry.
  void failed(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<HttpConnBase>& conn, std::string error,
              bool stale, bool tls_failure);
  void deliver(const std::shared_ptr<Exchange>& ex, HttpResponse&& response);
  void post_error(ResponseCallback callback, std::string error);
  void shutdown();

  asio::io_context& ioc;
  HttpClientConfig cfg;
  std::shared_ptr<asio::ssl::context> ssl;
  std::shared_ptr<spdlog::logger> log;
  detail::LogLimit warn_limit;
  HttpClientCounters counters;
  std::unordered_map<std::string, std::vector<std::shared_ptr<HttpConnBase>>> idle;
  std::unordered_set<std::shared_ptr<Exchange>> active;
  bool destroyed = false;
};

namespace {

template <class Stream>
class HttpConn final : public HttpConnBase, public std::enable_shared_from_this<HttpConn<Stream>> {
 public:
  template <class... StreamArgs>
  HttpConn(std::weak_ptr<HttpClient::Impl> owner, const Url& url, std::size_t max_body_bytes, asio::io_context& ioc,
           StreamArgs&&... stream_args)
      : owner_(std::move(owner)), url_(url), max_body_bytes_(max_body_bytes),
        stream_(std::forward<StreamArgs>(stream_args)...), resolver_(ioc) {
    origin = url.origin();
  }

  void run(std::shared_ptr<Exchange> ex) override {
    ex_ = std::move(ex);
    reused_ = connected;
    if (connected) return send();
    detail::async_connect_stream(stream_, resolver_, &dead, url_,
                                 [self = this->shared_from_this()](detail::ConnectOutcome&& outcome) {
                                   self->on_connected(std::move(outcome));
                                 });
  }

  void kill() override {
    dead = true;
    resolver_.cancel();
    beast::get_lowest_layer(stream_).close();
  }

 private:
  void on_connected(detail::ConnectOutcome&& outcome) {
    timings = outcome.timings;
    remote = std::move(outcome.remote);
    tls = std::move(outcome.tls);
    if (!outcome.ok || dead) return fail(outcome.error, false, outcome.tls_failure);
    connected = true;
    if (auto owner = owner_.lock()) ++owner->counters.connects;
    send();
  }

  void send() {
    t_send_ = Clock::now();
    http::async_write(stream_, ex_->req, [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(const beast::error_code& ec) {
    if (ec) return fail("sending the request failed: " + ec.message(), reused_, false);
    parser_.emplace();
    parser_->body_limit(max_body_bytes_);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const beast::error_code& ec2, std::size_t) {
                              self->on_header(ec2);
                            });
  }

  void on_header(const beast::error_code& ec) {
    if (ec == http::error::body_limit) return fail(body_limit_text(), false, false);  // Content-Length too big
    if (ec) {
      // Nothing of a response arrived: on a pooled connection the server most likely closed it.
      const bool nothing = ec == http::error::end_of_stream || ec == asio::error::eof ||
                           ec == asio::error::connection_reset || ec == beast::error::timeout ||
                           ec == asio::error::broken_pipe;
      return fail("reading the response failed: " + ec.message(), reused_ && nothing, false);
    }
    ttfb_us_ = elapsed_us(t_send_);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](const beast::error_code& ec2,
                                                                                    std::size_t) {
      self->on_body(ec2);
    });
  }

  void on_body(const beast::error_code& ec) {
    if (ec) {
      std::string why = ec == http::error::body_limit ? body_limit_text()
                                                      : "reading the response body failed: " + ec.message();
      return fail(why, false, false);
    }
    auto& res = parser_->get();
    HttpResponse response;
    response.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(res.body());
    response.ttfb_us = ttfb_us_;
    response.reused_connection = reused_;
    if (!reused_) response.timings = timings;
    response.remote_endpoint = remote;
    response.tls = tls;
    const bool reusable = res.keep_alive() && ex_->req.keep_alive();
    parser_.reset();
    auto ex = std::move(ex_);
    if (auto owner = owner_.lock()) owner->done(ex, this->shared_from_this(), std::move(response), reusable);
  }

  [[nodiscard]] std::string body_limit_text() const {
    return "response body larger than max_body_bytes (" + std::to_string(max_body_bytes_) + ")";
  }

  void fail(const std::string& error, bool stale, bool tls_failure) {
    kill();
    auto ex = std::move(ex_);
    if (auto owner = owner_.lock()) owner->failed(ex, this->shared_from_this(), error, stale, tls_failure);
  }

  std::weak_ptr<HttpClient::Impl> owner_;
  Url url_;
  std::size_t max_body_bytes_;
  Stream stream_;
  asio::ip::tcp::resolver resolver_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::shared_ptr<Exchange> ex_;
  Clock::time_point t_send_;
  int64_t ttfb_us_ = 0;
  bool reused_ = false;
};

}  // namespace

void HttpClient::Impl::post_error(ResponseCallback callback, std::string error) {
  ++counters.requests;
  ++counters.failures;
  asio::post(ioc, [weak = weak_from_this(), callback = std::move(callback), error = std::move(error)]() mutable {
    const auto self = weak.lock();
    if (!self || self->destroyed || !callback) return;
    HttpResponse response;
    response.error = std::move(error);
    try {
      callback(std::move(response));
    } catch (const std::exception& e) {
      self->log->warn("http_client: response callback threw: {}", e.what());
    } catch (...) {
      self->log->warn("http_client: response callback threw a non-standard exception");
    }
  });
}

void HttpClient::Impl::request(HttpRequest request, ResponseCallback callback) {
  std::string error;
  auto url = parse_url(request.url, &error);
  if (!url) return post_error(std::move(callback), error);
  if (url->websocket()) {
    return post_error(std::move(callback), "'" + util::redact_url(request.url) + "' is not an http(s):// URL");
  }
  const auto verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return post_error(std::move(callback), "unknown HTTP method '" + request.method + "'");
  }
  auto ex = std::make_shared<Exchange>(ioc);
  ex->url = std::move(*url);
  ex->origin = ex->url.origin();
  ex->callback = std::move(callback);
  ex->started = Clock::now();
  auto& req = ex->req;
  req.method(verb);
  req.target(ex->url.target);
  req.version(11);
  req.set(http::field::host, ex->url.host_header());
  req.set(http::field::user_agent, cfg.user_agent);
  for (auto& [name, value] : request.headers) req.insert(name, value);
  req.keep_alive(cfg.keep_alive);
  req.body() = std::move(request.body);
  req.prepare_payload();
  ++counters.requests;
  active.insert(ex);
  const auto timeout = request.timeout.count() > 0 ? request.timeout : cfg.request_timeout;
  ex->timer.expires_after(timeout);
  ex->timer.async_wait([weak = std::weak_ptr<Exchange>(ex), timeout](const beast::error_code& ec) {
    if (ec) return;
    const auto e = weak.lock();
    if (!e || e->done) return;
    e->timed_out = true;
    if (e->conn) e->conn->kill();  // the pending operation fails and reports through failed()
  });
  start(ex, /*allow_reuse=*/true);
}

void HttpClient::Impl::start(const std::shared_ptr<Exchange>& ex, bool allow_reuse) {
  std::shared_ptr<HttpConnBase> conn;
  if (allow_reuse) {
    if (auto it = idle.find(ex->origin); it != idle.end()) {
      auto& pool = it->second;
      const auto now = Clock::now();
      while (!pool.empty() && !conn) {
        auto candidate = std::move(pool.back());
        pool.pop_back();
        if (candidate->dead || now - candidate->idle_since > cfg.idle_timeout) {
          candidate->kill();
        } else {
          conn = std::move(candidate);
        }
      }
      if (pool.empty()) idle.erase(it);
    }
  }
  if (conn) {
    ++counters.reused;
  } else if (ex->url.tls()) {
    conn = std::make_shared<HttpConn<TlsStream>>(weak_from_this(), ex->url, cfg.max_body_bytes, ioc, ioc, *ssl);
  } else {
    conn = std::make_shared<HttpConn<PlainStream>>(weak_from_this(), ex->url, cfg.max_body_bytes, ioc, ioc);
  }
  ex->conn = conn;
  conn->run(ex);
}

void HttpClient::Impl::deliver(const std::shared_ptr<Exchange>& ex, HttpResponse&& response) {
  ex->done = true;
  ex->timer.cancel();
  ex->conn.reset();
  active.erase(ex);
  response.total_us = elapsed_us(ex->started);
  if (destroyed || !ex->callback) return;
  try {
    ex->callback(std::move(response));
  } catch (const std::exception& e) {
    log->warn("http_client: response callback threw: {}", e.what());
  } catch (...) {
    log->warn("http_client: response callback threw a non-standard exception");
  }
}

void HttpClient::Impl::done(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<HttpConnBase>& conn,
                            HttpResponse&& response, bool reusable) {
  if (ex->done) return;
  ++counters.responses;
  if (reusable && cfg.keep_alive && !destroyed && !conn->dead) {
    auto& pool = idle[conn->origin];
    if (pool.size() < cfg.max_idle_per_origin) {
      conn->idle_since = Clock::now();
      pool.push_back(conn);
    } else {
      conn->kill();
    }
  } else {
    conn->kill();
  }
  deliver(ex, std::move(response));
}

void HttpClient::Impl::failed(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<HttpConnBase>& conn,
                              std::string error, bool stale, bool tls_failure) {
  if (ex->done) return;
  if (stale && !ex->timed_out && !ex->retried && !destroyed) {
    ex->retried = true;
    ++counters.stale_retries;
    return start(ex, /*allow_reuse=*/false);
  }
  ++counters.failures;
  HttpResponse response;
  response.timed_out = ex->timed_out;
  response.tls_failure = tls_failure && !ex->timed_out;
  response.timings = conn->timings;
  response.remote_endpoint = conn->remote;
  response.tls = conn->tls;
  if (ex->timed_out) {
    ++counters.timeouts;
    response.error = ex->req.method_string().to_string() + " " + ex->url.text() + " timed out";
  } else {
    if (response.tls_failure) ++counters.tls_failures;
    response.error = ex->req.method_string().to_string() + " " + ex->url.text() + ": " + error;
  }
  uint64_t suppressed = 0;
  if (warn_limit.allow(suppressed)) log->warn("http_client: {}", response.error);
  deliver(ex, std::move(response));
}

void HttpClient::Impl::shutdown() {
  destroyed = true;
  for (auto& [origin, pool] : idle) {
    for (auto& conn : pool) conn->kill();
  }
  idle.clear();
  for (const auto& ex : active) {
    ex->done = true;
    ex->timer.cancel();
    if (ex->conn) ex->conn->kill();
    ex->conn.reset();
  }
  active.clear();
}

HttpClient::HttpClient(asio::io_context& ioc, HttpClientConfig config)
    : impl_(std::make_shared<Impl>(ioc, std::move(config))) {
  impl_->ssl = detail::make_client_context(impl_->cfg.tls);
}

HttpClient::~HttpClient() { impl_->shutdown(); }

void HttpClient::request(HttpRequest request, ResponseCallback callback) {
  impl_->request(std::move(request), std::move(callback));
}

void HttpClient::close_idle() {
  for (auto& [origin, pool] : impl_->idle) {
    for (auto& conn : pool) conn->kill();
  }
  impl_->idle.clear();
}

std::size_t HttpClient::idle_connections() const noexcept {
  std::size_t n = 0;
  for (const auto& [origin, pool] : impl_->idle) n += pool.size();
  return n;
}

const HttpClientCounters& HttpClient::counters() const noexcept { return impl_->counters; }

}  // namespace bts::net
