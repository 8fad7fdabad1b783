// Checking a ZeroMQ endpoint given in a config file, so that a wrong value is reported against
// its own key at --check time instead of failing later in bind()/connect() ("Invalid argument").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bts::util {

// nullopt when `endpoint` has a form ZeroMQ accepts: tcp://HOST:PORT (PORT 0-65535, "*" or 0 to
// bind any free port; HOST a name, an address, "*" or [IPv6]), ipc://PATH or inproc://NAME.
// Otherwise the reason, quoting the value.
[[nodiscard]] inline std::optional<std::string> zmq_endpoint_error(std::string_view endpoint) {
    const auto quoted = [&] { return "\"" + std::string(endpoint.substr(0, 200)) + "\""; };
    for (char c : endpoint) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return std::string("contains whitespace or control characters");
        }
    }
    if (endpoint.starts_with("ipc://")) {
        if (endpoint.size() == 6) return quoted() + ": ipc:// needs a path";
        return std::nullopt;
    }
    if (endpoint.starts_with("inproc://")) {
        if (endpoint.size() == 9) return quoted() + ": inproc:// needs a name";
        return std::nullopt;
    }
    if (!endpoint.starts_with("tcp://")) {
        return quoted() + ": not a ZeroMQ endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)";
    }
    const std::string_view rest = endpoint.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return quoted() + ": expected tcp://HOST:PORT";
    const std::string_view port = rest.substr(colon + 1);
    if (port == "*") return std::nullopt;
    if (port.empty() || port.size() > 5) return quoted() + ": the port must be 1-65535 or *";
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return quoted() + ": the port must be 1-65535 or *";
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return quoted() + ": the port must be 1-65535 or *";
    return std::nullopt;
}

}  // namespace bts::util
