// bts-stats against hostile feeds and configs (issue 17): results from the future, forged endpoint
// names, already-expired certificates, an unusable web_dir, --config DIR. The real program, fed
// over a real ZeroMQ PUB socket, read over real HTTP.
#include "common/wire.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <regex>
#include <thread>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string& program() {
    static const std::string p = bts::test::built_program("src/tools/bts-stats/bts-stats");
    return p;
}

// GET over a fresh connection; the body, or "" on any failure.
std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return {};
    }
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    std::string all;
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10'000) > 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto end = all.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : all.substr(end + 4);
}

json status(std::uint16_t port) { return json::parse(http_get(port, "/api/status.json"), nullptr, false); }

bool eventually(const std::function<bool()>& fn, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fn()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return fn();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bts::wire::UptimeResult result(const std::string& name, const std::string& status, std::int64_t t) {
    bts::wire::UptimeResult r;
    r.endpoint = name;
    r.url = "wss://" + name + ".example/ws";
    r.kind = "wss";
    r.status = status;
    r.unix_ms = t;
    r.duration_us = 1000;
    r.chain_id = std::string(64, 'c');
    r.cert_not_after_unix = t / 1000 + 40 * 86400;
    r.cert_days_left = 40;
    r.cert_name_matches = true;
    return r;
}

json endpoint(const json& s, const std::string& name) {
    if (!s.is_object()) return nullptr;
    for (const auto& e : s["endpoints"]) {
        if (e["name"] == name) return e;
    }
    return nullptr;
}

class StatsAdmission : public ::testing::Test {
protected:
    void SetUp() override {
        pub_.bind("tcp://127.0.0.1:*");
        ep_ = pub_.get(zmq::sockopt::last_endpoint);
    }

    void start(const std::string& stats_table) {
        const std::string cfg = dir_.write("stats.toml", "[stats]\nuptime_refresh = \"1s\"\n" + stats_table);
        proc_ = std::make_unique<bts::test::ChildProcess>(
            program(),
            std::vector<std::string>{"--config", cfg, "--port", "0", "--store", dir_.file("stats.sqlite"),
                                     "--uptime-feed", ep_, "--collector-feed", ""},
            dir_.file("stats-" + std::to_string(++starts_) + ".log"));
        ASSERT_TRUE(proc_->wait_for_log("serving on http://127.0.0.1:")) << proc_->log();
        std::smatch m;
        const std::string log = proc_->log();
        ASSERT_TRUE(std::regex_search(log, m, std::regex("http://127\\.0\\.0\\.1:(\\d+)/")));
        port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
    }

    void publish(const bts::wire::UptimeResult& r) {
        pub_.send(zmq::buffer(r.endpoint), zmq::send_flags::sndmore);
        pub_.send(zmq::buffer(bts::wire::encode(r)));
    }

    // Publishes `r` until the page shows it (the subscription takes a moment to be set up).
    ::testing::AssertionResult publish_until_seen(const bts::wire::UptimeResult& r) {
        if (eventually([&] {
                publish(r);
                const json e = endpoint(status(port_), r.endpoint);
                return e.is_object() && e["checked_ms"] == r.unix_ms;
            })) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << r.endpoint << " never shown: " << status(port_).dump() << proc_->log();
    }

    std::uint64_t rejected() {
        const json s = status(port_);
        if (!s.is_object()) return 0;
        for (const auto& f : s["feeds"]) {
            if (f["name"] == "uptime") return f.value("rejected", std::uint64_t{0});
        }
        return 0;
    }

    bts::test::TempDir dir_;
    zmq::context_t ctx_{1};
    zmq::socket_t pub_{ctx_, zmq::socket_type::pub};
    std::string ep_;
    std::unique_ptr<bts::test::ChildProcess> proc_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
};

TEST_F(StatsAdmission, FutureResultsAndForgedNamesAreRefusedAndCounted) {
    start("endpoints = [\"api-1\"]\nmax_clock_skew = \"5m\"\n");
    const auto t = now_ms();
    ASSERT_TRUE(publish_until_seen(result("api-1", "UP", t)));

    // One result from 2100 would pin api-1 to DOWN: every later honest result looks older.
    publish(result("api-1", "DOWN", 4'102'444'800'000LL));
    // Forged names for endpoints nobody configured.
    for (int i = 0; i < 50; ++i) publish(result("forged-" + std::to_string(i), "DOWN", t + 1));
    ASSERT_TRUE(eventually([&] { return rejected() >= 51; })) << status(port_).dump() << proc_->log();

    ASSERT_TRUE(publish_until_seen(result("api-1", "UP", t + 2000)));
    const json s = status(port_);
    EXPECT_EQ(endpoint(s, "api-1")["status"], "UP") << s.dump();
    EXPECT_EQ(s["summary"]["endpoints"], 1) << s.dump();
    EXPECT_EQ(s["summary"]["up"], 1) << s.dump();
    EXPECT_TRUE(endpoint(s, "forged-0").is_null());
    // A result far in the past is refused too (a replay).
    publish(result("api-1", "DOWN", t - 3'600'000));
    ASSERT_TRUE(eventually([&] { return rejected() >= 52; })) << status(port_).dump();
    EXPECT_EQ(endpoint(status(port_), "api-1")["status"], "UP");
    EXPECT_NE(proc_->log().find("refused a result"), std::string::npos) << proc_->log();

    // Nothing refused was stored: after a restart the page shows the honest result.
    proc_.reset();
    start("endpoints = [\"api-1\"]\n");
    const json after = status(port_);
    EXPECT_EQ(endpoint(after, "api-1")["status"], "UP") << after.dump();
    EXPECT_EQ(after["endpoints"].size(), 1u) << after.dump();
}

TEST_F(StatsAdmission, WithoutAnEndpointListNamesAreCapped) {
    start("");
    const auto t = now_ms();
    ASSERT_TRUE(publish_until_seen(result("first", "UP", t)));
    for (int i = 0; i < 400; ++i) publish(result("forged-" + std::to_string(i), "UP", t + 1));
    ASSERT_TRUE(eventually([&] { return rejected() >= 201; })) << status(port_).dump().substr(0, 2000);
    EXPECT_EQ(status(port_)["summary"]["endpoints"], 200);
}

TEST_F(StatsAdmission, AnExpiredCertificateNeverCountsAsUp) {
    // issue 13 item 3: counts_as_up counted every CERT_EXPIRING, expired ones too.
    start("");
    const auto t = now_ms();
    auto expired = result("expired", "CERT_EXPIRING", t);
    expired.cert_not_after_unix = t / 1000 - 86400;
    expired.cert_days_left = -1;
    auto soon = result("soon", "CERT_EXPIRING", t);
    soon.cert_not_after_unix = t / 1000 + 3 * 86400;
    soon.cert_days_left = 3;
    ASSERT_TRUE(publish_until_seen(expired));
    ASSERT_TRUE(publish_until_seen(soon));
    const json s = status(port_);
    EXPECT_EQ(endpoint(s, "expired")["up"], false) << s.dump();
    EXPECT_EQ(endpoint(s, "soon")["up"], true) << s.dump();
    EXPECT_EQ(s["summary"]["up"], 1) << s.dump();
    // The uptime percentages (from the page's own store) agree: 0 % for the expired one.
    ASSERT_TRUE(eventually([&] { return endpoint(status(port_), "expired")["uptime"]["24h"].is_number(); }))
        << status(port_).dump();
    const json later = status(port_);
    EXPECT_EQ(endpoint(later, "expired")["uptime"]["24h"].get<double>(), 0.0) << later.dump();
    EXPECT_EQ(endpoint(later, "soon")["uptime"]["24h"].get<double>(), 100.0) << later.dump();
}

TEST(StatsCli, BadPathsAreCleanOneLineErrors) {
    bts::test::TempDir dir;
    // A 5000-character web_dir aborted --check (uncaught filesystem_error).
    auto r = bts::test::run_program(
        program(), {"--config", dir.write("long.toml", "[stats]\nweb_dir = \"" + std::string(5000, 'w') + "\"\n"), "--check"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stats.web_dir"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
    // --config DIR ran on the defaults without a word.
    r = bts::test::run_program(program(), {"--config", dir.path(), "--check"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
    r = bts::test::run_program(program(), {"--config", dir.write("skew.toml", "[stats]\nmax_clock_skew = \"0s\"\n"), "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("stats.max_clock_skew"), std::string::npos) << r.err;
}

}  // namespace
