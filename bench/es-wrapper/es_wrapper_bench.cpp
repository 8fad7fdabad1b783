// bts-es-wrapper load benchmark on loopback: the highest request rate held with p99 latency under a
// bound, through the wrapper vs the Elasticsearch emulator answered directly (same request, same
// data: the real plugin capture). wrk2-style: each send has an intended time t0 + n/rate and
// latency is measured from it (no coordinated omission); every thread owns its connection and
// histogram.
//
//   es_wrapper_bench [seconds-per-step=2] [p99-bound-ms=25]
#include "es_emulator.hpp"
#include "tools/bts-es-wrapper/wrapper.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

int connect_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// One request/response on a keep-alive connection; false on any failure or an unexpected status.
bool exchange(int fd, const std::string& req, std::string& buf, const char* status = "200") {
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        return false;
    buf.clear();
    char tmp[65536];
    std::size_t head = std::string::npos, need = 0;
    for (;;) {
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<std::size_t>(n));
        if (head == std::string::npos && (head = buf.find("\r\n\r\n")) != std::string::npos) {
            std::string h = buf.substr(0, head);
            for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            auto cl = h.find("content-length:");
            need = cl == std::string::npos ? 0 : std::strtoul(h.c_str() + cl + 15, nullptr, 10);
        }
        if (head != std::string::npos && buf.size() >= head + 4 + need)
            return buf.compare(9, 3, status) == 0;
    }
}

struct Step {
    double target = 0, achieved = 0, p50_ms = 0, p99_ms = 0;
    std::size_t errors = 0;
};

Step run_step(std::uint16_t port, const std::string& req, double rate,
              std::chrono::milliseconds length, int threads, const char* status) {
    std::vector<std::vector<double>> lat(static_cast<std::size_t>(threads));
    std::vector<std::size_t> errors(static_cast<std::size_t>(threads), 0);
    const auto t0 = Clock::now() + 50ms;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] {
            int fd = connect_to(port);
            std::string buf;
            const double per_thread = rate / threads;
            const auto end = t0 + length;
            for (std::uint64_t n = 0;; ++n) {
                const auto intended =
                    t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             (static_cast<double>(n) + t / double(threads)) / per_thread));
                if (intended >= end) break;
                std::this_thread::sleep_until(intended);
                if (fd < 0 || !exchange(fd, req, buf, status)) {
                    ++errors[static_cast<std::size_t>(t)];
                    if (fd >= 0) ::close(fd);
                    fd = connect_to(port);
                    continue;
                }
                lat[static_cast<std::size_t>(t)].push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - intended).count());
            }
            if (fd >= 0) ::close(fd);
        });
    }
    for (auto& th : ts) th.join();
    std::vector<double> all;
    Step s;
    s.target = rate;
    for (int t = 0; t < threads; ++t) {
        all.insert(all.end(), lat[static_cast<std::size_t>(t)].begin(),
                   lat[static_cast<std::size_t>(t)].end());
        s.errors += errors[static_cast<std::size_t>(t)];
    }
    std::sort(all.begin(), all.end());
    s.achieved = static_cast<double>(all.size()) / std::chrono::duration<double>(length).count();
    if (!all.empty()) {
        s.p50_ms = all[all.size() / 2];
        s.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    }
    return s;
}

// The highest rate of the ladder held with p99 ≤ bound, no errors and ≥ 95 % of the target
// achieved.
Step best_rate(const char* name, std::uint16_t port, const std::string& req,
               std::chrono::milliseconds length, double bound_ms, const char* status = "200") {
    Step best;
    for (double rate : {100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 800.0, 1200.0, 1600.0, 2400.0,
                        3200.0, 4800.0, 6400.0}) {
        Step s = run_step(port, req, rate, length, 4, status);
        std::printf("  %-8s target %6.0f/s achieved %7.1f/s p50 %7.2f ms p99 %8.2f ms errors %zu\n",
                    name, s.target, s.achieved, s.p50_ms, s.p99_ms, s.errors);
        std::fflush(stdout);
        if (s.errors > 0 || s.p99_ms > bound_ms || s.achieved < 0.95 * rate) break;
        best = s;
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const auto length =
        std::chrono::milliseconds(static_cast<long>(1000 * (argc > 1 ? std::atof(argv[1]) : 2.0)));
    const double bound = argc > 2 ? std::atof(argv[2]) : 25.0;
    spdlog::set_level(spdlog::level::warn);
    bts::test::EsEmulator es({});
    // Real plugin documents.
    std::ifstream capture(std::string(BTS_SOURCE_ROOT) +
                          "/tests/data/es-plugin-capture/requests.jsonl");
    std::string line;
    while (std::getline(capture, line)) {
        const auto c = nlohmann::json::parse(line);
        if (c["path"] != "/_bulk") continue;
        const std::string cbody = c["body"];
        int fd = connect_to(es.port());
        std::string buf;
        const std::string req =
            "POST /_bulk HTTP/1.1\r\nHost: x\r\nContent-Type: "
            "application/json\r\nContent-Length: " +
            std::to_string(cbody.size()) + "\r\n\r\n" + cbody;
        if (!exchange(fd, req, buf)) {
            std::fprintf(stderr, "loading the capture failed\n");
            return 1;
        }
        ::close(fd);
    }
    bts::eswrapper::WrapperConfig cfg;
    cfg.port = 0;
    cfg.es_url = es.url();
    cfg.access_log = "";
    cfg.rate = 1e9;
    cfg.burst = 1e9;
    boost::asio::io_context ioc(1);
    bts::eswrapper::EsWrapper wrapper(ioc, cfg, spdlog::default_logger());
    std::thread server([&] { ioc.run(); });

    const std::string body =
        R"({"size":10,"query":{"bool":{"filter":[{"term":{"operation_type":0}}]}}})";
    auto request = [&](const std::string& path) {
        return "POST " + path +
               " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    std::printf(
        "es_wrapper_bench: POST /bitshares-*/_search (%zu documents), %lld ms per step, p99 bound "
        "%.0f ms, "
        "4 keep-alive connections, open loop\n",
        es.count("*"), static_cast<long long>(length.count()), bound);
    Step direct = best_rate("direct", es.port(), request("/bitshares-*/_search"), length, bound);
    Step wrapped =
        best_rate("wrapper", wrapper.port(), request("/bitshares-*/_search"), length, bound);
    // The wrapper's own cost: a refused request (guard only, nothing upstream).
    Step refused = best_rate("refused", wrapper.port(), request("/secret-index/_search"), length,
                             bound, "403");
    std::printf("es-wrapper refusing (no upstream): %.0f req/s at p99 %.2f ms\n", refused.achieved,
                refused.p99_ms);
    std::printf(
        "es-wrapper: %.0f req/s at p99 %.2f ms (p50 %.2f); baseline emulator direct %.0f req/s at "
        "p99 %.2f ms; "
        "ratio %.2f\n",
        wrapped.achieved, wrapped.p99_ms, wrapped.p50_ms, direct.achieved, direct.p99_ms,
        direct.achieved > 0 ? wrapped.achieved / direct.achieved : 0.0);
    boost::asio::post(ioc, [&] { wrapper.stop(); });
    ioc.stop();
    server.join();
    return 0;
}
