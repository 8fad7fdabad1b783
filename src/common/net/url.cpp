// URL parsing for ws://, wss://, http:// and https:// endpoints.
#include "common/net/url.hpp"

#include "common/util/log.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cctype>

namespace bts::net {
namespace {

uint16_t default_port(std::string_view scheme) {
  return (scheme == "wss" || scheme == "https") ? 443 : 80;
}

bool fail(std::string* error, std::string_view text, std::string_view reason) {
  if (error != nullptr) {
    *error = "bad URL '";
    error->append(util::redact_url(text));  // "https://user:pass@…" must not reach a log
    error->append("': ");
    error->append(reason);
  }
  return false;
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  if (host.empty() || host.size() > 64) return false;
  std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string Url::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string Url::text() const { return origin() + target; }

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  Url url;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    fail(error, text, "missing scheme (expected ws://, wss://, http:// or https://)");
    return std::nullopt;
  }
  url.scheme.assign(text.substr(0, sep));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme != "ws" && url.scheme != "wss" && url.scheme != "http" && url.scheme != "https") {
    fail(error, text, "unsupported scheme '" + url.scheme + "' (expected ws, wss, http or https)");
    return std::nullopt;
  }
  std::string_view rest = text.substr(sep + 3);
  // A fragment is never sent on the wire; drop it rather than reject it.
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      fail(error, text, "contains whitespace or control characters");
      return std::nullopt;
    }
  }
  const auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view target = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    fail(error, text, "credentials in the URL are not supported");
    return std::nullopt;
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      fail(error, text, "unterminated '[' in IPv6 host");
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        fail(error, text, "unexpected text after ']'");
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        fail(error, text, "empty port");
        return std::nullopt;
      }
    }
    if (!is_ip_literal(host)) {
      fail(error, text, "'" + std::string(host) + "' is not an IPv6 address");
      return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      fail(error, text, "an IPv6 host must be written in brackets, e.g. ws://[::1]:8090");
      return std::nullopt;
    }
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        fail(error, text, "empty port");
        return std::nullopt;
      }
    }
  }
  if (host.empty()) {
    fail(error, text, "empty host");
    return std::nullopt;
  }
  url.host.assign(host);
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      fail(error, text, "invalid port '" + std::string(port_text) + "' (expected 1-65535)");
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(value);
  } else {
    url.port = default_port(url.scheme);
  }
  if (target.empty()) {
    url.target = "/";
  } else if (target.front() == '?') {
    url.target = "/";
    url.target.append(target);
  } else {
    url.target.assign(target);
  }
  return url;
}

}  // namespace bts::net
