// JSON-RPC envelope helpers for the BitShares (Graphene) websocket API.
#include "common/net/json_rpc.hpp"

#include <charconv>

namespace bts::net {
namespace {

using nlohmann::json;

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json(std::string& out, const json& v) {
  // Small scalars are formatted directly; dump() allocates a temporary string.
  if (v.is_number_unsigned()) {
    append_uint(out, v.get<uint64_t>());
  } else if (v.is_null()) {
    out += "null";
  } else {
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

void append_api(std::string& out, const RpcApi& api) {
  if (const auto* n = std::get_if<int64_t>(&api)) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, *n);
    out.append(buf, r.ptr);
  } else {
    append_json(out, json(std::get<std::string>(api)));
  }
}

bool refuse(RpcParseError& error, int64_t code, std::string_view name, std::string message) {
  error.code = code;
  error.name.assign(name);
  error.message = std::move(message);
  return false;
}

}  // namespace

std::string dump_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

bool json_depth_exceeds(std::string_view text, std::size_t max_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool parse_rpc_request(std::string_view text, RpcRequest& out, RpcParseError& error, std::size_t max_depth) {
  out = RpcRequest{};
  if (json_depth_exceeds(text, max_depth)) {
    return refuse(error, rpc_code::parse_error, "parse_error_exception",
                  "Parse Error: JSON nested deeper than " + std::to_string(max_depth) + " levels");
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    // Only malformed input takes this path; the message names the offending byte.
    return refuse(error, rpc_code::parse_error, "parse_error_exception", std::string("Parse Error: ") + e.what());
  }
  if (!doc.is_object()) {
    return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception",
                  doc.is_array() ? "batch requests (JSON arrays) are not supported"
                                 : "request must be a JSON object");
  }
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_number_integer() && !it->is_string() && !it->is_null()) {
      return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "'id' must be an integer or a string");
    }
    out.id = std::move(*it);
  }
  out.has_jsonrpc = doc.contains("jsonrpc");
  auto method_it = doc.find("method");
  if (method_it == doc.end() || !method_it->is_string()) {
    return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "missing or non-string 'method'");
  }
  json params = json::array();
  if (auto it = doc.find("params"); it != doc.end() && !it->is_null()) {
    if (!it->is_array()) {
      return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "'params' must be an array");
    }
    params = std::move(*it);
  }
  auto& method = method_it->get_ref<std::string&>();
  if (method != "call") {
    // Shortcut form, e.g. {"method":"get_chain_id","params":[]}: the node routes it to API 0.
    out.api = int64_t{0};
    out.method = std::move(method);
    out.params = std::move(params);
    return true;
  }
  if (params.size() < 2) {
    return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception",
                  "'call' needs params [API, \"method\", [args]]");
  }
  if (params[0].is_number_integer()) {
    const auto n = params[0].get<int64_t>();
    if (n < 0) return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "API id must not be negative");
    out.api = n;
  } else if (params[0].is_string()) {
    out.api = std::move(params[0].get_ref<std::string&>());
  } else {
    return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception",
                  "params[0] (API) must be an integer or a string");
  }
  if (!params[1].is_string()) {
    return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "params[1] (method name) must be a string");
  }
  out.method = std::move(params[1].get_ref<std::string&>());
  if (params.size() > 2 && !params[2].is_null()) {
    if (!params[2].is_array()) {
      return refuse(error, rpc_code::invalid_arg, "invalid_arg_exception", "params[2] (arguments) must be an array");
    }
    out.params = std::move(params[2]);
  }
  return true;
}

std::string make_rpc_result(const json& id, const json& result) {
  std::string out;
  out.reserve(48);
  out += "{\"id\":";
  append_json(out, id);
  out += ",\"jsonrpc\":\"2.0\",\"result\":";
  append_json(out, result);
  out += '}';
  return out;
}

std::string make_rpc_error(const json& id, int64_t code, std::string_view message, std::string_view name) {
  const std::string msg = dump_json(json(std::string(message)));
  const std::string code_text = std::to_string(code);
  std::string out;
  out.reserve(96 + 2 * msg.size() + name.size());
  out += "{\"id\":";
  append_json(out, id);
  out += ",\"jsonrpc\":\"2.0\",\"error\":{\"code\":";
  out += code_text;
  out += ",\"message\":";
  out += msg;
  out += ",\"data\":{\"code\":";
  out += code_text;
  out += ",\"name\":";
  out += dump_json(json(std::string(name)));
  out += ",\"message\":";
  out += msg;
  out += ",\"stack\":[]}}}";
  return out;
}

std::string make_rpc_notice(uint64_t callback_id, const json& payload) {
  std::string out;
  out.reserve(48);
  out += "{\"method\":\"notice\",\"params\":[";
  append_uint(out, callback_id);
  out += ",[";
  append_json(out, payload);
  out += "]]}";
  return out;
}

std::string make_rpc_call_tail(const RpcApi& api, std::string_view method, const json& params) {
  std::string out;
  out.reserve(48 + method.size());
  out += "\"method\":\"call\",\"params\":[";
  append_api(out, api);
  out += ',';
  append_json(out, json(std::string(method)));
  out += ',';
  if (params.is_null()) {
    out += "[]";
  } else {
    append_json(out, params);
  }
  out += "]}";
  return out;
}

std::string make_rpc_call(uint64_t id, const RpcApi& api, std::string_view method, const json& params) {
  std::string out = "{\"id\":";
  append_uint(out, id);
  out += ',';
  out += make_rpc_call_tail(api, method, params);
  return out;
}

}  // namespace bts::net
