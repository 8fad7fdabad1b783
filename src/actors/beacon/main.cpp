// bts-beacon: standalone load generator — config file + command line → configure, prepare, start.
#include "actors/beacon/beacon.hpp"
#include "common/control/beacon_link.hpp"
#include "common/control/command_driver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
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

// Broker mode: the beacon lives until SIGINT/SIGTERM and runs whatever the broker says; the
// BeaconLink thread hands commands over to the io thread, where a CommandDriver turns them into
// configure/prepare/start/stop/set_rate and acknowledges them.
int run_under_broker(bts::control::BeaconLinkConfig link_config, const std::string& host,
                     std::shared_ptr<spdlog::logger> log) {
    using namespace bts;
    void* zmq_ctx = zmq_ctx_new();
    int exit_code = 0;
    try {
        boost::asio::io_context ioc;
        auto work = boost::asio::make_work_guard(ioc);
        crypto::Context ctx;
        std::unique_ptr<control::BeaconLink> link;
        beacon::Beacon::Options opt;
        opt.host = host;
        opt.beacon_id = link_config.beacon_id;
        opt.logger = log;
        opt.zmq_context = zmq_ctx;
        beacon::Beacon* self = nullptr;
        opt.on_interval = [&](const wire::StatsInterval& s) {
            if (!link || !self) return;
            link->send_stats(s);  // the broker's per-second view for bts-ctl
            double rate = s.interval_ms ? static_cast<double>(s.sent) * 1000.0 / static_cast<double>(s.interval_ms) : 0;
            link->set_status({std::string(beacon::to_string(self->state())), s.run_id, rate});
        };
        beacon::Beacon b(ioc, ctx, opt);
        self = &b;
        auto report = [&] {
            const auto* cfg = b.config();
            link->set_status({std::string(beacon::to_string(b.state())), cfg ? cfg->run_id : std::string(),
                              b.state() == beacon::State::running ? b.last_interval_rate() : 0.0});
        };

        control::BeaconOps ops;
        ops.state = [&] { return std::string(beacon::to_string(b.state())); };
        ops.run_id = [&] { return b.config() ? b.config()->run_id : std::string(); };
        ops.configure = [&](const std::string& payload, control::BeaconOps::Done done) {
            b.handle_command(wire::command_kind::kConfigure, payload, std::move(done));
        };
        ops.prepare = [&](control::BeaconOps::Done done) { b.prepare(std::move(done)); };
        ops.start = [&](control::BeaconOps::Done done) { b.start(std::move(done)); };
        ops.stop = [&](const std::string& reason) { b.stop(reason); };
        ops.abort = [&](const std::string& reason) { b.abort(reason); };
        ops.set_rate = [&](double rate, control::BeaconOps::Done done) {
            b.set_rate(util::Rate{rate}, std::move(done));
        };
        control::CommandDriver driver(ops, [&](const wire::Command& c, bool ok, const std::string& error) {
            if (!ok) log->warn("command {} of run {} failed: {}", c.kind, c.run_id, error);
            link->ack(c, ok, error);
        });

        link = std::make_unique<control::BeaconLink>(
            link_config,
            control::BeaconLink::Callbacks{
                .on_command =
                    [&](const wire::Command& c) {
                        boost::asio::post(ioc, [&, c] { driver.on_command(c); });
                    },
                .on_broker_lost =
                    [&](std::chrono::milliseconds silent) {
                        boost::asio::post(ioc, [&, silent] {
                            bool loaded = b.state() == beacon::State::running ||
                                          b.state() == beacon::State::preparing;
                            driver.on_broker_lost("silent for " + util::format_duration(silent));
                            if (loaded) log->warn("dead-man switch: stopped load (broker silent for {})",
                                                  util::format_duration(silent));
                        });
                    },
                .on_broker_back = [] {},
            },
            log);
        b.on_state([&](beacon::State, std::string_view) { report(); });
        report();

        boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
        boost::asio::steady_timer exit_timer(ioc);
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            log->info("{}: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
            b.abort(sig == SIGINT ? "SIGINT" : "SIGTERM");  // the process ends: no drain
            work.reset();
            // Let graceful websocket closes finish, but never hang on a dead peer.
            exit_timer.expires_after(std::chrono::seconds(3));
            exit_timer.async_wait([&](const boost::system::error_code& e) {
                if (!e) ioc.stop();
            });
        });
        ioc.run();
        link.reset();  // before the beacon it reports on
    } catch (const util::ConfigError& e) {
        std::cerr << "bts-beacon: " << e.what() << "\n";
        exit_code = 2;
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        exit_code = 1;
    }
    zmq_ctx_term(zmq_ctx);
    return exit_code;
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
    // Broker mode (docs/broker.md): wait for bts-broker's commands instead of running at once.
    cli.option("broker", "ENDPOINT", "run under bts-broker: its ROUTER endpoint, e.g. tcp://overseer:5560",
               std::nullopt, "broker.router");
    cli.option("broker-pub", "ENDPOINT", "the broker's PUB endpoint (default: ROUTER port + 1)", std::nullopt,
               "broker.pub");
    cli.option("broker-key", "FILE", "the broker's public CURVE certificate", std::nullopt, "broker.broker_key");
    cli.option("cert", "FILE", "this beacon's secret CURVE certificate (NAME.key_secret)", std::nullopt,
               "broker.cert");
    cli.option("group", "NAME", "broker group this beacon belongs to (repeatable)");
    cli.flag("insecure-broker", "allow plain TCP to a non-loopback broker", "broker.insecure");
    cli.epilog(
        "Examples:\n"
        "  bts-beacon --node ws://127.0.0.1:8090 --accounts devnet --rate 200 --duration 5s\n"
        "  bts-beacon --config /etc/bts-stress/beacon.toml --accounts /etc/bts-stress/keys \\\n"
        "             --node wss://node1.example --node wss://node2.example --stats tcp://collector:5601\n"
        "  bts-beacon --id load-1 --broker tcp://overseer:5560 --cert load-1.key_secret --broker-key broker.key\n"
        "Under a broker the beacon runs what the broker says, run after run, and stops load when it has\n"
        "heard nothing from the broker for 3 s (dead-man switch).\n"
        "When sending ends (schedule done, budget, or SIGINT/SIGTERM) the run drains: it waits for the replies\n"
        "still due and for its transactions to be included or to expire, so its counts are final. A second\n"
        "signal ends the drain at once (the rest is reported as unknown/pending); a third exits at once.\n"
        "Exit status: 0 when the run completed (or was stopped by a signal), 1 when it could not run, 2 on usage errors.");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    beacon::RunConfig config;
    std::string log_level = "info";
    std::optional<control::BeaconLinkConfig> link_config;
    try {
        util::TomlDoc doc = cli.load_config();
        if (cli.has("group")) doc.set("broker.groups", toml_string_array(cli.values("group")), "--group");
        if (doc.table("broker").exists() && !doc.table("broker").get_string("router", "").empty())
            link_config = control::beacon_link_config_from_toml(doc.table("broker"));
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
        if (link_config) {
            link_config->host = host_name();
            link_config->pid = static_cast<std::uint32_t>(getpid());
            link_config->beacon_id =
                config.beacon_id.empty() ? link_config->host + "-" + std::to_string(getpid()) : config.beacon_id;
            link_config->capabilities = {"transfer", "limit_order_create", "limit_order_cancel", "rate"};
            link_config->validate();
        }
    } catch (const util::ConfigError& e) {
        return cli.fail(e.what());
    }

    auto log = util::setup_logging("bts-beacon", log_level);
    const std::string host = host_name();
    if (link_config) return run_under_broker(*link_config, host, log);
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
                // First signal: stop sending and drain (replies, inclusion); second: end the
                // run now, the rest reported as unknown/pending; third: exit at once.
                ++signal_count;
                if (signal_count > 2) {
                    log->warn("third signal: exiting at once");
                    std::_Exit(130);
                }
                if (signal_count == 1) {
                    b.stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
                    if (b.state() == beacon::State::draining)
                        log->info("draining: waiting for replies and inclusion (signal again to end now)");
                } else {
                    b.abort(sig == SIGINT ? "SIGINT" : "SIGTERM");
                }
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
