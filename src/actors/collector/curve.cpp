// zcert/zauth CURVE set-up for collector sockets.
#include "actors/collector/curve.hpp"

#include <czmq.h>

#include <filesystem>
#include <stdexcept>

namespace bts::collector {

CurveAuth::CurveAuth(const std::string& allowed_clients) {
    if (allowed_clients != "*" && !std::filesystem::is_directory(allowed_clients))
        throw std::runtime_error(allowed_clients + ": CURVE allow-list directory not found");
    auth_ = zactor_new(zauth, nullptr);
    if (!auth_) throw std::runtime_error("cannot start the zauth actor");
    // "*" is CURVE_ALLOW_ANY: encryption without client authentication.
    zstr_sendx(auth_, "CURVE", allowed_clients == "*" ? CURVE_ALLOW_ANY : allowed_clients.c_str(), nullptr);
    zsock_wait(auth_);
}

CurveAuth::~CurveAuth() { zactor_destroy(&auth_); }

void apply_curve_server(zsock_t* sock, const CurveConfig& config) {
    zcert_t* cert = zcert_load(config.secret_cert.c_str());
    if (!cert) throw std::runtime_error(config.secret_cert + ": cannot load CURVE certificate");
    if (std::string(zcert_secret_txt(cert)) == std::string(40, '0')) {
        zcert_destroy(&cert);
        throw std::runtime_error(config.secret_cert + ": not a secret certificate (use the _secret file)");
    }
    zcert_apply(cert, sock);
    zcert_destroy(&cert);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, "bts");
}

void apply_curve_client(zsock_t* sock, const std::string& server_cert, const std::string& client_cert) {
    zcert_t* server = zcert_load(server_cert.c_str());
    if (!server) throw std::runtime_error(server_cert + ": cannot load the server's public certificate");
    zcert_t* client = client_cert.empty() ? zcert_new() : zcert_load(client_cert.c_str());
    if (!client) {
        zcert_destroy(&server);
        throw std::runtime_error(client_cert + ": cannot load CURVE certificate");
    }
    zcert_apply(client, sock);
    zsock_set_curve_serverkey(sock, zcert_public_txt(server));
    zcert_destroy(&client);
    zcert_destroy(&server);
}

}  // namespace bts::collector
