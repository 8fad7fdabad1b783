// Uptime classification rules, certificate/participation helpers and the fork tracker.
#include "actors/uptime/classify.hpp"

#include "common/util/config.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>

namespace bts::uptime {

std::string_view to_string(Status s) noexcept {
    switch (s) {
        case Status::up: return "UP";
        case Status::down: return "DOWN";
        case Status::timeout: return "TIMEOUT";
        case Status::stale: return "STALE";
        case Status::wrong_chain: return "WRONG_CHAIN";
        case Status::forked: return "FORKED";
        case Status::cert_expiring: return "CERT_EXPIRING";
        case Status::cert_mismatch: return "CERT_MISMATCH";
    }
    return "DOWN";
}

std::optional<Status> parse_status(std::string_view text) noexcept {
    for (Status s : {Status::up, Status::down, Status::timeout, Status::stale, Status::wrong_chain,
                     Status::forked, Status::cert_expiring, Status::cert_mismatch}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

bool counts_as_up(std::string_view status) noexcept {
    return status == "UP" || status == "CERT_EXPIRING";
}

bool counts_as_up(std::string_view status, std::int64_t cert_not_after_unix, std::int64_t at_unix) noexcept {
    if (cert_not_after_unix != 0 && cert_not_after_unix <= at_unix) return false;
    return counts_as_up(status);
}

void Thresholds::validate(std::string_view prefix) const {
    auto key = [&](std::string_view k) { return std::string(prefix) + "." + std::string(k); };
    util::check_config(stale_after >= std::chrono::seconds(1), key("stale_after"),
                       "must be at least 1s");
    util::check_config(cert_warn_days >= 0 && cert_warn_days <= 3650, key("cert_warn_days"),
                       "must be between 0 and 3650");
    util::check_config(min_participation >= 0.0 && min_participation <= 100.0,
                       key("min_participation"), "must be a percentage (0..100)");
    util::check_config(http_status_min >= 100 && http_status_min <= http_status_max &&
                           http_status_max <= 599,
                       key("http_status"), "must be [min, max] with 100 <= min <= max <= 599");
}

namespace {

std::string short_id(const std::string& id) {
    return id.size() > 12 ? id.substr(0, 12) + "…" : id;
}

std::string fmt_age(double seconds) {
    return util::format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)));
}

}  // namespace

Verdict classify(const Observation& obs, const Thresholds& t, std::int64_t now_unix) {
    // 1-2: no (usable) answer.
    if (obs.failure == Failure::timeout) {
        return {Status::timeout, obs.failure_text.empty() ? "timed out" : obs.failure_text};
    }
    if (obs.failure != Failure::none) {
        return {Status::down, obs.failure_text.empty() ? "probe failed" : obs.failure_text};
    }
    if (obs.http_status != 0 &&
        (obs.http_status < t.http_status_min || obs.http_status > t.http_status_max)) {
        return {Status::down, fmt::format("HTTP status {} (expected {}..{})", obs.http_status,
                                          t.http_status_min, t.http_status_max)};
    }
    if (!obs.es_status.empty()) {
        if (obs.es_status == "red" || (obs.es_status == "yellow" && t.es_yellow_is_down) ||
            (obs.es_status != "green" && obs.es_status != "yellow")) {
            return {Status::down, "Elasticsearch cluster status " + obs.es_status};
        }
    }
    // 3: wrong chain.
    if (obs.api && !obs.expected_chain_id.empty() && obs.chain_id != obs.expected_chain_id) {
        return {Status::wrong_chain, "chain id " + short_id(obs.chain_id) + ", expected " +
                                         short_id(obs.expected_chain_id)};
    }
    // 4-5: certificate problems clients refuse.
    if (obs.cert_seen) {
        if (!obs.cert_name_matches) {
            return {Status::cert_mismatch, "certificate does not cover the host name"};
        }
        if (t.require_trusted_cert && !obs.cert_trusted) {
            return {Status::cert_mismatch,
                    "certificate not trusted: " +
                        (obs.cert_verify_error.empty() ? std::string("unknown reason")
                                                       : obs.cert_verify_error)};
        }
        if (!t.allow_wildcard && obs.cert_wildcard) {
            return {Status::cert_mismatch, "wildcard certificate (one per subdomain required)"};
        }
        if (!t.expect_issuer.empty() && obs.cert_issuer.find(t.expect_issuer) == std::string::npos) {
            return {Status::cert_mismatch, "issuer '" + obs.cert_issuer + "' does not contain '" +
                                               t.expect_issuer + "'"};
        }
        const auto days = cert_days_left(obs.cert_not_after, now_unix);
        if (obs.cert_not_after <= now_unix) {
            return {Status::cert_expiring, fmt::format("certificate expired {} days ago", -days)};
        }
    }
    // 6: fork.
    if (obs.fork) return {Status::forked, *obs.fork};
    // 7: stale.
    if (obs.api && obs.head_known) {
        const double limit = std::chrono::duration<double>(t.stale_after).count();
        if (obs.head_age_s > limit) {
            return {Status::stale, "head block is " + fmt_age(obs.head_age_s) + " old (limit " +
                                       util::format_duration(t.stale_after) + ")"};
        }
    }
    if (obs.api && obs.participation_known && t.min_participation > 0.0 &&
        obs.participation < t.min_participation) {
        return {Status::stale, fmt::format("witness participation {:.1f}% (minimum {:.1f}%)",
                                           obs.participation, t.min_participation)};
    }
    // 8: certificate expiring soon.
    if (obs.cert_seen) {
        const auto days = cert_days_left(obs.cert_not_after, now_unix);
        if (days < t.cert_warn_days) {
            return {Status::cert_expiring,
                    fmt::format("certificate expires in {} days (warning below {})", days,
                                t.cert_warn_days)};
        }
    }
    return {Status::up, {}};
}

std::int64_t cert_days_left(std::int64_t not_after_unix, std::int64_t now_unix) noexcept {
    const std::int64_t diff = not_after_unix - now_unix;
    // Floor division: 1 second past expiry is day -1, not day 0.
    return diff >= 0 ? diff / 86400 : -((-diff + 86399) / 86400);
}

bool is_wildcard_name(std::string_view name) noexcept { return name.starts_with("*."); }

std::optional<double> participation_from_slots(std::string_view decimal) noexcept {
    if (decimal.empty() || decimal.size() > 39) return std::nullopt;
    unsigned __int128 v = 0;
    for (char c : decimal) {
        if (c < '0' || c > '9') return std::nullopt;
        const unsigned __int128 next = v * 10 + static_cast<unsigned>(c - '0');
        if (next / 10 != v) return std::nullopt;  // overflow
        v = next;
    }
    const auto lo = static_cast<std::uint64_t>(v);
    const auto hi = static_cast<std::uint64_t>(v >> 64);
    return 100.0 * (std::popcount(lo) + std::popcount(hi)) / 128.0;
}

std::optional<std::int64_t> parse_node_time(std::string_view text) noexcept {
    // "YYYY-MM-DDTHH:MM:SS", optionally followed by fractional seconds or 'Z'.
    if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    auto num = [&](std::size_t pos, std::size_t len) -> int {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (text[i] < '0' || text[i] > '9') return -1;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    std::tm tm{};
    const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
              s = num(17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60) {
        return std::nullopt;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<std::int64_t>(timegm(&tm));
}

// ---- ForkTracker ----------------------------------------------------------------------------

std::optional<std::string> ForkTracker::observe(const std::string& group,
                                                const std::string& endpoint, bool reference,
                                                const BlockIds& ids) {
    Group& g = groups_[group];
    g.reference[endpoint] = reference;
    std::optional<std::string> verdict;
    for (const auto& [height, id] : ids) {
        if (id.empty()) continue;
        auto hit = g.heights.find(height);
        if (hit != g.heights.end() && !verdict) {
            std::map<std::string, std::size_t> votes;  // id → other nodes reporting it
            const std::string* ref_id = nullptr;
            std::string ref_name;
            for (const auto& [other, other_id] : hit->second) {
                if (other == endpoint) continue;
                ++votes[other_id];
                if (g.reference[other]) {
                    ref_id = &other_id;
                    ref_name = other;
                }
            }
            if (ref_id != nullptr && !reference) {
                if (*ref_id != id) {
                    verdict = "block " + std::to_string(height) + ": " + short_id(id) +
                              " here, " + short_id(*ref_id) + " on " + ref_name + " (reference)";
                }
            } else if (!reference) {
                const std::size_t agree = votes.count(id) ? votes[id] + 1 : 1;
                for (const auto& [other_id, n] : votes) {
                    if (other_id != id && n > agree) {
                        verdict = "block " + std::to_string(height) + ": " + short_id(id) +
                                  " here, " + short_id(other_id) + " on " + std::to_string(n) +
                                  " other nodes";
                        break;
                    }
                }
            }
        }
        g.heights[height][endpoint] = id;
    }
    while (g.heights.size() > max_heights_) g.heights.erase(g.heights.begin());
    return verdict;
}

void ForkTracker::offer_lib(const std::string& group, std::uint64_t lib, std::int64_t now_ms) {
    Group& g = groups_[group];
    g.best_lib = std::max(g.best_lib, lib);
    if (!g.has_anchor || now_ms - g.anchor_set_ms >= anchor_refresh_ms_) {
        if (g.best_lib == 0) return;  // block 0 has no header to ask about
        g.anchor = g.best_lib;
        g.has_anchor = true;
        g.anchor_set_ms = now_ms;
    }
}

std::optional<std::uint64_t> ForkTracker::anchor(const std::string& group) const {
    const auto it = groups_.find(group);
    if (it == groups_.end() || !it->second.has_anchor) return std::nullopt;
    return it->second.anchor;
}

}  // namespace bts::uptime
