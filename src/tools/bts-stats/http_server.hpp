// bts-stats' HTTP server is the shared core in common/net/http_server.hpp (issue 12 item 4); these
// names keep stats.cpp's spelling. New code includes common/net/http_server.hpp directly.
#pragma once

#include "common/net/http_server.hpp"

namespace bts::stats {

using HttpRequest = net::HttpServerRequest;
using HttpResponse = net::HttpServerResponse;
using HttpServer = net::HttpServer;
using HttpServerStats = net::HttpServerStats;
using net::percent_decode;
using net::query_param;

}  // namespace bts::stats
