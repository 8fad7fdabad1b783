// bts-devnet actor: websocket JSON-RPC dispatch onto the Chain, callbacks, block timer.
#include "actors/devnet/devnet.hpp"

#include "actors/devnet/objects.hpp"
#include "common/crypto/hash.hpp"
#include "common/net/ws_server.hpp"
#include "common/protocol/raw.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>
#include <unordered_map>

namespace bts::devnet {

namespace asio = boost::asio;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Config

DevnetConfig DevnetConfig::from_toml(const util::TomlDoc& doc) {
    util::TomlTable t = doc.table("devnet");
    t.reject_unknown_keys({"address", "port", "genesis", "block_interval", "max_pending", "apply_cost",
                           "trust_signatures", "block_history", "max_connections", "max_message_size"});
    DevnetConfig c;
    c.address = t.get_string("address", c.address);
    c.port = static_cast<std::uint16_t>(t.get_int("port", c.port, 0, 65535));
    c.genesis = t.get_string("genesis", c.genesis);
    if (!c.genesis.empty() && std::filesystem::path(c.genesis).is_relative()) {
        // From the file: relative to the file; from the command line: relative to the cwd.
        std::string from = t.source_of("genesis");
        if (from == doc.source() && from != "<defaults>")
            c.genesis = (std::filesystem::path(from).parent_path() / c.genesis).lexically_normal().string();
    }
    c.block_interval = t.get_duration("block_interval", c.block_interval);
    c.chain.max_pending = static_cast<std::size_t>(t.get_size("max_pending", c.chain.max_pending));
    c.chain.apply_cost = t.get_duration("apply_cost", c.chain.apply_cost);
    c.chain.trust_signatures = t.get_bool("trust_signatures", c.chain.trust_signatures);
    c.chain.block_history_bytes = t.get_size("block_history", c.chain.block_history_bytes);
    c.max_connections = static_cast<std::size_t>(t.get_size("max_connections", c.max_connections, 1));
    c.max_message_bytes = t.get_size("max_message_size", c.max_message_bytes, 1024);
    return c;
}

void DevnetConfig::validate() const {
    util::check_config(block_interval >= std::chrono::milliseconds(10), "devnet.block_interval",
                       "must be at least 10ms");
    util::check_config(block_interval <= std::chrono::seconds(30), "devnet.block_interval",
                       "must be at most 30s (GRAPHENE_MAX_BLOCK_INTERVAL)");
    util::check_config(!address.empty(), "devnet.address", "must not be empty");
    chain.validate();
}

// ---------------------------------------------------------------------------------------------
// Implementation

namespace {

enum class ApiKind { database, login, network_broadcast, history, orders, custom_operations };

struct Session {
    std::vector<ApiKind> apis{ApiKind::database, ApiKind::login};
    std::optional<std::uint64_t> block_callback;
};

struct Waiter {
    net::SessionHandle session;
    bool synchronous = false;
    std::uint64_t callback = 0;
    json request_id;
    std::uint32_t expiration = 0;
};

struct TxIdHash {
    std::size_t operator()(const protocol::TransactionId& id) const noexcept {
        std::size_t h;
        std::memcpy(&h, id.data.data(), sizeof h);
        return h;
    }
};

// nlohmann::json (what the net layer parses) → ordered_json (what the protocol library reads).
Json to_ordered(const json& j) {
    switch (j.type()) {
        case json::value_t::object: {
            Json o = Json::object();
            for (auto it = j.begin(); it != j.end(); ++it) o.emplace(it.key(), to_ordered(it.value()));
            return o;
        }
        case json::value_t::array: {
            Json a = Json::array();
            a.get_ref<Json::array_t&>().reserve(j.size());
            for (const auto& e : j) a.push_back(to_ordered(e));
            return a;
        }
        case json::value_t::string: return j.get_ref<const std::string&>();
        case json::value_t::boolean: return j.get<bool>();
        case json::value_t::number_integer: return j.get<std::int64_t>();
        case json::value_t::number_unsigned: return j.get<std::uint64_t>();
        case json::value_t::number_float: return j.get<double>();
        default: return nullptr;
    }
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string result_text(const json& id, std::string_view result) {
    std::string out;
    out.reserve(result.size() + 48);
    out += "{\"id\":";
    out += id.dump(-1, ' ', false, json::error_handler_t::replace);
    out += ",\"jsonrpc\":\"2.0\",\"result\":";
    out += result;
    out += '}';
    return out;
}

std::string error_text(const json& id, const ChainError& e) {
    Json err = Json::object();
    err["code"] = e.code;
    err["message"] = e.message();
    err["data"] = e.data_json();
    std::string out = "{\"id\":";
    out += id.dump(-1, ' ', false, json::error_handler_t::replace);
    out += ",\"jsonrpc\":\"2.0\",\"error\":";
    out += dump(err);
    out += '}';
    return out;
}

std::string notice_text(std::uint64_t cb, std::string_view payload) {
    std::string out = "{\"method\":\"notice\",\"params\":[";
    out += std::to_string(cb);
    out += ",[";
    out += payload;
    out += "]]}";
    return out;
}

ChainError bad_cast(std::string_view what) {
    Json d = Json::object();
    d["what"] = std::string(what);
    return ChainError::make(7, "bad_cast_exception", "Bad Cast", "${what}", std::move(d), "from_variant");
}

ChainError no_method(std::string_view name) {
    Json d = Json::object();
    d["name"] = std::string(name);
    return ChainError::assertion("itr != _by_name.end()", "no method with name '${name}'", std::move(d), "call");
}

const json& arg(const net::RpcRequest& r, std::size_t i) {
    if (i >= r.params.size())
        throw ChainError::assertion("a0 != e", "too few arguments passed to method", Json::object(), "call");
    return r.params[i];
}

std::string arg_string(const net::RpcRequest& r, std::size_t i) {
    const json& a = arg(r, i);
    if (a.is_string()) return a.get<std::string>();
    if (a.is_number_integer()) return a.dump();
    throw bad_cast("Invalid cast from " + std::string(a.type_name()) + " to string");
}

std::uint64_t as_uint(const json& a) {
    if (a.is_number_unsigned()) return a.get<std::uint64_t>();
    if (a.is_number_integer() && a.get<std::int64_t>() >= 0) return std::uint64_t(a.get<std::int64_t>());
    if (a.is_string()) {
        const auto& s = a.get_ref<const std::string&>();
        std::uint64_t v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec == std::errc{} && r.ptr == s.data() + s.size() && !s.empty()) return v;
    }
    throw bad_cast("Invalid cast from " + std::string(a.type_name()) + " to uint64");
}

std::uint64_t arg_uint(const net::RpcRequest& r, std::size_t i) { return as_uint(arg(r, i)); }

const json& arg_array(const net::RpcRequest& r, std::size_t i) {
    const json& a = arg(r, i);
    if (!a.is_array()) throw bad_cast("Invalid cast from " + std::string(a.type_name()) + " to Array");
    return a;
}

std::string as_string(const json& a) {
    if (a.is_string()) return a.get<std::string>();
    throw bad_cast("Invalid cast from " + std::string(a.type_name()) + " to string");
}

ChainError limit_error(std::string_view expr, std::uint64_t limit) {
    Json d = Json::object();
    d["configured_limit"] = limit;
    return ChainError::assertion(expr, "limit can not be greater than ${configured_limit}", std::move(d), "check");
}

}  // namespace

struct Devnet::Impl {
    Impl(asio::io_context& io, DevnetConfig cfg, const Genesis& genesis, std::shared_ptr<spdlog::logger> logger)
        : ioc(io),
          config(std::move(cfg)),
          log(logger ? std::move(logger) : spdlog::default_logger()),
          chain(genesis, config.chain, start_time()),
          prefix(genesis.address_prefix),
          timer(io) {
        net::WsServerConfig sc;
        sc.address = config.address;
        sc.port = config.port;
        sc.max_connections = config.max_connections;
        sc.max_message_bytes = config.max_message_bytes;
        sc.logger = log;
        server = std::make_unique<net::WsServer>(
            io, sc, [this](const net::SessionHandle& s, net::RpcRequest&& r) { on_request(s, std::move(r)); },
            [this](const net::SessionHandle& s) { sessions[s.id()]; },
            [this](net::SessionId id, std::string_view) { sessions.erase(id); });
        interval_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.block_interval);
        next_tick = std::chrono::steady_clock::now();
        schedule();
    }

    // Genesis (head) time before the first block: now, on a slot boundary for whole-second intervals.
    protocol::TimePointSec start_time() const {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.block_interval).count();
        if (ms % 1000 == 0) now = now / (ms / 1000) * (ms / 1000);
        return protocol::TimePointSec{std::uint32_t(now)};
    }

    bool whole_seconds() const { return interval_ms.count() % 1000 == 0; }

    void schedule() {
        if (stopped) return;
        auto sys_now = std::chrono::system_clock::now();
        std::chrono::nanoseconds delay;
        if (whole_seconds()) {
            // Real slots: timestamps are multiples of the interval, the block is made on time.
            std::int64_t interval_s = interval_ms.count() / 1000;
            std::int64_t now_s =
                std::chrono::duration_cast<std::chrono::seconds>(sys_now.time_since_epoch()).count();
            std::int64_t slot = std::max<std::int64_t>(chain.head_block_time().seconds + interval_s,
                                                       (now_s / interval_s + 1) * interval_s);
            next_slot = std::uint32_t(slot);
            delay = std::chrono::system_clock::time_point(std::chrono::seconds(slot)) - sys_now;
            if (delay.count() < 0) delay = std::chrono::nanoseconds(0);
            timer.expires_after(delay);
        } else {
            next_tick += config.block_interval;
            auto now = std::chrono::steady_clock::now();
            if (next_tick < now) next_tick = now;  // fell behind: do not burst
            timer.expires_at(next_tick);
        }
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped) return;
            produce();
            schedule();
        });
    }

    void produce() {
        protocol::TimePointSec when;
        if (whole_seconds()) {
            when = protocol::TimePointSec{next_slot};
        } else {
            // Sub-second blocks share a timestamp (uint32 seconds); it never goes backwards.
            auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
            when = protocol::TimePointSec{std::max<std::uint32_t>(chain.head_block_time().seconds, std::uint32_t(now_s))};
        }
        produce_at(when);
    }

    void produce_at(protocol::TimePointSec when) {
        auto started = std::chrono::steady_clock::now();
        ProducedBlock pb = chain.produce_block(when);
        const Block& b = *pb.block;
        ++stats.blocks;
        dgp_cache.clear();
        block_cache_num = 0;
        block_cache.clear();
        auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        log->info("block #{} txs={} ops={} size={} pending={} postponed={} dropped={} ({}us)", b.num, b.tx_count(),
                  b.op_count, b.size, chain.pending_count(), pb.postponed, pb.dropped, took.count());

        // Transaction callbacks (network_broadcast_api::on_applied_block).
        if (!waiters.empty()) {
            for (std::size_t i = 0; i < pb.included.size(); ++i) {
                auto it = waiters.find(pb.included[i]->id);
                if (it == waiters.end()) continue;
                Waiter w = std::move(it->second);
                waiters.erase(it);
                std::string payload = dump(confirmation_to_json(*pb.included[i], b.num, std::uint32_t(i), prefix));
                if (w.synchronous) {
                    w.session.send(result_text(w.request_id, payload));
                } else if (w.session.send(notice_text(w.callback, payload))) {
                    ++stats.notices;
                }
            }
            // A waiter whose transaction expired can never fire: forget it (the real node leaks it).
            if (b.num % 16 == 0) {
                for (auto it = waiters.begin(); it != waiters.end();) {
                    if (it->second.expiration < chain.head_block_time().seconds)
                        it = waiters.erase(it);
                    else
                        ++it;
                }
            }
        }
        // set_block_applied_callback subscribers.
        std::string id = "\"" + crypto::to_hex(b.id.data) + "\"";
        for (auto& [sid, s] : sessions) {
            if (!s.block_callback) continue;
            auto handle = server->session(sid);
            if (handle.send(notice_text(*s.block_callback, id))) ++stats.notices;
        }
    }

    // ---- dispatch --------------------------------------------------------------------------

    void on_request(const net::SessionHandle& s, net::RpcRequest&& r) {
        ++stats.requests;
        try {
            Session& session = sessions[s.id()];
            std::uint64_t api_id = 0;
            if (auto* name = std::get_if<std::string>(&r.api)) {
                api_id = login_api_factory(session, *name);
            } else {
                std::int64_t n = std::get<std::int64_t>(r.api);
                if (n < 0 || std::uint64_t(n) >= session.apis.size()) {
                    Json d = Json::object();
                    d["api_id"] = n;
                    throw ChainError::assertion("_local_apis.size() > api_id", {}, std::move(d), "receive_call");
                }
                api_id = std::uint64_t(n);
            }
            switch (session.apis[api_id]) {
                case ApiKind::database: return database_call(s, session, r);
                case ApiKind::login: return login_call(s, session, r);
                case ApiKind::network_broadcast: return broadcast_call(s, r);
                default: throw no_method(r.method);
            }
        } catch (const ChainError& e) {
            reply_error(s, r.id, e);
        } catch (const std::exception& e) {
            Json d = Json::object();
            d["what"] = e.what();
            reply_error(s, r.id, ChainError::make(0, "exception", "unspecified", "${what}", std::move(d), "call"));
        }
    }

    void reply(const net::SessionHandle& s, const json& id, const Json& result) { s.send(result_text(id, dump(result))); }
    void reply_error(const net::SessionHandle& s, const json& id, const ChainError& e) {
        ++stats.errors;
        s.send(error_text(id, e));
    }

    // login_api methods that hand out APIs; returns the API id.
    std::uint64_t login_api_factory(Session& session, std::string_view name) {
        static constexpr std::pair<std::string_view, ApiKind> kAllowed[] = {
            {"network_broadcast", ApiKind::network_broadcast},
            {"history", ApiKind::history},
            {"orders", ApiKind::orders},
            {"custom_operations", ApiKind::custom_operations}};
        if (name == "database") return 0;
        for (auto [n, kind] : kAllowed) {
            if (n != name) continue;
            for (std::size_t i = 0; i < session.apis.size(); ++i)
                if (session.apis[i] == kind) return i;
            session.apis.push_back(kind);
            return session.apis.size() - 1;
        }
        for (std::string_view denied : {"block", "network_node", "crypto", "asset", "debug"}) {
            if (denied == name) {
                std::string expr = "_allowed_apis.find(\"" + std::string(name) + "_api\") != _allowed_apis.end()";
                throw ChainError::assertion(expr, "Access denied", Json::object(), std::string(name));
            }
        }
        throw no_method(name);
    }

    void login_call(const net::SessionHandle& s, Session& session, const net::RpcRequest& r) {
        const std::string& m = r.method;
        if (m == "login") return reply(s, r.id, true);
        if (m == "logout") return reply(s, r.id, nullptr);
        if (m == "get_available_api_sets")
            return reply(s, r.id,
                         Json::array({"database_api", "network_broadcast_api", "history_api", "orders_api",
                                      "custom_operations_api"}));
        if (m == "get_config") return reply(s, r.id, config_to_json(chain));
        return reply(s, r.id, login_api_factory(session, m));
    }

    std::uint64_t resolve_account(const std::string& name_or_id) {
        auto a = chain.find_account(name_or_id);
        if (!a) {
            Json d = Json::object();
            d["account"] = name_or_id;
            throw ChainError::assertion("account", "no such account", std::move(d), "get_account_from_string");
        }
        return *a;
    }
    std::uint64_t resolve_asset(const std::string& symbol_or_id) {
        auto a = chain.find_asset(symbol_or_id);
        if (!a) {
            Json d = Json::object();
            d["asset"] = symbol_or_id;
            throw ChainError::assertion("asset_obj", "no such asset", std::move(d), "get_asset_from_string");
        }
        return *a;
    }

    protocol::SignedTransaction parse_tx(const json& j) {
        try {
            return protocol::signed_transaction_from_json(to_ordered(j), {prefix, true});
        } catch (const protocol::ProtocolError& e) {
            Json d = Json::object();
            d["path"] = e.path();
            d["reason"] = e.reason();
            throw ChainError::assertion("from_variant( trx )", "${path}: ${reason}", std::move(d), "from_variant");
        }
    }

    void database_call(const net::SessionHandle& s, Session& session, const net::RpcRequest& r) {
        const std::string& m = r.method;
        const auto& id = r.id;
        if (m == "get_dynamic_global_properties") {
            if (dgp_cache.empty())
                dgp_cache = dump(dynamic_global_properties_to_json(chain, interval_ms));
            s.send(result_text(id, dgp_cache));
            return;
        }
        if (m == "get_chain_id") return reply(s, id, crypto::to_hex(chain.chain_id()));
        if (m == "get_chain_properties") return reply(s, id, chain_properties_to_json(chain));
        if (m == "get_config") return reply(s, id, config_to_json(chain));
        if (m == "get_global_properties") return reply(s, id, global_properties_to_json(chain, interval_ms));
        if (m == "get_objects") {
            Json out = Json::array();
            for (const auto& e : arg_array(r, 0)) out.push_back(object_to_json(chain, as_string(e), interval_ms));
            return reply(s, id, out);
        }
        if (m == "get_account_by_name") {
            auto a = chain.account_by_name(arg_string(r, 0));
            return reply(s, id, a ? account_to_json(chain, *a) : Json(nullptr));
        }
        if (m == "lookup_account_names" || m == "get_accounts") {
            Json out = Json::array();
            for (const auto& e : arg_array(r, 0)) {
                auto a = m == "get_accounts" ? chain.find_account(as_string(e)) : chain.account_by_name(as_string(e));
                out.push_back(a ? account_to_json(chain, *a) : Json(nullptr));
            }
            return reply(s, id, out);
        }
        if (m == "get_account_count") return reply(s, id, chain.account_count());
        if (m == "get_account_balances" || m == "get_named_account_balances") {
            std::uint64_t acc = resolve_account(arg_string(r, 0));
            Json out = Json::array();
            const json& assets = r.params.size() > 1 ? arg_array(r, 1) : json::array();
            if (assets.empty()) {
                for (std::uint64_t a = 0; a < chain.asset_count(); ++a)
                    if (chain.has_balance_object(acc, a))
                        out.push_back(asset_to_json({chain.balance(acc, a), protocol::AssetId{a}}));
            } else {
                for (const auto& e : assets) {
                    auto a = protocol::parse_object_id(as_string(e));
                    if (!a || a->space != 1 || a->type != 3) throw bad_cast("Invalid asset id " + e.dump());
                    out.push_back(asset_to_json({chain.balance(acc, a->instance), protocol::AssetId{a->instance}}));
                }
            }
            return reply(s, id, out);
        }
        if (m == "get_assets" || m == "lookup_asset_symbols") {
            Json out = Json::array();
            for (const auto& e : arg_array(r, 0)) {
                auto a = chain.find_asset(as_string(e));
                out.push_back(a ? asset_object_to_json(chain, *a) : Json(nullptr));
            }
            return reply(s, id, out);
        }
        if (m == "get_required_fees") {
            std::uint64_t asset = resolve_asset(arg_string(r, 1));
            Json out = Json::array();
            for (const auto& e : arg_array(r, 0)) {
                protocol::Operation op;
                try {
                    op = protocol::operation_from_json(to_ordered(e), {prefix, true});
                } catch (const protocol::ProtocolError& pe) {
                    throw bad_cast(pe.what());
                }
                protocol::Asset fee{chain.required_core_fee(op), protocol::AssetId{0}};
                if (asset != 0) {
                    const AssetState* st = chain.asset(asset);
                    protocol::Price cer = st->core_exchange_rate(asset);
                    // core fee * cer, rounded up, in the fee asset.
                    unsigned __int128 v = (static_cast<unsigned __int128>(std::uint64_t(fee.amount)) *
                                               std::uint64_t(cer.base.amount) +
                                           std::uint64_t(cer.quote.amount) - 1) /
                                          std::uint64_t(cer.quote.amount);
                    fee = {std::int64_t(v), protocol::AssetId{asset}};
                }
                out.push_back(asset_to_json(fee));
            }
            return reply(s, id, out);
        }
        if (m == "get_block") {
            auto num = arg_uint(r, 0);
            if (num > 0xffffffffULL) return reply(s, id, nullptr);
            if (block_cache_num != num || block_cache.empty()) {
                const Block* b = chain.block(std::uint32_t(num));
                if (!b) return reply(s, id, nullptr);
                block_cache = dump(block_to_json(*b, prefix));
                block_cache_num = num;
            }
            s.send(result_text(id, block_cache));
            return;
        }
        if (m == "get_block_header") {
            auto num = arg_uint(r, 0);
            bool with_sig = r.params.size() > 1 && r.params[1].is_boolean() && r.params[1].get<bool>();
            const Block* b = num <= 0xffffffffULL ? chain.block(std::uint32_t(num)) : nullptr;
            return reply(s, id, b ? block_header_to_json(*b, with_sig) : Json(nullptr));
        }
        if (m == "get_transaction") {
            auto num = arg_uint(r, 0);
            auto trx = arg_uint(r, 1);
            const Block* b = num <= 0xffffffffULL ? chain.block(std::uint32_t(num)) : nullptr;
            if (!b) throw ChainError::assertion("opt_block", {}, Json::object(), "get_transaction");
            if (trx >= b->tx_count())
                throw ChainError::assertion("opt_block->transactions.size() > trx_num", {}, Json::object(),
                                            "get_transaction");
            return reply(s, id, processed_transaction_to_json(b->transaction(trx), prefix));
        }
        if (m == "get_limit_orders") {
            std::uint64_t a = resolve_asset(arg_string(r, 0));
            std::uint64_t b = resolve_asset(arg_string(r, 1));
            std::uint64_t limit = arg_uint(r, 2);
            if (limit > 300) throw limit_error("limit <= _app_options->api_limit_get_limit_orders", 300);
            Json out = Json::array();
            for (const auto* o : chain.order_book(a, b, limit)) out.push_back(order_to_json(*o));
            for (const auto* o : chain.order_book(b, a, limit)) out.push_back(order_to_json(*o));
            return reply(s, id, out);
        }
        if (m == "get_account_limit_orders") {
            std::uint64_t acc = resolve_account(arg_string(r, 0));
            std::uint64_t base = resolve_asset(arg_string(r, 1));
            std::uint64_t quote = resolve_asset(arg_string(r, 2));
            std::uint64_t limit = r.params.size() > 3 && !r.params[3].is_null() ? arg_uint(r, 3) : 101;
            if (limit > 101) throw limit_error("limit <= _app_options->api_limit_get_account_limit_orders", 101);
            Json out = Json::array();
            for (const auto* o : chain.order_book(base, quote, std::numeric_limits<std::size_t>::max())) {
                if (out.size() >= limit) break;
                if (o->seller == acc) out.push_back(order_to_json(*o));
            }
            return reply(s, id, out);
        }
        if (m == "get_transaction_hex" || m == "get_transaction_hex_without_sig") {
            auto tx = parse_tx(arg(r, 0));
            auto bytes = m == "get_transaction_hex" ? protocol::pack_signed(tx) : protocol::pack_unsigned(tx);
            return reply(s, id, crypto::to_hex(bytes));
        }
        if (m == "get_recent_transaction_by_id") {
            auto txid = crypto::from_hex_fixed<20>(arg_string(r, 0));
            if (!txid) throw bad_cast("expected a 40 hex digit transaction id");
            auto tx = chain.recent_transaction(protocol::TransactionId{*txid});
            return reply(s, id, tx ? protocol::to_json(*tx, {prefix}) : Json(nullptr));
        }
        if (m == "set_block_applied_callback") {
            session.block_callback = arg_uint(r, 0);
            return reply(s, id, nullptr);
        }
        if (m == "cancel_all_subscriptions") {
            session.block_callback.reset();
            return reply(s, id, nullptr);
        }
        throw no_method(m);
    }

    void broadcast_call(const net::SessionHandle& s, const net::RpcRequest& r) {
        const std::string& m = r.method;
        bool with_callback = m == "broadcast_transaction_with_callback";
        bool synchronous = m == "broadcast_transaction_synchronous";
        if (m != "broadcast_transaction" && !with_callback && !synchronous) throw no_method(m);
        // Cheapest possible refusal under overload: before the transaction is decoded or verified.
        if (chain.pool_full()) throw chain.refuse_pool_full();
        std::uint64_t cb = with_callback ? arg_uint(r, 0) : 0;
        auto tx = parse_tx(arg(r, with_callback ? 1 : 0));
        std::uint32_t expiration = tx.expiration.seconds;
        PushResult res = chain.push_transaction(std::move(tx));
        if (!res.ok()) {
            // The real node registers the callback before pushing, under the transaction id: a
            // rejected duplicate takes the callback over (with _synchronous, the earlier request
            // is then never answered), and the error is returned all the same.
            if ((with_callback || synchronous) && res.error->code == error_code::duplicate_transaction) {
                auto it = waiters.find(res.id);
                if (it != waiters.end()) {
                    if (synchronous)
                        waiters.erase(it);
                    else
                        it->second = Waiter{s, false, cb, r.id, expiration};
                }
            }
            throw *res.error;
        }
        if (with_callback || synchronous) waiters[res.id] = Waiter{s, synchronous, cb, r.id, expiration};
        if (!synchronous) s.send(result_text(r.id, "null"));
    }

    asio::io_context& ioc;
    DevnetConfig config;
    std::shared_ptr<spdlog::logger> log;
    Chain chain;
    std::string prefix;
    asio::steady_timer timer;
    std::unique_ptr<net::WsServer> server;
    std::chrono::milliseconds interval_ms{5000};
    std::chrono::steady_clock::time_point next_tick;
    std::uint32_t next_slot = 0;
    bool stopped = false;

    std::unordered_map<net::SessionId, Session> sessions;
    std::unordered_map<protocol::TransactionId, Waiter, TxIdHash> waiters;
    std::string dgp_cache;
    std::uint64_t block_cache_num = 0;
    std::string block_cache;
    DevnetStats stats;
};

Devnet::Devnet(asio::io_context& ioc, DevnetConfig config, const Genesis& genesis,
               std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>(ioc, std::move(config), genesis, std::move(logger))) {}

Devnet::~Devnet() {
    if (impl_) stop();
}

std::uint16_t Devnet::port() const { return impl_->server->port(); }
const Chain& Devnet::chain() const { return impl_->chain; }
const DevnetStats& Devnet::stats() const { return impl_->stats; }

void Devnet::produce_block_now() { impl_->produce(); }

void Devnet::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->timer.cancel();
    impl_->server->stop();
}

// ---------------------------------------------------------------------------------------------
// DevnetThread

struct DevnetThread::State {
    asio::io_context ioc;
    std::unique_ptr<Devnet> devnet;
    std::thread thread;
};

DevnetThread::DevnetThread(DevnetConfig config, Genesis genesis, std::shared_ptr<spdlog::logger> logger)
    : state_(std::make_unique<State>()), address_(config.address), chain_id_(genesis.chain_id) {
    std::promise<std::uint16_t> ready;
    auto started = ready.get_future();
    State* st = state_.get();
    st->thread = std::thread([st, &ready, config = std::move(config), genesis = std::move(genesis),
                              logger = std::move(logger)]() mutable {
        try {
            st->devnet = std::make_unique<Devnet>(st->ioc, std::move(config), genesis, std::move(logger));
            ready.set_value(st->devnet->port());
        } catch (...) {
            ready.set_exception(std::current_exception());
            return;
        }
        st->ioc.run();
        st->devnet.reset();
    });
    try {
        port_ = started.get();
    } catch (...) {
        st->thread.join();
        throw;
    }
}

DevnetThread::~DevnetThread() {
    State* st = state_.get();
    asio::post(st->ioc, [st] {
        if (st->devnet) st->devnet->stop();
    });
    st->thread.join();
}

std::string DevnetThread::url() const {
    std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
    return "ws://" + host + ":" + std::to_string(port_);
}

}  // namespace bts::devnet
