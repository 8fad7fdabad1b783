// Internal: OpenSSL helpers shared by the clients and the server.
#include "common/net/detail/tls.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <stdexcept>

#include "common/net/url.hpp"

namespace bts::net::detail {
namespace {

int64_t asn1_to_unix(const ASN1_TIME* t) {
  if (t == nullptr) return 0;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string name_entry(X509_NAME* name, int nid) {
  if (name == nullptr) return {};
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string name_line(X509_NAME* name) {
  if (name == nullptr) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data != nullptr ? data : "", len > 0 ? static_cast<std::size_t>(len) : 0);
  BIO_free(bio);
  return out;
}

std::string openssl_error_text() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

LeafCert::~LeafCert() { X509_free(cert_); }

void LeafCert::capture(X509_STORE_CTX* ctx) noexcept {
  if (cert_ != nullptr || ctx == nullptr) return;
  X509* leaf = X509_STORE_CTX_get0_cert(ctx);
  if (leaf != nullptr && X509_up_ref(leaf) == 1) cert_ = leaf;
}

std::shared_ptr<boost::asio::ssl::context> make_client_context(const TlsOptions& options) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  // The trust store is loaded even with verification off so TlsInfo::verified stays meaningful.
  ctx->set_default_verify_paths(ec);
  if (!options.ca_file.empty()) {
    ctx->load_verify_file(options.ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load TLS CA file '" + options.ca_file + "': " + ec.message());
    }
  }
  ctx->set_verify_mode(options.verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                               const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) throw std::runtime_error("cannot load TLS certificate file '" + cert_file + "': " + ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key file '" + key_file + "': " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    throw std::runtime_error("TLS key file '" + key_file + "' does not match certificate '" + cert_file + "'");
  }
  return ctx;
}

std::string prepare_client_ssl(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip_literal(host)) {
    // SNI must not carry an IP literal (RFC 6066 §3); match the iPAddress SAN instead.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      return "cannot set IP '" + host + "' for certificate check: " + openssl_error_text();
    }
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return "cannot set SNI host name '" + host + "': " + openssl_error_text();
  }
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
    return "cannot set host name '" + host + "' for certificate check: " + openssl_error_text();
  }
  return {};
}

TlsInfo extract_tls_info(SSL* ssl, const LeafCert* leaf, const std::string& host) {
  TlsInfo info;
  if (ssl == nullptr) return info;
  info.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl); cipher != nullptr) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr && leaf != nullptr) cert = leaf->get();
  const long verify = SSL_get_verify_result(ssl);
  if (cert == nullptr) {
    info.verified = false;
    info.verify_error = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "no peer certificate";
    return info;
  }
  info.verified = verify == X509_V_OK && SSL_get0_peer_certificate(ssl) != nullptr;
  if (verify != X509_V_OK) info.verify_error = X509_verify_cert_error_string(verify);
  info.not_before = asn1_to_unix(X509_get0_notBefore(cert));
  info.not_after = asn1_to_unix(X509_get0_notAfter(cert));
  X509_NAME* issuer = X509_get_issuer_name(cert);
  X509_NAME* subject = X509_get_subject_name(cert);
  info.issuer = name_line(issuer);
  info.issuer_cn = name_entry(issuer, NID_commonName);
  info.issuer_o = name_entry(issuer, NID_organizationName);
  info.subject = name_line(subject);
  info.subject_cn = name_entry(subject, NID_commonName);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      if (gn->type == GEN_DNS) {
        const ASN1_STRING* s = gn->d.dNSName;
        info.subject_alt_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (gn->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = gn->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(s);
        if ((len == 4 || len == 16) &&
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf) != nullptr) {
          info.subject_alt_names.emplace_back(buf);
        }
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (is_ip_literal(host)) {
    info.host_matched = X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  } else {
    info.host_matched =
        X509_check_host(cert, host.data(), host.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
  }
  return info;
}

}  // namespace bts::net::detail
