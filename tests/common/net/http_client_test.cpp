// HttpClient against a tiny Beast HTTP server and against WsServer's HTTP POST endpoint (plain and TLS).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "common/net/http_client.hpp"
#include "common/net/ws_server.hpp"
#include "net_test_util.hpp"

namespace bts::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;
using test::run_for;
using test::run_until;

// Routes: /hello, /echo, /close (Connection: close), /slow (500 ms), /missing (404), /big (2000 B),
// /chunked, /drop (answers keep-alive, then closes the idle connection after 50 ms).
class TinyHttpServer {
 public:
  explicit TinyHttpServer(asio::io_context& ioc) : ioc_(ioc), acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  [[nodiscard]] uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  int connections = 0;
  int requests = 0;

 private:
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(TinyHttpServer& s, tcp::socket socket) : server(s), stream(std::move(socket)), timer(s.ioc_) {}
    void read() {
      req = {};
      http::async_read(stream, buffer, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (!ec) self->handle();
      });
    }
    void handle() {
      ++server.requests;
      res = {};
      res.version(11);
      res.result(http::status::ok);
      res.keep_alive(req.keep_alive());
      res.set(http::field::content_type, "text/plain");
      const auto target = std::string(req.target());
      if (target == "/hello") {
        res.set("X-Test", "yes");
        res.body() = "world";
      } else if (target == "/echo") {
        res.body() = std::string(req.method_string()) + " " + req.body() + " " + std::string(req["X-Custom"]);
      } else if (target == "/close") {
        res.keep_alive(false);
        res.body() = "bye";
      } else if (target == "/missing") {
        res.result(http::status::not_found);
        res.body() = "nope";
      } else if (target == "/big") {
        res.body() = std::string(2000, 'x');
      } else if (target == "/chunked") {
        res.chunked(true);
        res.body() = "chunky body";
      } else if (target == "/slow") {
        res.body() = "slow";
        timer.expires_after(500ms);
        timer.async_wait([self = shared_from_this()](beast::error_code) { self->write(false); });
        return;
      } else if (target == "/drop") {
        res.body() = "dropping soon";
        return write(true);
      } else {
        res.result(http::status::not_found);
      }
      write(false);
    }
    void write(bool drop_later) {
      if (!res.chunked()) res.prepare_payload();
      http::async_write(stream, res, [self = shared_from_this(), drop_later](beast::error_code ec, std::size_t) {
        if (ec) return;
        if (drop_later) {
          self->timer.expires_after(50ms);
          self->timer.async_wait([self](beast::error_code) { self->stream.close(); });
          return;
        }
        if (!self->res.keep_alive()) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          return;
        }
        self->read();
      });
    }
    TinyHttpServer& server;
    beast::tcp_stream stream;
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections;
      std::make_shared<Conn>(*this, std::move(socket))->read();
      accept();
    });
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
};

HttpRequest make_request(std::string method, std::string url, std::string body = {}, HttpHeaders headers = {},
                         std::chrono::milliseconds timeout = 0ms) {
  HttpRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.body = std::move(body);
  req.headers = std::move(headers);
  req.timeout = timeout;
  return req;
}

HttpRequest get(std::string url, std::chrono::milliseconds timeout = 0ms) {
  return make_request("GET", std::move(url), {}, {}, timeout);
}

// Issues one request and runs until its response arrives.
HttpResponse fetch(asio::io_context& ioc, HttpClient& client, HttpRequest request) {
  std::optional<HttpResponse> response;
  client.request(std::move(request), [&](HttpResponse&& r) { response = std::move(r); });
  EXPECT_TRUE(run_until(ioc, [&] { return response.has_value(); }));
  if (!response) {
    response.emplace();
    response->error = "no response";
  }
  return std::move(*response);
}

TEST(HttpClient, GetReusesKeepAliveConnection) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClient client(ioc);
  auto first = fetch(ioc, client, get(server.url("/hello")));
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "world");
  EXPECT_EQ(first.header("x-test"), "yes");
  EXPECT_EQ(first.header("Content-Length"), "5");
  EXPECT_FALSE(first.reused_connection);
  EXPECT_GT(first.timings.tcp_us, 0);
  EXPECT_GT(first.ttfb_us, 0);
  EXPECT_GE(first.total_us, first.ttfb_us);
  EXPECT_EQ(client.idle_connections(), 1u);
  auto second = fetch(ioc, client, get(server.url("/hello")));
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_TRUE(second.reused_connection);
  EXPECT_EQ(second.timings.tcp_us, 0);
  EXPECT_EQ(server.connections, 1);
  EXPECT_EQ(client.counters().reused, 1u);
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().responses, 2u);
}

TEST(HttpClient, PostSendsBodyAndHeaders) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClient client(ioc);
  auto r = fetch(ioc, client,
                 make_request("POST", server.url("/echo"), "payload", {{"X-Custom", "hdr"}}));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "POST payload hdr");
  auto chunked = fetch(ioc, client, get(server.url("/chunked")));
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_EQ(chunked.body, "chunky body");
}

TEST(HttpClient, ConnectionCloseIsNotReused) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClient client(ioc);
  auto r = fetch(ioc, client, get(server.url("/close")));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(client.idle_connections(), 0u);
  r = fetch(ioc, client, get(server.url("/hello")));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.reused_connection);
  EXPECT_EQ(server.connections, 2);
}

TEST(HttpClient, DeadPooledConnectionIsRetriedOnce) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClient client(ioc);
  auto r = fetch(ioc, client, get(server.url("/drop")));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(client.idle_connections(), 1u);
  run_for(ioc, 150ms);  // the server closes the idle connection meanwhile
  r = fetch(ioc, client, make_request("POST", server.url("/echo"), "again"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "POST again ");
  EXPECT_FALSE(r.reused_connection);
  EXPECT_EQ(client.counters().stale_retries, 1u);
  EXPECT_EQ(server.connections, 2);
}

TEST(HttpClient, NonSuccessStatusIsStillAResponse) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClient client(ioc);
  auto r = fetch(ioc, client, get(server.url("/missing")));
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "nope");
}

TEST(HttpClient, TimeoutAndBodyLimit) {
  asio::io_context ioc;
  TinyHttpServer server(ioc);
  HttpClientConfig cfg;
  cfg.max_body_bytes = 100;
  HttpClient client(ioc, cfg);
  auto r = fetch(ioc, client, get(server.url("/slow"), 100ms));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.timed_out);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_EQ(client.counters().timeouts, 1u);
  r = fetch(ioc, client, get(server.url("/big")));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("max_body_bytes"), std::string::npos) << r.error;
  // The client still works after both failures.
  r = fetch(ioc, client, get(server.url("/hello")));
  EXPECT_TRUE(r.ok()) << r.error;
}

TEST(HttpClient, BadRequestsFailWithReasonNeverInline) {
  asio::io_context ioc;
  HttpClient client(ioc);
  struct Case {
    HttpRequest req;
    const char* reason;
  };
  std::vector<Case> cases;
  cases.push_back({get("nota url"), "missing scheme"});
  cases.push_back({get("ws://127.0.0.1:1/"), "not an http(s)"});
  cases.push_back({make_request("FETCH", "http://127.0.0.1:1/"), "unknown HTTP method"});
  cases.push_back({get("http://127.0.0.1:1/"), "TCP connect"});
  for (auto& c : cases) {
    bool in_call = true;
    std::optional<HttpResponse> response;
    client.request(c.req, [&](HttpResponse&& r) {
      EXPECT_FALSE(in_call);
      response = std::move(r);
    });
    in_call = false;
    ASSERT_TRUE(run_until(ioc, [&] { return response.has_value(); }));
    EXPECT_FALSE(response->ok());
    EXPECT_NE(response->error.find(c.reason), std::string::npos) << response->error;
  }
  EXPECT_EQ(client.counters().failures, 4u);
}

WsServer::RequestHandler rpc_handler(bool* notice_refused) {
  return [notice_refused](const SessionHandle& s, RpcRequest&& r) {
    EXPECT_TRUE(s.is_http());
    if (notice_refused != nullptr) *notice_refused = !s.notice(1, "x");
    s.reply(r.id, json{{"method", r.method}});
  };
}

TEST(HttpClient, JsonRpcOverHttpPostToWsServer) {
  asio::io_context ioc;
  bool notice_refused = false;
  WsServer server(ioc, {}, rpc_handler(&notice_refused));
  HttpClient client(ioc);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/rpc";
  auto r = fetch(ioc, client,
                 make_request("POST", url, R"({"id":1,"method":"call","params":[0,"get_chain_id",[]]})"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"id":1,"jsonrpc":"2.0","result":{"method":"get_chain_id"}})"));
  EXPECT_TRUE(notice_refused);
  // Keep-alive on the server side too.
  r = fetch(ioc, client, make_request("POST", url, "{broken"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.reused_connection);
  const json err = json::parse(r.body);
  EXPECT_TRUE(err["id"].is_null());
  EXPECT_EQ(err["error"]["code"], rpc_code::parse_error);
  r = fetch(ioc, client, get(url));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(server.stats().http_requests, 3u);
  EXPECT_EQ(server.stats().bad_requests, 1u);
}

TEST(HttpClient, HttpsToTlsWsServer) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_test_cert(dir.path(), "srv", "localhost", "DNS:localhost"));
  asio::io_context ioc;
  WsServerConfig cfg;
  cfg.tls_cert_file = (dir.path() / "srv.crt").string();
  cfg.tls_key_file = (dir.path() / "srv.key").string();
  WsServer server(ioc, cfg, rpc_handler(nullptr));
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  const std::string body = R"({"id":"x","method":"get_chain_id","params":[]})";

  HttpClientConfig trusted;
  trusted.tls.ca_file = (dir.path() / "srv.crt").string();
  HttpClient good(ioc, trusted);
  auto r = fetch(ioc, good, make_request("POST", url, body));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(json::parse(r.body)["id"], "x");
  ASSERT_TRUE(r.tls);
  EXPECT_TRUE(r.tls->verified);
  EXPECT_EQ(r.tls->subject_cn, "localhost");
  EXPECT_GT(r.timings.tls_us, 0);

  HttpClient untrusting(ioc);  // system store only: the self-signed certificate is refused
  r = fetch(ioc, untrusting, make_request("POST", url, body));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.tls_failure);
  EXPECT_EQ(untrusting.counters().tls_failures, 1u);
  ASSERT_TRUE(r.tls);
  EXPECT_GT(r.tls->not_after, 0);
}

}  // namespace
}  // namespace bts::net
