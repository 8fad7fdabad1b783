// Baseline for the broadcast-throughput benchmark: a bare Boost.Beast websocket
// request/response loop on loopback — one client connection keeping `window` same-size requests
// in flight against a Beast server (its own thread) that answers each with a bitshares-shaped
// `{"id":N,"jsonrpc":"2.0","result":null}` without parsing JSON. It is what the transport alone
// can carry on this machine; the beacon against a node is printed next to it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

namespace bts::bench {

namespace raw_ws_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Server session: read a frame, queue `{"id":<copied>,...}`, write replies one at a time.
class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket s) : ws_(std::move(s)) {}
    void start() {
        ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->read();
        });
    }

private:
    void read() {
        ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            auto data = beast::buffers_to_string(self->in_.data());
            self->in_.consume(self->in_.size());
            // The id is the number after `{"id":`.
            auto end = data.find(',');
            std::string id = end != std::string::npos && data.size() > 6 ? data.substr(6, end - 6) : "0";
            self->out_.push_back("{\"id\":" + id + ",\"jsonrpc\":\"2.0\",\"result\":null}");
            if (self->out_.size() == 1) self->write();
            self->read();
        });
    }
    void write() {
        ws_.async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            self->out_.pop_front();
            if (!self->out_.empty()) self->write();
        });
    }
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer in_;
    std::deque<std::string> out_;
};

}  // namespace raw_ws_detail

struct RawWsResult {
    double requests_per_second = 0;
    std::uint64_t requests = 0;
};

// Runs the loop for `seconds` with requests of exactly `message_bytes` bytes.
inline RawWsResult raw_ws_baseline(std::size_t message_bytes, std::size_t window, double seconds) {
    using namespace raw_ws_detail;
    asio::io_context server_ioc;
    tcp::acceptor acceptor(server_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto port = acceptor.local_endpoint().port();
    std::function<void()> accept = [&] {
        acceptor.async_accept([&](beast::error_code ec, tcp::socket s) {
            if (ec) return;
            std::make_shared<Session>(std::move(s))->start();
            accept();
        });
    };
    accept();
    std::thread server([&] { server_ioc.run(); });

    asio::io_context ioc;
    websocket::stream<tcp::socket> ws(ioc);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.handshake("127.0.0.1", "/");
    ws.text(true);

    // Same-size request bodies with distinct ids: `{"id":N,` + padding + `}`.
    std::uint64_t next_id = 1, done = 0, in_flight = 0;
    bool writing = false, stopping = false;
    std::string msg;
    auto make = [&](std::uint64_t id) {
        msg = "{\"id\":" + std::to_string(id) + ",\"p\":\"";
        std::size_t fill = message_bytes > msg.size() + 2 ? message_bytes - msg.size() - 2 : 0;
        msg.append(fill, 'x');
        msg += "\"}";
    };
    beast::flat_buffer in;
    std::function<void()> write_more = [&] {
        if (writing || stopping || in_flight >= window) return;
        writing = true;
        make(next_id++);
        ++in_flight;
        ws.async_write(asio::buffer(msg), [&](beast::error_code ec, std::size_t) {
            writing = false;
            if (!ec) write_more();
        });
    };
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    std::function<void()> read_more = [&] {
        ws.async_read(in, [&](beast::error_code ec, std::size_t) {
            if (ec) return;
            in.consume(in.size());
            ++done;
            --in_flight;
            if (std::chrono::steady_clock::now() >= deadline) stopping = true;
            if (stopping && in_flight == 0) return;
            write_more();
            read_more();
        });
    };
    write_more();
    read_more();
    ioc.run();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    beast::error_code ec;
    ws.next_layer().close(ec);
    server_ioc.stop();
    server.join();
    return {static_cast<double>(done) / elapsed, done};
}

}  // namespace bts::bench
