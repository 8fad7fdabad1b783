// Judging a probe: the eight uptime classes, their thresholds, the pure classify() function and
// the fork tracker that compares block ids across the API nodes of one chain.
//
// classify() sees only facts (an Observation) and settings (Thresholds); it does no I/O, so every
// rule below is unit-tested without a network. When several rules apply, the first in this order
// wins (most severe first — what a user of the endpoint would hit first):
//
//   1. TIMEOUT        no complete answer within the probe timeout (any phase)
//   2. DOWN           DNS/TCP/TLS/websocket/RPC failure; HTTP status outside the expected range;
//                     Elasticsearch cluster status red (or yellow, if so configured)
//   3. WRONG_CHAIN    an API node whose chain id differs from the expected one
//   4. CERT_MISMATCH  the certificate does not fit the host or the policy: name does not cover
//                     the host; chain not trusted (require_trusted_cert); wildcard certificate
//                     where allow_wildcard = false (the proposal wants one certificate per
//                     subdomain); issuer does not contain expect_issuer
//   5. CERT_EXPIRING  certificate already expired (clients refuse it)
//   6. FORKED         the ForkTracker found this node's block id at some height differing from
//                     the reference node's, or from a strict majority of the other nodes
//   7. STALE          head block older than stale_after, or witness participation below
//                     min_participation
//   8. CERT_EXPIRING  certificate valid but with fewer than cert_warn_days days left
//   9. UP
//
// "Up" for uptime percentages (Heartbeat's monitor.status) is UP or a not-yet-expired
// CERT_EXPIRING: the endpoint serves correct data. Everything else counts as down.
#pragma once

#include "common/util/units.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bts::uptime {

enum class Status { up, down, timeout, stale, wrong_chain, forked, cert_expiring, cert_mismatch };

// The wire spelling (wire::uptime_status): "UP", "DOWN", ...
[[nodiscard]] std::string_view to_string(Status s) noexcept;
[[nodiscard]] std::optional<Status> parse_status(std::string_view text) noexcept;
// True when the endpoint counts as available (Heartbeat "up"): UP and CERT_EXPIRING.
[[nodiscard]] bool counts_as_up(std::string_view status) noexcept;
// The same, for a result whose certificate (not_after in unix seconds, 0 = none) is judged at
// `at_unix`: an endpoint whose certificate has already expired is down (clients refuse it),
// whatever status the prober that sent it gave (CERT_EXPIRING, or UP from a prober that did not
// check).
[[nodiscard]] bool counts_as_up(std::string_view status, std::int64_t cert_not_after_unix,
                                std::int64_t at_unix) noexcept;

// Settings for classify(). Global defaults in [thresholds]; endpoints may override each.
struct Thresholds {
    util::Duration stale_after = std::chrono::seconds(30);  // head block age limit
    std::int64_t cert_warn_days = 14;   // CERT_EXPIRING below this many days left
    double min_participation = 0.0;     // percent; 0 disables the check
    bool require_trusted_cert = true;   // an untrusted chain is CERT_MISMATCH
    bool allow_wildcard = true;         // false: a wildcard certificate is CERT_MISMATCH
    std::string expect_issuer;          // non-empty: must occur in the issuer line
    int http_status_min = 200;          // HTTP(S) pages: accepted status range
    int http_status_max = 399;
    bool es_yellow_is_down = false;     // Elasticsearch: yellow counts as DOWN when true

    // Throws util::ConfigError naming `prefix`.key.
    void validate(std::string_view prefix) const;
};

// Why a probe did not complete.
enum class Failure { none, connect, timeout, protocol };

// Everything a probe saw, before judgement.
struct Observation {
    Failure failure = Failure::none;
    std::string failure_text;  // one line: phase and reason

    // TLS (wss/https), when a certificate was received.
    bool cert_seen = false;
    std::int64_t cert_not_after = 0;  // unix seconds
    bool cert_name_matches = false;
    bool cert_trusted = false;        // chain verified against the trust store (+ ca_file)
    std::string cert_verify_error;    // OpenSSL's reason when not trusted
    bool cert_wildcard = false;
    std::string cert_issuer;

    // API nodes.
    bool api = false;
    std::string chain_id;
    std::string expected_chain_id;  // "" = not checked
    bool head_known = false;
    double head_age_s = 0.0;
    bool participation_known = false;
    double participation = 0.0;  // percent

    // HTTP(S) and Elasticsearch.
    int http_status = 0;     // 0 = not an HTTP probe
    std::string es_status;   // "green", "yellow", "red"; "" = not an ES probe

    // From the ForkTracker.
    std::optional<std::string> fork;  // set = forked, with the evidence
};

struct Verdict {
    Status status = Status::up;
    std::string error;  // "" for UP; otherwise the reason, one line
};

[[nodiscard]] Verdict classify(const Observation& obs, const Thresholds& t, std::int64_t now_unix);

// Whole days until not_after, rounded down; negative once expired.
[[nodiscard]] std::int64_t cert_days_left(std::int64_t not_after_unix, std::int64_t now_unix) noexcept;
// "*.example.org" style names (subject CN or any SAN).
[[nodiscard]] bool is_wildcard_name(std::string_view name) noexcept;
// Witness participation in percent from dynamic_global_property_object.recent_slots_filled
// (a 128-bit bit field written as a decimal string): 100 * popcount / 128. nullopt if unreadable.
[[nodiscard]] std::optional<double> participation_from_slots(std::string_view decimal) noexcept;
// "2024-01-02T03:04:05" (the node's UTC time format) → unix seconds; nullopt if malformed.
[[nodiscard]] std::optional<std::int64_t> parse_node_time(std::string_view text) noexcept;

// Compares block ids across the API nodes of one chain (a "group", keyed by chain id).
//
// Definition of FORKED (docs/uptime.md): a node reports block id X at height h (its head block
// from get_dynamic_global_properties, and the block below the group's anchor height, read as
// `previous` of get_block_header(anchor)); another node of the same chain reports Y ≠ X at
// the same h. The node is FORKED when X differs from the reference node's id at h (an endpoint
// configured with reference = true), or — without a reference observation at h — when strictly
// more other nodes agree on one id Y than agree with X. Two nodes that disagree with no
// reference are a tie: neither is flagged. Only the heights from the node's latest probe are
// judged, so a node that has resynced stops being FORKED at its next probe.
//
// The anchor height is the highest last-irreversible block seen in the group, renewed every
// `anchor_refresh`: between renewals every node is asked about the same height, so ids are
// comparable even when the heads never coincide. Memory is bounded: at most `max_heights`
// heights per group (the oldest are forgotten).
class ForkTracker {
public:
    using BlockIds = std::vector<std::pair<std::uint64_t, std::string>>;  // (height, id)

    explicit ForkTracker(std::size_t max_heights = 256) : max_heights_(max_heights) {}

    // Judges `ids` of `endpoint` against the others, then records them. Returns the evidence
    // ("block 1234: abcd… here, 12ef… on node-b (reference)") when FORKED.
    std::optional<std::string> observe(const std::string& group, const std::string& endpoint,
                                       bool reference, const BlockIds& ids);
    // Offers a last-irreversible block number seen in the group.
    void offer_lib(const std::string& group, std::uint64_t lib, std::int64_t now_ms);
    // The height every node of the group should report next; nullopt until a LIB was offered.
    [[nodiscard]] std::optional<std::uint64_t> anchor(const std::string& group) const;
    void set_anchor_refresh_ms(std::int64_t ms) { anchor_refresh_ms_ = ms; }

private:
    struct Group {
        // height → endpoint → id
        std::map<std::uint64_t, std::map<std::string, std::string>> heights;
        std::map<std::string, bool> reference;  // endpoint → is reference
        std::uint64_t anchor = 0;
        bool has_anchor = false;
        std::uint64_t best_lib = 0;
        std::int64_t anchor_set_ms = 0;
    };
    std::map<std::string, Group> groups_;
    std::size_t max_heights_;
    std::int64_t anchor_refresh_ms_ = 60'000;
};

}  // namespace bts::uptime
