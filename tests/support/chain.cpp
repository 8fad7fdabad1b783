// Test support: counting transactions in a node's blocks over a plain synchronous websocket.
#include "chain.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace bts::test {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

class Rpc {
public:
    explicit Rpc(const std::string& url) : url_(url), ws_(ioc_) {
        // ws://HOST:PORT[/path]
        if (url.rfind("ws://", 0) != 0) throw std::runtime_error(url + ": only ws:// is supported here");
        std::string rest = url.substr(5);
        std::string path = "/";
        if (auto slash = rest.find('/'); slash != std::string::npos) {
            path = rest.substr(slash);
            rest = rest.substr(0, slash);
        }
        auto colon = rest.rfind(':');
        if (colon == std::string::npos) throw std::runtime_error(url + ": no port");
        tcp::resolver resolver(ioc_);
        auto endpoints = resolver.resolve(rest.substr(0, colon), rest.substr(colon + 1));
        boost::asio::connect(ws_.next_layer(), endpoints);
        ws_.read_message_max(64 * 1024 * 1024);
        ws_.handshake(rest, path);
    }
    json call(const std::string& method, json params) {
        json req{{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", "call"}, {"params", {"database", method, params}}};
        ws_.write(boost::asio::buffer(req.dump()));
        for (;;) {
            beast::flat_buffer buf;
            ws_.read(buf);
            json r = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
            if (r.is_discarded() || !r.contains("id")) continue;  // notices
            if (r["id"] != id_) continue;
            if (r.contains("error")) throw std::runtime_error(url_ + ": " + method + ": " + r["error"].dump());
            return r["result"];
        }
    }

private:
    std::string url_;
    boost::asio::io_context ioc_;
    websocket::stream<tcp::socket> ws_;
    std::uint64_t id_ = 0;
};

ChainCount count(Rpc& rpc, std::uint32_t first_block, std::uint32_t head) {
    ChainCount c;
    c.head = head;
    for (std::uint32_t n = std::max<std::uint32_t>(first_block, 1); n <= head; ++n) {
        json b = rpc.call("get_block", json::array({n}));
        if (b.is_null()) continue;
        ++c.blocks;
        if (!b.contains("transactions")) continue;
        for (const auto& tx : b["transactions"]) {
            ++c.txs;
            if (tx.contains("operations")) c.ops += tx["operations"].size();
        }
    }
    return c;
}

std::uint32_t head_of(Rpc& rpc) {
    return rpc.call("get_dynamic_global_properties", json::array())["head_block_number"].get<std::uint32_t>();
}

}  // namespace

std::uint32_t head_block(const std::string& ws_url) {
    Rpc rpc(ws_url);
    return head_of(rpc);
}

ChainCount count_chain(const std::string& ws_url, std::uint32_t first_block) {
    Rpc rpc(ws_url);
    return count(rpc, first_block, head_of(rpc));
}

ChainCount count_chain_settled(const std::string& ws_url, std::uint32_t first_block) {
    Rpc rpc(ws_url);
    const std::uint32_t start = head_of(rpc);
    std::uint32_t head = start;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (head <= start + 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        head = head_of(rpc);
    }
    return count(rpc, first_block, head);
}

}  // namespace bts::test
