// Discovery: the node facts a beacon needs before signing, and their parsers.
#include "actors/beacon/discovery.hpp"

#include "common/crypto/hash.hpp"

#include <charconv>

namespace bts::beacon {

namespace {

using nlohmann::json;

// int64/uint64 come as numbers or (outside int32/uint32) as strings.
bool get_int(const json& j, std::int64_t& out) {
    if (j.is_number_integer()) {
        out = j.get<std::int64_t>();
        return true;
    }
    if (j.is_number_unsigned()) {
        auto v = j.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;
        out = static_cast<std::int64_t>(v);
        return true;
    }
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc() && r.ptr == s.data() + s.size();
    }
    return false;
}

bool get_member_int(const json& obj, const char* key, std::int64_t& out) {
    if (!obj.is_object()) return false;
    auto it = obj.find(key);
    return it != obj.end() && get_int(*it, out);
}

template <class Id>
bool parse_typed_id(const json& j, Id& out) {
    if (!j.is_string()) return false;
    auto id = protocol::parse_object_id(j.get_ref<const std::string&>());
    if (!id || id->space != Id::space || id->type != Id::type) return false;
    out.instance = id->instance;
    return true;
}

}  // namespace

std::optional<protocol::AssetId> parse_asset_id(std::string_view text) {
    auto id = protocol::parse_object_id(text);
    if (!id || id->space != 1 || id->type != 3) return std::nullopt;
    return protocol::AssetId{id->instance};
}

std::string parse_chain_id(const json& result, ChainInfo& out) {
    if (!result.is_string()) return "get_chain_id: expected a hex string";
    auto bytes = crypto::from_hex_fixed<32>(result.get_ref<const std::string&>());
    if (!bytes) return "get_chain_id: expected 64 hex digits";
    out.chain_id = *bytes;
    return {};
}

std::string parse_config(const json& result, ChainInfo& out) {
    if (!result.is_object()) return "get_config: expected an object";
    auto it = result.find("GRAPHENE_ADDRESS_PREFIX");
    if (it != result.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
        out.address_prefix = it->get<std::string>();
    return {};
}

std::string parse_global_properties(const json& result, ChainInfo& out) {
    if (!result.is_object()) return "get_global_properties: expected an object";
    auto p = result.find("parameters");
    if (p == result.end() || !p->is_object()) return "get_global_properties: no parameters";
    std::int64_t v = 0;
    if (!get_member_int(*p, "maximum_transaction_size", v) || v <= 0 || v > UINT32_MAX)
        return "get_global_properties: parameters.maximum_transaction_size missing or invalid";
    out.max_transaction_size = static_cast<std::uint32_t>(v);
    if (!get_member_int(*p, "maximum_time_until_expiration", v) || v <= 0 || v > UINT32_MAX)
        return "get_global_properties: parameters.maximum_time_until_expiration missing or invalid";
    out.max_time_until_expiration = static_cast<std::uint32_t>(v);
    if (get_member_int(*p, "block_interval", v) && v > 0 && v < 3600) out.block_interval = static_cast<std::uint32_t>(v);

    auto cf = p->find("current_fees");
    if (cf == p->end() || !cf->is_object()) return "get_global_properties: parameters.current_fees missing";
    if (get_member_int(*cf, "scale", v) && v >= 0 && v <= UINT32_MAX) out.fees.scale = static_cast<std::uint32_t>(v);
    auto params = cf->find("parameters");
    if (params == cf->end() || !params->is_array()) return "get_global_properties: current_fees.parameters missing";
    bool have_transfer = false;
    for (const auto& entry : *params) {
        if (!entry.is_array() || entry.size() != 2 || !entry[0].is_number_integer() || !entry[1].is_object()) continue;
        auto tag = entry[0].get<std::int64_t>();
        std::int64_t fee = 0, per_kb = 0;
        get_member_int(entry[1], "fee", fee);
        switch (tag) {
            case protocol::TransferOp::tag:
                out.fees.transfer = fee;
                if (get_member_int(entry[1], "price_per_kbyte", per_kb)) out.fees.transfer_per_kbyte = per_kb;
                have_transfer = true;
                break;
            case protocol::LimitOrderCreateOp::tag: out.fees.limit_order_create = fee; break;
            case protocol::LimitOrderCancelOp::tag: out.fees.limit_order_cancel = fee; break;
            default: break;
        }
    }
    if (!have_transfer) return "get_global_properties: the fee schedule has no transfer entry";
    return {};
}

std::string parse_dynamic_global_properties(const json& result, ChainInfo& out) {
    if (!result.is_object()) return "get_dynamic_global_properties: expected an object";
    std::int64_t num = 0;
    if (!get_member_int(result, "head_block_number", num) || num < 0 || num > UINT32_MAX)
        return "get_dynamic_global_properties: head_block_number missing or invalid";
    out.head_block_num = static_cast<std::uint32_t>(num);
    auto id = result.find("head_block_id");
    if (id == result.end() || !id->is_string()) return "get_dynamic_global_properties: head_block_id missing";
    auto bytes = crypto::from_hex_fixed<20>(id->get_ref<const std::string&>());
    if (!bytes) return "get_dynamic_global_properties: head_block_id is not 40 hex digits";
    out.head_block_id.data = *bytes;
    auto t = result.find("time");
    if (t == result.end() || !t->is_string()) return "get_dynamic_global_properties: time missing";
    auto tp = protocol::from_iso_string(t->get_ref<const std::string&>());
    if (!tp) return "get_dynamic_global_properties: time is not an ISO time";
    out.head_time = tp->seconds;
    return {};
}

std::string parse_accounts(const json& result, const std::vector<std::string>& names,
                           const std::vector<crypto::PublicKey>& keys, std::string_view key_prefix, ChainInfo& out,
                           bool check_keys) {
    if (!result.is_array() || result.size() != names.size())
        return "lookup_account_names: expected an array of " + std::to_string(names.size()) + " entries";
    out.account_ids.clear();
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& a = result[i];
        if (a.is_null()) return "account \"" + names[i] + "\" does not exist on this chain";
        protocol::AccountId id;
        if (!a.is_object() || !a.contains("id") || !parse_typed_id(a["id"], id))
            return "lookup_account_names: entry for \"" + names[i] + "\" has no valid id";
        out.account_ids.push_back(id);
        // Catch a wrong key file now instead of as thousands of missing_authority rejections.
        auto active = a.find("active");
        if (active == a.end() || !active->is_object()) continue;
        auto ka = active->find("key_auths");
        auto aa = active->find("account_auths");
        if (ka == active->end() || !ka->is_array()) continue;
        if (aa != active->end() && aa->is_array() && !aa->empty()) continue;  // delegated: cannot tell
        if (i >= keys.size()) continue;
        std::string ours = keys[i].to_string(key_prefix);
        bool found = false;
        for (const auto& entry : *ka)
            if (entry.is_array() && !entry.empty() && entry[0].is_string() && entry[0].get_ref<const std::string&>() == ours)
                found = true;
        if (!found) {
            std::string why = "the key given for account \"" + names[i] +
                              "\" is not in its active authority (wrong key file or wrong chain?)";
            if (check_keys) return why;
            out.warnings.push_back(why + "; sending anyway (check_keys = false)");
        }
    }
    return {};
}

std::shared_ptr<Discovery> Discovery::run(net::WsClient& client, DiscoveryRequest request, Done done) {
    std::shared_ptr<Discovery> d(new Discovery(client, std::move(request), std::move(done)));
    d->step_chain_id();
    return d;
}

Discovery::Discovery(net::WsClient& client, DiscoveryRequest request, Done done)
    : client_(client), req_(std::move(request)), done_(std::move(done)) {}

void Discovery::finish(const std::string& error) {
    if (finished_) return;
    finished_ = true;
    auto done = std::move(done_);
    if (done) done(error, std::move(info_));
}

void Discovery::call(std::string_view method, json params, std::function<std::string(net::RpcResult&&)> handle,
                     Step next) {
    if (finished_) return;
    std::string m(method);
    client_.call(net::RpcApi{std::int64_t{0}}, method, params,
                 [self = shared_from_this(), m, handle = std::move(handle), next](net::RpcResult&& r) {
                     if (self->finished_) return;
                     if (!r.ok() && r.kind != net::RpcErrorKind::rpc_error) {
                         self->finish(m + ": " + std::string(net::to_string(r.kind)) + " (" + r.message + ")");
                         return;
                     }
                     std::string err;
                     try {
                         err = handle(std::move(r));
                     } catch (const std::exception& e) {
                         err = m + ": unexpected reply: " + e.what();
                     }
                     if (!err.empty()) {
                         self->finish(err);
                         return;
                     }
                     (self.get()->*next)();
                 },
                 req_.timeout);
}

void Discovery::step_chain_id() {
    call("get_chain_id", json::array(), [this](net::RpcResult&& r) {
        if (!r.ok()) return "get_chain_id: " + r.message;
        return parse_chain_id(r.result, info_);
    }, &Discovery::step_config);
}

void Discovery::step_config() {
    call("get_config", json::array(), [this](net::RpcResult&& r) -> std::string {
        if (!r.ok()) {
            info_.warnings.push_back("get_config failed (" + r.message + "): assuming address prefix BTS");
            return {};
        }
        return parse_config(r.result, info_);
    }, &Discovery::step_global);
}

void Discovery::step_global() {
    call("get_global_properties", json::array(), [this](net::RpcResult&& r) {
        if (!r.ok()) return "get_global_properties: " + r.message;
        return parse_global_properties(r.result, info_);
    }, &Discovery::step_dynamic);
}

void Discovery::step_dynamic() {
    call("get_dynamic_global_properties", json::array(), [this](net::RpcResult&& r) {
        if (!r.ok()) return "get_dynamic_global_properties: " + r.message;
        return parse_dynamic_global_properties(r.result, info_);
    }, &Discovery::step_accounts);
}

void Discovery::step_accounts() {
    call("lookup_account_names", json::array({req_.account_names}), [this](net::RpcResult&& r) {
        if (!r.ok()) return "lookup_account_names: " + r.message;
        return parse_accounts(r.result, req_.account_names, req_.account_keys, info_.address_prefix, info_,
                              req_.check_keys);
    }, &Discovery::step_assets);
}

void Discovery::step_assets() {
    auto sell = parse_asset_id(req_.sell_asset);
    auto receive = parse_asset_id(req_.receive_asset);
    if (sell) info_.sell_asset = *sell;
    if (receive) info_.receive_asset = *receive;
    if (!req_.need_assets || (sell && receive)) {
        step_orders();
        return;
    }
    json symbols = json::array({req_.sell_asset, req_.receive_asset});
    call("lookup_asset_symbols", json::array({symbols}), [this, sell, receive](net::RpcResult&& r) -> std::string {
        if (!r.ok()) return "lookup_asset_symbols: " + r.message;
        if (!r.result.is_array() || r.result.size() != 2) return "lookup_asset_symbols: expected two entries";
        const std::string* names[2] = {&req_.sell_asset, &req_.receive_asset};
        protocol::AssetId* targets[2] = {&info_.sell_asset, &info_.receive_asset};
        bool given[2] = {bool(sell), bool(receive)};
        for (int i = 0; i < 2; ++i) {
            if (given[i]) continue;
            const auto& a = r.result[static_cast<std::size_t>(i)];
            if (a.is_null()) return "asset \"" + *names[i] + "\" does not exist on this chain";
            if (!a.is_object() || !a.contains("id") || !parse_typed_id(a["id"], *targets[i]))
                return "lookup_asset_symbols: entry for \"" + *names[i] + "\" has no valid id";
        }
        return {};
    }, &Discovery::step_orders);
}

void Discovery::step_orders() {
    if (!req_.need_open_orders || req_.account_names.empty()) {
        step_done();
        return;
    }
    // One page (up to 101 orders) per account, all in flight at once.
    orders_pending_ = req_.account_names.size();
    auto self = shared_from_this();
    std::string base = protocol::to_string(info_.sell_asset);
    std::string quote = protocol::to_string(info_.receive_asset);
    for (std::uint32_t i = 0; i < req_.account_names.size(); ++i) {
        json params = json::array({req_.account_names[i], base, quote, 101});
        client_.call(net::RpcApi{std::int64_t{0}}, "get_account_limit_orders", params,
                     [self, i](net::RpcResult&& r) {
                         if (self->finished_) return;
                         if (!r.ok()) {
                             if (self->info_.warnings.size() < 5)
                                 self->info_.warnings.push_back("get_account_limit_orders failed (" +
                                                                std::string(net::to_string(r.kind)) + " " +
                                                                r.message + "): no orders to cancel");
                         } else if (r.result.is_array()) {
                             for (const auto& o : r.result) {
                                 protocol::LimitOrderId id;
                                 if (o.is_object() && o.contains("id") && parse_typed_id(o["id"], id))
                                     self->info_.open_orders.emplace_back(i, id);
                             }
                         }
                         if (--self->orders_pending_ == 0) self->step_done();
                     },
                     req_.timeout);
    }
}

void Discovery::step_done() {
    finish({});
}

}  // namespace bts::beacon
