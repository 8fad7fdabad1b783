// bts-uptime: probes BitShares API nodes, HTTPS pages and Elasticsearch endpoints and publishes
// classified results (UP, DOWN, TIMEOUT, STALE, WRONG_CHAIN, FORKED, CERT_EXPIRING, CERT_MISMATCH).
#include "actors/uptime/uptime.hpp"
#include "common/util/config.hpp"
#include "common/util/log.hpp"

#include <zmq.hpp>

#include <csignal>
#include <iostream>
#include <thread>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-uptime",
                               "Uptime prober for BitShares infrastructure: API nodes (ws/wss), "
                               "HTTPS pages, Elasticsearch. Results go out over ZeroMQ PUB "
                               "(topic = endpoint name) and PUSH to the collector.");
    cli.default_config("config/uptime.toml");
    cli.option("pub", "ENDPOINT", "ZeroMQ PUB endpoint to bind (\"\" = none)", std::nullopt, "uptime.pub");
    cli.option("push", "ENDPOINT", "collector PULL endpoint to connect (\"\" = none)", std::nullopt,
               "uptime.push");
    cli.option("interval", "DURATION", "default probe interval", std::nullopt, "uptime.interval");
    cli.option("timeout", "DURATION", "default probe timeout", std::nullopt, "uptime.timeout");
    cli.flag("check", "validate the configuration and exit");
    cli.epilog(
        "Endpoints are [[endpoint]] tables in the config file; see docs/uptime.md.\n"
        "Example:\n"
        "  bts-uptime --config config/uptime.toml --set uptime.push=tcp://127.0.0.1:5601\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    bts::uptime::UptimeConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    try {
        const bts::util::TomlDoc doc = cli.load_config();
        log = bts::util::setup_logging("bts-uptime", doc.get_string("log.level", "info"));
        cfg = bts::util::build_config<bts::uptime::UptimeConfig>(doc);
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    }
    if (cli.has("check")) {
        std::cout << "bts-uptime: configuration ok (" << cfg.endpoints.size() << " endpoints)\n";
        return 0;
    }

    // Signals are taken by a waiting thread (sigwait), not a handler: no globals, no async-signal
    // restrictions, and the actor's thread never sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    zmq::context_t ctx(1);
    std::unique_ptr<bts::uptime::Uptime> actor;
    try {
        actor = std::make_unique<bts::uptime::Uptime>(ctx, std::move(cfg), log);
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        log->info("bts-uptime: signal {}, stopping", sig);
        actor->stop();
    });
    actor->run();
    // run() may also end without a signal (it does not today); wake the waiter either way.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    actor.reset();
    return 0;
}
