// Internal: OpenSSL helpers shared by the clients and the server (contexts, SNI/host checks, peer details).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/net/connect_info.hpp"

namespace bts::net::detail {

// Keeps the leaf certificate seen by the verify callback: when verification fails OpenSSL aborts the
// handshake before storing the peer certificate, yet the prober still wants its names and expiry.
class LeafCert {
 public:
  LeafCert() = default;
  LeafCert(const LeafCert&) = delete;
  LeafCert& operator=(const LeafCert&) = delete;
  ~LeafCert();
  void capture(X509_STORE_CTX* ctx) noexcept;
  [[nodiscard]] X509* get() const noexcept { return cert_; }

 private:
  X509* cert_ = nullptr;
};

// Client context: TLS >= 1.2, system trust store (+ options.ca_file), verify mode per options.
// Throws std::runtime_error naming the CA file when it cannot be loaded.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_client_context(const TlsOptions& options);

// Server context from PEM files. Throws std::runtime_error naming the file that failed.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                                              const std::string& key_file);

// Sets SNI (DNS names only) and the host name/IP that verification must match on a fresh client SSL.
// Returns "" or a one-line error.
[[nodiscard]] std::string prepare_client_ssl(SSL* ssl, const std::string& host);

// Reads version, cipher, certificate names/expiry and verification results. `leaf` is the fallback
// certificate when the handshake failed before the peer certificate was stored.
[[nodiscard]] TlsInfo extract_tls_info(SSL* ssl, const LeafCert* leaf, const std::string& host);

}  // namespace bts::net::detail
