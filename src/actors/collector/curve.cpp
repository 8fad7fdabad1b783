// CURVE set-up for collector sockets on top of bts::control's certificates.
#include "actors/collector/curve.hpp"

#include "common/control/curve.hpp"

#include <czmq.h>

#include <stdexcept>

namespace bts::collector {

void apply_curve_server(zsock_t* sock, const CurveConfig& config) {
    auto cert = control::Certificate::load(config.secret_cert);
    if (!cert) throw std::runtime_error(cert.error());
    if (!cert->has_secret())
        throw std::runtime_error(config.secret_cert + ": not a secret certificate (use the NAME.key_secret file)");
    cert->apply_server(sock);
    zsock_set_zap_domain(sock, "bts");
}

void apply_curve_client(zsock_t* sock, const std::string& server_cert, const std::string& client_cert) {
    auto server = control::Certificate::load(server_cert);
    if (!server) throw std::runtime_error(server.error());
    if (client_cert.empty()) {
        control::Certificate::generate().apply_client(sock, server->public_txt());
        return;
    }
    auto client = control::Certificate::load(client_cert);
    if (!client) throw std::runtime_error(client.error());
    if (!client->has_secret())
        throw std::runtime_error(client_cert + ": not a secret certificate (use the NAME.key_secret file)");
    client->apply_client(sock, server->public_txt());
}

}  // namespace bts::collector
