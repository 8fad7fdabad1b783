// bts-es-emulator: the test Elasticsearch emulator (tests/support/es_emulator.hpp) as a program.
#include "es_emulator.hpp"

#include "common/util/config.hpp"

#include <cctype>
#include <csignal>
#include <cstdio>
#include <exception>
#include <pthread.h>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-es-emulator",
                               "Elasticsearch 7/8 emulator for bts-stress tests: what bts-collector, bts-ctl es, "
                               "bts-es-wrapper and bitshares-core's elasticsearch/es_objects plugins send (_bulk, "
                               "templates, _search, _count, _msearch, ...), and fault injection. Not for production.");
    cli.option("port", "PORT", "TCP port on 127.0.0.1 (0 = any; the chosen one is printed)", "0");
    cli.option("api-key", "BASE64", "require Authorization: ApiKey BASE64");
    cli.option("user", "NAME", "require basic auth with this user");
    cli.option("password", "TEXT", "password for --user");
    cli.option("faults", "SCHEDULE", "fault phases from start, e.g. refuse:30s,items_429=0.33:30s");
    cli.option("seed", "N", "seed for items_* faults", "1");
    cli.option("es-version", "X.Y.Z", "version.number to report (7.x accepts _type in bulk actions)", "8.13.0");
    cli.epilog(
        "Fault modes: ok, refuse, unavailable, drop, stall, bulk_429, items_429=F, items_503=F, items_400=F.\n"
        "Change them at run time: curl -XPOST URL/_emulator/faults -d '{\"phases\":[{\"mode\":\"refuse\","
        "\"duration_ms\":5000}]}'\n"
        "Counters: curl URL/_emulator/stats");
    if (!cli.parse(argc, argv)) return cli.exit_code();
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    try {
        bts::test::EsEmulator::Options opt;
        opt.port = static_cast<std::uint16_t>(cli.get_int("port", 0, 65535));
        opt.api_key = cli.get("api-key");
        opt.username = cli.get("user");
        opt.password = cli.get("password");
        opt.seed = static_cast<std::uint64_t>(cli.get_int("seed", 0));
        opt.version = cli.get("es-version");
        if (opt.version.empty() || !std::isdigit(static_cast<unsigned char>(opt.version[0])))
            return cli.fail("--es-version: expected X.Y.Z, got \"" + opt.version + "\"");
        auto phases = bts::test::parse_fault_schedule(cli.get("faults"));
        bts::test::EsEmulator emulator(opt);
        if (!phases.empty()) emulator.set_faults(phases);
        std::printf("es-emulator listening on %s\n", emulator.url().c_str());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&signals, &sig);
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    return 0;
}
