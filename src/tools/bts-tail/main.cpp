// bts-tail: watch a stress run live — a table refreshed every second, or one JSON line per message.
#include "actors/collector/curve.hpp"
#include "actors/collector/documents.hpp"
#include "actors/collector/json_writer.hpp"
#include "common/util/config.hpp"
#include "common/wire.hpp"
#include "tools/bts-tail/view.hpp"

#include <czmq.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;  // set by the signal handler only
void on_signal(int) { g_stop = 1; }

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void terminal_size(std::size_t& width, std::size_t& height, std::size_t forced_width) {
    width = 80;
    height = 0;
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        width = ws.ws_col;
        height = ws.ws_row;
    } else if (const char* c = std::getenv("COLUMNS")) {
        width = static_cast<std::size_t>(std::max(20, std::atoi(c)));
    }
    if (forced_width) width = forced_width;
}

void write_all(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-tail",
                               "Watches a run live from bts-collector's stream: one row per beacon plus totals, "
                               "refreshed every second; or --json for one JSON line per message.");
    cli.option("connect", "ENDPOINT", "the collector's PUB endpoint", "tcp://127.0.0.1:5602");
    cli.option("run", "ID", "only this run (default: the most recent run seen)");
    cli.option("beacon", "ID", "only this beacon's intervals");
    cli.option("topic", "PREFIX", "only topics starting with PREFIX (repeatable): interval/, totals/, event/, "
                                  "uptime/, collector/");
    cli.flag("json", "one JSON line per message on stdout (for pipes), no table");
    cli.option("count", "N", "exit after N messages (0 = run until Ctrl-C)", "0");
    cli.option("width", "COLUMNS", "table width (default: the terminal's)", "0");
    cli.option("server-cert", "FILE", "the collector's public CURVE certificate (enables CURVE)");
    cli.option("cert", "FILE", "this client's secret CURVE certificate (default: an ephemeral key)");
    cli.epilog(
        "Columns: TARGET configured tx/s, TX/S sent per second, OPS/S included operations per second, ACCEPTED and\n"
        "REJECTED in the last interval, acceptance (from the intended send time) and inclusion latency p50/p99,\n"
        "CPU% of the beacon process, HOST% of its host, rejections by class. Narrow terminals drop the least\n"
        "important columns. A beacon not heard from for 5 s is shown as ~name.\n"
        "Examples:\n"
        "  bts-tail --connect tcp://collector:5561 --run run-42\n"
        "  bts-tail --json --topic totals/ | jq .sent");
    if (!cli.parse(argc, argv)) return cli.exit_code();

    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    zsys_handler_set(nullptr);

    bts::tail::Filter filter;
    filter.run = cli.get("run");
    filter.beacon = cli.get("beacon");
    filter.topics = cli.values("topic");
    const bool json = cli.has("json");
    std::uint64_t count = 0;
    std::size_t forced_width = 0;
    zsock_t* sub = nullptr;
    try {
        count = static_cast<std::uint64_t>(cli.get_int("count", 0));
        forced_width = static_cast<std::size_t>(cli.get_int("width", 0, 10000));
        sub = zsock_new(ZMQ_SUB);
        if (!sub) throw std::runtime_error("cannot create a ZeroMQ socket");
        zsock_set_linger(sub, 0);
        zsock_set_rcvhwm(sub, 100000);
        if (cli.has("server-cert")) bts::collector::apply_curve_client(sub, cli.get("server-cert"), cli.get("cert"));
        // Subscribe narrowly where ZeroMQ can (prefixes); the exact filter runs on each message.
        std::vector<std::string> subs = filter.topics;
        if (subs.empty() && !filter.run.empty())
            subs = {"interval/" + filter.run + "/", "totals/" + filter.run, "event/" + filter.run + "/", "collector/"};
        if (subs.empty()) subs = {""};
        for (const auto& s : subs) zsock_set_subscribe(sub, s.c_str());
        if (zsock_connect(sub, "%s", cli.get("connect").c_str()) != 0)
            throw std::runtime_error("cannot connect to " + cli.get("connect"));
    } catch (const std::exception& e) {
        zsock_destroy(&sub);
        return cli.fail(e.what());
    }

    const bool tty = !json && isatty(STDOUT_FILENO);
    bts::tail::TailView view;
    if (!filter.run.empty()) view.pin_run(filter.run);
    if (tty) write_all("\x1b[?1049h\x1b[?25l");  // alternate screen, hide cursor
    auto next_draw = std::chrono::steady_clock::now();
    std::uint64_t seen = 0;
    void* raw = zsock_resolve(sub);
    while (!g_stop) {
        zmq_pollitem_t item{raw, 0, ZMQ_POLLIN, 0};
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_draw - std::chrono::steady_clock::now());
        int rc = zmq_poll(&item, 1, json ? 200 : std::max<long>(0, static_cast<long>(wait.count())));
        if (rc > 0) {
            for (int i = 0; i < 10000; ++i) {  // drain what is there, then redraw on time
                zmsg_t* msg = zmsg_recv_nowait(sub);
                if (!msg) break;
                char* topic_c = zmsg_popstr(msg);
                zframe_t* frame = zmsg_pop(msg);
                std::string topic = topic_c ? topic_c : "";
                std::string payload = frame ? std::string(reinterpret_cast<char*>(zframe_data(frame)), zframe_size(frame)) : "";
                zstr_free(&topic_c);
                zframe_destroy(&frame);
                zmsg_destroy(&msg);
                if (!filter.accepts(topic)) continue;
                if (json) {
                    std::string line;
                    if (topic.rfind("collector/", 0) == 0) {
                        std::string quoted;
                        bts::collector::JsonWriter::escape_to(quoted, topic);
                        line = "{\"topic\":" + quoted + ",\"type\":\"CollectorStats\",\"stats\":" + payload + "}";
                    } else {
                        auto m = bts::wire::decode(payload);
                        if (!m) continue;
                        line = bts::collector::message_json(*m);
                        std::string quoted;
                        bts::collector::JsonWriter::escape_to(quoted, topic);
                        line = "{\"topic\":" + quoted + "," + line.substr(1);
                    }
                    write_all(line + "\n");
                } else {
                    view.on_message(topic, payload, now_ms());
                }
                if (count && ++seen >= count) g_stop = 1;
                if (g_stop) break;
            }
        }
        if (!json && std::chrono::steady_clock::now() >= next_draw) {
            next_draw += std::chrono::seconds(1);
            if (next_draw < std::chrono::steady_clock::now()) next_draw = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            std::size_t width = 80, height = 0;
            terminal_size(width, height, forced_width);
            std::string screen = tty ? "\x1b[H\x1b[2J" : "";
            for (const auto& l : view.render(width, tty ? height : 0, now_ms())) screen += l + (tty ? "\x1b[K\r\n" : "\n");
            if (!tty) screen += "\n";
            write_all(screen);
        }
    }
    if (tty) write_all("\x1b[?25h\x1b[?1049l");  // restore the screen and cursor
    zsock_destroy(&sub);
    return 0;
}
