// Internal: async DNS → TCP → TLS connect for client streams, recording each phase's duration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/net/connect_info.hpp"
#include "common/net/detail/tls.hpp"
#include "common/net/url.hpp"

namespace bts::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

inline int64_t elapsed_us(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since).count();
}

struct ConnectOutcome {
  bool ok = false;
  bool tls_failure = false;
  const char* phase = "DNS lookup";  // phase reached (where it failed when !ok)
  std::string error;                 // "<phase> failed: <reason>" when !ok
  ConnectTimings timings;
  std::string remote;
  std::optional<TlsInfo> tls;
};

// Runs resolve → connect → (TLS handshake). The caller owns `stream`, `resolver` and `*cancelled` and
// keeps them alive through `handler` (it captures the owning connection). Timeouts are the caller's
// job: it sets *cancelled, cancels the resolver and closes the stream; the chain then stops at the
// next step (even one whose completion was already queued) and reports the phase it was in.
template <class Stream, class Handler>
class Connector : public std::enable_shared_from_this<Connector<Stream, Handler>> {
 public:
  Connector(Stream& stream, tcp::resolver& resolver, const bool* cancelled, const Url& url, Handler handler)
      : stream_(stream), resolver_(resolver), cancelled_(cancelled), host_(url.host),
        port_(std::to_string(url.port)), handler_(std::move(handler)) {}

  void start() {
    t_ = Clock::now();
    out_.phase = "DNS lookup";
    resolver_.async_resolve(host_, port_, [self = this->shared_from_this()](const beast::error_code& ec,
                                                                              tcp::resolver::results_type results) {
      self->on_resolve(ec, std::move(results));
    });
  }

 private:
  void on_resolve(const beast::error_code& ec, tcp::resolver::results_type results) {
    out_.timings.dns_us = elapsed_us(t_);
    if (*cancelled_) return fail("DNS lookup of '" + host_ + "' cancelled");
    if (ec) return fail("DNS lookup of '" + host_ + "' failed: " + ec.message());
    out_.phase = "TCP connect";
    t_ = Clock::now();
    beast::get_lowest_layer(stream_).async_connect(
        results, [self = this->shared_from_this()](const beast::error_code& ec2, const tcp::endpoint& ep) {
          self->on_connect(ec2, ep);
        });
  }

  void on_connect(const beast::error_code& ec, const tcp::endpoint& ep) {
    out_.timings.tcp_us = elapsed_us(t_);
    if (*cancelled_) return fail("TCP connect to " + host_ + ":" + port_ + " cancelled");
    if (ec) return fail("TCP connect to " + host_ + ":" + port_ + " failed: " + ec.message());
    beast::error_code ignored;
    // Requests are small and latency-sensitive: never wait for Nagle.
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ignored);
    out_.remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    if constexpr (kIsTls<Stream>) {
      out_.phase = "TLS handshake";
      if (auto err = prepare_client_ssl(stream_.native_handle(), host_); !err.empty()) {
        out_.tls_failure = true;
        return fail(err);
      }
      leaf_ = std::make_shared<LeafCert>();
      beast::error_code vec;
      stream_.set_verify_callback(
          [leaf = leaf_](bool preverified, asio::ssl::verify_context& vctx) {
            leaf->capture(vctx.native_handle());
            return preverified;  // keep OpenSSL's decision; we only record the certificate
          },
          vec);
      t_ = Clock::now();
      stream_.async_handshake(asio::ssl::stream_base::client,
                              [self = this->shared_from_this()](const beast::error_code& ec2) {
                                self->on_handshake(ec2);
                              });
    } else {
      out_.ok = true;
      handler_(std::move(out_));
    }
  }

  void on_handshake(const beast::error_code& ec) {
    if constexpr (kIsTls<Stream>) {
      out_.timings.tls_us = elapsed_us(t_);
      out_.tls = extract_tls_info(stream_.native_handle(), leaf_.get(), host_);
      if (ec) {
        out_.tls_failure = true;
        std::string reason = ec.message();
        if (!out_.tls->verify_error.empty() && !out_.tls->verified) reason += " (" + out_.tls->verify_error + ")";
        return fail("TLS handshake with " + host_ + ":" + port_ + " failed: " + reason);
      }
      out_.ok = true;
      handler_(std::move(out_));
    }
  }

  void fail(std::string error) {
    out_.ok = false;
    out_.error = std::move(error);
    handler_(std::move(out_));
  }

  Stream& stream_;
  tcp::resolver& resolver_;
  const bool* cancelled_;
  std::string host_;
  std::string port_;
  Handler handler_;
  ConnectOutcome out_;
  Clock::time_point t_;
  std::shared_ptr<LeafCert> leaf_;
};

// Handler: void(ConnectOutcome&&), called exactly once.
template <class Stream, class Handler>
void async_connect_stream(Stream& stream, tcp::resolver& resolver, const bool* cancelled, const Url& url,
                          Handler&& handler) {
  std::make_shared<Connector<Stream, std::decay_t<Handler>>>(stream, resolver, cancelled, url,
                                                             std::forward<Handler>(handler))
      ->start();
}

}  // namespace bts::net::detail
