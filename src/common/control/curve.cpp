// CURVE certificates, the zauth allow list and the plain-TCP rule (see curve.hpp).
#include "common/control/curve.hpp"

#include <czmq.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace bts::control {
namespace {

// zcert keeps the secret key in its struct and does not wipe it on destroy: we do.
void wipe_secret(zcert_t* cert) {
    if (cert == nullptr) return;
    // zcert_secret_key/_txt point into the zcert struct; writing through them is the only way
    // to clear them before zcert_destroy frees the memory.
    auto* key = const_cast<byte*>(zcert_secret_key(cert));
    auto* txt = const_cast<char*>(zcert_secret_txt(cert));
    volatile byte* k = key;
    for (std::size_t i = 0; i < 32; ++i) k[i] = 0;
    volatile char* t = txt;
    for (std::size_t i = 0; i < 40; ++i) t[i] = '0';
}

bool is_z85_key(std::string_view txt) {
    if (txt.size() != 40) return false;
    static constexpr std::string_view kZ85 =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    return std::all_of(txt.begin(), txt.end(),
                       [](char c) { return kZ85.find(c) != std::string_view::npos; });
}

}  // namespace

Certificate::Certificate(zcert_t* cert) : cert_(cert) {}

Certificate::Certificate(Certificate&& other) noexcept : cert_(std::exchange(other.cert_, nullptr)) {}

Certificate& Certificate::operator=(Certificate&& other) noexcept {
    if (this != &other) {
        wipe_secret(cert_);
        if (cert_ != nullptr) zcert_destroy(&cert_);
        cert_ = std::exchange(other.cert_, nullptr);
    }
    return *this;
}

Certificate::~Certificate() {
    wipe_secret(cert_);
    if (cert_ != nullptr) zcert_destroy(&cert_);
}

util::Result<Certificate> Certificate::load(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return util::Error{path.string() + ": no such certificate file"};
    }
    zcert_t* cert = zcert_load(path.c_str());
    if (cert == nullptr) {
        return util::Error{path.string() + ": not a CURVE certificate (zcert format expected)"};
    }
    if (!is_z85_key(zcert_public_txt(cert))) {
        zcert_destroy(&cert);
        return util::Error{path.string() + ": malformed public key"};
    }
    return Certificate(cert);
}

Certificate Certificate::generate() {
    zcert_t* cert = zcert_new();
    if (cert == nullptr) throw std::runtime_error("cannot generate a CURVE key pair");
    return Certificate(cert);
}

std::string Certificate::public_txt() const { return zcert_public_txt(cert_); }

bool Certificate::has_secret() const {
    const byte* key = zcert_secret_key(cert_);
    return std::any_of(key, key + 32, [](byte b) { return b != 0; });
}

void Certificate::apply_client(zsock_t* sock, std::string_view server_public_txt) const {
    if (!has_secret()) throw std::logic_error("CURVE client certificate has no secret key");
    zcert_apply(cert_, sock);
    std::string server(server_public_txt);
    zsock_set_curve_serverkey(sock, server.c_str());
}

void Certificate::apply_server(zsock_t* sock) const {
    if (!has_secret()) throw std::logic_error("CURVE server certificate has no secret key");
    zcert_apply(cert_, sock);
    zsock_set_curve_server(sock, 1);
}

std::optional<std::string> Certificate::save(const std::filesystem::path& dir,
                                             std::string_view name,
                                             std::string_view comment) const {
    if (name.empty() || name.find('/') != std::string_view::npos || name.front() == '.') {
        return "certificate name \"" + std::string(name) + "\" must be a plain file name";
    }
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return dir.string() + ": cannot create directory: " + ec.message();
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    const std::filesystem::path pub = dir / (std::string(name) + ".key");
    const std::filesystem::path sec = dir / (std::string(name) + ".key_secret");
    for (const auto& p : {pub, sec}) {
        if (std::filesystem::exists(p, ec)) return p.string() + ": exists; refusing to overwrite";
    }
    // Create the secret file empty with mode 0600 first, so that its content never exists
    // with wider permissions; zcert_save_secret then truncates and fills it.
    int fd = ::open(sec.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return sec.string() + ": cannot create: " + std::strerror(errno);
    ::close(fd);
    zcert_t* copy = zcert_dup(cert_);
    if (copy == nullptr) return "out of memory";
    zcert_set_meta(copy, "name", "%s", std::string(name).c_str());
    if (!comment.empty()) zcert_set_meta(copy, "comment", "%s", std::string(comment).c_str());
    int rc_secret = zcert_save_secret(copy, sec.c_str());
    int rc_public = rc_secret == 0 ? zcert_save_public(copy, pub.c_str()) : -1;
    wipe_secret(copy);
    zcert_destroy(&copy);
    if (rc_secret != 0) {
        std::filesystem::remove(sec, ec);
        return sec.string() + ": cannot write";
    }
    if (rc_public != 0) return pub.string() + ": cannot write";
    ::chmod(sec.c_str(), 0600);
    ::chmod(pub.c_str(), 0644);
    return std::nullopt;
}

std::string key_fingerprint(std::string_view public_txt) {
    return std::string(public_txt.substr(0, 8)) + "…";
}

Authenticator::Authenticator(const std::filesystem::path& allow_dir, bool verbose) {
    std::error_code ec;
    if (!std::filesystem::is_directory(allow_dir, ec)) {
        throw std::runtime_error(allow_dir.string() + ": allow-list directory does not exist");
    }
    actor_ = zactor_new(zauth, nullptr);
    if (actor_ == nullptr) throw std::runtime_error("cannot start the ZAP authenticator (zauth)");
    if (verbose) {
        zstr_send(actor_, "VERBOSE");
        zsock_wait(actor_);
    }
    // zauth reads the directory's public certificates and re-reads it when it changes.
    zstr_sendx(actor_, "CURVE", allow_dir.c_str(), nullptr);
    zsock_wait(actor_);
}

Authenticator::~Authenticator() {
    if (actor_ != nullptr) zactor_destroy(&actor_);
}

bool is_zmq_endpoint(std::string_view e) {
    return e.starts_with("tcp://") || e.starts_with("ipc://") || e.starts_with("inproc://");
}

bool is_loopback_endpoint(std::string_view endpoint) {
    if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
    if (!endpoint.starts_with("tcp://")) return false;
    std::string_view rest = endpoint.substr(6);
    if (rest.find(';') != std::string_view::npos) return false;  // source;destination form
    std::string_view host;
    if (rest.starts_with("[")) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return false;
        host = rest.substr(1, close - 1);
    } else {
        auto colon = rest.rfind(':');
        host = colon == std::string_view::npos ? rest : rest.substr(0, colon);
    }
    if (host == "localhost" || host == "::1") return true;
    // 127.0.0.0/8: "127." followed by digits and dots only.
    if (!host.starts_with("127.")) return false;
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::optional<std::string> check_plaintext(std::string_view endpoint, bool curve, bool insecure) {
    if (curve || insecure || is_loopback_endpoint(endpoint)) return std::nullopt;
    return "plain TCP refused on non-loopback endpoint " + std::string(endpoint) +
           ": configure CURVE keys, or set insecure = true to allow it explicitly";
}

}  // namespace bts::control
