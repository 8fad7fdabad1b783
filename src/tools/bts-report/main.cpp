// bts-report: the report of a finished run, from bts-collector's embedded store (Markdown, text or HTML).
#include "common/util/config.hpp"
#include "tools/bts-report/html_report.hpp"
#include "tools/bts-report/report.hpp"

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-report",
                               "Writes the report of a finished run from bts-collector's embedded store: summary, "
                               "latency percentiles, rejections by class, per-beacon table, per-second totals, events. --format html "
                               "writes one self-contained page with plots over time (opens offline, prints to PDF).");
    cli.option("store", "PATH", "the collector's SQLite store", "bts-collector.sqlite");
    cli.option("run", "ID", "the run to report (default: the most recent)");
    cli.option("format", "FORMAT", "markdown, text or html", "markdown");
    cli.option("output", "FILE", "write here instead of stdout");
    cli.option("max-seconds", "N", "at most N rows of per-second totals (0 = all)", "0");
    cli.flag("no-seconds", "leave out the per-second totals");
    cli.flag("list", "list the runs in the store and exit");
    cli.epilog(
        "Examples:\n"
        "  bts-report --store /var/lib/bts-stress/collector.sqlite --run run-42 > run-42.md\n"
        "  bts-report --store collector.sqlite --format html --output run.html\n"
        "  bts-report --list\n"
        "Exit status: 0 report written, 1 no such run or unreadable store, 2 usage.");
    if (!cli.parse(argc, argv)) return cli.exit_code();
    const std::string format = cli.get("format");
    if (format != "markdown" && format != "md" && format != "text" && format != "html")
        return cli.fail("--format: expected markdown, text or html, got \"" + format + "\"");
    const bool md = format != "text";
    std::int64_t max_seconds = 0;
    try {
        max_seconds = cli.get_int("max-seconds", 0);
    } catch (const std::exception& e) {
        return cli.fail(e.what());
    }
    try {
        bts::report::StoreReader store(cli.get("store"));
        std::string text;
        if (cli.has("list")) {
            text = bts::report::render_list(store.runs(), md);
        } else {
            std::string run = cli.get("run");
            if (run.empty()) {
                auto runs = store.runs();
                if (runs.empty()) throw std::runtime_error(cli.get("store") + ": no runs stored yet");
                run = runs.front().run_id;
            }
            bts::report::RenderOptions opt;
            opt.markdown = md;
            opt.per_second = !cli.has("no-seconds");
            opt.max_seconds = static_cast<std::size_t>(max_seconds);
            if (format == "html") text = bts::report::render_html(cli.get("store"), store.load(run), {});
            else text = bts::report::render(store.load(run), opt);
        }
        if (cli.has("output")) {
            std::ofstream out(cli.get("output"));
            out << text;
            if (!out) throw std::runtime_error(cli.get("output") + ": cannot write");
        } else {
            std::cout << text;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bts-report: %s\n", e.what());
        return 1;
    }
    return 0;
}
