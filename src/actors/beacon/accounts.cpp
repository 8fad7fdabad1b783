// Signing accounts: key files (mode-checked), inline keys and devnet-derived keys.
#include "actors/beacon/accounts.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace bts::beacon {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// "stress-7" → ("stress-", 7).
bool split_numbered(std::string_view name, std::string_view& prefix, unsigned& number) {
    std::size_t i = name.size();
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') --i;
    if (i == name.size() || name.size() - i > 6) return false;
    prefix = name.substr(0, i);
    auto r = std::from_chars(name.data() + i, name.data() + name.size(), number);
    return r.ec == std::errc();
}

bool valid_account_name(std::string_view n) {
    if (n.empty() || n.size() > 63) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace

std::string devnet_seed(std::string_view name) {
    return "bts-stress-devnet:" + std::string(name);
}

util::Result<std::vector<AccountKey>> devnet_accounts(std::string_view spec, const crypto::Context& ctx) {
    std::vector<std::string> names;
    std::string_view rest = spec;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (item.empty()) continue;
        if (auto dots = item.find(".."); dots != std::string_view::npos) {
            std::string_view a = trim(item.substr(0, dots)), b = trim(item.substr(dots + 2));
            std::string_view pa, pb;
            unsigned na = 0, nb = 0;
            if (!split_numbered(a, pa, na)) return util::Error{"devnet accounts: \"" + std::string(a) + "\": expected NAME-N"};
            // "stress-0..19" and "stress-0..stress-19" are both fine.
            if (!split_numbered(b, pb, nb)) return util::Error{"devnet accounts: \"" + std::string(b) + "\": expected NAME-N or N"};
            if (!pb.empty() && pb != pa)
                return util::Error{"devnet accounts: \"" + std::string(item) + "\": both ends need the same prefix"};
            if (nb < na) return util::Error{"devnet accounts: \"" + std::string(item) + "\": range goes backwards"};
            if (nb - na >= 100000) return util::Error{"devnet accounts: \"" + std::string(item) + "\": too many accounts"};
            for (unsigned i = na; i <= nb; ++i) names.push_back(std::string(pa) + std::to_string(i));
        } else {
            names.emplace_back(item);
        }
    }
    if (names.empty()) return util::Error{"devnet accounts: no account names in \"" + std::string(spec) + "\""};
    std::vector<AccountKey> out;
    out.reserve(names.size());
    std::set<std::string> seen;
    for (auto& n : names) {
        if (!valid_account_name(n)) return util::Error{"devnet accounts: \"" + n + "\" is not a valid account name"};
        if (!seen.insert(n).second) return util::Error{"devnet accounts: \"" + n + "\" listed twice"};
        out.push_back({n, crypto::PrivateKey::from_seed(ctx, devnet_seed(n))});
    }
    return out;
}

util::Result<std::vector<AccountKey>> parse_key_lines(std::string_view text, std::string_view source,
                                                      const crypto::Context& ctx) {
    std::vector<AccountKey> out;
    std::set<std::string> seen;
    std::size_t line_no = 0;
    auto where = [&] { return std::string(source) + ": line " + std::to_string(line_no) + ": "; };
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;
        auto sp = line.find_first_of(" \t");
        if (sp == std::string_view::npos) return util::Error{where() + "expected \"account-name WIF\""};
        std::string_view name = line.substr(0, sp);
        std::string_view wif = trim(line.substr(sp));
        if (wif.find_first_of(" \t") != std::string_view::npos)
            return util::Error{where() + "expected exactly two fields, \"account-name WIF\""};
        if (!valid_account_name(name))
            return util::Error{where() + "the account name is not valid (lower-case letters, digits, '-', '.')"};
        std::string why;
        auto key = crypto::PrivateKey::from_wif(ctx, wif, &why);
        if (!key) return util::Error{where() + "invalid WIF private key (" + why + ")"};
        if (!seen.insert(std::string(name)).second)
            return util::Error{where() + "account \"" + std::string(name) + "\" listed twice"};
        out.push_back({std::string(name), std::move(*key)});
    }
    if (out.empty()) return util::Error{std::string(source) + ": no keys"};
    return out;
}

util::Result<std::vector<AccountKey>> load_key_file(const std::string& path, const crypto::Context& ctx) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return util::Error{path + ": cannot read: " + std::strerror(errno)};
    if (!S_ISREG(st.st_mode)) return util::Error{path + ": not a regular file"};
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return util::Error{path + ": key file mode " + mode +
                           " lets group or others read it; run: chmod 600 " + path};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return util::Error{path + ": cannot read: " + std::strerror(errno)};
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto r = parse_key_lines(text, path, ctx);
    crypto::secure_wipe(text.data(), text.size());
    return r;
}

util::Result<std::vector<AccountKey>> resolve_accounts(const RunConfig& config, const crypto::Context& ctx) {
    const std::string& a = config.accounts;
    if (a.rfind("devnet:", 0) == 0) return devnet_accounts(std::string_view(a).substr(7), ctx);
    if (a.rfind("file:", 0) == 0) return load_key_file(a.substr(5), ctx);
    if (a == "inline") {
        std::vector<AccountKey> out;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < config.inline_keys.size(); ++i) {
            const auto& k = config.inline_keys[i];
            std::string where = config.origin + ": beacon.key[" + std::to_string(i) + "]: ";
            if (!valid_account_name(k.name)) return util::Error{where + "the account name is not valid"};
            std::string why;
            auto key = crypto::PrivateKey::from_wif(ctx, k.wif, &why);
            if (!key) return util::Error{where + "invalid WIF private key (" + why + ")"};
            if (!seen.insert(k.name).second) return util::Error{where + "account \"" + k.name + "\" listed twice"};
            out.push_back({k.name, std::move(*key)});
        }
        if (out.empty()) return util::Error{config.origin + ": beacon.key: no keys"};
        return out;
    }
    return util::Error{"beacon.accounts: unknown source \"" + a + "\""};
}

}  // namespace bts::beacon
