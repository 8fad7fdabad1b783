// bts-tx: encode, decode, hash, sign and verify BitShares transactions — for debugging what a
// node rejects. JSON or hex on stdin, result on stdout, one-line errors on stderr (exit 2).
#include "common/protocol/json.hpp"
#include "common/protocol/raw.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

namespace {

using namespace bts;
using protocol::Json;

constexpr const char* kUsage = R"(usage: bts-tx COMMAND [OPTIONS] < INPUT

Encode, decode, hash, sign and verify BitShares (Graphene) transactions.
Input is read from stdin; the result goes to stdout.

Commands:
  encode [--signed]          JSON transaction -> hex of its packed bytes
                             (unsigned bytes unless --signed)
  decode                     hex (signed or unsigned) -> JSON transaction
  id                         JSON transaction -> transaction id (40 hex)
  digest --chain-id ID       JSON transaction -> signing digest sha256(chain_id || tx)
  sign --chain-id ID --key-file FILE
                             JSON transaction -> signed JSON (appends one fc-canonical
                             signature per WIF key in FILE, one per line; FILE must not be
                             readable by group or others)
  verify --chain-id ID       signed JSON -> the public keys its signatures recover to
  key                        WIF on stdin -> public key and address
  keygen                     a new random key: WIF, public key, address

Options:
  --chain-id ID   64 hex digits, or one of: mainnet, testnet
  --prefix P      key prefix for output and input checks (default BTS; TEST on testnet builds)
  --pretty        indent JSON output
  --help          this text
  --version       print the version

Exit codes: 0 ok, 1 verification failed, 2 bad input or usage.
)";

struct Options {
    std::string command;
    bool signed_bytes = false;
    bool pretty = false;
    std::string chain_id;
    std::string key_file;
    std::string prefix = "BTS";
    bool prefix_given = false;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_stdin() {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string trim(std::string s) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

Json read_json_stdin() {
    std::string text = read_stdin();
    try {
        return Json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw protocol::ProtocolError("stdin", std::string("invalid JSON at byte ") + std::to_string(e.byte));
    }
}

protocol::ChainId parse_chain_id(const std::string& text) {
    static const std::map<std::string, std::string> known = {
        {"mainnet", "4018d7844c78f6a6c41c6a552b898022310fc5dec06da467ee7905a8dad512c8"},
        {"testnet", "39f5e2ede1f8bc1a3a54a7914414e3779e33193f1f5693510e73cb7a87617447"},
    };
    if (text.empty()) throw UsageError("--chain-id is required for this command");
    auto it = known.find(text);
    auto id = crypto::from_hex_fixed<32>(it != known.end() ? it->second : text);
    if (!id) throw UsageError("--chain-id: expected 64 hex digits or mainnet/testnet, got \"" + text + "\"");
    return *id;
}

void print_json(const Json& j, const Options& opt) {
    std::cout << (opt.pretty ? j.dump(2) : j.dump()) << "\n";
}

protocol::JsonOptions json_options(const Options& opt) {
    return protocol::JsonOptions{.key_prefix = opt.prefix, .require_prefix_on_input = opt.prefix_given};
}

std::vector<crypto::PrivateKey> load_key_file(const crypto::Context& ctx, const std::string& path) {
    if (path.empty()) throw UsageError("--key-file is required for sign (keys are never taken from the command line)");
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) throw UsageError(path + ": cannot read key file");
    if (st.st_mode & 077)
        throw UsageError(path + ": key file is readable by group or others; run: chmod 600 " + path);
    std::ifstream in(path);
    std::vector<crypto::PrivateKey> keys;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        std::string err;
        auto key = crypto::PrivateKey::from_wif(ctx, line, &err);
        // Never echo the line: it is a secret, even when malformed.
        if (!key) throw UsageError(path + ":" + std::to_string(line_no) + ": not a valid WIF key (" + err + ")");
        keys.push_back(*key);
    }
    if (keys.empty()) throw UsageError(path + ": no keys in key file");
    return keys;
}

int run(const Options& opt) {
    if (opt.command == "encode") {
        auto tx = protocol::signed_transaction_from_json(read_json_stdin(), json_options(opt));
        auto bytes = opt.signed_bytes ? protocol::pack_signed(tx) : protocol::pack_unsigned(tx);
        std::cout << crypto::to_hex(bytes) << "\n";
        return 0;
    }
    if (opt.command == "decode") {
        std::string text = trim(read_stdin());
        auto bytes = crypto::from_hex(text);
        if (!bytes) throw protocol::ProtocolError("stdin", "expected hex bytes");
        auto tx = protocol::unpack_signed(*bytes);
        print_json(protocol::to_json(tx, json_options(opt)), opt);
        return 0;
    }
    if (opt.command == "id") {
        auto tx = protocol::transaction_from_json(read_json_stdin(), json_options(opt));
        std::cout << crypto::to_hex(protocol::transaction_id(tx).data) << "\n";
        return 0;
    }
    if (opt.command == "digest") {
        auto chain = parse_chain_id(opt.chain_id);
        auto tx = protocol::transaction_from_json(read_json_stdin(), json_options(opt));
        std::cout << crypto::to_hex(protocol::signing_digest(chain, tx)) << "\n";
        return 0;
    }
    if (opt.command == "sign") {
        auto chain = parse_chain_id(opt.chain_id);
        crypto::Context ctx;
        auto keys = load_key_file(ctx, opt.key_file);
        auto tx = protocol::signed_transaction_from_json(read_json_stdin(), json_options(opt));
        std::vector<const crypto::PrivateKey*> ptrs;
        for (const auto& k : keys) ptrs.push_back(&k);
        (void)protocol::sign(tx, chain, ptrs, ctx);
        print_json(protocol::to_json(tx, json_options(opt)), opt);
        return 0;
    }
    if (opt.command == "verify") {
        auto chain = parse_chain_id(opt.chain_id);
        crypto::Context ctx;
        auto tx = protocol::signed_transaction_from_json(read_json_stdin(), json_options(opt));
        if (tx.signatures.empty()) {
            std::cerr << "bts-tx: signatures: transaction has no signatures\n";
            return 1;
        }
        std::vector<protocol::PublicKey> signers;
        try {
            signers = protocol::recover_signers(tx, chain, ctx);
        } catch (const protocol::ProtocolError& e) {
            std::cerr << "bts-tx: " << e.what() << "\n";
            return 1;
        }
        Json out = Json::object();
        out["id"] = crypto::to_hex(protocol::transaction_id(tx).data);
        out["signers"] = Json::array();
        for (const auto& k : signers) out["signers"].push_back(k.to_string(opt.prefix));
        print_json(out, opt);
        return 0;
    }
    if (opt.command == "key") {
        crypto::Context ctx;
        std::string err;
        auto key = crypto::PrivateKey::from_wif(ctx, trim(read_stdin()), &err);
        if (!key) throw protocol::ProtocolError("stdin", "not a valid WIF key (" + err + ")");
        Json out = Json::object();
        out["public_key"] = key->public_key().to_string(opt.prefix);
        out["address"] = key->public_key().address_string(opt.prefix);
        print_json(out, opt);
        return 0;
    }
    if (opt.command == "keygen") {
        crypto::Context ctx;
        auto key = crypto::PrivateKey::generate(ctx);
        Json out = Json::object();
        out["wif"] = key.to_wif();
        out["public_key"] = key.public_key().to_string(opt.prefix);
        out["address"] = key.public_key().address_string(opt.prefix);
        print_json(out, opt);
        return 0;
    }
    throw UsageError("unknown command \"" + opt.command + "\" (see bts-tx --help)");
}

Options parse_args(int argc, char** argv) {
    Options opt;
    auto value = [&](int& i, const std::string& flag) -> std::string {
        if (i + 1 >= argc) throw UsageError(flag + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::string inline_value;
        if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = a.substr(eq + 1);
            a = a.substr(0, eq);
            // Re-inject the value as if it were the next argument.
        }
        auto take = [&](const std::string& flag) { return inline_value.empty() ? value(i, flag) : inline_value; };
        if (a == "--help" || a == "-h") {
            opt.command = "help";
            return opt;
        } else if (a == "--version") {
            opt.command = "version";
            return opt;
        } else if (a == "--signed") {
            opt.signed_bytes = true;
        } else if (a == "--pretty") {
            opt.pretty = true;
        } else if (a == "--chain-id") {
            opt.chain_id = take(a);
        } else if (a == "--key-file") {
            opt.key_file = take(a);
        } else if (a == "--prefix") {
            opt.prefix = take(a);
            opt.prefix_given = true;
        } else if (a == "--key" || a == "--wif") {
            throw UsageError(a + ": keys are never taken from the command line; use --key-file FILE");
        } else if (a.rfind("-", 0) == 0) {
            throw UsageError("unknown option " + a + " (see bts-tx --help)");
        } else if (opt.command.empty()) {
            opt.command = a;
        } else {
            throw UsageError("unexpected argument \"" + a + "\"");
        }
    }
    if (opt.command.empty()) throw UsageError("no command given (see bts-tx --help)");
    return opt;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options opt = parse_args(argc, argv);
        if (opt.command == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (opt.command == "version") {
            std::cout << "bts-tx " << BTS_VERSION << "\n";
            return 0;
        }
        return run(opt);
    } catch (const UsageError& e) {
        std::cerr << "bts-tx: " << e.what() << "\n";
        return 2;
    } catch (const bts::protocol::ProtocolError& e) {
        std::cerr << "bts-tx: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "bts-tx: " << e.what() << "\n";
        return 2;
    }
}
