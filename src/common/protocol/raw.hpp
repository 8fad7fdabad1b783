// fc::raw binary serialization: a Writer that appends the wire bytes of any protocol value and
// a Reader that parses them back with bounds checks, naming the field path on errors.
#pragma once

#include "common/protocol/operations.hpp"

#include <cstring>
#include <string>
#include <type_traits>

namespace bts::protocol {

// ---------------------------------------------------------------------------------------------
// Writer

class RawWriter {
public:
    explicit RawWriter(Bytes& out) : out_(out) {}

    void bytes(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        out_.insert(out_.end(), b, b + n);
    }
    template <class Int>
    void fixed(Int v) {
        static_assert(std::is_integral_v<Int>);
        std::uint8_t buf[sizeof(Int)];
        auto u = static_cast<std::make_unsigned_t<Int>>(v);
        for (std::size_t i = 0; i < sizeof(Int); ++i) buf[i] = std::uint8_t(u >> (8 * i));
        bytes(buf, sizeof(Int));
    }
    void varint(std::uint64_t v) {
        do {
            std::uint8_t b = v & 0x7f;
            v >>= 7;
            if (v) b |= 0x80;
            out_.push_back(b);
        } while (v);
    }

    // Field visitor entry point: v("name", value).
    template <class T>
    void operator()(std::string_view, const T& value) { write(value); }

    void write(bool v) { out_.push_back(v ? 1 : 0); }
    void write(std::uint8_t v) { out_.push_back(v); }
    void write(std::uint16_t v) { fixed(v); }
    void write(std::uint32_t v) { fixed(v); }
    void write(std::uint64_t v) { fixed(v); }
    void write(std::int64_t v) { fixed(v); }
    void write(const std::string& s) {
        varint(s.size());
        bytes(s.data(), s.size());
    }
    void write(const Blob& b) {
        varint(b.data.size());
        bytes(b.data.data(), b.data.size());
    }
    template <std::size_t N>
    void write(const FixedBytes<N>& b) { bytes(b.data.data(), N); }
    void write(const TimePointSec& t) { fixed(t.seconds); }
    template <std::uint8_t S, std::uint8_t T>
    void write(const ObjectIdT<S, T>& id) { varint(id.instance); }
    void write(const ObjectId& id) { fixed(id.packed()); }
    void write(const VoteId& v) { fixed(v.content); }
    void write(const PublicKey& k) { bytes(k.bytes().data(), 33); }
    void write(const Address& a) { bytes(a.bytes.data(), a.bytes.size()); }
    void write(const Signature& s) { bytes(s.data(), s.size()); }
    void write(const FutureExtensions&) { out_.push_back(0); }
    void write(const VoidT&) {}
    void write(const SpecialAuthority& sa) {
        varint(sa.tag);
        if (sa.tag == 1) {
            write(sa.asset);
            write(sa.num_top_holders);
        }
    }
    void write(const HtlcHash& h) {
        varint(h.tag);
        bytes(h.digest.data(), h.digest.size());
    }
    void write(const Predicate& p) {
        varint(p.tag);
        switch (p.tag) {
            case 0: write(p.account_id); write(p.text); break;
            case 1: write(p.asset_id); write(p.text); break;
            default: write(p.block_id); break;
        }
    }
    template <class T>
    void write(const std::optional<T>& o) {
        write(bool(o));
        if (o) write(*o);
    }
    template <class T>
    void write(const std::vector<T>& v) {
        varint(v.size());
        for (const auto& e : v) write(e);
    }
    template <class T, class C>
    void write(const FlatSet<T, C>& s) { write(s.items); }
    template <class K, class V, class C>
    void write(const FlatMap<K, V, C>& m) {
        varint(m.items.size());
        for (const auto& [k, v] : m.items) {
            write(k);
            write(v);
        }
    }
    template <class T>
    void write(const Extension<T>& e) {
        std::uint64_t present = 0;
        auto count = [&present](std::string_view, const auto& f) { present += bool(f); };
        T::fields(e.value, count);
        varint(present);
        std::uint64_t index = 0;
        auto emit = [this, &index](std::string_view, const auto& f) {
            if (f) {
                varint(index);
                write(*f);
            }
            ++index;
        };
        T::fields(e.value, emit);
    }
    void write(const Operation& op) {
        std::visit(
            [this](const auto& o) {
                varint(std::decay_t<decltype(o)>::tag);
                write(o);
            },
            op);
    }
    template <class T>
        requires requires(const T& t, int& v) { T::fields(t, v); }
    void write(const T& value) {
        T::fields(value, *this);
    }

private:
    Bytes& out_;
};

template <class T>
void pack(Bytes& out, const T& value) {
    RawWriter w(out);
    w.write(value);
}
template <class T>
[[nodiscard]] Bytes pack(const T& value) {
    Bytes out;
    pack(out, value);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

class RawReader {
public:
    RawReader(const std::uint8_t* data, std::size_t size) : p_(data), begin_(data), end_(data + size) {}
    explicit RawReader(const Bytes& b) : RawReader(b.data(), b.size()) {}

    std::size_t offset() const { return std::size_t(p_ - begin_); }
    std::size_t remaining() const { return std::size_t(end_ - p_); }
    bool at_end() const { return p_ == end_; }

    // Current field path for error messages, e.g. "operations[0][1].amount".
    std::string path() const;
    [[noreturn]] void fail(const std::string& what) const;

    void bytes(void* dst, std::size_t n) {
        if (remaining() < n) fail("unexpected end of data at byte " + std::to_string(offset()));
        if (n == 0) return;  // dst may be an empty blob's null data(): memcpy(nullptr, …, 0) is UB (fuzz)
        std::memcpy(dst, p_, n);
        p_ += n;
    }
    template <class Int>
    Int fixed() {
        std::uint8_t buf[sizeof(Int)];
        bytes(buf, sizeof(Int));
        std::make_unsigned_t<Int> u = 0;
        for (std::size_t i = 0; i < sizeof(Int); ++i) u |= std::make_unsigned_t<Int>(buf[i]) << (8 * i);
        return static_cast<Int>(u);
    }
    std::uint64_t varint();
    // A length prefix, refused when it exceeds what is left (so garbage cannot make us allocate).
    std::size_t length(std::size_t min_element_size = 1);

    template <class T>
    void operator()(std::string_view name, T& value) {
        path_.push_back(Segment{name, -1});
        read(value);
        path_.pop_back();
    }

    void read(bool& v);
    void read(std::uint8_t& v) { bytes(&v, 1); }
    void read(std::uint16_t& v) { v = fixed<std::uint16_t>(); }
    void read(std::uint32_t& v) { v = fixed<std::uint32_t>(); }
    void read(std::uint64_t& v) { v = fixed<std::uint64_t>(); }
    void read(std::int64_t& v) { v = fixed<std::int64_t>(); }
    void read(std::string& s);
    void read(Blob& b);
    template <std::size_t N>
    void read(FixedBytes<N>& b) { bytes(b.data.data(), N); }
    void read(TimePointSec& t) { t.seconds = fixed<std::uint32_t>(); }
    template <std::uint8_t S, std::uint8_t T>
    void read(ObjectIdT<S, T>& id) {
        id.instance = varint();
    }
    void read(ObjectId& id);
    void read(VoteId& v) { v.content = fixed<std::uint32_t>(); }
    void read(PublicKey& k);
    void read(Address& a) { bytes(a.bytes.data(), a.bytes.size()); }
    void read(Signature& s) { bytes(s.data(), s.size()); }
    void read(FutureExtensions&);
    void read(VoidT&) {}
    void read(SpecialAuthority& sa);
    void read(HtlcHash& h);
    void read(Predicate& p);
    void read(Operation& op);
    template <class T>
    void read(std::optional<T>& o) {
        bool present = false;
        read(present);
        if (present) {
            o.emplace();
            read(*o);
        } else {
            o.reset();
        }
    }
    template <class T>
    void read(std::vector<T>& v) {
        std::size_t n = length();
        v.clear();
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            path_.push_back(Segment{{}, static_cast<long>(i)});
            read(v.emplace_back());
            path_.pop_back();
        }
    }
    template <class T, class C>
    void read(FlatSet<T, C>& s) {
        read(s.items);
        s.normalize();
    }
    template <class K, class V, class C>
    void read(FlatMap<K, V, C>& m) {
        std::size_t n = length(2);
        m.items.clear();
        m.items.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            path_.push_back(Segment{{}, static_cast<long>(i)});
            auto& [k, v] = m.items.emplace_back();
            read(k);
            read(v);
            path_.pop_back();
        }
        m.normalize();
    }
    template <class T>
    void read(Extension<T>& e) {
        std::uint64_t present = varint();
        std::uint64_t fields_total = 0;
        auto count = [&fields_total](std::string_view, auto&) { ++fields_total; };
        T::fields(e.value, count);
        if (present > fields_total) fail("extension lists " + std::to_string(present) + " fields, type has " + std::to_string(fields_total));
        e.value = T{};
        std::int64_t last = -1;
        for (std::uint64_t i = 0; i < present; ++i) {
            std::uint64_t which = varint();
            if (which >= fields_total || std::int64_t(which) <= last)
                fail("extension field index " + std::to_string(which) + " out of order or unknown");
            last = std::int64_t(which);
            std::uint64_t index = 0;
            auto fill = [this, &index, which](std::string_view name, auto& f) {
                if (index++ == which) {
                    f.emplace();
                    (*this)(name, *f);
                }
            };
            T::fields(e.value, fill);
        }
    }
    template <class T>
        requires requires(T& t, int& v) { T::fields(t, v); }
    void read(T& value) {
        T::fields(value, *this);
    }

private:
    struct Segment {
        std::string_view name;
        long index;
    };
    const std::uint8_t* p_;
    const std::uint8_t* begin_;
    const std::uint8_t* end_;
    std::vector<Segment> path_;
};

template <class T>
void unpack(const std::uint8_t* data, std::size_t size, T& out) {
    RawReader r(data, size);
    r.read(out);
    if (!r.at_end()) r.fail(std::to_string(r.remaining()) + " trailing bytes after the value");
}

}  // namespace bts::protocol
