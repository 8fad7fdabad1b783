// The whole uptime pipeline with the real programs: bts-uptime PUSHes to the real bts-collector,
// which stores the results and re-publishes them as uptime/<endpoint>; bts-stats, fed only by the
// collector, shows them over HTTP.
#include "fake_targets.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <poll.h>

#include <map>
#include <regex>
#include <thread>

namespace {

using namespace std::chrono_literals;

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
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    std::string all;
    char buf[65536];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 5000) > 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        all.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto end = all.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : all.substr(end + 4);
}

TEST(UptimePipeline, UptimeToCollectorToStatsPage) {
    bts::test::TempDir dir;
    bts::uptime::testing::FakeNode node(bts::uptime::testing::FakeNodeOptions{});
    const auto closed = bts::uptime::testing::closed_port();
    const std::string pull = "tcp://127.0.0.1:" + std::to_string(bts::test::free_port());
    const std::string pub = "tcp://127.0.0.1:" + std::to_string(bts::test::free_port());

    bts::test::ChildProcess collector(bts::test::built_program("src/actors/collector/bts-collector"),
                                      {"--config", dir.write("collector.toml", ""), "--listen", pull, "--publish", pub,
                                       "--store", dir.file("collector.sqlite")},
                                      dir.file("collector.log"));
    ASSERT_TRUE(collector.wait_for_log("bts-collector ready", 20s)) << collector.log();

    const std::string toml = "[uptime]\ninterval = \"1s\"\ntimeout = \"500ms\"\npub = \"\"\npush = \"" + pull +
                             "\"\n[[endpoint]]\nname = \"node\"\nurl = \"" + node.url() + "\"\nchain_id = \"" +
                             std::string(64, 'c') + "\"\n[[endpoint]]\nname = \"gone\"\nurl = \"ws://127.0.0.1:" +
                             std::to_string(closed) + "/\"\n";
    bts::test::ChildProcess uptime(bts::test::built_program("src/actors/uptime/bts-uptime"),
                                   {"--config", dir.write("uptime.toml", toml)}, dir.file("uptime.log"));
    bts::test::ChildProcess stats(bts::test::built_program("src/tools/bts-stats/bts-stats"),
                                  {"--config", dir.write("stats.toml", ""), "--port", "0", "--store",
                                   dir.file("stats.sqlite"), "--uptime-feed", "", "--collector-feed", pub},
                                  dir.file("stats.log"));
    ASSERT_TRUE(stats.wait_for_log("serving on http://127.0.0.1:", 10s)) << stats.log();
    std::smatch m;
    const std::string slog = stats.log();
    ASSERT_TRUE(std::regex_search(slog, m, std::regex("http://127\\.0\\.0\\.1:(\\d+)/")));
    const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));

    nlohmann::json status;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
        status = nlohmann::json::parse(http_get(port, "/api/status.json"), nullptr, false);
        if (status.is_discarded()) continue;
        std::map<std::string, std::string> by_name;
        for (const auto& e : status["endpoints"]) by_name[e["name"]] = e["status"];
        seen = by_name["node"] == "UP" && by_name["gone"] == "DOWN";
    }
    EXPECT_TRUE(seen) << status.dump() << "\ncollector:\n" << collector.log() << "\nuptime:\n" << uptime.log();
    EXPECT_EQ(status["feeds"].size(), 1u);
    EXPECT_EQ(status["feeds"][0]["name"], "collector");
    EXPECT_EQ(status["feeds"][0]["ok"], true);
}

}  // namespace
