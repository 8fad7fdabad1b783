// URL parsing for ws://, wss://, http:// and https:// endpoints, with one-line errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bts::net {

// A parsed endpoint. Only what a client needs to connect: no user info, no fragment.
struct Url {
  std::string scheme;        // "ws", "wss", "http" or "https", lower case
  std::string host;          // DNS name or IP literal; IPv6 brackets stripped
  uint16_t port = 0;         // explicit, or the scheme default (80 / 443)
  std::string target = "/";  // path + query, never empty

  [[nodiscard]] bool tls() const noexcept { return scheme == "wss" || scheme == "https"; }
  [[nodiscard]] bool websocket() const noexcept { return scheme == "ws" || scheme == "wss"; }
  // Value for the Host header: "host" with the default port, else "host:port"; IPv6 in brackets.
  [[nodiscard]] std::string host_header() const;
  // Canonical text for logs and ConnectInfo: scheme://host:port/target.
  [[nodiscard]] std::string text() const;
  // Connection-pool key: scheme://host:port.
  [[nodiscard]] std::string origin() const;
};

// Parses `text`. On failure returns nullopt and, when `error` is given, stores a one-line reason
// that quotes the URL (e.g. "bad URL 'ws://h:99999': invalid port '99999'").
[[nodiscard]] std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

// True when `host` is an IPv4 or IPv6 literal (without brackets). TLS uses this because SNI must
// not carry an IP address and certificate matching for IPs uses the iPAddress SAN, not DNS names.
[[nodiscard]] bool is_ip_literal(std::string_view host);

}  // namespace bts::net
