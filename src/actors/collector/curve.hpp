// CURVE for the collector's bound sockets and bts-tail's SUB, through the control library's
// certificates (src/common/control/curve.hpp): the broker's zcert file format and rules.
#pragma once

#include "actors/collector/config.hpp"

#include <string>

typedef struct _zsock_t zsock_t;

namespace bts::collector {

// Makes `sock` a CURVE server with config.secret_cert (a NAME.key_secret file). Clients are
// admitted by a control::Authenticator over config.allowed_clients, created by the caller
// before binding. Throws std::runtime_error naming the file, never the key.
void apply_curve_server(zsock_t* sock, const CurveConfig& config);

// Makes `sock` a CURVE client of a server whose public certificate file is `server_cert`;
// `client_cert` is this side's secret certificate file ("" = a fresh key pair, which a server
// admits only if its allow-list contains it — i.e. for tests and ad-hoc use).
// Throws std::runtime_error.
void apply_curve_client(zsock_t* sock, const std::string& server_cert, const std::string& client_cert);

}  // namespace bts::collector
