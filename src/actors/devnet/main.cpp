// bts-devnet: a local BitShares-compatible node to aim load at (see devnet.hpp and docs/devnet.md).
#include "actors/devnet/devnet.hpp"

#include "common/crypto/hash.hpp"
#include "common/util/log.hpp"
#include "common/util/units.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    using namespace bts;
    util::CommandLine cli("bts-devnet",
                          "A local BitShares-compatible node: bitshares-core's websocket JSON-RPC API and chain "
                          "rules for transfers and limit orders, one block every block interval.");
    cli.default_config("config/devnet.toml");
    cli.option("port", "PORT", "websocket port (0 = any free port, printed at start)", "8090", "devnet.port");
    cli.option("address", "ADDR", "listen address", "127.0.0.1", "devnet.address");
    cli.option("genesis", "FILE", "genesis TOML (default: the built-in config/genesis-dev.toml)", std::nullopt,
               "devnet.genesis");
    cli.option("block-interval", "DURATION", "time between blocks, e.g. 5s or 200ms", "5s", "devnet.block_interval");
    cli.option("max-pending", "N", "pending transactions before broadcasts are refused", "100000",
               "devnet.max_pending");
    cli.option("apply-cost", "DURATION", "busy-wait per operation on push, e.g. 20us (a slower node)", "0s",
               "devnet.apply_cost");
    cli.flag("trust-signatures", "skip signature recovery and authority checks (measure the load generator)",
             "devnet.trust_signatures");
    cli.option("block-history", "SIZE", "memory kept for get_block, e.g. 256MiB", "256MiB", "devnet.block_history");
    cli.epilog(
        "Examples:\n"
        "  bts-devnet --port 0 --block-interval 500ms\n"
        "  bts-devnet --config config/devnet.toml --trust-signatures\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    std::shared_ptr<spdlog::logger> log;
    try {
        util::TomlDoc doc = cli.load_config();
        doc.reject_unknown_keys({"devnet", "log"});
        log = util::setup_logging("bts-devnet", doc.get_string("log.level", "info"));
        auto config = util::build_config<devnet::DevnetConfig>(doc);
        devnet::Genesis genesis =
            config.genesis.empty() ? devnet::Genesis::built_in() : devnet::Genesis::load(config.genesis);

        boost::asio::io_context ioc;
        devnet::Devnet node(ioc, config, genesis, log);
        log->info("genesis {}: {} accounts, {} assets, core {} (precision {})", genesis.source,
                  node.chain().account_count(), node.chain().asset_count(), genesis.assets.front().symbol,
                  genesis.assets.front().precision);
        log->info("block interval {}, max pending {}, apply cost {}, signatures {}",
                  util::format_duration(config.block_interval), config.chain.max_pending,
                  util::format_duration(config.chain.apply_cost),
                  config.chain.trust_signatures ? "TRUSTED (not verified)" : "verified");
        std::string host = config.address.find(':') != std::string::npos ? "[" + config.address + "]" : config.address;
        log->info("listening on ws://{}:{} chain_id={}", host, node.port(), crypto::to_hex(node.chain().chain_id()));

        boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            log->info("signal {}: stopping after block #{} ({} accepted, {} rejected, {} included)", sig,
                      node.chain().head_block_num(), node.chain().stats().pushed, node.chain().stats().rejected,
                      node.chain().stats().included);
            node.stop();
        });
        ioc.run();
        log->info("stopped");
        return 0;
    } catch (const util::ConfigError& e) {
        return cli.fail(e.what());
    } catch (const std::exception& e) {
        if (log) log->critical("{}", e.what());
        return cli.fail(e.what());
    }
}
