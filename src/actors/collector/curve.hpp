// CURVE for the collector's bound sockets and bts-tail's SUB, in the broker's format: zcert
// certificate files (ZPL text, "<name>" public and "<name>_secret" secret) and a zauth actor
// that admits the client public keys found in a directory (or any client, "*").
#pragma once

#include "actors/collector/config.hpp"

#include <string>

typedef struct _zactor_t zactor_t;
typedef struct _zsock_t zsock_t;

namespace bts::collector {

// The zauth actor for this process (one per ZeroMQ context): starts it and loads the allow-list.
// Create before binding any CURVE socket; destroy after closing them.
class CurveAuth {
public:
    // allowed_clients: directory of public certificates, or "*" for any CURVE client.
    // Throws std::runtime_error (start-up).
    explicit CurveAuth(const std::string& allowed_clients);
    ~CurveAuth();
    CurveAuth(const CurveAuth&) = delete;
    CurveAuth& operator=(const CurveAuth&) = delete;

private:
    zactor_t* auth_ = nullptr;
};

// Makes `sock` a CURVE server with the secret certificate file. Throws std::runtime_error
// naming the file, never the key.
void apply_curve_server(zsock_t* sock, const CurveConfig& config);

// Makes `sock` a CURVE client of a server whose public certificate file is `server_cert`;
// `client_cert` is this side's secret certificate file ("" = a fresh ephemeral key, enough for
// servers that allow any client). Throws std::runtime_error.
void apply_curve_client(zsock_t* sock, const std::string& server_cert, const std::string& client_cert);

}  // namespace bts::collector
