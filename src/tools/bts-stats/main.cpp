// bts-stats: the public uptime status page and live stress-test dashboard (read-only HTTP).
#include "common/util/config.hpp"
#include "common/util/log.hpp"
#include "tools/bts-stats/stats.hpp"

#include <zmq.hpp>

#include <csignal>
#include <iostream>
#include <thread>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-stats",
                               "Public status page (uptime of the testnet infrastructure) and live "
                               "stress-test dashboard, fed by bts-uptime and bts-collector.");
    cli.default_config("config/stats.toml");
    cli.option("listen", "ADDRESS", "HTTP listen address", std::nullopt, "stats.listen");
    cli.option("port", "PORT", "HTTP port (0 = any free port)", std::nullopt, "stats.port");
    cli.option("store", "FILE", "SQLite file for uptime history", std::nullopt, "stats.store");
    cli.option("uptime-feed", "ENDPOINT", "bts-uptime PUB endpoint (repeatable)");
    cli.option("collector-feed", "ENDPOINT", "bts-collector PUB endpoint (\"\" = none)", std::nullopt,
               "stats.collector_feed");
    cli.flag("check", "validate the configuration and exit");
    cli.epilog(
        "Pages: / (status), /dashboard (stress run), /api/status.json, /api/run.json,\n"
        "/api/history/NAME.json?since=24h, /events (server-sent events). See docs/stats-page.md.\n"
        "Example:\n"
        "  bts-stats --config config/stats.toml --port 8088\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    bts::stats::StatsConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    try {
        const bts::util::TomlDoc doc = cli.load_config();
        log = bts::util::setup_logging("bts-stats", doc.get_string("log.level", "info"));
        cfg = bts::util::build_config<bts::stats::StatsConfig>(doc);
        if (cli.has("uptime-feed")) {
            cfg.uptime_feeds = cli.values("uptime-feed");
            // An empty value switches the uptime feed off ("--uptime-feed ''").
            std::erase(cfg.uptime_feeds, std::string());
            cfg.validate();
        }
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    }
    if (cli.has("check")) {
        std::cout << "bts-stats: configuration ok\n";
        return 0;
    }

    // Signals go to a waiting thread (sigwait): no handler, no globals.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    zmq::context_t ctx(1);
    std::unique_ptr<bts::stats::StatsApp> app;
    try {
        app = std::make_unique<bts::stats::StatsApp>(ctx, std::move(cfg), log);
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        log->info("bts-stats: signal {}, stopping", sig);
        app->stop();
    });
    app->run();
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    app.reset();
    return 0;
}
