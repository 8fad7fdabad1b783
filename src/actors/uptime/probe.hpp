// One endpoint's probe: DNS → TCP → TLS (certificate) → websocket/HTTP → API calls, with every
// phase timed, producing the facts that classify() judges. Asynchronous, on the caller's
// io_context; many Probers share one thread.
//
// Kinds (EndpointConfig::kind):
//   api   ws:// or wss:// BitShares API node: get_chain_id (its round trip is rpc_us),
//         get_dynamic_global_properties (head block number/id/time, last irreversible block,
//         recent_slots_filled → participation) and, when the actor passes an anchor height,
//         get_block_header(anchor) whose `previous` is the id of block anchor − 1 (fork check;
//         the anchor is a last irreversible block, which every synced node has).
//         The three calls are pipelined on one fresh connection, then the connection is closed.
//   http  http:// or https:// page: GET, status code checked against the thresholds; rpc_us is
//         the time to the first response byte.
//   es    Elasticsearch (or its read-only wrapper): GET <url><es_path> (default
//         /_cluster/health), `status` of the JSON reply (green / yellow / red).
//
// Every probe opens a new connection (so DNS/TCP/TLS timings and the certificate are measured
// each time) and ends within EndpointConfig::timeout: then the probe is TIMEOUT whatever phase it
// was in. TLS is never enforced at connect time — the prober wants to see a bad certificate, not
// be refused by it — verification results are reported and judged by classify().
#pragma once

#include "actors/uptime/classify.hpp"
#include "common/util/units.hpp"
#include "common/wire.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace bts::uptime {

enum class ProbeKind { api, http, es };
[[nodiscard]] std::string_view to_string(ProbeKind k) noexcept;

struct EndpointConfig {
    std::string name;  // unique; the PUB topic and the stats page's key
    std::string url;
    ProbeKind kind = ProbeKind::api;
    std::string chain_id;  // api: expected chain id (64 hex); "" = not checked
    util::Duration interval = std::chrono::seconds(10);
    util::Duration timeout = std::chrono::seconds(5);
    std::string ca_file;     // extra trust anchors (PEM) for this endpoint
    bool reference = false;  // api: trusted reference for the fork check
    std::string es_path = "/_cluster/health";
    Thresholds thresholds;

    // The UptimeResult.kind string: "ws", "wss", "http", "https" or "es".
    [[nodiscard]] std::string wire_kind() const;
    // Throws util::ConfigError naming `key` (e.g. "endpoint[2]").
    void validate(std::string_view key) const;
};

// What one probe produced. `result` has identity, timings, head block, chain id and certificate
// fields; status and error are left for the actor to fill from classify().
struct ProbeOutcome {
    wire::UptimeResult result;
    Observation obs;
    ForkTracker::BlockIds block_ids;  // (height, id) pairs seen, for the fork tracker
    std::uint64_t last_irreversible = 0;
};

using ProbeDone = std::function<void(ProbeOutcome&& outcome)>;

class Prober {
public:
    // `net_log` is handed to the network clients (the actor gives a quiet one: failures are
    // reported as results, not as log lines). Throws std::runtime_error if ca_file is unreadable.
    Prober(boost::asio::io_context& ioc, EndpointConfig cfg, std::shared_ptr<spdlog::logger> net_log);
    ~Prober();  // drops a probe in progress without calling its callback
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

    // Starts a probe unless one is running (returns false then). `done` runs exactly once, on
    // the io thread, never inside probe(). `anchor`: api fork-check height, if any.
    bool probe(std::optional<std::uint64_t> anchor, ProbeDone done);
    [[nodiscard]] bool busy() const noexcept;
    [[nodiscard]] const EndpointConfig& config() const noexcept;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

// The URL as shown to the public: no user info, no query string (may hold API keys).
[[nodiscard]] std::string public_url(std::string_view url);

}  // namespace bts::uptime
