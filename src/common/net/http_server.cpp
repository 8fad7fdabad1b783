// The shared Beast HTTP/1.1 server: plain or TLS sessions, connection caps with idle eviction,
// request timeouts, header/body caps, server-sent events with a subscriber cap.
#include "common/net/http_server.hpp"

#include "common/net/detail/tls.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <deque>
#include <list>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace bts::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string_view HttpServerRequest::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return {};
}

namespace {

// What the core needs of a session, whatever its stream type.
class SessionBase {
  public:
    virtual ~SessionBase() = default;
    virtual void close() = 0;
    virtual void push_event(const std::shared_ptr<const std::string>& frame) = 0;

    std::uint64_t id = 0;
    std::string ip;
    bool idle = true;  // waiting for (the rest of) a request: may be evicted
    Clock::time_point idle_since = Clock::now();
    bool event_stream = false;
};

}  // namespace

struct HttpServer::Core : std::enable_shared_from_this<Core> {
    Core(asio::io_context& io, HttpServerOptions o, AsyncHandler h)
        : ioc(io), acceptor(io), options(std::move(o)), handler(std::move(h)) {}

    void accept();
    bool make_room(const std::string& ip);
    void add(const std::shared_ptr<SessionBase>& s) {
        sessions[s->id] = s;
        ++per_ip[s->ip];
    }
    // Idempotent: a session leaves the books when it closes, not when its last handler runs.
    void forget(std::uint64_t id, const std::string& ip) {
        if (sessions.erase(id) == 0) return;
        auto it = per_ip.find(ip);
        if (it != per_ip.end() && --it->second == 0) per_ip.erase(it);
        for (auto e = sse.begin(); e != sse.end(); ++e)
            if (e->first == id) {
                sse.erase(e);
                break;
            }
    }
    void add_event_stream(const std::shared_ptr<SessionBase>& s) {
        while (sse.size() >= std::max<std::size_t>(1, options.limits.max_event_streams)) {
            auto oldest = sse.front().second.lock();
            sse.pop_front();
            ++stats.sse_shed;
            if (oldest) oldest->close();
        }
        sse.emplace_back(s->id, s);
    }

    asio::io_context& ioc;
    tcp::acceptor acceptor;
    HttpServerOptions options;
    AsyncHandler handler;
    std::shared_ptr<asio::ssl::context> tls;
    HttpServerStats stats;
    std::uint64_t next_id = 1;
    std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
    std::unordered_map<std::string, std::size_t> per_ip;
    std::list<std::pair<std::uint64_t, std::weak_ptr<SessionBase>>> sse;  // oldest first
    bool stopped = false;
};

namespace {

const char* kEventStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    "Connection: keep-alive\r\nX-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\n";

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  public:
    Session(Stream stream, std::shared_ptr<HttpServer::Core> core, std::uint64_t sid,
            std::string addr)
        : stream_(std::move(stream)), core_(std::move(core)) {
        id = sid;
        ip = std::move(addr);
    }

    ~Session() override { detach(); }

    void start() {
        if constexpr (kTls) {
            lowest().expires_after(limits().request_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (ec) {
                                            if (auto c = self->core_.lock())
                                                ++c->stats.tls_failures;
                                            return self->close();
                                        }
                                        self->read();
                                    });
        } else {
            read();
        }
    }

    void close() override {
        detach();
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
    }

    void push_event(const std::shared_ptr<const std::string>& frame) override {
        auto c = core_.lock();
        if (!c || closed_) return;
        if (queued_bytes_ + frame->size() > c->options.limits.max_event_queue_bytes) {
            ++c->stats.sse_dropped;
            close();
            return;
        }
        queued_bytes_ += frame->size();
        queue_.push_back(frame);
        if (!writing_) write_next();
    }

  private:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
    const HttpServerLimits& limits() {
        static const HttpServerLimits kDefaults;
        auto c = core_.lock();
        return c ? c->options.limits : kDefaults;
    }

    void detach() {
        if (closed_) return;
        closed_ = true;
        if (auto c = core_.lock()) c->forget(id, ip);
    }

    void read() {
        auto c = core_.lock();
        if (!c || c->stopped || closed_) return close();
        idle = true;
        idle_since = Clock::now();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(c->options.limits.max_header_bytes));
        parser_->body_limit(c->options.limits.max_body_bytes);
        lowest().expires_after(c->options.limits.request_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(beast::error_code ec) {
        idle = false;
        auto core = core_.lock();
        if (!core || core->stopped || closed_) return close();
        if (ec) {
            if (ec == beast::error::timeout) {  // the stream has closed the socket already
                ++core->stats.timeouts;
                return close();
            }
            if (ec == http::error::end_of_stream || ec == asio::error::eof ||
                ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
                ec == asio::ssl::error::stream_truncated)
                return close();
            ++core->stats.bad_requests;
            if (ec == http::error::body_limit) return reply_error(413, "request body too large");
            if (ec == http::error::header_limit)
                return reply_error(431, "request header fields too large");
            return reply_error(400, "bad request");
        }
        ++core->stats.requests;
        auto& msg = parser_->get();
        keep_alive_ = msg.keep_alive();
        head_ = msg.method() == http::verb::head;
        HttpServerRequest r;
        r.method = std::string(msg.method_string());
        r.target = std::string(msg.target());
        const auto q = r.target.find('?');
        r.path = r.target.substr(0, q);
        r.query = q == std::string::npos ? std::string() : r.target.substr(q + 1);
        for (const auto& f : msg) {
            std::string name(f.name_string());
            for (auto& ch : name)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            r.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        r.body = std::move(msg.body());
        r.remote_ip = ip;
        r.connection_id = id;
        r.received = Clock::now();
        lowest().expires_never();  // the handler may take its time; the answer has its own deadline
        auto self = this->shared_from_this();
        core->handler(std::move(r), [self](HttpServerResponse resp) {
            if (self->closed_) return;
            auto c = self->core_.lock();
            if (!c || c->stopped) return self->close();
            if (resp.event_stream && !self->head_) return self->start_event_stream(*c);
            self->send(resp);
        });
    }

    void reply_error(int status, const std::string& text) {
        keep_alive_ = false;
        HttpServerResponse r;
        r.status = status;
        r.content_type = "application/json";
        r.body =
            "{\"error\":{\"status\":" + std::to_string(status) + ",\"reason\":\"" + text + "\"}}\n";
        send(r);
    }

    void send(const HttpServerResponse& resp) {
        auto c = core_.lock();
        if (!c) return close();
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(11);
        res->result(static_cast<http::status>(resp.status));
        res->set(http::field::server, c->options.server_name);
        res->set(http::field::content_type, resp.content_type);
        if (!resp.cache_control.empty()) res->set(http::field::cache_control, resp.cache_control);
        for (const auto& [k, v] : c->options.default_headers) res->set(k, v);
        for (const auto& [k, v] : resp.headers) res->set(k, v);
        res->body() = resp.body;
        res->prepare_payload();
        if (head_) res->body().clear();  // Content-Length stays that of the GET body
        res->keep_alive(keep_alive_);
        lowest().expires_after(c->options.limits.request_timeout);
        http::async_write(
            stream_, *res,
            [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                if (ec || !self->keep_alive_) return self->close();
                self->read();
            });
    }

    void start_event_stream(HttpServer::Core& core) {
        event_stream = true;
        core.add_event_stream(this->shared_from_this());
        lowest().expires_never();
        std::string head = kEventStreamHead;
        head += "Server: " + core.options.server_name + "\r\n";
        for (const auto& [k, v] : core.options.default_headers) head += k + ": " + v + "\r\n";
        head += "\r\nretry: 2000\n\n";
        push_event(std::make_shared<const std::string>(std::move(head)));
        // The client sends nothing more; a read ending means it went away.
        stream_.async_read_some(
            asio::buffer(probe_byte_),
            [self = this->shared_from_this()](beast::error_code, std::size_t) { self->close(); });
    }

    void write_next() {
        writing_ = true;
        asio::async_write(stream_, asio::buffer(*queue_.front()),
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->writing_ = false;
                              if (ec) return self->close();
                              self->queued_bytes_ -= self->queue_.front()->size();
                              self->queue_.pop_front();
                              if (!self->queue_.empty()) self->write_next();
                          });
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::weak_ptr<HttpServer::Core> core_;
    bool closed_ = false;
    bool keep_alive_ = false;
    bool head_ = false;
    bool writing_ = false;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::size_t queued_bytes_ = 0;
    char probe_byte_[1] = {};
};

}  // namespace

bool HttpServer::Core::make_room(const std::string& ip) {
    const auto& l = options.limits;
    auto at_ip = per_ip.find(ip);
    const bool over_ip = at_ip != per_ip.end() && at_ip->second >= l.max_connections_per_ip;
    const bool over_total = sessions.size() >= l.max_connections;
    if (!over_ip && !over_total) return true;
    // Close the connection that has waited longest for a request (of this address if that cap is
    // the one reached): an idle socket must never keep out a request.
    std::shared_ptr<SessionBase> victim;
    for (const auto& [id, weak] : sessions) {
        auto s = weak.lock();
        if (!s || !s->idle || s->event_stream || (over_ip && s->ip != ip)) continue;
        if (!victim || s->idle_since < victim->idle_since) victim = std::move(s);
    }
    if (victim) {
        ++stats.evicted;
        victim->close();
        return true;
    }
    // Nothing idle: the oldest event stream goes (its page reconnects after `retry`), so streams
    // can never hold every slot either.
    for (const auto& [id, weak] : sse) {
        auto s = weak.lock();
        if (!s || (over_ip && s->ip != ip)) continue;
        ++stats.sse_shed;
        s->close();
        return true;
    }
    return false;
}

void HttpServer::Core::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped) return;
        if (!ec) {
            ++self->stats.connections;
            beast::error_code ignored;
            const auto remote = socket.remote_endpoint(ignored);
            std::string ip = ignored ? std::string("?") : remote.address().to_string();
            if (!self->make_room(ip)) {
                ++self->stats.rejected;
                socket.close(ignored);
            } else {
                const auto id = self->next_id++;
                if (self->tls) {
                    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
                    auto s = std::make_shared<Session<TlsStream>>(
                        TlsStream(beast::tcp_stream(std::move(socket)), *self->tls), self, id,
                        std::move(ip));
                    self->add(s);
                    s->start();
                } else {
                    auto s = std::make_shared<Session<beast::tcp_stream>>(
                        beast::tcp_stream(std::move(socket)), self, id, std::move(ip));
                    self->add(s);
                    s->start();
                }
            }
        } else if (ec == asio::error::operation_aborted) {
            return;
        }
        // Out of descriptors (EMFILE) and similar: keep accepting, but not in a tight loop.
        if (ec) {
            auto timer =
                std::make_shared<asio::steady_timer>(self->ioc, std::chrono::milliseconds(100));
            timer->async_wait([self, timer](beast::error_code) {
                if (!self->stopped) self->accept();
            });
            return;
        }
        self->accept();
    });
}

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions options, AsyncHandler handler)
    : core_(std::make_shared<Core>(ioc, std::move(options), std::move(handler))) {
    const auto& o = core_->options;
    if (!o.tls.cert_file.empty() || !o.tls.key_file.empty()) {
        if (o.tls.cert_file.empty() || o.tls.key_file.empty())
            throw std::runtime_error("TLS needs both a certificate file and a key file");
        core_->tls = detail::make_server_context(o.tls.cert_file, o.tls.key_file);
    }
    beast::error_code ec;
    const auto addr = asio::ip::make_address(o.address, ec);
    if (ec) throw std::runtime_error("bad listen address '" + o.address + "': " + ec.message());
    const tcp::endpoint ep(addr, o.port);
    auto& a = core_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + o.address + ":" + std::to_string(o.port) +
                                 ": " + ec.message());
    core_->accept();
}

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions options, Handler handler)
    : HttpServer(
          ioc, std::move(options),
          [h = std::move(handler)](HttpServerRequest&& r, Respond respond) {
              HttpServerResponse resp;
              try {
                  resp = h(r);
              } catch (const std::exception&) {
                  resp = HttpServerResponse{500, "text/plain; charset=utf-8", "internal error\n"};
              }
              respond(std::move(resp));
          }) {}

namespace {
HttpServerOptions static_page_options(const std::string& address, std::uint16_t port,
                                      std::size_t max_connections) {
    HttpServerOptions o;
    o.address = address;
    o.port = port;
    o.server_name = "bts-stats";
    o.limits.max_connections = max_connections;
    o.limits.max_connections_per_ip = std::min<std::size_t>(max_connections, 64);
    o.default_headers = {
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         "connect-src 'self'; frame-ancestors 'none'"}};
    return o;
}
}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, const std::string& address, std::uint16_t port,
                       Handler handler, std::size_t max_connections)
    : HttpServer(
          ioc, static_page_options(address, port, max_connections),
          [h = std::move(handler)](HttpServerRequest&& r, Respond respond) {
              HttpServerResponse resp;
              if (r.method != "GET" && r.method != "HEAD") {
                  resp = HttpServerResponse{405, "text/plain; charset=utf-8",
                                            "read-only: GET and HEAD only\n"};
                  respond(std::move(resp));
                  return;
              }
              try {
                  resp = h(r);
              } catch (const std::exception&) {
                  resp = HttpServerResponse{500, "text/plain; charset=utf-8", "internal error\n"};
              }
              // The existing status pages read /api/ cross-origin.
              if (r.path.starts_with("/api/"))
                  resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
              respond(std::move(resp));
          }) {}

HttpServer::~HttpServer() {
    stop();
}

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
    // Copy: a dropped client leaves the list while we iterate.
    std::vector<std::shared_ptr<SessionBase>> clients;
    for (const auto& [id, weak] : core_->sse)
        if (auto s = weak.lock()) clients.push_back(std::move(s));
    for (const auto& s : clients) s->push_event(shared);
}

std::size_t HttpServer::event_clients() const {
    return core_->sse.size();
}
std::size_t HttpServer::open_connections() const {
    return core_->sessions.size();
}
const HttpServerStats& HttpServer::stats() const {
    return core_->stats;
}

void HttpServer::stop() {
    if (core_->stopped) return;
    core_->stopped = true;
    beast::error_code ec;
    core_->acceptor.close(ec);
    std::vector<std::shared_ptr<SessionBase>> all;
    for (const auto& [id, weak] : core_->sessions)
        if (auto s = weak.lock()) all.push_back(std::move(s));
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

std::vector<std::pair<std::string, std::string>> query_params(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (!pair.empty()) {
            const auto eq = pair.find('=');
            out.emplace_back(
                percent_decode(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

std::string query_param(std::string_view query, std::string_view key) {
    for (auto& [k, v] : query_params(query))
        if (k == key) return v;
    return {};
}

}  // namespace bts::net
