// bts-broker: the overseer program — config, logging, then the Broker actor until SIGINT/SIGTERM.
#include "broker/broker.hpp"

#include "common/util/config.hpp"
#include "common/util/log.hpp"

#include <czmq.h>

#include <csignal>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-broker",
                               "Drives bts-stress beacons: registry, heartbeats, scenarios, bts-ctl requests");
    cli.default_config("config/broker.toml");
    cli.option("router", "ENDPOINT", "ROUTER endpoint for beacons and bts-ctl", std::nullopt,
               "broker.router");
    cli.option("pub", "ENDPOINT", "PUB endpoint for commands", std::nullopt, "broker.pub");
    cli.option("cert", "FILE", "the broker's secret CURVE certificate (NAME.key_secret)",
               std::nullopt, "broker.curve.secret_cert");
    cli.option("allow", "DIR", "directory of allowed public certificates (beacons, bts-ctl users)",
               std::nullopt, "broker.curve.allow_dir");
    cli.flag("insecure", "allow plain TCP on non-loopback endpoints", "broker.curve.insecure");
    cli.epilog(
        "Examples:\n"
        "  bts-broker --config /etc/bts-stress/broker.toml\n"
        "  bts-broker --router tcp://127.0.0.1:5560 --pub tcp://127.0.0.1:5561\n"
        "Stop with SIGINT or SIGTERM: an active run is stopped (beacons are told) first.\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    // Signals are taken by sigwait() below; every thread (CZMQ's included) inherits the mask.
    zsys_handler_set(nullptr);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::shared_ptr<spdlog::logger> log;
    try {
        bts::util::TomlDoc doc = cli.load_config();
        log = bts::util::setup_logging("bts-broker", doc.get_string("log.level", "info"));
        auto config = bts::util::build_config<bts::broker::BrokerConfig>(doc);
        bts::broker::Broker broker(std::move(config), log);
        int sig = 0;
        sigwait(&signals, &sig);
        log->info("{}: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    } catch (const std::exception& e) {
        if (log) log->critical("{}", e.what());
        return cli.fail(e.what());
    }
    return 0;
}
