// msgpack encoding and defensive decoding of the bus schema (src/common/wire.hpp).
#include "common/wire.hpp"

#include <msgpack.hpp>

#include <limits>
#include <tuple>
#include <type_traits>

namespace bts::wire {
namespace {

// Wire field order of each message: must list the fields in header declaration order, and
// like the header only ever grows at the end. The stringified list gives field names for errors.
#define BTS_WIRE_FIELDS(Type, ...)                       \
    [[maybe_unused]] auto fields(Type& m) {              \
        return std::tie(__VA_ARGS__);                    \
    }                                                    \
    [[maybe_unused]] auto fields(const Type& m) {        \
        return std::tie(__VA_ARGS__);                    \
    }                                                    \
    constexpr std::string_view field_list(const Type*) { \
        return #__VA_ARGS__;                             \
    }

BTS_WIRE_FIELDS(BeaconHello, m.beacon_id, m.host, m.version, m.pid, m.capabilities, m.groups)
BTS_WIRE_FIELDS(Heartbeat, m.sender_id, m.seq, m.unix_ms, m.state, m.run_id, m.achieved_rate)
BTS_WIRE_FIELDS(Command, m.run_id, m.seq, m.target, m.kind, m.payload)
BTS_WIRE_FIELDS(CommandAck, m.beacon_id, m.run_id, m.seq, m.ok, m.error)
BTS_WIRE_FIELDS(StatsInterval, m.run_id, m.beacon_id, m.host, m.seq, m.interval_start_ms,
                m.interval_ms, m.configured_rate, m.sent, m.accepted, m.rejected_by_class,
                m.late_sends, m.dropped_sends, m.max_send_lag_us, m.connect_failures, m.disconnects,
                m.timeouts, m.bad_replies, m.in_flight, m.included_txs, m.included_ops,
                m.expired_unincluded, m.acceptance_from_intended, m.acceptance_from_send,
                m.inclusion, m.host_cpu_pct, m.proc_cpu_pct, m.rss_bytes, m.final,
                m.unknown_outcome, m.pending_at_cutoff)
BTS_WIRE_FIELDS(RunEvent, m.run_id, m.source, m.unix_ms, m.level, m.kind, m.text)
BTS_WIRE_FIELDS(UptimeResult, m.endpoint, m.url, m.kind, m.status, m.unix_ms, m.duration_us,
                m.dns_us, m.connect_us, m.tls_us, m.ws_us, m.rpc_us, m.head_block_num,
                m.head_block_age_s, m.chain_id, m.participation, m.cert_not_after_unix,
                m.cert_days_left, m.cert_issuer, m.cert_subject, m.cert_name_matches,
                m.cert_wildcard, m.error)
BTS_WIRE_FIELDS(ClusterTotals, m.run_id, m.second_unix, m.beacons, m.configured_rate, m.sent,
                m.accepted, m.rejected_by_class, m.included_txs, m.included_ops,
                m.acceptance_p50_us, m.acceptance_p90_us, m.acceptance_p99_us, m.acceptance_max_us,
                m.inclusion_p50_us, m.inclusion_p99_us)
BTS_WIRE_FIELDS(CtlRequest, m.request_id, m.verb, m.payload)
BTS_WIRE_FIELDS(CtlReply, m.request_id, m.ok, m.error, m.payload)

#undef BTS_WIRE_FIELDS

// Name of field i in a stringified field list ("m.a, m.b" → "b" for i = 1).
std::string field_name(std::string_view list, std::size_t i) {
    for (std::size_t k = 0; k < i; ++k) {
        auto comma = list.find(',');
        if (comma == std::string_view::npos) return "field " + std::to_string(i);
        list.remove_prefix(comma + 1);
    }
    list = list.substr(0, list.find(','));
    while (!list.empty() && (list.front() == ' ' || list.front() == '\n')) list.remove_prefix(1);
    if (list.substr(0, 2) == "m.") list.remove_prefix(2);
    while (!list.empty() && (list.back() == ' ' || list.back() == '\n')) list.remove_suffix(1);
    return std::string(list);
}

// ---- encoding -------------------------------------------------------------------------------

// msgpack packer target appending to a std::string (avoids sbuffer's extra copy).
struct StringSink {
    std::string& out;
    void write(const char* data, std::size_t size) { out.append(data, size); }
};
using Packer = msgpack::packer<StringSink>;

void put(Packer& pk, std::string_view v) {
    pk.pack_str(static_cast<std::uint32_t>(v.size()));
    pk.pack_str_body(v.data(), static_cast<std::uint32_t>(v.size()));
}
void put(Packer& pk, const std::string& v) {
    put(pk, std::string_view(v));
}
// pack_uint64/pack_int64 choose the smallest encoding for the value.
void put(Packer& pk, std::uint64_t v) {
    pk.pack_uint64(v);
}
void put(Packer& pk, std::uint32_t v) {
    pk.pack_uint32(v);
}
void put(Packer& pk, std::int64_t v) {
    pk.pack_int64(v);
}
void put(Packer& pk, double v) {
    pk.pack_double(v);
}
void put(Packer& pk, bool v) {
    v ? pk.pack_true() : pk.pack_false();
}
void put(Packer& pk, const std::vector<std::string>& v) {
    pk.pack_array(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) put(pk, s);
}
void put(Packer& pk, const ClassCounts& v) {
    pk.pack_map(static_cast<std::uint32_t>(v.size()));
    for (const auto& [k, n] : v) {
        put(pk, k);
        put(pk, n);
    }
}
void put(Packer& pk, const Histogram& h) {
    pk.pack_array(5);
    put(pk, h.min);
    put(pk, h.max);
    put(pk, h.sum);
    put(pk, h.overflow);
    pk.pack_array(static_cast<std::uint32_t>(2 * h.buckets.size()));
    std::uint64_t previous = 0;
    for (const auto& [index, count] : h.buckets) {
        put(pk, std::uint64_t{index} - previous);  // delta; the first is absolute
        put(pk, count);
        previous = index;
    }
}

template <class T>
std::string encode_message(const T& m) {
    std::string out;
    StringSink sink{out};
    Packer pk(sink);
    pk.pack_array(4);
    put(pk, kMagic);
    put(pk, kVersion);
    put(pk, static_cast<std::uint32_t>(T::kType));
    auto f = fields(m);
    pk.pack_array(static_cast<std::uint32_t>(std::tuple_size_v<decltype(f)>));
    std::apply([&](const auto&... field) { (put(pk, field), ...); }, f);
    return out;
}

// ---- decoding -------------------------------------------------------------------------------

using msgpack::type::object_type;

// Reads msgpack objects into fields, checking types; sets error_ on the first mismatch.
class Reader {
  public:
    const std::string& error() const { return error_; }

    bool get(const msgpack::object& o, std::string& v) {
        if (o.type != object_type::STR) return fail("expected a string", o);
        v.assign(o.via.str.ptr, o.via.str.size);
        return true;
    }
    bool get(const msgpack::object& o, std::uint64_t& v) {
        if (o.type != object_type::POSITIVE_INTEGER) return fail("expected an unsigned integer", o);
        v = o.via.u64;
        return true;
    }
    bool get(const msgpack::object& o, std::uint32_t& v) {
        std::uint64_t wide = 0;
        if (!get(o, wide)) return false;
        if (wide > std::numeric_limits<std::uint32_t>::max()) return fail("value above 2^32-1", o);
        v = static_cast<std::uint32_t>(wide);
        return true;
    }
    bool get(const msgpack::object& o, std::int64_t& v) {
        if (o.type == object_type::NEGATIVE_INTEGER) {
            v = o.via.i64;
            return true;
        }
        if (o.type != object_type::POSITIVE_INTEGER) return fail("expected an integer", o);
        if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return fail("value above 2^63-1", o);
        v = static_cast<std::int64_t>(o.via.u64);
        return true;
    }
    bool get(const msgpack::object& o, double& v) {
        switch (o.type) {
            case object_type::FLOAT32:
            case object_type::FLOAT64:
                v = o.via.f64;
                return true;
            case object_type::POSITIVE_INTEGER:
                v = static_cast<double>(o.via.u64);
                return true;
            case object_type::NEGATIVE_INTEGER:
                v = static_cast<double>(o.via.i64);
                return true;
            default:
                return fail("expected a number", o);
        }
    }
    bool get(const msgpack::object& o, bool& v) {
        if (o.type != object_type::BOOLEAN) return fail("expected a boolean", o);
        v = o.via.boolean;
        return true;
    }
    bool get(const msgpack::object& o, std::vector<std::string>& v) {
        if (o.type != object_type::ARRAY) return fail("expected an array of strings", o);
        v.clear();
        v.reserve(o.via.array.size);
        for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
            if (!get(o.via.array.ptr[i], v.emplace_back()))
                return prefix("[" + std::to_string(i) + "]");
        }
        return true;
    }
    bool get(const msgpack::object& o, ClassCounts& v) {
        if (o.type != object_type::MAP) return fail("expected a map of counts", o);
        v.clear();
        for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
            std::string key;
            std::uint64_t count = 0;
            if (!get(o.via.map.ptr[i].key, key)) return prefix("key " + std::to_string(i));
            if (!get(o.via.map.ptr[i].val, count)) return prefix("[" + key + "]");
            if (!v.emplace(std::move(key), count).second) return fail("duplicate key", o);
        }
        return true;
    }
    bool get(const msgpack::object& o, Histogram& h) {
        if (o.type != object_type::ARRAY || o.via.array.size < 5)
            return fail("expected a histogram [min, max, sum, overflow, buckets]", o);
        const msgpack::object* p = o.via.array.ptr;
        if (!get(p[0], h.min) || !get(p[1], h.max) || !get(p[2], h.sum) || !get(p[3], h.overflow))
            return prefix("histogram");
        const msgpack::object& b = p[4];
        if (b.type != object_type::ARRAY || b.via.array.size % 2 != 0)
            return fail("histogram buckets: expected an array of (index, count) pairs", b);
        if (b.via.array.size / 2 > util::Histogram::kBucketCount)
            return fail("histogram: more buckets than the layout has", b);
        h.buckets.clear();
        h.buckets.reserve(b.via.array.size / 2);
        std::uint64_t index = 0;
        for (std::uint32_t i = 0; i < b.via.array.size; i += 2) {
            std::uint64_t delta = 0;
            std::uint64_t count = 0;
            if (!get(b.via.array.ptr[i], delta) || !get(b.via.array.ptr[i + 1], count))
                return prefix("histogram buckets");
            // Bounded before adding, so a huge delta cannot wrap around to a valid index.
            if (delta >= util::Histogram::kBucketCount ||
                index + delta >= util::Histogram::kBucketCount)
                return fail("histogram: bucket index out of range", b);
            if (i > 0 && delta == 0) return fail("histogram: bucket indices not increasing", b);
            index += delta;
            h.buckets.emplace_back(static_cast<std::uint32_t>(index), count);
        }
        if (auto err = h.validate()) {
            error_ = "histogram: " + *err;
            return false;
        }
        return true;
    }

  private:
    bool fail(std::string_view what, const msgpack::object& o) {
        error_ = std::string(what) + ", got " + std::string(kind(o));
        return false;
    }
    bool prefix(const std::string& where) {
        error_ = where + ": " + error_;
        return false;
    }
    static std::string_view kind(const msgpack::object& o) {
        switch (o.type) {
            case object_type::NIL:
                return "nil";
            case object_type::BOOLEAN:
                return "a boolean";
            case object_type::POSITIVE_INTEGER:
                return "an unsigned integer";
            case object_type::NEGATIVE_INTEGER:
                return "a negative integer";
            case object_type::FLOAT32:
            case object_type::FLOAT64:
                return "a float";
            case object_type::STR:
                return "a string";
            case object_type::BIN:
                return "binary";
            case object_type::ARRAY:
                return "an array";
            case object_type::MAP:
                return "a map";
            case object_type::EXT:
                return "an extension";
        }
        return "something else";
    }

    std::string error_;
};

template <class T>
DecodeResult decode_body(const msgpack::object& body) {
    T m;
    auto f = fields(m);
    constexpr std::size_t kFields = std::tuple_size_v<decltype(f)>;
    const std::string name(type_name(T::kType));
    if (body.type != object_type::ARRAY) return util::Error{name + ": body is not an array"};
    // Extra trailing fields come from a newer sender and are skipped; missing ones are errors.
    if (body.via.array.size < kFields)
        return util::Error{name + ": body has " + std::to_string(body.via.array.size) +
                           " fields, expected at least " + std::to_string(kFields)};
    Reader reader;
    std::size_t i = 0;
    bool ok = true;
    std::apply(
        [&](auto&... field) {
            ((ok = ok && reader.get(body.via.array.ptr[i], field) && (++i, true)), ...);
        },
        f);
    if (!ok)
        return util::Error{name + "." + field_name(field_list(static_cast<const T*>(nullptr)), i) +
                           ": " + reader.error()};
    return Message{std::move(m)};
}

// Nesting in a valid frame is at most 4 (envelope, body, histogram, buckets); the margin leaves
// room for future fields while bounding recursion on hostile input.
constexpr std::size_t kMaxDepth = 16;

}  // namespace

std::optional<std::string> validate_id(std::string_view id) {
    if (id.empty()) return std::string("empty");
    if (id.size() > kMaxIdBytes) return "longer than " + std::to_string(kMaxIdBytes) + " bytes";
    for (std::size_t i = 0; i < id.size(); ++i) {
        const auto c = static_cast<unsigned char>(id[i]);
        const std::string at = " at position " + std::to_string(i + 1);
        if (c == ' ') return "contains a space" + at;
        if (c == '/') return "contains '/'" + at;
        if (c < 0x20 || c >= 0x7F) return "contains a byte that is not printable ASCII" + at;
    }
    return std::nullopt;
}

std::optional<std::string> validate(const Command& c) {
    using namespace command_kind;
    if (c.kind != kConfigure && c.kind != kPrepare && c.kind != kStart && c.kind != kStop &&
        c.kind != kRate && c.kind != kAbort)
        return "unknown command kind \"" + c.kind + "\"";
    if (c.target.empty()) return std::string("empty target");
    if (c.target.rfind(kTargetGroupPrefix, 0) == 0 && c.target.size() == kTargetGroupPrefix.size())
        return std::string("empty group name in target");
    return std::nullopt;
}

std::string encode(const BeaconHello& m) {
    return encode_message(m);
}
std::string encode(const Heartbeat& m) {
    return encode_message(m);
}
std::string encode(const Command& m) {
    return encode_message(m);
}
std::string encode(const CommandAck& m) {
    return encode_message(m);
}
std::string encode(const StatsInterval& m) {
    return encode_message(m);
}
std::string encode(const RunEvent& m) {
    return encode_message(m);
}
std::string encode(const UptimeResult& m) {
    return encode_message(m);
}
std::string encode(const ClusterTotals& m) {
    return encode_message(m);
}
std::string encode(const CtlRequest& m) {
    return encode_message(m);
}
std::string encode(const CtlReply& m) {
    return encode_message(m);
}
std::string encode(const Message& m) {
    return std::visit([](const auto& x) { return encode_message(x); }, m);
}

DecodeResult decode(std::string_view bytes) {
    try {
        if (bytes.empty()) return util::Error{"empty message"};
        // Every element takes at least one byte, so no honest count exceeds the frame size;
        // the limit stops a 5-byte frame from claiming a 4-billion-element array (allocation).
        const std::size_t n = bytes.size();
        msgpack::unpack_limit limit(n, n, n, n, n, kMaxDepth);
        std::size_t offset = 0;
        msgpack::object_handle handle =
            msgpack::unpack(bytes.data(), n, offset, nullptr, nullptr, limit);
        if (offset != n) return util::Error{"trailing bytes after the message"};
        const msgpack::object& env = handle.get();
        if (env.type != object_type::ARRAY || env.via.array.size < 4)
            return util::Error{"not a BTS envelope (expected [magic, version, type, body])"};
        const msgpack::object* e = env.via.array.ptr;
        if (e[0].type != object_type::STR ||
            std::string_view(e[0].via.str.ptr, e[0].via.str.size) != kMagic)
            return util::Error{"bad magic (not a BTS1 message)"};
        if (e[1].type != object_type::POSITIVE_INTEGER)
            return util::Error{"bad envelope: version is not an unsigned integer"};
        if (e[1].via.u64 != kVersion)
            return util::Error{"unsupported version " + std::to_string(e[1].via.u64) +
                               " (this build reads " + std::to_string(kVersion) + ")"};
        if (e[2].type != object_type::POSITIVE_INTEGER)
            return util::Error{"bad envelope: type is not an unsigned integer"};
        const msgpack::object& body = e[3];
        switch (e[2].via.u64) {
            case static_cast<std::uint64_t>(MsgType::kBeaconHello):
                return decode_body<BeaconHello>(body);
            case static_cast<std::uint64_t>(MsgType::kHeartbeat):
                return decode_body<Heartbeat>(body);
            case static_cast<std::uint64_t>(MsgType::kCommand):
                return decode_body<Command>(body);
            case static_cast<std::uint64_t>(MsgType::kCommandAck):
                return decode_body<CommandAck>(body);
            case static_cast<std::uint64_t>(MsgType::kStatsInterval):
                return decode_body<StatsInterval>(body);
            case static_cast<std::uint64_t>(MsgType::kRunEvent):
                return decode_body<RunEvent>(body);
            case static_cast<std::uint64_t>(MsgType::kUptimeResult):
                return decode_body<UptimeResult>(body);
            case static_cast<std::uint64_t>(MsgType::kClusterTotals):
                return decode_body<ClusterTotals>(body);
            case static_cast<std::uint64_t>(MsgType::kCtlRequest):
                return decode_body<CtlRequest>(body);
            case static_cast<std::uint64_t>(MsgType::kCtlReply):
                return decode_body<CtlReply>(body);
            default:
                return util::Error{"unknown message type " + std::to_string(e[2].via.u64)};
        }
    } catch (const msgpack::insufficient_bytes&) {
        return util::Error{"truncated message"};
    } catch (const std::exception& ex) {
        return util::Error{std::string("malformed msgpack: ") + ex.what()};
    } catch (...) {
        return util::Error{"malformed message"};
    }
}

std::string_view type_name(MsgType type) {
    switch (type) {
        case MsgType::kBeaconHello:
            return "BeaconHello";
        case MsgType::kHeartbeat:
            return "Heartbeat";
        case MsgType::kCommand:
            return "Command";
        case MsgType::kCommandAck:
            return "CommandAck";
        case MsgType::kStatsInterval:
            return "StatsInterval";
        case MsgType::kRunEvent:
            return "RunEvent";
        case MsgType::kUptimeResult:
            return "UptimeResult";
        case MsgType::kClusterTotals:
            return "ClusterTotals";
        case MsgType::kCtlRequest:
            return "CtlRequest";
        case MsgType::kCtlReply:
            return "CtlReply";
    }
    return "unknown";
}

MsgType type_of(const Message& m) {
    return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::kType; }, m);
}

std::string_view type_name(const Message& m) {
    return type_name(type_of(m));
}

}  // namespace bts::wire
