// Test helper: one blocking HTTP request through bts::net::HttpClient (its own io_context).
#pragma once

#include "common/net/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace bts::test {

inline net::HttpResponse http_call(const std::string& method, const std::string& url, std::string body = {},
                                   net::HttpHeaders headers = {}) {
    boost::asio::io_context ioc;
    net::HttpClient client(ioc, {});
    net::HttpRequest req;
    req.method = method;
    req.url = url;
    req.body = std::move(body);
    req.headers = std::move(headers);
    if (!req.body.empty() && req.headers.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.timeout = std::chrono::seconds(10);
    net::HttpResponse out;
    client.request(std::move(req), [&](net::HttpResponse&& r) { out = std::move(r); });
    ioc.run();
    return out;
}

inline nlohmann::json http_json(const std::string& method, const std::string& url, const std::string& body = {}) {
    auto r = http_call(method, url, body);
    if (!r.ok()) return nlohmann::json{{"transport_error", r.error}};
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return nlohmann::json{{"status", r.status}, {"raw", r.body}};
    if (j.is_object()) j["_http_status"] = r.status;
    return j;
}

}  // namespace bts::test
