// Beast HTTP/1.1 server with server-sent events, for the read-only stats page.
#include "tools/bts-stats/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace bts::stats {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
constexpr std::size_t kMaxSseQueueBytes = 1024 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(30);
class Session;
}  // namespace

struct HttpServer::Core : std::enable_shared_from_this<Core> {
    Core(asio::io_context& io, Handler h, std::size_t max)
        : ioc(io), acceptor(io), handler(std::move(h)), max_connections(max) {}

    void accept();

    asio::io_context& ioc;
    tcp::acceptor acceptor;
    Handler handler;
    std::size_t max_connections;
    HttpServerStats stats;
    std::uint64_t next_id = 1;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;
    std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sse;
    bool stopped = false;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<HttpServer::Core> core, std::uint64_t id)
        : stream_(std::move(socket)), core_(std::move(core)), id_(id) {}

    ~Session() {
        if (auto c = core_.lock()) {
            c->sessions.erase(id_);
            c->sse.erase(id_);
        }
    }

    void start() { read(); }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

    // Queues one SSE frame; drops the client when it stopped reading.
    void push_event(const std::shared_ptr<const std::string>& frame) {
        if (queued_bytes_ + frame->size() > kMaxSseQueueBytes) {
            if (auto c = core_.lock()) ++c->stats.sse_dropped;
            close();
            return;
        }
        queued_bytes_ += frame->size();
        queue_.push_back(frame);
        if (!writing_) write_next();
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(kMaxHeaderBytes);
        parser_->body_limit(0);
        stream_.expires_after(kRequestTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        auto core = core_.lock();
        if (!core || core->stopped) return close();
        if (ec) {
            if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                ec != asio::error::operation_aborted && ec != beast::error::timeout) {
                ++core->stats.bad_requests;
                return reply_error(400, "bad request");
            }
            return close();
        }
        ++core->stats.requests;
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive();
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            return reply_error(405, "read-only: GET and HEAD only");
        }
        head_ = req.method() == http::verb::head;
        HttpRequest r;
        r.method = head_ ? "HEAD" : "GET";
        const std::string_view target(req.target().data(), req.target().size());
        const auto q = target.find('?');
        r.path = std::string(target.substr(0, q));
        r.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
        HttpResponse resp;
        try {
            resp = core->handler(r);
        } catch (const std::exception&) {
            resp = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
        }
        if (resp.event_stream && !head_) return start_event_stream(*core);
        send(resp, r.path.starts_with("/api/"));
    }

    void reply_error(int status, const std::string& text) {
        keep_alive_ = false;
        send(HttpResponse{status, "text/plain; charset=utf-8", text + "\n"}, false);
    }

    void send(const HttpResponse& resp, bool cors) {
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(11);
        res->result(static_cast<http::status>(resp.status));
        res->set(http::field::server, "bts-stats");
        res->set(http::field::content_type, resp.content_type);
        res->set(http::field::cache_control, resp.cache_control);
        res->set("X-Content-Type-Options", "nosniff");
        res->set("Referrer-Policy", "no-referrer");
        res->set("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                 "connect-src 'self'; frame-ancestors 'none'");
        if (cors) res->set(http::field::access_control_allow_origin, "*");
        res->body() = resp.body;
        res->prepare_payload();
        if (head_) res->body().clear();  // Content-Length stays that of the GET body
        res->keep_alive(keep_alive_);
        stream_.expires_after(kRequestTimeout);
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec || !self->keep_alive_) return self->close();
            self->read();
        });
    }

    void start_event_stream(HttpServer::Core& core) {
        sse_ = true;
        core.sse[id_] = weak_from_this();
        stream_.expires_never();
        auto header = std::make_shared<const std::string>(
            "HTTP/1.1 200 OK\r\nServer: bts-stats\r\nContent-Type: text/event-stream\r\n"
            "Cache-Control: no-store\r\nConnection: keep-alive\r\nX-Accel-Buffering: no\r\n"
            "X-Content-Type-Options: nosniff\r\n\r\nretry: 2000\n\n");
        push_event(header);
        // The client sends nothing more; a read ending means it went away.
        stream_.async_read_some(asio::buffer(probe_byte_), [self = shared_from_this()](beast::error_code, std::size_t) {
            self->close();
        });
    }

    void write_next() {
        writing_ = true;
        asio::async_write(stream_.socket(), asio::buffer(*queue_.front()),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->writing_ = false;
                              if (ec) return self->close();
                              self->queued_bytes_ -= self->queue_.front()->size();
                              self->queue_.pop_front();
                              if (!self->queue_.empty()) self->write_next();
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::weak_ptr<HttpServer::Core> core_;
    std::uint64_t id_;
    bool keep_alive_ = false;
    bool head_ = false;
    bool sse_ = false;
    bool writing_ = false;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queued_bytes_ = 0;
    char probe_byte_[1] = {};
};

}  // namespace

void HttpServer::Core::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped) return;
        if (!ec) {
            ++self->stats.connections;
            if (self->sessions.size() >= self->max_connections) {
                ++self->stats.rejected;
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                const auto id = self->next_id++;
                auto s = std::make_shared<Session>(std::move(socket), self, id);
                self->sessions[id] = s;
                s->start();
            }
        }
        self->accept();
    });
}

HttpServer::HttpServer(asio::io_context& ioc, const std::string& address, std::uint16_t port, Handler handler,
                       std::size_t max_connections)
    : core_(std::make_shared<Core>(ioc, std::move(handler), max_connections)) {
    beast::error_code ec;
    const auto addr = asio::ip::make_address(address, ec);
    if (ec) throw std::runtime_error("bad listen address '" + address + "': " + ec.message());
    const tcp::endpoint ep(addr, port);
    auto& a = core_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    }
    core_->accept();
}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::port() const {
    beast::error_code ec;
    const auto ep = core_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void HttpServer::broadcast(std::string_view event, std::string_view data) {
    if (core_->sse.empty()) return;
    std::string frame;
    frame.reserve(event.size() + data.size() + 16);
    frame.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
    const auto shared = std::make_shared<const std::string>(std::move(frame));
    // Copy: a dropped client erases itself from the map while we iterate.
    std::vector<std::shared_ptr<Session>> clients;
    for (const auto& [id, weak] : core_->sse) {
        if (auto s = weak.lock()) clients.push_back(std::move(s));
    }
    for (const auto& s : clients) s->push_event(shared);
}

std::size_t HttpServer::event_clients() const { return core_->sse.size(); }
const HttpServerStats& HttpServer::stats() const { return core_->stats; }

void HttpServer::stop() {
    if (core_->stopped) return;
    core_->stopped = true;
    beast::error_code ec;
    core_->acceptor.close(ec);
    std::vector<std::shared_ptr<Session>> all;
    for (const auto& [id, weak] : core_->sessions) {
        if (auto s = weak.lock()) all.push_back(std::move(s));
    }
    for (const auto& s : all) s->close();
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
            hex(text[i + 2]) >= 0) {
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
        } else if (text[i] == '+') {
            out += ' ';
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string query_param(std::string_view query, std::string_view key) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

}  // namespace bts::stats
