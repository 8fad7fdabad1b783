// JSON ↔ protocol values, by walking each type's fields() like the binary serializer does.
#include "common/protocol/json.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>
#include <type_traits>

namespace bts::protocol {

namespace {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// ---------------------------------------------------------------------------------------------
// Output

class JsonWriter {
public:
    explicit JsonWriter(const JsonOptions& opt) : opt_(opt) {}

    template <class T>
    Json to(const T& v) const {
        return write(v);
    }

    Json write(bool v) const { return v; }
    Json write(std::uint8_t v) const { return v; }
    Json write(std::uint16_t v) const { return v; }
    Json write(std::uint32_t v) const { return v; }
    Json write(std::uint64_t v) const {
        if (v > 0xffffffffULL) return std::to_string(v);
        return v;
    }
    Json write(std::int64_t v) const {
        if (v > std::numeric_limits<std::int32_t>::max() || v < std::numeric_limits<std::int32_t>::min())
            return std::to_string(v);
        return v;
    }
    Json write(const std::string& s) const { return s; }
    Json write(const Blob& b) const { return crypto::to_hex(b.data); }
    template <std::size_t N>
    Json write(const FixedBytes<N>& b) const {
        return crypto::to_hex(b.data);
    }
    Json write(const TimePointSec& t) const { return to_iso_string(t); }
    template <std::uint8_t S, std::uint8_t T>
    Json write(const ObjectIdT<S, T>& id) const {
        return to_string(id);
    }
    Json write(const ObjectId& id) const { return to_string(id); }
    Json write(const VoteId& v) const {
        return std::to_string(v.content & 0xff) + ":" + std::to_string(v.content >> 8);
    }
    Json write(const PublicKey& k) const { return k.to_string(opt_.key_prefix); }
    Json write(const Address& a) const { return crypto::address_to_string(a.bytes, opt_.key_prefix); }
    Json write(const Signature& s) const { return crypto::to_hex(s); }
    Json write(const FutureExtensions&) const { return Json::array(); }
    Json write(const VoidT&) const { return Json::array(); }
    Json write(const SpecialAuthority& sa) const {
        Json body = Json::object();
        if (sa.tag == 1) {
            body["asset"] = write(sa.asset);
            body["num_top_holders"] = write(sa.num_top_holders);
        }
        return Json::array({sa.tag, std::move(body)});
    }
    Json write(const HtlcHash& h) const { return Json::array({h.tag, crypto::to_hex(h.digest)}); }
    Json write(const Predicate& p) const {
        Json body = Json::object();
        switch (p.tag) {
            case 0: body["account_id"] = write(p.account_id); body["name"] = p.text; break;
            case 1: body["asset_id"] = write(p.asset_id); body["symbol"] = p.text; break;
            default: body["id"] = write(p.block_id); break;
        }
        return Json::array({p.tag, std::move(body)});
    }
    Json write(const Operation& op) const {
        return std::visit(
            [this](const auto& o) { return Json::array({std::decay_t<decltype(o)>::tag, write(o)}); }, op);
    }
    template <class T>
    Json write(const std::optional<T>& o) const {
        return o ? write(*o) : Json();
    }
    template <class T>
    Json write(const std::vector<T>& v) const {
        Json a = Json::array();
        for (const auto& e : v) a.push_back(write(e));
        return a;
    }
    template <class T, class C>
    Json write(const FlatSet<T, C>& s) const {
        return write(s.items);
    }
    template <class K, class V, class C>
    Json write(const FlatMap<K, V, C>& m) const {
        Json a = Json::array();
        for (const auto& [k, v] : m.items) a.push_back(Json::array({write(k), write(v)}));
        return a;
    }
    template <class T>
    Json write(const Extension<T>& e) const {
        Json o = Json::object();
        auto emit = [this, &o](std::string_view name, const auto& f) {
            if (f) o[std::string(name)] = write(*f);
        };
        T::fields(e.value, emit);
        return o;
    }
    template <class T>
        requires requires(const T& t, int& v) { T::fields(t, v); }
    Json write(const T& value) const {
        Json o = Json::object();
        auto emit = [this, &o](std::string_view name, const auto& f) {
            if constexpr (IsOptional<std::decay_t<decltype(f)>>::value) {
                if (f) o[std::string(name)] = write(*f);  // fc omits absent optionals
            } else {
                o[std::string(name)] = write(f);
            }
        };
        T::fields(value, emit);
        return o;
    }

private:
    const JsonOptions& opt_;
};

// ---------------------------------------------------------------------------------------------
// Input

class JsonReader {
public:
    explicit JsonReader(const JsonOptions& opt) : opt_(opt) {}

    template <class T>
    void operator()(std::string_view name, T& value) {
        // Called for object fields: j_ is the enclosing object.
        const Json* parent = current_;
        auto it = parent->find(name);
        if (it == parent->end() || it->is_null()) {
            value = T{};  // fc: missing keys keep their default
            return;
        }
        path_.push_back(Segment{name, -1});
        current_ = &*it;
        read(*it, value);
        current_ = parent;
        path_.pop_back();
    }

    [[noreturn]] void fail(const std::string& what) const { throw ProtocolError(path(), what); }

    std::string path() const {
        std::string out;
        for (const auto& s : path_) {
            if (s.index >= 0) {
                out += "[" + std::to_string(s.index) + "]";
            } else {
                if (!out.empty()) out += ".";
                out += s.name;
            }
        }
        return out;
    }

    static std::string describe(const Json& j) {
        std::string s = j.dump();
        if (s.size() > 60) s = s.substr(0, 57) + "...";
        return s;
    }

    template <class Int>
    Int read_int(const Json& j) {
        // fc accepts numbers and numeric strings for every integer type.
        if (j.is_number_integer()) {
            if constexpr (std::is_signed_v<Int>) {
                if (j.is_number_unsigned()) {
                    auto u = j.get<std::uint64_t>();
                    if (u > std::uint64_t(std::numeric_limits<Int>::max())) fail("out of range: " + describe(j));
                    return Int(u);
                }
                auto v = j.get<std::int64_t>();
                if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max())
                    fail("out of range: " + describe(j));
                return Int(v);
            } else {
                if (!j.is_number_unsigned()) fail("expected a non-negative integer, got " + describe(j));
                auto u = j.get<std::uint64_t>();
                if (u > std::numeric_limits<Int>::max()) fail("out of range: " + describe(j));
                return Int(u);
            }
        }
        if (j.is_string()) {
            const auto& s = j.get_ref<const std::string&>();
            Int v{};
            auto r = std::from_chars(s.data(), s.data() + s.size(), v);
            if (r.ec == std::errc::result_out_of_range) fail("out of range: " + describe(j));
            if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || s.empty())
                fail("expected an integer, got " + describe(j));
            return v;
        }
        fail("expected an integer, got " + describe(j));
    }

    void read(const Json& j, bool& v) {
        if (j.is_boolean()) {
            v = j.get<bool>();
        } else if (j.is_number_integer()) {
            v = j.get<std::int64_t>() != 0;
        } else if (j.is_string() && (j == "true" || j == "false")) {
            v = j == "true";
        } else {
            fail("expected a boolean, got " + describe(j));
        }
    }
    void read(const Json& j, std::uint8_t& v) { v = read_int<std::uint8_t>(j); }
    void read(const Json& j, std::uint16_t& v) { v = read_int<std::uint16_t>(j); }
    void read(const Json& j, std::uint32_t& v) { v = read_int<std::uint32_t>(j); }
    void read(const Json& j, std::uint64_t& v) { v = read_int<std::uint64_t>(j); }
    void read(const Json& j, std::int64_t& v) { v = read_int<std::int64_t>(j); }
    void read(const Json& j, std::string& s) {
        if (!j.is_string()) fail("expected a string, got " + describe(j));
        s = j.get<std::string>();
    }
    void read(const Json& j, Blob& b) {
        if (!j.is_string()) fail("expected a hex string, got " + describe(j));
        auto bytes = crypto::from_hex(j.get_ref<const std::string&>());
        if (!bytes) fail("expected a hex string, got " + describe(j));
        b.data = std::move(*bytes);
    }
    template <std::size_t N>
    void read(const Json& j, FixedBytes<N>& b) {
        if (!j.is_string()) fail("expected " + std::to_string(2 * N) + " hex digits, got " + describe(j));
        auto bytes = crypto::from_hex_fixed<N>(j.get_ref<const std::string&>());
        if (!bytes) fail("expected " + std::to_string(2 * N) + " hex digits, got " + describe(j));
        b.data = *bytes;
    }
    void read(const Json& j, TimePointSec& t) {
        if (!j.is_string()) fail("expected a time like \"2016-04-06T08:29:27\", got " + describe(j));
        auto v = from_iso_string(j.get_ref<const std::string&>());
        if (!v) fail("expected a time like \"2016-04-06T08:29:27\", got " + describe(j));
        t = *v;
    }
    template <std::uint8_t S, std::uint8_t T>
    void read(const Json& j, ObjectIdT<S, T>& id) {
        std::string expected = "expected an id like \"" + std::to_string(S) + "." + std::to_string(T) + ".N\", got ";
        if (!j.is_string()) fail(expected + describe(j));
        auto parsed = parse_object_id(j.get_ref<const std::string&>());
        if (!parsed || parsed->space != S || parsed->type != T) fail(expected + describe(j));
        id.instance = parsed->instance;
    }
    void read(const Json& j, ObjectId& id) {
        if (!j.is_string()) fail("expected an object id like \"1.2.N\", got " + describe(j));
        auto parsed = parse_object_id(j.get_ref<const std::string&>());
        if (!parsed) fail("expected an object id like \"1.2.N\", got " + describe(j));
        id = *parsed;
    }
    void read(const Json& j, VoteId& v) {
        if (!j.is_string()) fail("expected a vote id like \"1:30\", got " + describe(j));
        const auto& s = j.get_ref<const std::string&>();
        auto colon = s.find(':');
        std::uint32_t type = 0, inst = 0;
        if (colon == std::string::npos ||
            std::from_chars(s.data(), s.data() + colon, type).ptr != s.data() + colon ||
            std::from_chars(s.data() + colon + 1, s.data() + s.size(), inst).ptr != s.data() + s.size() ||
            type > 0xff || inst > 0xffffff)
            fail("expected a vote id like \"1:30\", got " + describe(j));
        v.content = type | (inst << 8);
    }
    void read(const Json& j, PublicKey& k) {
        if (!j.is_string()) fail("expected a public key string, got " + describe(j));
        std::string err;
        auto key = PublicKey::parse(j.get_ref<const std::string&>(), &err,
                                    opt_.require_prefix_on_input ? std::string_view(opt_.key_prefix) : std::string_view());
        if (!key) fail(err);
        k = *key;
    }
    void read(const Json& j, Address& a) {
        if (!j.is_string()) fail("expected an address string, got " + describe(j));
        auto addr = crypto::parse_address(j.get_ref<const std::string&>(),
                                          opt_.require_prefix_on_input ? std::string_view(opt_.key_prefix) : std::string_view());
        if (!addr) fail("bad address " + describe(j));
        a.bytes = *addr;
    }
    void read(const Json& j, Signature& s) {
        if (!j.is_string()) fail("expected 130 hex digits, got " + describe(j));
        auto bytes = crypto::from_hex_fixed<65>(j.get_ref<const std::string&>());
        if (!bytes) fail("expected 130 hex digits, got " + describe(j));
        s = *bytes;
    }
    void read(const Json& j, FutureExtensions&) {
        if (!(j.is_array() && j.empty()) && !(j.is_object() && j.empty()))
            fail("future_extensions must be empty ([]), got " + describe(j));
    }
    void read(const Json&, VoidT&) {}
    void read(const Json& j, SpecialAuthority& sa) {
        std::uint32_t tag = 0;
        const Json& body = variant_body(j, tag, 1);
        sa = SpecialAuthority{};
        sa.tag = tag;
        if (sa.tag == 1) {
            with_object(body, [&] {
                (*this)("asset", sa.asset);
                (*this)("num_top_holders", sa.num_top_holders);
            });
        }
    }
    void read(const Json& j, HtlcHash& h) {
        const Json& body = variant_body(j, h.tag, 3);
        std::size_t n = h.tag == 2 ? 32 : 20;
        path_.push_back(Segment{{}, 1});
        if (!body.is_string()) fail("expected " + std::to_string(2 * n) + " hex digits, got " + describe(body));
        auto bytes = crypto::from_hex(body.get_ref<const std::string&>());
        if (!bytes || bytes->size() != n) fail("expected " + std::to_string(2 * n) + " hex digits, got " + describe(body));
        path_.pop_back();
        h.digest = std::move(*bytes);
    }
    void read(const Json& j, Predicate& p) {
        std::uint32_t tag = 0;
        const Json& body = variant_body(j, tag, 2);
        p = Predicate{};
        p.tag = tag;
        with_object(body, [&] {
            switch (tag) {
                case 0: (*this)("account_id", p.account_id); (*this)("name", p.text); break;
                case 1: (*this)("asset_id", p.asset_id); (*this)("symbol", p.text); break;
                default: (*this)("id", p.block_id); break;
            }
        });
    }
    void read(const Json& j, Operation& op) {
        if (!j.is_array() || j.size() != 2)
            fail("expected an operation as [tag, {...}], got " + describe(j));
        const Json& tag_json = j[0];
        if (!tag_json.is_number_unsigned())
            fail("operation tag must be a number (fc takes no names), got " + describe(tag_json));
        auto tag = tag_json.get<std::uint64_t>();
        if (tag > 0xffff || !make_operation(std::uint32_t(tag), op))
            fail("operation " + std::to_string(tag) + " (" + std::string(op_name_for_tag(std::uint32_t(tag))) +
                 ") is not supported");
        path_.push_back(Segment{{}, 1});
        std::visit([&](auto& o) { read(j[1], o); }, op);
        path_.pop_back();
    }
    template <class T>
    void read(const Json& j, std::optional<T>& o) {
        if (j.is_null()) {
            o.reset();
            return;
        }
        o.emplace();
        read(j, *o);
    }
    template <class T>
    void read(const Json& j, std::vector<T>& v) {
        if (!j.is_array()) fail("expected an array, got " + describe(j));
        v.clear();
        v.reserve(j.size());
        for (std::size_t i = 0; i < j.size(); ++i) {
            path_.push_back(Segment{{}, long(i)});
            read(j[i], v.emplace_back());
            path_.pop_back();
        }
    }
    template <class T, class C>
    void read(const Json& j, FlatSet<T, C>& s) {
        read(j, s.items);
        s.normalize();
    }
    template <class K, class V, class C>
    void read(const Json& j, FlatMap<K, V, C>& m) {
        if (!j.is_array()) fail("expected an array of [key, value] pairs, got " + describe(j));
        m.items.clear();
        for (std::size_t i = 0; i < j.size(); ++i) {
            path_.push_back(Segment{{}, long(i)});
            const Json& pair = j[i];
            if (!pair.is_array() || pair.size() != 2) fail("expected a [key, value] pair, got " + describe(pair));
            auto& [k, v] = m.items.emplace_back();
            path_.push_back(Segment{{}, 0});
            read(pair[0], k);
            path_.back().index = 1;
            read(pair[1], v);
            path_.pop_back();
            path_.pop_back();
        }
        m.normalize();
    }
    template <class T>
    void read(const Json& j, Extension<T>& e) {
        e.value = T{};
        if (j.is_array() && j.empty()) return;  // the node accepts [] for an empty extension
        if (!j.is_object()) fail("expected an extension object {...}, got " + describe(j));
        with_object(j, [&] { T::fields(e.value, *this); });
    }
    template <class T>
        requires requires(T& t, int& v) { T::fields(t, v); }
    void read(const Json& j, T& value) {
        if (!j.is_object()) fail("expected an object, got " + describe(j));
        with_object(j, [&] { T::fields(value, *this); });
    }

private:
    struct Segment {
        std::string_view name;
        long index;
    };

    template <class F>
    void with_object(const Json& j, F&& f) {
        if (!j.is_object()) fail("expected an object, got " + describe(j));
        const Json* saved = current_;
        current_ = &j;
        f();
        current_ = saved;
    }

    const Json& variant_body(const Json& j, std::uint32_t& tag, std::uint32_t max_tag) {
        if (!j.is_array() || j.size() != 2 || !j[0].is_number_unsigned())
            fail("expected [type, value], got " + describe(j));
        auto t = j[0].get<std::uint64_t>();
        if (t > max_tag) fail("unknown type " + std::to_string(t));
        tag = std::uint32_t(t);
        return j[1];
    }

    const JsonOptions& opt_;
    const Json* current_ = nullptr;
    std::vector<Segment> path_;
};

}  // namespace

Json to_json(const Transaction& tx, const JsonOptions& opt) {
    return JsonWriter(opt).to(tx);
}

Json to_json(const SignedTransaction& tx, const JsonOptions& opt) {
    return JsonWriter(opt).to(tx);
}

Json to_json(const Operation& op, const JsonOptions& opt) {
    return JsonWriter(opt).to(op);
}

SignedTransaction signed_transaction_from_json(const Json& j, const JsonOptions& opt) {
    SignedTransaction tx;
    JsonReader r(opt);
    r.read(j, tx);
    return tx;
}

Transaction transaction_from_json(const Json& j, const JsonOptions& opt) {
    Transaction tx;
    JsonReader r(opt);
    r.read(j, tx);
    return tx;
}

Operation operation_from_json(const Json& j, const JsonOptions& opt) {
    Operation op;
    JsonReader r(opt);
    r.read(j, op);
    return op;
}

std::string to_json_text(const SignedTransaction& tx, const JsonOptions& opt) {
    return to_json(tx, opt).dump();
}

}  // namespace bts::protocol
