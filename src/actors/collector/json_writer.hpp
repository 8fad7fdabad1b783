// Minimal append-only JSON writer for the hot path (bulk documents): no DOM, no allocation
// beyond the output string. Keys are trusted literals; string values are escaped.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace bts::collector {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object() { sep(); out_ += '{'; first_ = true; return *this; }
    JsonWriter& end_object() { out_ += '}'; first_ = false; return *this; }
    JsonWriter& begin_array() { sep(); out_ += '['; first_ = true; return *this; }
    JsonWriter& end_array() { out_ += ']'; first_ = false; return *this; }
    // "key": — the next value or begin_*() follows without a comma.
    JsonWriter& key(std::string_view k) {
        sep();
        out_ += '"';
        out_ += k;
        out_ += "\":";
        first_ = true;
        return *this;
    }
    JsonWriter& str(std::string_view v) { sep(); escape(v); return *this; }
    JsonWriter& u64(std::uint64_t v) { sep(); num(v); return *this; }
    JsonWriter& i64(std::int64_t v) { sep(); num(v); return *this; }
    JsonWriter& dbl(double v) {
        sep();
        if (!std::isfinite(v)) { out_ += "null"; return *this; }
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, r.ptr);
        return *this;
    }
    JsonWriter& boolean(bool v) { sep(); out_ += v ? "true" : "false"; return *this; }
    JsonWriter& raw(std::string_view json) { sep(); out_ += json; return *this; }

    // Shorthands for "key": value.
    JsonWriter& kv(std::string_view k, std::string_view v) { return key(k).str(v); }
    JsonWriter& kv(std::string_view k, const char* v) { return key(k).str(v); }
    JsonWriter& kv(std::string_view k, const std::string& v) { return key(k).str(v); }
    JsonWriter& kv(std::string_view k, std::uint64_t v) { return key(k).u64(v); }
    JsonWriter& kv(std::string_view k, std::uint32_t v) { return key(k).u64(v); }
    JsonWriter& kv(std::string_view k, std::int64_t v) { return key(k).i64(v); }
    JsonWriter& kv(std::string_view k, double v) { return key(k).dbl(v); }
    JsonWriter& kv(std::string_view k, bool v) { return key(k).boolean(v); }

    // JSON string literal of v (quotes included); invalid UTF-8 bytes become U+FFFD.
    static void escape_to(std::string& out, std::string_view v);

private:
    void sep() {
        if (!first_) out_ += ',';
        first_ = false;
    }
    template <class T>
    void num(T v) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out_.append(buf, r.ptr);
    }
    void escape(std::string_view v) { escape_to(out_, v); }

    std::string& out_;
    bool first_ = true;
};

inline void JsonWriter::escape_to(std::string& out, std::string_view v) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    const std::size_t n = v.size();
    while (i < n) {
        auto c = static_cast<unsigned char>(v[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            std::size_t j = i + 1;  // copy a run of plain characters at once
            while (j < n) {
                auto d = static_cast<unsigned char>(v[j]);
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
                ++j;
            }
            out.append(v.data() + i, j - i);
            i = j;
            continue;
        }
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
            }
            ++i;
            continue;
        }
        // Validate one UTF-8 sequence; copy it if well-formed, else emit U+FFFD for the byte.
        std::size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k)
            ok = (static_cast<unsigned char>(v[i + k]) & 0xC0) == 0x80;
        if (ok && len == 3) {
            auto c1 = static_cast<unsigned char>(v[i + 1]);
            ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
        }
        if (ok && len == 4) {
            auto c1 = static_cast<unsigned char>(v[i + 1]);
            ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (ok) {
            out.append(v.data() + i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    out += '"';
}

}  // namespace bts::collector
