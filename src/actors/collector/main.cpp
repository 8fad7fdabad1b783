// bts-collector: stores every beacon's statistics once (SQLite and/or Elasticsearch) and streams them live.
#include "actors/collector/collector.hpp"
#include "actors/collector/config.hpp"
#include "common/util/config.hpp"
#include "common/util/log.hpp"

#include <czmq.h>

#include <csignal>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-collector",
                               "Collects beacon statistics, uptime results and run events over ZeroMQ, stores each "
                               "once in the embedded SQLite store and/or Elasticsearch, and publishes a live stream.");
    cli.default_config("/etc/bts-stress/collector.toml");
    cli.option("listen", "ENDPOINT", "PULL endpoint beacons push to", "tcp://127.0.0.1:5601", "collector.listen");
    cli.option("publish", "ENDPOINT", "PUB endpoint of the live stream (\"\" = off)", "tcp://127.0.0.1:5602",
               "collector.publish");
    cli.option("store", "PATH", "embedded SQLite store file", "bts-collector.sqlite", "store.path");
    cli.option("elasticsearch", "URL", "enable the Elasticsearch sink at URL", std::nullopt, "elasticsearch.url");
    cli.option("spool", "DIR", "Elasticsearch spool directory", "bts-collector-spool", "elasticsearch.spool_dir");
    cli.epilog(
        "Examples:\n"
        "  bts-collector --config config/collector.toml\n"
        "  bts-collector --listen tcp://127.0.0.1:5560 --store run.sqlite --elasticsearch http://127.0.0.1:9200\n"
        "  bts-collector --set store.enabled=false --elasticsearch https://es:9200\n"
        "Stops cleanly on SIGINT/SIGTERM (drains, commits, keeps the spool for the next start).");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    // Signals are taken synchronously by sigwait below; every thread started later inherits the
    // mask. CZMQ's own handler is disabled so it cannot swallow them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    zsys_handler_set(nullptr);

    try {
        bts::util::TomlDoc doc = cli.load_config();
        if (cli.has("elasticsearch")) doc.set("elasticsearch.enabled", "true", "--elasticsearch");
        auto log = bts::util::setup_logging("bts-collector", doc.get_string("log.level", "info"));
        auto config = bts::util::build_config<bts::collector::CollectorConfig>(doc);
        bts::collector::Collector collector(config, log);
        int sig = 0;
        sigwait(&signals, &sig);
        log->info("signal {}: stopping", sig);
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    return 0;
}
