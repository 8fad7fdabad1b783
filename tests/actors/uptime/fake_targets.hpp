// Test targets for the uptime prober, all on 127.0.0.1: a scripted BitShares API node (plain or
// TLS, any chain id, head age and fork), a plain HTTP responder, a listener that never answers,
// a closed port, and self-signed certificates made with the openssl command.
#pragma once

#include "common/net/ws_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bts::uptime::testing {

inline std::string node_time(std::int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

struct FakeNodeOptions {
    std::string chain_id = std::string(64, 'c');
    std::uint64_t head = 1000;
    std::uint64_t lib = 980;
    double head_age_s = 1.0;
    std::string fork_seed;  // "" = the canonical chain; else ids differ from height fork_at on
    std::uint64_t fork_at = 0;
    std::string recent_slots = "340282366920938463463374607431768211455";  // 100 %
    std::string tls_cert_file;  // both set: wss://
    std::string tls_key_file;
    std::chrono::milliseconds reply_delay{0};  // every reply waits this long (a distant node)
    std::string address = "127.0.0.1";  // any 127.x.y.z: spreads many connections over 4-tuples

    // Fluent setters: FakeNodeOptions{}.chain("...").age(120).
    FakeNodeOptions& chain(std::string v) { chain_id = std::move(v); return *this; }
    FakeNodeOptions& age(double s) { head_age_s = s; return *this; }
    FakeNodeOptions& at(std::uint64_t head_num, std::uint64_t lib_num) { head = head_num; lib = lib_num; return *this; }
    FakeNodeOptions& fork(std::string seed, std::uint64_t at) { fork_seed = std::move(seed); fork_at = at; return *this; }
    FakeNodeOptions& slots(std::string v) { recent_slots = std::move(v); return *this; }
    FakeNodeOptions& delay(std::chrono::milliseconds d) { reply_delay = d; return *this; }
    FakeNodeOptions& tls(std::string cert, std::string key) {
        tls_cert_file = std::move(cert);
        tls_key_file = std::move(key);
        return *this;
    }
};

// A BitShares node that answers the three calls the prober makes, on its own thread.
class FakeNode {
public:
    explicit FakeNode(FakeNodeOptions o) : opts_(std::move(o)) {
        net::WsServerConfig sc;
        sc.port = 0;
        sc.address = opts_.address;
        sc.tls_cert_file = opts_.tls_cert_file;
        sc.tls_key_file = opts_.tls_key_file;
        sc.max_connections = 100'000;
        server_ = std::make_unique<net::WsServer>(
            ioc_, sc, [this](const net::SessionHandle& s, net::RpcRequest&& r) {
                if (opts_.reply_delay.count() == 0) return handle(s, r);
                auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, opts_.reply_delay);
                timer->async_wait([this, timer, s, r = std::move(r)](const boost::system::error_code& ec) {
                    if (!ec) handle(s, r);
                });
            });
        thread_ = std::thread([this] {
            auto guard = boost::asio::make_work_guard(ioc_);
            ioc_.run();
        });
    }
    ~FakeNode() {
        ioc_.stop();
        thread_.join();
        server_.reset();
    }
    FakeNode(const FakeNode&) = delete;
    FakeNode& operator=(const FakeNode&) = delete;

    std::uint16_t port() const { return server_->port(); }
    std::string url() const {
        return std::string(opts_.tls_cert_file.empty() ? "ws" : "wss") + "://" + opts_.address + ":" +
               std::to_string(port()) + "/";
    }
    std::uint64_t requests() const { return requests_.load(); }

    // Block id: 8 hex digits of the height (as in Graphene), then 32 digits of a hash of the
    // branch and height.
    std::string block_id(std::uint64_t h) const {
        const std::string branch =
            (!opts_.fork_seed.empty() && h >= opts_.fork_at) ? opts_.fork_seed : "main";
        char buf[48];
        const std::size_t x = std::hash<std::string>{}(branch + "/" + std::to_string(h));
        std::snprintf(buf, sizeof buf, "%08llx%016zx%016zx", static_cast<unsigned long long>(h), x,
                      x ^ 0x5bd1e995u);
        return buf;
    }

private:
    void handle(const net::SessionHandle& s, const net::RpcRequest& r) {
        ++requests_;
        if (r.method == "get_chain_id") {
            s.reply(r.id, opts_.chain_id);
        } else if (r.method == "get_dynamic_global_properties") {
            const auto now = std::chrono::duration<double>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            s.reply(r.id, nlohmann::json{
                              {"id", "2.1.0"},
                              {"head_block_number", opts_.head},
                              {"head_block_id", block_id(opts_.head)},
                              {"time", node_time(static_cast<std::int64_t>(now - opts_.head_age_s))},
                              {"last_irreversible_block_num", opts_.lib},
                              {"recent_slots_filled", opts_.recent_slots},
                          });
        } else if (r.method == "get_block_header" && r.params.size() >= 1 &&
                   r.params[0].is_number_unsigned()) {
            const auto n = r.params[0].get<std::uint64_t>();
            if (n == 0 || n > opts_.head) {
                s.reply(r.id, nullptr);
            } else {
                s.reply(r.id, nlohmann::json{{"previous", block_id(n - 1)},
                                             {"timestamp", node_time(1'700'000'000)},
                                             {"witness", "1.6.1"}});
            }
        } else {
            s.reply_error(r.id, 10, "Assert Exception: unknown method " + r.method);
        }
    }

    FakeNodeOptions opts_;
    boost::asio::io_context ioc_;
    std::unique_ptr<net::WsServer> server_;
    std::thread thread_;
    std::atomic<std::uint64_t> requests_{0};
};

// A TCP listener that accepts connections (the kernel does, into the backlog) but never reads
// or answers: every probe against it must end as TIMEOUT.
class SilentListener {
public:
    SilentListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 1024);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~SilentListener() { ::close(fd_); }
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// A minimal HTTP/1.1 responder: every request gets `status` and `body`, then the connection is
// closed. Blocking, on its own thread.
class HttpResponder {
public:
    HttpResponder(int status, std::string body, std::string content_type = "application/json")
        : status_(status), body_(std::move(body)), type_(std::move(content_type)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 64);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~HttpResponder() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::uint16_t port() const { return port_; }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::string last_target() {
        std::lock_guard lock(mutex_);
        return last_target_;
    }

private:
    void serve() {
        while (!stop_) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, static_cast<std::size_t>(n));
            }
            {
                std::lock_guard lock(mutex_);
                const auto sp1 = req.find(' ');
                const auto sp2 = req.find(' ', sp1 + 1);
                if (sp1 != std::string::npos && sp2 != std::string::npos) {
                    last_target_ = req.substr(sp1 + 1, sp2 - sp1 - 1);
                }
            }
            const std::string resp = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Type: " +
                                     type_ + "\r\nContent-Length: " + std::to_string(body_.size()) +
                                     "\r\nConnection: close\r\n\r\n" + body_;
            (void)!::write(c, resp.data(), resp.size());
            ::close(c);
        }
    }

    int status_;
    std::string body_;
    std::string type_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::string last_target_;
};

// A port with nothing listening (bound once to get a number, then closed).
inline std::uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Path of the openssl command, "" if absent.
inline std::string openssl_path() {
    for (const char* p : {"/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return {};
}

}  // namespace bts::uptime::testing
