// The shared HTTP server core over real sockets: issue 17's findings against bts-stats (idle
// sockets locking out /healthz, held event streams blocking the page) and every limit of
// HttpServerLimits.
#include "common/net/http_server.hpp"
#include "common/net/http_client.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace bts::net;
using namespace std::chrono_literals;

namespace {

// The server on its own thread; tests talk to it over loopback only.
class Running {
  public:
    explicit Running(std::function<std::unique_ptr<HttpServer>(boost::asio::io_context&)> make) {
        server_ = make(ioc_);
        port_ = server_->port();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    // Stops the server on its thread, then lets every closed session finish before the
    // io_context goes away.
    ~Running() {
        boost::asio::post(ioc_, [this] {
            server_->stop();
            guard_.reset();
        });
        thread_.join();
        server_.reset();
    }
    std::uint16_t port() const { return port_; }
    // Reads server state on its thread.
    template <class F>
    auto on_server(F f) {
        std::promise<decltype(f(*server_))> p;
        boost::asio::post(ioc_, [&] { p.set_value(f(*server_)); });
        return p.get_future().get();
    }

  private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ =
        boost::asio::make_work_guard(ioc_);
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

int connect_raw(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void send_text(int fd, const std::string& s) {
    (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
}

// Everything until the peer closes or `until` appears (or 30 s pass).
std::string read_text(int fd, const std::string& until = {}) {
    std::string out;
    char buf[4096];
    for (;;) {
        if (!until.empty() && out.find(until) != std::string::npos) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

HttpResponse get(std::uint16_t port, const std::string& path,
                 std::chrono::milliseconds timeout = 20s) {
    boost::asio::io_context ioc;
    HttpClient client(ioc, {});
    HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    req.timeout = timeout;
    HttpResponse out;
    client.request(std::move(req), [&](HttpResponse&& r) { out = std::move(r); });
    ioc.run();
    return out;
}

std::unique_ptr<HttpServer> stats_like(boost::asio::io_context& ioc) {
    return std::make_unique<HttpServer>(ioc, "127.0.0.1", 0, [](const HttpServerRequest& r) {
        if (r.path == "/events") {
            HttpServerResponse resp;
            resp.event_stream = true;
            return resp;
        }
        return HttpServerResponse{200, "text/plain", r.path == "/healthz" ? "ok\n" : "page\n"};
    });
}

struct Fds {
    std::vector<int> fds;
    ~Fds() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
};

}  // namespace

// issue 17: "500 idle sockets made /healthz refuse connections for 30 s".
TEST(HttpServer, IdleSocketsDoNotLockOutRequests) {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 1200) {
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 1200);
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    Running srv(stats_like);
    Fds idle;
    for (int i = 0; i < 500; ++i) idle.fds.push_back(connect_raw(srv.port()));
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = get(srv.port(), "/healthz");
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "ok\n");
        // Well under the 10 s request timeout: served at once, not after idle sockets expire.
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    }
    auto evicted = srv.on_server([](HttpServer& s) { return s.stats().evicted; });
    EXPECT_GT(evicted, 0u);
    EXPECT_LE(srv.on_server([](HttpServer& s) { return s.open_connections(); }), 64u);
}

// issue 17: "300 held /events streams block the page while they stay open".
TEST(HttpServer, HeldEventStreamsDoNotBlockThePage) {
    Running srv(stats_like);
    Fds streams;
    for (int i = 0; i < 300; ++i) {
        int fd = connect_raw(srv.port());
        ASSERT_GE(fd, 0);
        send_text(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_NE(read_text(fd, "retry:").find("text/event-stream"), std::string::npos) << i;
        streams.fds.push_back(fd);
    }
    auto r = get(srv.port(), "/");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.body, "page\n");
    EXPECT_LE(srv.on_server([](HttpServer& s) { return s.event_clients(); }), 32u);
    EXPECT_GE(srv.on_server([](HttpServer& s) { return s.stats().sse_shed; }), 268u);
    // The oldest streams were the ones closed; the newest still get events.
    EXPECT_EQ(read_text(streams.fds.front()), "");
    srv.on_server([](HttpServer& s) {
        s.broadcast("tick", "1");
        return 0;
    });
    EXPECT_NE(read_text(streams.fds.back(), "data: 1").find("event: tick"), std::string::npos);
}

TEST(HttpServer, BodyAndHeaderCapsAndMethods) {
    Running srv([](boost::asio::io_context& ioc) {
        HttpServerOptions o;
        o.limits.max_body_bytes = 1024;
        o.limits.max_header_bytes = 2048;
        return std::make_unique<HttpServer>(ioc, o, [](const HttpServerRequest& r) {
            return HttpServerResponse{200, "text/plain",
                                      r.method + " " + std::to_string(r.body.size())};
        });
    });
    int fd = connect_raw(srv.port());
    send_text(fd, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_NE(read_text(fd, "POST 5").find("200 OK"), std::string::npos);
    send_text(
        fd, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'a'));
    EXPECT_NE(read_text(fd).find("413"), std::string::npos);
    ::close(fd);
    fd = connect_raw(srv.port());
    send_text(fd, "GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
    EXPECT_NE(read_text(fd).find("431"), std::string::npos);
    ::close(fd);
    fd = connect_raw(srv.port());
    send_text(fd, "NOT A REQUEST\r\n\r\n");
    EXPECT_NE(read_text(fd).find("400"), std::string::npos);
    ::close(fd);
    // The read-only constructor answers anything but GET/HEAD with 405.
    Running page(stats_like);
    fd = connect_raw(page.port());
    send_text(fd, "DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(read_text(fd, "only").find("405"), std::string::npos);
    ::close(fd);
}

// A half-sent request (slowloris) is closed after request_timeout; other clients are served
// meanwhile.
TEST(HttpServer, HalfSentRequestTimesOut) {
    Running srv([](boost::asio::io_context& ioc) {
        HttpServerOptions o;
        o.limits.request_timeout = 500ms;
        return std::make_unique<HttpServer>(
            ioc, o, [](const HttpServerRequest&) { return HttpServerResponse{}; });
    });
    int fd = connect_raw(srv.port());
    send_text(fd, "GET /slow HTTP/1.1\r\nHost: x\r\nX-A: ");
    EXPECT_TRUE(get(srv.port(), "/").ok());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(read_text(fd), "");  // closed
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
    ::close(fd);
    EXPECT_GE(srv.on_server([](HttpServer& s) { return s.stats().timeouts; }), 1u);
}

// When every connection is busy (answer pending), a new one is refused rather than evicting work.
TEST(HttpServer, BusyConnectionsAreNotEvicted) {
    std::vector<HttpServer::Respond> pending;
    Running srv([&](boost::asio::io_context& ioc) {
        HttpServerOptions o;
        o.limits.max_connections = 4;
        o.limits.max_connections_per_ip = 4;
        return std::make_unique<HttpServer>(
            ioc, o, HttpServer::AsyncHandler([&](HttpServerRequest&&, HttpServer::Respond respond) {
                pending.push_back(std::move(respond));
            }));
    });
    Fds busy;
    for (int i = 0; i < 4; ++i) {
        busy.fds.push_back(connect_raw(srv.port()));
        send_text(busy.fds.back(), "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    // Wait until all four requests are with the handler.
    for (int i = 0; i < 2000 && srv.on_server([&](HttpServer&) { return pending.size(); }) < 4; ++i)
        std::this_thread::sleep_for(10ms);
    ASSERT_EQ(srv.on_server([&](HttpServer&) { return pending.size(); }), 4u);
    auto r = get(srv.port(), "/");
    EXPECT_FALSE(r.ok() && r.status == 200);
    EXPECT_GE(srv.on_server([](HttpServer& s) { return s.stats().rejected; }), 1u);
    // Answering later still reaches the clients.
    srv.on_server([&](HttpServer&) {
        for (auto& p : pending) p(HttpServerResponse{200, "text/plain", "late"});
        return 0;
    });
    EXPECT_NE(read_text(busy.fds[0], "late").find("late"), std::string::npos);
    srv.on_server([&](HttpServer&) {
        pending.clear();  // they hold sessions: gone before the server's io_context
        return 0;
    });
}

TEST(HttpServer, QueryHelpers) {
    EXPECT_EQ(query_param("a=1&b=x%20y+z&c", "b"), "x y z");
    EXPECT_EQ(query_param("a=1", "zz"), "");
    auto all = query_params("a=1&&b=%41&c");
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[1].second, "A");
    EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}
