// CtlClient: bts-ctl's end of the control channel — one DEALER to the broker's ROUTER sending
// wire::CtlRequest and waiting for the matching wire::CtlReply (verbs and JSON payloads are
// documented in src/broker/broker.hpp). CURVE client when certificates are given.
//
// A request that gets no reply in time is an error distinct from a refusal by the broker, so
// that bts-ctl can exit 3 ("cannot reach the broker") rather than 1. A CURVE handshake the
// broker rejects (our certificate is not in its allow list) is reported as such, from the
// socket monitor, instead of as a silent timeout.
#pragma once

#include "common/util/result.hpp"
#include "common/util/units.hpp"
#include "common/wire.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace bts::control {

struct CtlClientConfig {
    std::string broker = "tcp://127.0.0.1:5560";  // the broker's ROUTER endpoint
    std::string cert;        // this client's secret certificate ("" = no CURVE)
    std::string broker_key;  // the broker's public certificate
    bool insecure = false;
    // Throws util::ConfigError naming the key as "ctl.<field>".
    void validate() const;
};

class CtlClient {
public:
    // Throws util::ConfigError / std::runtime_error on a bad config or unreadable certificate.
    explicit CtlClient(const CtlClientConfig& config);
    ~CtlClient();
    CtlClient(const CtlClient&) = delete;
    CtlClient& operator=(const CtlClient&) = delete;

    enum class Failure { kNone, kTimeout, kAuthRefused };
    // Sends one request and waits for its reply. On error, failure() tells why.
    [[nodiscard]] util::Result<wire::CtlReply> request(std::string_view verb, std::string payload,
                                                      util::Duration timeout = std::chrono::seconds(3));
    Failure failure() const { return failure_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    Failure failure_ = Failure::kNone;
};

}  // namespace bts::control
