// Value types shared by the websocket and HTTP clients: TLS options, TLS peer details, connect timings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bts::net {

// Client-side TLS policy. Verification checks the chain against the system trust store (plus
// `ca_file`) and the certificate against the URL's host name.
struct TlsOptions {
  bool verify = true;   // false: connect anyway, but TlsInfo still reports what verification found
  std::string ca_file;  // extra trust anchors (PEM), added to the system store; empty = none
};

// What the peer presented, read after the TLS handshake (also after a failed one, as far as the
// certificate was received). Times are unix seconds.
struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string issuer;      // one line, RFC 2253: "CN=R3,O=Let's Encrypt,C=US"
  std::string issuer_cn;
  std::string issuer_o;
  std::string subject;     // one line, RFC 2253
  std::string subject_cn;
  std::vector<std::string> subject_alt_names;  // DNS names as written; IP addresses as text
  bool host_matched = false;  // certificate names cover the URL host (RFC 6125 rules, no partial wildcards)
  bool verified = false;      // chain + host checks passed (computed even when verification is off)
  std::string verify_error;   // OpenSSL's reason when !verified, e.g. "self-signed certificate"
};

// Duration of each connect phase in microseconds; 0 for phases not run (no TLS on ws://, no
// websocket handshake for HTTP, all zero when an HTTP connection was reused).
struct ConnectTimings {
  int64_t dns_us = 0;
  int64_t tcp_us = 0;
  int64_t tls_us = 0;
  int64_t ws_us = 0;
};

// The outcome of one connect attempt.
struct ConnectInfo {
  std::string url;              // canonical URL attempted
  std::string remote_endpoint;  // "127.0.0.1:8090" once TCP connected
  ConnectTimings timings;
  std::optional<TlsInfo> tls;   // set for wss/https once the handshake got that far
  bool ok = false;
  bool tls_failure = false;     // failed in the TLS handshake (bad certificate, host mismatch, ...)
  std::string error;            // one line naming URL and phase; empty when ok
};

}  // namespace bts::net
