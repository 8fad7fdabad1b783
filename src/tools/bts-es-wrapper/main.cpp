// bts-es-wrapper: read-only HTTP service in front of Elasticsearch (community endpoints + guarded
// pass-through).
#include "common/util/config.hpp"
#include "common/util/log.hpp"
#include "tools/bts-es-wrapper/wrapper.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    bts::util::CommandLine cli(
        "bts-es-wrapper",
        "Read-only HTTP service in front of an Elasticsearch cluster: the community "
        "bitshares-es-wrapper endpoints and a guarded pass-through of _search, _count, "
        "_msearch, _mapping and _cat/indices on allowed indices.");
    cli.default_config("config/es-wrapper.toml");
    cli.option("listen", "ADDRESS", "listen address", std::nullopt, "wrapper.listen");
    cli.option("port", "PORT", "listen port (0 = any free port; the chosen one is logged)",
               std::nullopt, "wrapper.port");
    cli.option("es-url", "URL", "the Elasticsearch cluster", std::nullopt, "wrapper.es_url");
    cli.option("access-log", "FILE", "access log (\"-\" = stdout, \"\" = off)", std::nullopt,
               "wrapper.access_log");
    cli.flag("check", "validate the configuration and exit");
    cli.epilog(
        "Endpoints: /get_account_history, /get_single_operation, /get_trx, /is_alive, "
        "/openapi.json,\n"
        "/<indices>/_search|_count|_msearch|_mapping, /_cat/indices. Everything else: 403.\n"
        "See docs/elasticsearch.md.\n"
        "Example:\n"
        "  bts-es-wrapper --config config/es-wrapper.toml --es-url http://127.0.0.1:9200 --port "
        "5000\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    bts::eswrapper::WrapperConfig cfg;
    std::shared_ptr<spdlog::logger> log;
    try {
        const bts::util::TomlDoc doc = cli.load_config();
        log = bts::util::setup_logging("bts-es-wrapper", doc.get_string("log.level", "info"));
        cfg = bts::util::build_config<bts::eswrapper::WrapperConfig>(doc);
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    }
    if (cli.has("check")) {
        std::cout << "bts-es-wrapper: configuration ok\n";
        return 0;
    }
    std::signal(SIGPIPE, SIG_IGN);
    try {
        boost::asio::io_context ioc(1);
        bts::eswrapper::EsWrapper wrapper(ioc, cfg, log);
        log->info("listening on {}://{}:{}, Elasticsearch {}",
                  cfg.tls_cert.empty() ? "http" : "https", cfg.listen, wrapper.port(), cfg.es_url);
        boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code&, int) {
            log->info("stopping");
            wrapper.stop();
            ioc.stop();
        });
        ioc.run();
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    return 0;
}
