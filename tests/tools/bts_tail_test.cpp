// bts-tail against a real bts-collector: --json lines through a pipe, and the live table under a
// pseudo-terminal (forkpty), fitting the terminal width and exiting cleanly on Ctrl-C.
#include "fake_beacon.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <csignal>
#include <regex>
#include <sstream>
#include <thread>

using bts::test::built_program;
using bts::test::ChildProcess;
using bts::test::FakeBeacon;
using bts::test::free_port;
using bts::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A bts-collector process and four beacons sending every 200 ms from a thread.
class LiveRun {
public:
    explicit LiveRun(std::vector<std::string> extra = {}) {
        pull_ = free_port();
        pub_ = free_port();
        std::vector<std::string> args{"--listen", "tcp://127.0.0.1:" + std::to_string(pull_), "--publish",
                                      "tcp://127.0.0.1:" + std::to_string(pub_), "--store", dir_.file("s.sqlite"),
                                      "--set", "collector.totals_delay=500ms", "--set", "collector.stats_interval=1s"};
        args.insert(args.end(), extra.begin(), extra.end());
        collector_ = std::make_unique<ChildProcess>(built_program("src/actors/collector/bts-collector"), args,
                                                    dir_.file("collector.log"));
        if (!collector_->wait_for_log("ready")) throw std::runtime_error("collector did not start: " + collector_->log());
    }
    ~LiveRun() { stop(); }
    void start(int beacons = 4) {
        thread_ = std::thread([this, beacons] {
            std::vector<std::unique_ptr<FakeBeacon>> list;
            for (int b = 0; b < beacons; ++b)
                list.push_back(std::make_unique<FakeBeacon>("tcp://127.0.0.1:" + std::to_string(pull_), "tail-run",
                                                            "beacon-" + std::to_string(b), b + 1, 0, 200));
            while (!stop_) {
                for (auto& b : list) b->send_next(now_ms() / 200 * 200);
                std::this_thread::sleep_for(200ms);
            }
        });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::string pub() const { return "tcp://127.0.0.1:" + std::to_string(pub_); }

private:
    TempDir dir_;
    std::uint16_t pull_ = 0, pub_ = 0;
    std::unique_ptr<ChildProcess> collector_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

std::string strip_ansi(const std::string& s) {
    static const std::regex csi("\x1b\\[[0-9;?]*[A-Za-z]");
    return std::regex_replace(s, csi, "");
}

struct PtyResult {
    std::string screen;
    int exit_code = -1;
};

// Runs bts-tail under a pseudo-terminal of the given size for `duration`, then types Ctrl-C.
PtyResult run_in_pty(const std::vector<std::string>& args, unsigned short cols, unsigned short rows,
                     std::chrono::milliseconds duration) {
    winsize ws{};
    ws.ws_col = cols;
    ws.ws_row = rows;
    int master = -1;
    std::string program = built_program("src/tools/bts-tail/bts-tail");
    pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
    if (pid == 0) {
        std::vector<char*> argv;
        argv.push_back(program.data());
        std::vector<std::string> copy = args;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(program.c_str(), argv.data());
        _exit(127);
    }
    PtyResult r;
    auto read_for = [&](std::chrono::milliseconds d) {
        auto end = std::chrono::steady_clock::now() + d;
        char buf[4096];
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{master, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;
            r.screen.append(buf, static_cast<std::size_t>(n));
        }
    };
    read_for(duration);
    const char ctrl_c = 3;  // the terminal turns it into SIGINT for the foreground process
    (void)!write(master, &ctrl_c, 1);
    read_for(1500ms);
    int status = 0;
    for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    close(master);
    return r;
}

// The last full screen: the text after the last clear-screen sequence.
std::string last_screen(const std::string& out) {
    auto pos = out.rfind("\x1b[H\x1b[2J");
    std::string s = pos == std::string::npos ? out : out.substr(pos);
    auto end = s.find("\x1b[?25h");
    if (end != std::string::npos) s.resize(end);
    return strip_ansi(s);
}

}  // namespace

TEST(BtsTail, HelpAndVersion) {
    auto r = bts::test::run_program(built_program("src/tools/bts-tail/bts-tail"), {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--json"), std::string::npos);
    EXPECT_NE(r.out.find("--run"), std::string::npos);
    r = bts::test::run_program(built_program("src/tools/bts-tail/bts-tail"), {"--version"});
    EXPECT_EQ(r.exit_code, 0);
    r = bts::test::run_program(built_program("src/tools/bts-tail/bts-tail"), {"--count", "x"});
    EXPECT_EQ(r.exit_code, 2);
}

TEST(BtsTail, JsonLinesFilteredByBeacon) {
    LiveRun run;
    run.start();
    auto r = bts::test::run_program(built_program("src/tools/bts-tail/bts-tail"),
                                    {"--connect", run.pub(), "--json", "--run", "tail-run", "--beacon", "beacon-2",
                                     "--topic", "interval/", "--count", "5"},
                                    "", 20s);
    run.stop();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["topic"], "interval/tail-run/beacon-2");
        EXPECT_EQ(j["type"], "StatsInterval");
        EXPECT_EQ(j["beacon_id"], "beacon-2");
        EXPECT_GT(j["sent"].get<int>(), 0);
        ++n;
    }
    EXPECT_EQ(n, 5);
}

TEST(BtsTail, JsonIncludesTotalsAndCollectorReports) {
    LiveRun run;
    run.start(2);
    auto r = bts::test::run_program(built_program("src/tools/bts-tail/bts-tail"),
                                    {"--connect", run.pub(), "--json", "--topic", "totals/", "--topic", "collector/",
                                     "--count", "4"},
                                    "", 20s);
    run.stop();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    std::string line;
    std::set<std::string> types;
    while (std::getline(in, line)) types.insert(nlohmann::json::parse(line)["type"].get<std::string>());
    EXPECT_TRUE(types.count("ClusterTotals")) << r.out;
}

TEST(BtsTail, SubscribesOverCurve) {
    TempDir keys;
    zcert_t* server = zcert_new();
    zcert_t* client = zcert_new();
    ASSERT_EQ(zcert_save(server, keys.file("collector.key").c_str()), 0);
    ASSERT_EQ(zcert_save(client, keys.file("me.key").c_str()), 0);
    std::filesystem::create_directories(keys.file("allowed"));
    ASSERT_EQ(zcert_save_public(client, keys.file("allowed/me.key").c_str()), 0);
    zcert_destroy(&server);
    zcert_destroy(&client);
    LiveRun run({"--set", "collector.publish_curve.secret_cert=" + keys.file("collector.key_secret"), "--set",
                 "collector.publish_curve.allowed_clients=" + keys.file("allowed")});
    run.start(1);
    const auto tail = built_program("src/tools/bts-tail/bts-tail");
    auto r = bts::test::run_program(tail, {"--connect", run.pub(), "--json", "--topic", "interval/", "--count", "2",
                                           "--server-cert", keys.file("collector.key"), "--cert",
                                           keys.file("me.key_secret")},
                                    "", 20s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
    // A key that is not on the allow-list gets nothing.
    r = bts::test::run_program(tail, {"--connect", run.pub(), "--json", "--count", "1", "--server-cert",
                                      keys.file("collector.key")},
                               "", 3s);
    EXPECT_TRUE(r.out.empty()) << r.out;
    run.stop();
}

TEST(BtsTail, LiveTableUnderAPseudoTerminal) {
    LiveRun run;
    run.start();
    auto r = run_in_pty({"--connect", run.pub()}, 160, 40, 3500ms);
    run.stop();
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.screen.find("\x1b[?1049h"), std::string::npos);  // alternate screen entered
    EXPECT_NE(r.screen.find("\x1b[?1049l"), std::string::npos);  // and left on Ctrl-C
    std::string screen = last_screen(r.screen);
    for (const char* want : {"run tail-run", "4 beacons", "BEACON", "TARGET", "TX/S", "OPS/S", "ACCEPTED", "REJECTED",
                             "ACC p99", "INCL p99", "CPU%", "beacon-0", "beacon-3", "TOTAL", "cluster"})
        EXPECT_NE(screen.find(want), std::string::npos) << want << " missing from:\n" << screen;
    std::istringstream lines(screen);
    std::string line;
    while (std::getline(lines, line)) {
        while (!line.empty() && line.back() == '\r') line.pop_back();
        EXPECT_LE(line.size(), 160u) << line;
    }
}

TEST(BtsTail, NarrowTerminalDropsColumnsButFits) {
    LiveRun run;
    run.start();
    auto r = run_in_pty({"--connect", run.pub()}, 60, 20, 2500ms);
    run.stop();
    EXPECT_EQ(r.exit_code, 0);
    std::string screen = last_screen(r.screen);
    EXPECT_NE(screen.find("beacon-1"), std::string::npos) << screen;
    EXPECT_NE(screen.find("TX/S"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("HOST%"), std::string::npos) << screen;  // dropped first
    std::istringstream lines(screen);
    std::string line;
    while (std::getline(lines, line)) {
        while (!line.empty() && line.back() == '\r') line.pop_back();
        EXPECT_LE(line.size(), 60u) << "[" << line << "]";
    }
}
