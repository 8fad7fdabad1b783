// bts-ctl: the operator's command line for bts-broker — start a scenario and watch it live, stop,
// status, beacons, list and validate scenarios, make CURVE certificates.
#include "broker/scenario.hpp"
#include "common/control/ctl_client.hpp"
#include "common/control/curve.hpp"
#include "common/util/config.hpp"
#include "common/util/log.hpp"
#include "tools/bts-ctl/es.hpp"

#include <czmq.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace bts::ctl {
namespace {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Exit codes (documented in --help).
constexpr int kOk = 0;
constexpr int kRunFailed = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;

std::atomic<int> g_interrupts{0};  // written by the signal handler only
extern "C" void on_sigint(int) { g_interrupts.fetch_add(1); }

struct Failure {
    int code;
    std::string message;
};

std::string fmt_us(std::uint64_t us) {
    if (us == 0) return "-";
    return util::format_duration(std::chrono::microseconds(us));
}

// A target or configured rate: 0 means unlimited.
std::string fmt_rate(double r) {
    if (r <= 0) return "unlimited";
    char buf[32];
    std::snprintf(buf, sizeof buf, r >= 100 ? "%.0f/s" : "%.1f/s", r);
    return buf;
}

// A measured rate: 0 is 0.
std::string fmt_achieved(double r) { return r <= 0 ? "0/s" : fmt_rate(r); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw util::ConfigError(path, {}, "cannot read");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class Ctl {
public:
    Ctl(const util::CommandLine& cli, const util::TomlDoc& doc) : cli_(cli) {
        util::TomlTable c = doc.table("ctl");
        c.reject_unknown_keys({"broker", "cert", "broker_key", "insecure", "scenario_dir", "timeout"});
        client_cfg_.broker = c.get_string("broker", client_cfg_.broker);
        client_cfg_.cert = c.get_string("cert", "");
        client_cfg_.broker_key = c.get_string("broker_key", "");
        client_cfg_.insecure = c.get_bool("insecure", false);
        scenario_dir_ = c.get_string("scenario_dir", "config/scenarios");
        timeout_ = c.get_duration("timeout", std::chrono::seconds(3), milliseconds(10));
    }

    int run(const std::string& command, const std::vector<std::string>& args) {
        if (command == "start") return start(args);
        if (command == "stop") return stop();
        if (command == "status") return status();
        if (command == "beacons") return beacons();
        if (command == "scenarios") return scenarios();
        if (command == "validate") return validate(args);
        if (command == "keygen") return keygen(args);
        return cli_.fail("unknown command \"" + command +
                         "\" (start, stop, status, beacons, scenarios, validate, keygen, es, kibana)");
    }

private:
    control::CtlClient& client() {
        if (!client_) client_ = std::make_unique<control::CtlClient>(client_cfg_);
        return *client_;
    }

    // One request; failures to reach the broker become Failure{3}, refusals Failure{code}.
    json call(std::string_view verb, const json& payload, int refused_code = kRunFailed) {
        for (int attempt = 0;; ++attempt) {
            auto r = client().request(verb, payload.dump(), timeout_);
            if (!r) {
                if (r.error() == "interrupted" && attempt < 3) continue;
                throw Failure{kUnreachable, "cannot reach the broker at " + client_cfg_.broker + ": " + r.error()};
            }
            json body = json::parse(r->payload.empty() ? "{}" : r->payload, nullptr, false);
            if (body.is_discarded()) body = json::object();
            if (!r->ok) {
                std::string code = body.value("code", std::string());
                int exit = code == "invalid" || code == "bad_request" ? kUsage : refused_code;
                throw Failure{exit, r->error};
            }
            return body;
        }
    }

    std::string resolve_scenario(const std::string& name) const {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (name.find('/') != std::string::npos || name.ends_with(".toml")) return name;
        fs::path p = fs::path(scenario_dir_) / (name + ".toml");
        if (fs::exists(p, ec)) return p.string();
        throw util::ConfigError("--scenario", {}, "no scenario \"" + name + "\" in " + scenario_dir_ +
                                                      " (bts-ctl scenarios lists them)");
    }

    int start(const std::vector<std::string>& args) {
        if (!args.empty()) return cli_.fail("start takes no arguments (use --scenario NAME|FILE)");
        std::string name = cli_.get("scenario");
        if (name.empty()) return cli_.fail("start needs --scenario NAME|FILE");
        const std::string path = resolve_scenario(name);
        const std::string text = read_file(path);
        // Validate here first: errors name the file, key and reason, without a broker.
        broker::Scenario s = broker::Scenario::parse(text, path);
        json req{{"scenario", text}, {"origin", path}};
        if (cli_.has("duration")) {
            s.override_duration(cli_.get_duration("duration"));
            req["duration"] = cli_.get("duration");
        }
        if (cli_.has("nodes")) {
            std::vector<std::string> nodes;
            for (const auto& v : cli_.values("nodes")) {
                std::stringstream ss(v);
                std::string item;
                while (std::getline(ss, item, ',')) {
                    if (!item.empty()) nodes.push_back(item);
                }
            }
            s.override_nodes(nodes);
            req["nodes"] = nodes;
        }
        if (cli_.has("beacons")) {
            auto n = static_cast<std::uint32_t>(cli_.get_int("beacons", 1, 100'000));
            s.beacon_count = n;
            s.min_beacons = std::min(s.min_beacons, n);
            req["beacons"] = n;
        }
        s.validate();

        // Wait until enough beacons have registered (they may still be starting).
        const auto wait = cli_.has("wait") ? cli_.get_duration("wait") : util::Duration(std::chrono::seconds(15));
        const auto deadline = std::chrono::steady_clock::now() + wait;
        std::size_t alive = 0;
        while (true) {
            json b = call("beacons", json::object());
            alive = 0;
            for (const auto& e : b["beacons"]) {
                if (!e.value("alive", false)) continue;
                if (!s.group.empty()) {
                    auto g = e.value("groups", std::vector<std::string>{});
                    if (std::find(g.begin(), g.end(), s.group) == g.end()) continue;
                }
                ++alive;
            }
            std::size_t needed = std::max<std::size_t>(s.min_beacons, s.beacon_count);
            if (alive >= needed || std::chrono::steady_clock::now() >= deadline || g_interrupts > 0) break;
            std::cerr << "waiting for beacons: " << alive << "/" << needed << " alive\n";
            std::this_thread::sleep_for(milliseconds(500));
        }

        json started = call("start", req);
        const std::string run_id = started.value("run_id", std::string());
        std::cout << "run " << run_id << ": scenario " << s.name << " on "
                  << started.value("participants", 0) << " beacon(s), "
                  << util::format_duration(s.total_duration()) << std::endl;
        if (cli_.has("detach")) {
            std::cout << run_id << std::endl;
            return kOk;
        }
        return watch(run_id);
    }

    int watch(const std::string& run_id) {
        std::int64_t since = -1000;  // rows from before t = 0 too
        int misses = 0;
        bool stop_sent = false;
        std::cout << "     t   target   achieved   accepted   rejected   included        p50        p99  beacons"
                  << std::endl;
        while (true) {
            if (g_interrupts >= 2) {
                std::cerr << "interrupted again: leaving without waiting for the run to stop\n";
                return 130;
            }
            if (g_interrupts == 1 && !stop_sent) {
                stop_sent = true;
                std::cerr << "stopping run " << run_id
                          << ": beacons stop sending and drain (Ctrl-C again to leave at once)\n";
                try {
                    call("stop", json{{"reason", "bts-ctl interrupted"}});
                } catch (const Failure& f) {
                    std::cerr << "stop: " << f.message << "\n";
                }
            }
            json st;
            try {
                // Failed beacons are listed even without detail: enough for the summary.
                st = call("status", json{{"since", since}, {"detail", false}});
                misses = 0;
            } catch (const Failure& f) {
                if (f.code != kUnreachable || ++misses >= 3) throw;
                std::cerr << "no status from the broker (" << misses << "/3)\n";
                continue;
            }
            const json& run = st["run"];
            if (run.is_null() || run.value("id", std::string()) != run_id) {
                throw Failure{kRunFailed, "run " + run_id + " is gone from the broker (restarted?)"};
            }
            for (const auto& row : run["seconds"]) {
                since = row.value("t", since) + 1;
                double achieved = static_cast<double>(row.value("sent", std::uint64_t{0}));
                if (row.value("beacons", 0) == 0) achieved = row.value("heartbeat_rate", 0.0);
                char line[200];
                std::snprintf(line, sizeof line, "%5llds %8s %10s %10llu %10llu %10llu %10s %10s %8u",
                              static_cast<long long>(row.value("t", std::int64_t{0})),
                              row.value("target", 0.0) < 0 ? "-" : fmt_rate(row.value("target", 0.0)).c_str(),
                              fmt_achieved(achieved).c_str(),
                              static_cast<unsigned long long>(row.value("accepted", std::uint64_t{0})),
                              static_cast<unsigned long long>(row.value("rejected", std::uint64_t{0})),
                              static_cast<unsigned long long>(row.value("included", std::uint64_t{0})),
                              fmt_us(row.value("p50_us", std::uint64_t{0})).c_str(),
                              fmt_us(row.value("p99_us", std::uint64_t{0})).c_str(),
                              row.value("beacons", 0u));
                std::cout << line << std::endl;
            }
            const std::string state = run.value("state", std::string());
            if (state == "completed" || state == "stopped" || state == "failed") {
                print_summary(run);
                return state == "failed" ? kRunFailed : kOk;
            }
            // Sleep to the next second, waking early for Ctrl-C.
            for (int i = 0; i < 10 && g_interrupts == (stop_sent ? 1 : 0); ++i) {
                std::this_thread::sleep_for(milliseconds(100));
            }
        }
    }

    static void print_summary(const json& run) {
        const json& t = run["totals"];
        const auto n = [&](const char* key) { return t.value(key, std::uint64_t{0}); };
        std::cout << "\nrun " << run.value("id", std::string()) << ": " << run.value("state", std::string());
        std::string reason = run.value("reason", std::string());
        if (!reason.empty() && reason != run.value("state", std::string())) std::cout << " (" << reason << ")";
        std::cout << "\n  scenario   " << run.value("scenario", std::string()) << ", "
                  << util::format_duration(duration_cast<util::Duration>(
                         std::chrono::duration<double>(run.value("elapsed_s", 0.0))))
                  << " (" << util::format_duration(duration_cast<util::Duration>(
                                 std::chrono::duration<double>(run.value("duration_s", 0.0))))
                  << " sending, then draining), " << run.value("participants", 0) << " beacon(s)";
        if (run.value("failed", 0) > 0) std::cout << ", " << run.value("failed", 0) << " failed";
        std::cout << "\n  sent       " << n("sent") << " (" << fmt_achieved(t.value("achieved_rate", 0.0)) << ")";
        if (n("dropped_sends") > 0) std::cout << ", " << n("dropped_sends") << " slots dropped (no room or nothing signed)";
        std::cout << "\n  accepted   " << n("accepted") << ", latency p50 " << fmt_us(n("p50_us")) << ", p99 "
                  << fmt_us(n("p99_us")) << ", max " << fmt_us(n("max_us")) << " (from intended send time)"
                  << "\n  rejected   " << n("rejected");
        if (t.contains("rejected_by_class") && !t["rejected_by_class"].empty()) {
            std::cout << " (";
            bool first = true;
            for (const auto& [cls, v] : t["rejected_by_class"].items()) {
                std::cout << (first ? "" : ", ") << cls << " " << v.get<std::uint64_t>();
                first = false;
            }
            std::cout << ")";
        }
        if (n("unknown") > 0) std::cout << "\n  unknown    " << n("unknown") << " (reply lost and not seen on chain)";
        std::cout << "\n  included   " << n("included") << " (" << fmt_achieved(t.value("included_rate", 0.0))
                  << ", " << n("included_ops") << " ops), latency p50 " << fmt_us(n("incl_p50_us")) << ", p99 "
                  << fmt_us(n("incl_p99_us")) << ", max " << fmt_us(n("incl_max_us")) << " (block seen, from intended send time)";
        if (n("expired") > 0) std::cout << "\n  expired    " << n("expired") << " (accepted, never included)";
        if (n("pending") > 0) std::cout << "\n  pending    " << n("pending") << " (accepted, fate unknown when tracking ended)";
        // One line on why the counts differ, when they do.
        if (n("sent") != n("accepted")) {
            std::cout << "\n  sent - accepted = " << n("sent") - std::min(n("sent"), n("accepted")) << ": "
                      << n("rejected") << " rejected by the node" << (n("unknown") ? ", " + std::to_string(n("unknown")) + " unknown" : "");
        }
        if (n("accepted") != n("included")) {
            std::cout << "\n  accepted - included = " << n("accepted") - std::min(n("accepted"), n("included")) << ": "
                      << n("expired") << " expired unincluded, " << n("pending") << " pending at the end";
        }
        const std::uint64_t finished = t.value("finished_beacons", std::uint64_t{0});
        if (run.value("participants", std::uint64_t{0}) > finished && (run.value("state", std::string()) != "running"))
            std::cout << "\n  note       " << run.value("participants", std::uint64_t{0}) - finished
                      << " beacon(s) did not report their end: their last counts are missing";
        for (const auto& b : run["beacons"]) {
            if (b.value("failed", false)) {
                std::cout << "\n  beacon " << b.value("id", std::string()) << " failed: "
                          << b.value("error", std::string());
            }
        }
        std::cout << std::endl;
    }

    int stop() {
        json r = call("stop", json{{"reason", cli_.has("reason") ? cli_.get("reason") : "stopped by operator"},
                                   {"abort", cli_.has("abort")}});
        std::cout << "run " << r.value("run_id", std::string()) << ": " << r.value("state", std::string())
                  << std::endl;
        return kOk;
    }

    int status() {
        json st = call("status", json{{"since", 0}});
        if (cli_.has("json")) {
            std::cout << st.dump(2) << std::endl;
            return kOk;
        }
        const json& b = st["broker"];
        std::cout << "broker " << b.value("sender_id", std::string()) << " (version "
                  << b.value("version", std::string()) << "), up "
                  << util::format_duration(duration_cast<util::Duration>(
                         std::chrono::duration<double>(std::floor(b.value("uptime_s", 0.0)))))
                  << ", " << (b.value("curve", false) ? "CURVE" : "plain TCP") << "\n  beacons: "
                  << b.value("beacons_alive", 0) << " alive of " << b.value("beacons_known", 0) << " known\n";
        if (b.contains("dropped") && !b["dropped"].empty()) {
            std::cout << "  dropped frames:";
            for (const auto& [k, v] : b["dropped"].items()) std::cout << " " << k << "=" << v.get<std::uint64_t>();
            std::cout << "\n";
        }
        const json& run = st["run"];
        if (run.is_null()) {
            std::cout << "no run\n";
        } else if (run.value("state", std::string()) == "running") {
            std::cout << "run " << run.value("id", std::string()) << ": running, "
                      << util::format_duration(duration_cast<util::Duration>(
                             std::chrono::duration<double>(std::floor(run.value("elapsed_s", 0.0)))))
                      << " of "
                      << util::format_duration(duration_cast<util::Duration>(
                             std::chrono::duration<double>(run.value("duration_s", 0.0))))
                      << ", target " << fmt_rate(run.value("target_rate", 0.0)) << ", "
                      << run.value("live", 0) << " beacon(s), sent "
                      << run["totals"].value("sent", std::uint64_t{0}) << "\n";
        } else {
            print_summary(run);
        }
        return kOk;
    }

    int beacons() {
        json r = call("beacons", json::object());
        if (cli_.has("json")) {
            std::cout << r.dump(2) << std::endl;
            return kOk;
        }
        std::printf("%-20s %-16s %-8s %-10s %-28s %11s %11s %9s\n", "BEACON", "HOST", "VERSION",
                    "STATE", "NODE", "CONFIGURED", "ACHIEVED", "LAST SEEN");
        for (const auto& b : r["beacons"]) {
            std::string seen = b.value("alive", false)
                                   ? util::format_duration(milliseconds(b.value("last_seen_ms_ago", 0))) + " ago"
                                   : "lost";
            std::printf("%-20s %-16s %-8s %-10s %-28s %11s %11s %9s\n",
                        b.value("id", std::string()).c_str(), b.value("host", std::string()).c_str(),
                        b.value("version", std::string()).c_str(), b.value("state", std::string()).c_str(),
                        b.value("node", std::string()).c_str(),
                        b.value("configured_rate", 0.0) > 0 ? fmt_rate(b.value("configured_rate", 0.0)).c_str() : "-",
                        fmt_achieved(b.value("achieved_rate", 0.0)).c_str(), seen.c_str());
        }
        return kOk;
    }

    int scenarios() {
        namespace fs = std::filesystem;
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(scenario_dir_, ec)) {
            if (e.path().extension() == ".toml") files.push_back(e.path());
        }
        if (ec) throw util::ConfigError(scenario_dir_, {}, "cannot list: " + ec.message());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            try {
                auto s = broker::Scenario::load(f.string());
                std::printf("%-24s %8s  %s\n", s.name.c_str(),
                            util::format_duration(s.total_duration()).c_str(), s.description.c_str());
            } catch (const util::ConfigError& e) {
                std::printf("%-24s %8s  INVALID: %s\n", f.stem().c_str(), "-", e.what());
            }
        }
        return kOk;
    }

    int validate(const std::vector<std::string>& files) {
        if (files.empty()) return cli_.fail("validate needs one or more scenario files");
        int rc = kOk;
        for (const auto& f : files) {
            try {
                auto s = broker::Scenario::load(f);
                std::cout << f << ": ok (" << s.name << ", " << util::format_duration(s.total_duration())
                          << ", " << s.phases.size() << " phase(s))\n";
            } catch (const util::ConfigError& e) {
                std::cerr << e.what() << "\n";
                rc = kUsage;
            }
        }
        return rc;
    }

    int keygen(const std::vector<std::string>& args) {
        if (args.size() != 1) return cli_.fail("keygen needs one NAME (e.g. broker, beacon-1, alice)");
        std::string dir = cli_.has("dir") ? cli_.get("dir") : ".";
        auto cert = control::Certificate::generate();
        if (auto err = cert.save(dir, args[0], "made by bts-ctl keygen")) {
            throw Failure{kUsage, *err};
        }
        std::cout << "wrote " << dir << "/" << args[0] << ".key (public: give it to the peers) and "
                  << dir << "/" << args[0] << ".key_secret (secret, mode 0600: keep it here)\n"
                  << "public key " << cert.public_txt() << "\n";
        return kOk;
    }

    const util::CommandLine& cli_;
    control::CtlClientConfig client_cfg_;
    std::string scenario_dir_;
    util::Duration timeout_;
    std::unique_ptr<control::CtlClient> client_;
};

}  // namespace
}  // namespace bts::ctl

int main(int argc, char** argv) {
    bts::util::CommandLine cli("bts-ctl", "Drive a bts-stress run through bts-broker");
    cli.default_config("config/broker.toml");
    cli.positional("command", "start | stop | status | beacons | scenarios | validate | keygen | es | kibana");
    cli.positional("args", "FILE... for validate, NAME for keygen, setup|check URL for es, import URL for kibana",
                   bts::util::CommandLine::Arity::kZeroOrMore);
    cli.option("broker", "ENDPOINT", "the broker's ROUTER endpoint", "tcp://127.0.0.1:5560", "ctl.broker");
    cli.option("cert", "FILE", "this client's secret CURVE certificate", std::nullopt, "ctl.cert");
    cli.option("broker-key", "FILE", "the broker's public CURVE certificate", std::nullopt, "ctl.broker_key");
    cli.flag("insecure", "allow plain TCP to a non-loopback broker", "ctl.insecure");
    cli.option("timeout", "DURATION", "how long to wait for each broker reply", "3s", "ctl.timeout");
    cli.option("scenario-dir", "DIR", "where scenario NAMEs are looked up", "config/scenarios",
               "ctl.scenario_dir");
    cli.option("scenario", "NAME|FILE", "start: the scenario to run");
    cli.option("duration", "DURATION", "start: override the scenario's total duration (phases scaled)");
    cli.option("nodes", "URL[,URL...]", "start: override the scenario's nodes (repeatable)");
    cli.option("beacons", "N", "start: use N beacons");
    cli.option("wait", "DURATION", "start: wait this long for enough beacons to register", "15s");
    cli.flag("detach", "start: print the run id and return at once");
    cli.option("reason", "TEXT", "stop: the reason recorded with the run");
    cli.flag("abort", "stop: end at once, without waiting for replies and inclusion (the rest is reported as "
             "unknown/pending)");
    cli.flag("json", "status, beacons: print the broker's JSON");
    cli.option("dir", "DIR", "keygen: where to write NAME.key and NAME.key_secret", ".");
    bts::ctl::add_es_options(cli);
    cli.epilog(
        "Commands:\n"
        "  start --scenario NAME|FILE   run a scenario; prints progress every second, then a summary\n"
        "                               (Ctrl-C stops the run; --detach returns at once)\n"
        "  stop [--abort]               stop the active run: beacons stop sending, then drain (replies,\n"
        "                               inclusion) so the counts are final; --abort ends at once\n"
        "  status                       broker and run status\n"
        "  beacons                      every beacon: host, version, state, node, configured vs achieved rate\n"
        "  scenarios                    the scenarios in --scenario-dir\n"
        "  validate FILE...             check scenario files (errors name file, key and reason)\n"
        "  keygen NAME [--dir DIR]      make a CURVE certificate pair (NAME.key, NAME.key_secret 0600)\n"
        "  es setup URL                 install ILM policies and index templates into Elasticsearch, then check\n"
        "  es check URL                 Elasticsearch version, health, disk watermarks, templates present\n"
        "  kibana import URL            import the Kibana saved objects (data views, dashboards)\n"
        "Exit codes: 0 success; 1 the run failed or the broker refused; 2 usage or configuration\n"
        "error (including invalid scenarios); 3 the broker cannot be reached (or refused our key).\n"
        "Example:\n"
        "  bts-ctl start --scenario real-user --duration 30s --nodes ws://127.0.0.1:8090\n");
    if (!cli.parse(argc, argv)) return cli.exit_code();
    if (bts::ctl::is_es_command(cli.positional("command")))  // Elasticsearch/Kibana: no broker involved
        return bts::ctl::run_es_command(cli, cli.positional("command"),
                                        std::vector<std::string>(cli.positionals().begin() + 1, cli.positionals().end()));

    // Ctrl-C is ours (stop the run, then leave), not CZMQ's.
    zsys_handler_set(nullptr);
    struct sigaction sa {};
    sa.sa_handler = bts::ctl::on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // Quiet by default: the output is the tool's.
    bts::util::setup_logging("bts-ctl", "warn");

    try {
        bts::util::TomlDoc doc = cli.load_config();
        bts::ctl::Ctl ctl(cli, doc);
        return ctl.run(cli.positional("command"), std::vector<std::string>(cli.positionals().begin() + 1,
                                                                             cli.positionals().end()));
    } catch (const bts::util::ConfigError& e) {
        return cli.fail(e.what());
    } catch (const bts::ctl::Failure& f) {
        std::cerr << "bts-ctl: " << f.message << "\n";
        return f.code;
    } catch (const std::exception& e) {
        std::cerr << "bts-ctl: " << e.what() << "\n";
        return bts::ctl::kUsage;
    }
}
