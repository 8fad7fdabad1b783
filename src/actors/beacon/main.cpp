// bts-beacon: standalone load generator — config file + command line → configure, prepare, start.
#include "actors/beacon/beacon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace {

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// TOML text for strings given on the command line.
std::string toml_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string toml_string_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toml_string(items[i]);
    return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
    using namespace bts;
    util::CommandLine cli("bts-beacon",
                          "Signs BitShares transactions ahead of time and sends them at a precise rate to one or more "
                          "nodes, reporting client-side statistics every interval.");
    cli.default_config("config/beacon.toml");
    cli.option("node", "URL", "node websocket URL (ws:// or wss://); repeat for failover and load spreading");
    cli.option("rate", "RATE", "transactions per second, or \"unlimited\"", std::nullopt, "beacon.rate");
    cli.option("duration", "DURATION", "hard run duration, e.g. 30s", std::nullopt, "beacon.duration");
    cli.option("budget", "N", "hard transaction budget (0 = rate x duration)", std::nullopt, "beacon.budget");
    cli.option("accounts", "FILE|devnet[:SPEC]",
               "key file (\"account-name WIF\" lines, mode 0600), or devnet accounts, e.g. devnet:stress-0..stress-19");
    cli.option("connections", "N", "connections per node", std::nullopt, "beacon.connections_per_node");
    cli.option("stats", "stdout|ENDPOINT", "statistics sink: stdout (JSON lines) or a collector ZeroMQ endpoint "
               "(tcp://host:port); repeatable");
    cli.option("seed", "N", "seed: same seed and chain state give the same transactions", std::nullopt, "beacon.seed");
    cli.option("run-id", "ID", "run id reported in statistics", std::nullopt, "beacon.run_id");
    cli.option("id", "ID", "beacon id reported in statistics (default: host-pid)", std::nullopt, "beacon.id");
    cli.epilog(
        "Examples:\n"
        "  bts-beacon --node ws://127.0.0.1:8090 --accounts devnet --rate 200 --duration 5s\n"
        "  bts-beacon --config /etc/bts-stress/beacon.toml --accounts /etc/bts-stress/keys \\\n"
        "             --node wss://node1.example --node wss://node2.example --stats tcp://collector:5601\n"
        "Exit status: 0 when the run completed (or was stopped by a signal), 1 when it could not run, 2 on usage errors.");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    beacon::RunConfig config;
    std::string log_level = "info";
    try {
        util::TomlDoc doc = cli.load_config();
        if (cli.has("node")) doc.set("beacon.nodes", toml_string_array(cli.values("node")), "--node");
        if (cli.has("stats")) doc.set("beacon.stats.sinks", toml_string_array(cli.values("stats")), "--stats");
        if (cli.has("accounts")) {
            std::string a = cli.get("accounts");
            if (a == "devnet") {
                std::string current = doc.table("beacon").get_string("accounts", "");
                a = current.rfind("devnet:", 0) == 0 ? current : "devnet:stress-0..stress-9";
            } else if (a.rfind("devnet:", 0) != 0 && a.rfind("file:", 0) != 0 && a != "inline") {
                a = "file:" + a;
            }
            doc.set("beacon.accounts", toml_string(a), "--accounts");
        }
        log_level = doc.table("log").get_string("level", "info");
        config = util::build_config<beacon::RunConfig>(doc);
        if (!config.inline_keys.empty()) {
            if (auto path = cli.config_path()) {
                struct stat st {};
                if (::stat(path->c_str(), &st) == 0 && (st.st_mode & 077) != 0)
                    throw util::ConfigError(*path, "beacon.key",
                                            "file holds private keys but is readable by group or others: chmod 600 it");
            }
        }
    } catch (const util::ConfigError& e) {
        return cli.fail(e.what());
    }

    auto log = util::setup_logging("bts-beacon", log_level);
    const std::string host = host_name();
    void* zmq_ctx = zmq_ctx_new();
    int exit_code = 0;
    {
        boost::asio::io_context ioc;
        crypto::Context ctx;
        beacon::Beacon::Options opt;
        opt.host = host;
        opt.beacon_id = host + "-" + std::to_string(getpid());
        opt.logger = log;
        opt.zmq_context = zmq_ctx;
        beacon::Beacon b(ioc, ctx, opt);

        boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
        int signal_count = 0;
        std::function<void(const boost::system::error_code&, int)> on_signal =
            [&](const boost::system::error_code& ec, int sig) {
                if (ec) return;
                if (++signal_count > 1) {
                    log->warn("second signal: exiting at once");
                    std::_Exit(130);
                }
                b.stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
                signals.async_wait(on_signal);
            };
        signals.async_wait(on_signal);

        boost::asio::steady_timer exit_timer(ioc);
        auto shut_down = [&] {
            signals.cancel();
            // Let graceful websocket closes finish, but never hang on a dead peer.
            exit_timer.expires_after(std::chrono::seconds(3));
            exit_timer.async_wait([&](const boost::system::error_code& ec) {
                if (!ec) ioc.stop();
            });
        };
        auto failed = [&](const std::string& what, const std::string& error) {
            if (what != "prepare") log->error("{} failed: {}", what, error);  // prepare logs its own
            exit_code = 1;
            b.stop(what + " failed");
            shut_down();
        };
        b.on_state([&](beacon::State s, std::string_view) {
            if (s == beacon::State::stopped) shut_down();
        });
        b.configure(std::move(config), [&](bool ok, const std::string& error) {
            if (!ok) return failed("configure", error);
            b.prepare([&](bool ok2, const std::string& error2) {
                if (!ok2) return failed("prepare", error2);
                b.start([&](bool ok3, const std::string& error3) {
                    if (!ok3) failed("start", error3);
                });
            });
        });
        ioc.run();
        if (b.summary().stop_reason.rfind("failed", 0) == 0) exit_code = 1;
    }
    zmq_ctx_term(zmq_ctx);
    return exit_code;
}
