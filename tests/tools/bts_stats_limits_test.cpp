// Issue 17's two HTTP findings against the real bts-stats program (on the shared server core):
// 500 idle sockets must not make /healthz refuse, 300 held /events streams must not block the page.
#include "common/net/http_client.hpp"
#include "process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <regex>
#include <vector>

using namespace std::chrono_literals;

namespace {

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

bts::net::HttpResponse get(std::uint16_t port, const std::string& path) {
    boost::asio::io_context ioc;
    bts::net::HttpClient client(ioc, {});
    bts::net::HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    req.timeout = 20s;
    bts::net::HttpResponse out;
    client.request(std::move(req), [&](bts::net::HttpResponse&& r) { out = std::move(r); });
    ioc.run();
    return out;
}

struct Fds {
    std::vector<int> fds;
    ~Fds() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
};

class StatsProcess {
  public:
    StatsProcess() {
        rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < 1200) {
            rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 1200);
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
        proc_ = std::make_unique<bts::test::ChildProcess>(
            bts::test::built_program("src/tools/bts-stats/bts-stats"),
            std::vector<std::string>{"--config", dir_.write("stats.toml", "[stats]\n"), "--port",
                                     "0", "--store", dir_.file("stats.sqlite"), "--uptime-feed",
                                     "tcp://127.0.0.1:" + std::to_string(bts::test::free_port()),
                                     "--collector-feed", ""},
            dir_.file("stats.log"));
        EXPECT_TRUE(proc_->wait_for_log("serving on http://127.0.0.1:", 30s)) << proc_->log();
        std::smatch m;
        const std::string log = proc_->log();
        if (std::regex_search(log, m, std::regex("http://127\\.0\\.0\\.1:(\\d+)/")))
            port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    std::uint16_t port() const { return port_; }
    bool running() { return proc_->running(); }

  private:
    bts::test::TempDir dir_;
    std::unique_ptr<bts::test::ChildProcess> proc_;
    std::uint16_t port_ = 0;
};

}  // namespace

TEST(BtsStatsLimits, IdleSocketsDoNotLockOutHealthz) {
    StatsProcess stats;
    ASSERT_NE(stats.port(), 0);
    Fds idle;
    for (int i = 0; i < 500; ++i) idle.fds.push_back(connect_raw(stats.port()));
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = get(stats.port(), "/healthz");
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.body, "ok\n");
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // before: refused for 30 s
    }
    EXPECT_TRUE(stats.running());
}

TEST(BtsStatsLimits, HeldEventStreamsDoNotBlockThePage) {
    StatsProcess stats;
    ASSERT_NE(stats.port(), 0);
    Fds streams;
    for (int i = 0; i < 300; ++i) {
        int fd = connect_raw(stats.port());
        ASSERT_GE(fd, 0);
        const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
        ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(req.size()));
        streams.fds.push_back(fd);
    }
    for (const char* page : {"/", "/api/status.json", "/healthz"}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = get(stats.port(), page);
        ASSERT_TRUE(r.ok()) << page << ": " << r.error;
        EXPECT_EQ(r.status, 200) << page;
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << page;
    }
    EXPECT_TRUE(stats.running());
}
