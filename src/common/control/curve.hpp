// CURVE security for the control channel: certificates (CZMQ zcert files), the ZAP
// authenticator with its allow list (CZMQ zauth), and the rule that refuses plain TCP on
// non-loopback endpoints.
//
// Certificate files are CZMQ's zcert format: `NAME.key` holds the public key, `NAME.key_secret`
// both keys. `bts-ctl keygen` writes them (secret file mode 0600). Who holds what:
//   broker:  its own secret cert (broker.curve.secret_cert) + a directory of allowed public
//            certs (broker.curve.allow_dir): every beacon's and every bts-ctl user's NAME.key
//   beacon:  its own secret cert + the broker's public cert (to check the server's key)
//   bts-ctl: its own secret cert + the broker's public cert
//
// Secret keys are never logged: only public keys (Z85) appear in messages, and only their
// first 8 characters (key_fingerprint()).
#pragma once

#include "common/util/result.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// CZMQ types, declared here so that users of this header need not include czmq.h.
typedef struct _zcert_t zcert_t;
typedef struct _zsock_t zsock_t;
typedef struct _zactor_t zactor_t;

namespace bts::control {

// A CURVE key pair (or only the public half) from a zcert file. Owns the zcert_t; the secret
// key is wiped when the Certificate is destroyed.
class Certificate {
public:
    // Loads PATH; for "NAME.key" the secret file "NAME.key_secret" is preferred when it exists
    // (CZMQ's rule), and "NAME.key_secret" may be named directly. Error: "<path>: <reason>".
    [[nodiscard]] static util::Result<Certificate> load(const std::filesystem::path& path);
    // A fresh random key pair.
    [[nodiscard]] static Certificate generate();

    Certificate(Certificate&&) noexcept;
    Certificate& operator=(Certificate&&) noexcept;
    ~Certificate();

    std::string public_txt() const;  // Z85, 40 characters
    bool has_secret() const;         // false for a public-only certificate

    // Makes `sock` a CURVE client of the server whose public key is server_public_txt.
    // Requires has_secret().
    void apply_client(zsock_t* sock, std::string_view server_public_txt) const;
    // Makes `sock` a CURVE server with this key pair. Requires has_secret().
    void apply_server(zsock_t* sock) const;

    // Writes DIR/NAME.key (public, 0644) and DIR/NAME.key_secret (0600), creating DIR (0700)
    // if needed; refuses to overwrite existing files. Error names the file and the reason.
    [[nodiscard]] std::optional<std::string> save(const std::filesystem::path& dir,
                                                  std::string_view name,
                                                  std::string_view comment = {}) const;

private:
    explicit Certificate(zcert_t* cert);
    zcert_t* cert_ = nullptr;
};

// First 8 characters of a Z85 public key followed by "…": enough to tell keys apart in logs.
[[nodiscard]] std::string key_fingerprint(std::string_view public_txt);

// The ZAP handler (CZMQ zauth actor) that admits CURVE clients whose public certificates are
// in `allow_dir`. zauth re-reads the directory when it changes, so certificates can be added
// and removed while the broker runs. One per process: ZAP is served on one inproc endpoint of
// the (CZMQ-global) ZeroMQ context. Must outlive the server sockets it protects.
class Authenticator {
public:
    // Throws std::runtime_error if the actor cannot start or the directory does not exist.
    explicit Authenticator(const std::filesystem::path& allow_dir, bool verbose = false);
    ~Authenticator();
    Authenticator(const Authenticator&) = delete;
    Authenticator& operator=(const Authenticator&) = delete;

private:
    zactor_t* actor_ = nullptr;
};

// tcp://, ipc:// or inproc:// (what the control channel's sockets accept in configs).
[[nodiscard]] bool is_zmq_endpoint(std::string_view endpoint);

// True for ipc:// and inproc:// endpoints and for tcp:// endpoints on a loopback address
// (127.0.0.0/8, ::1, "localhost"). "tcp://*:5560" (all interfaces) is not loopback.
[[nodiscard]] bool is_loopback_endpoint(std::string_view endpoint);

// The plain-TCP rule: without CURVE, a non-loopback endpoint is refused unless `insecure` was
// configured explicitly. Returns the reason when refused.
[[nodiscard]] std::optional<std::string> check_plaintext(std::string_view endpoint, bool curve,
                                                         bool insecure);

}  // namespace bts::control
