// bts-ctl es setup|check and kibana import: templates, ILM policies, cluster checks, saved objects.
#include "tools/bts-ctl/es.hpp"

#include "common/net/http_client.hpp"
#include "common/util/config.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace bts::ctl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr int kUnreachable = 3;

struct EsError {
    int code;
    std::string message;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw EsError{kUsage, path + ": cannot read"};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string base64(std::string_view in) {
    static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                     (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += {k[v >> 18], k[(v >> 12) & 63], i + 1 < in.size() ? k[(v >> 6) & 63] : '=', '='};
    }
    return out;
}

// JSON files of a directory, by name: stem → parsed body. Errors name the file.
std::map<std::string, json> load_dir(const std::string& dir) {
    std::map<std::string, json> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw EsError{kUsage, dir + ": not a directory"};
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".json") continue;
        json j = json::parse(read_text(e.path().string()), nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw EsError{kUsage, e.path().string() + ": not a JSON object"};
        out[e.path().stem().string()] = std::move(j);
    }
    if (out.empty()) throw EsError{kUsage, dir + ": no .json files"};
    return out;
}

// Synchronous requests to one server (its own io_context).
class Server {
  public:
    Server(const util::CommandLine& cli, std::string url) : url_(std::move(url)) {
        while (!url_.empty() && url_.back() == '/') url_.pop_back();
        if (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0)
            throw EsError{kUsage, "URL must start with http:// or https://"};
        const auto authority = url_.substr(url_.find("//") + 2);
        if (authority.substr(0, authority.find('/')).find('@') != std::string::npos)
            throw EsError{
                kUsage,
                "credentials in the URL are not accepted (it is printed): use --es-user and "
                "--es-password-file, or --es-api-key-file"};
        if (cli.has("es-api-key-file")) {
            std::string key = trim(read_text(cli.get("es-api-key-file")));
            if (key.find(':') != std::string::npos)
                key = base64(key);  // "id:key" → the encoded form
            auth_ = "ApiKey " + key;
        } else if (cli.has("es-user")) {
            if (!cli.has("es-password-file"))
                throw EsError{kUsage, "--es-user needs --es-password-file"};
            auth_ = "Basic " +
                    base64(cli.get("es-user") + ":" + trim(read_text(cli.get("es-password-file"))));
        }
        config_.request_timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(cli.get_duration("es-timeout"));
        config_.user_agent = "bts-ctl";
        if (cli.has("ca-file")) config_.tls.ca_file = cli.get("ca-file");
    }

    const std::string& url() const { return url_; }

    net::HttpResponse call(const std::string& method, const std::string& path,
                           const std::string& body = {}, net::HttpHeaders headers = {}) {
        boost::asio::io_context ioc;
        net::HttpClient client(ioc, config_);
        net::HttpRequest req;
        req.method = method;
        req.url = url_ + path;
        req.body = body;
        req.headers = std::move(headers);
        if (!body.empty() && req.headers.empty())
            req.headers.emplace_back("Content-Type", "application/json");
        if (!auth_.empty()) req.headers.emplace_back("Authorization", auth_);
        net::HttpResponse out;
        client.request(std::move(req), [&](net::HttpResponse&& r) { out = std::move(r); });
        ioc.run();
        if (!out.ok()) throw EsError{kUnreachable, method + " " + url_ + path + ": " + out.error};
        if (out.status == 401 || out.status == 403)
            throw EsError{kFailed,
                          method + " " + url_ + path + ": HTTP " + std::to_string(out.status) +
                              " (check --es-user/--es-password-file or --es-api-key-file)"};
        return out;
    }

    json call_json(const std::string& method, const std::string& path,
                   const std::string& body = {}) {
        auto r = call(method, path, body);
        json j = json::parse(r.body, nullptr, false);
        if (j.is_discarded())
            throw EsError{
                kFailed, method + " " + path + ": HTTP " + std::to_string(r.status) + ", not JSON"};
        if (r.status >= 300)
            throw EsError{kFailed, method + " " + path + ": HTTP " + std::to_string(r.status) +
                                       ": " + reason(j)};
        return j;
    }

    static std::string reason(const json& j) {
        if (j.contains("error") && j["error"].is_object() && j["error"].contains("reason"))
            return j["error"]["reason"].get<std::string>();
        if (j.contains("message") && j["message"].is_string()) return j["message"];
        return j.dump().substr(0, 300);
    }

  private:
    std::string url_;
    std::string auth_;
    net::HttpClientConfig config_;
};

// "85%" → 85; "0.85" → 85; absolute values ("500mb") → -1 (not comparable with disk.percent).
double watermark_percent(const json& v) {
    if (!v.is_string()) return -1;
    std::string s = v;
    try {
        if (!s.empty() && s.back() == '%') return std::stod(s.substr(0, s.size() - 1));
        std::size_t used = 0;
        double d = std::stod(s, &used);
        if (used == s.size() && d <= 1.0) return d * 100;
    } catch (...) {
    }
    return -1;
}

class EsCommand {
  public:
    EsCommand(const util::CommandLine& cli, const std::string& url) : cli_(cli), es_(cli, url) {}

    int setup() {
        const std::string dir = cli_.get("es-config-dir");
        auto policies = load_dir(dir + "/ilm");
        auto templates = load_dir(dir + "/templates");
        check_version();
        for (const auto& [name, body] : policies) {
            if (!ilm_) {
                std::cout << "ilm policy " << name << ": skipped (no ILM on this cluster)\n";
                continue;
            }
            es_.call_json("PUT", "/_ilm/policy/" + name, body.dump());
            std::cout << "ilm policy " << name << ": installed\n";
        }
        for (auto [name, body] : templates) {
            if (!ilm_ && body.contains("template") && body["template"].contains("settings"))
                body["template"]["settings"].erase("index.lifecycle.name");
            es_.call_json("PUT", "/_index_template/" + name, body.dump());
            std::cout << "template " << name << " (" << patterns(body) << "): installed\n";
        }
        return checks(policies, templates, /*version_done=*/true);
    }

    int check() {
        const std::string dir = cli_.get("es-config-dir");
        return checks(load_dir(dir + "/ilm"), load_dir(dir + "/templates"), false);
    }

  private:
    static std::string patterns(const json& t) {
        std::string out;
        for (const auto& p : t.value("index_patterns", json::array()))
            out += (out.empty() ? "" : ",") + p.get<std::string>();
        return out;
    }

    int check_version() {
        json info = es_.call_json("GET", "/");
        const std::string number = info["version"].value("number", "");
        const std::string distribution = info["version"].value("distribution", "elasticsearch");
        int major = std::atoi(number.c_str());
        int minor = number.find('.') == std::string::npos
                        ? 0
                        : std::atoi(number.c_str() + number.find('.') + 1);
        std::cout << (distribution == "opensearch" ? "OpenSearch " : "Elasticsearch ") << number
                  << " at " << es_.url() << " (cluster " << info.value("cluster_name", "?")
                  << ")\n";
        ilm_ = distribution != "opensearch";
        if (distribution != "opensearch" && (major < 7 || (major == 7 && minor < 8)))
            throw EsError{kFailed, "Elasticsearch " + number +
                                       " is too old: composable index templates need 7.8 or "
                                       "later (bitshares-core's plugins work with 7.x and 8.x)"};
        return major;
    }

    int checks(const std::map<std::string, json>& policies,
               const std::map<std::string, json>& templates, bool version_done) {
        if (!version_done) check_version();
        int rc = kOk;
        json health = es_.call_json("GET", "/_cluster/health");
        const std::string status = health.value("status", "?");
        std::cout << "health: " << status << " (" << health.value("number_of_nodes", 0)
                  << " nodes, " << health.value("unassigned_shards", 0) << " unassigned shards)\n";
        if (status == "red") {
            std::cout << "FAIL: cluster health is red: some primary shards are unassigned\n";
            rc = kFailed;
        } else if (status == "yellow") {
            std::cout << "warning: cluster health is yellow: replicas unassigned (one node with "
                         "replicas > 0?)\n";
        }
        json settings =
            es_.call_json("GET", "/_cluster/settings?include_defaults=true&flat_settings=true");
        auto setting = [&](const std::string& key) -> json {
            for (const char* scope : {"transient", "persistent", "defaults"})
                if (settings.contains(scope) && settings[scope].contains(key))
                    return settings[scope][key];
            return json();
        };
        const std::string prefix = "cluster.routing.allocation.disk.watermark.";
        const double low = watermark_percent(setting(prefix + "low"));
        const double high = watermark_percent(setting(prefix + "high"));
        const double flood = watermark_percent(setting(prefix + "flood_stage"));
        json nodes = es_.call_json("GET", "/_cat/allocation?format=json&bytes=b");
        for (const auto& n : nodes) {
            if (!n.contains("disk.percent") || n["disk.percent"].is_null())
                continue;  // UNASSIGNED row
            const double used = std::atof(n["disk.percent"].get<std::string>().c_str());
            const std::string node = n.value("node", "?");
            std::printf("disk: %s %.0f%% used (watermarks low %s, high %s, flood %s)\n",
                        node.c_str(), used, setting(prefix + "low").dump().c_str(),
                        setting(prefix + "high").dump().c_str(),
                        setting(prefix + "flood_stage").dump().c_str());
            if ((flood > 0 && used >= flood) || (high > 0 && used >= high)) {
                std::printf("FAIL: %s is above the %s disk watermark: shards move away%s\n",
                            node.c_str(), flood > 0 && used >= flood ? "flood-stage" : "high",
                            flood > 0 && used >= flood
                                ? " and its indices become read-only — the plugins' bulks "
                                  "fail and the feeding witness_node stops"
                                : "");
                rc = kFailed;
            } else if (low > 0 && used >= low) {
                std::printf(
                    "warning: %s is above the low disk watermark: no new shards are allocated "
                    "there\n",
                    node.c_str());
            }
        }
        std::fflush(stdout);
        std::vector<std::string> missing;
        for (const auto& [name, body] : templates) {
            auto r = es_.call("GET", "/_index_template/" + name);
            if (r.status == 404) {
                missing.push_back("template " + name);
                continue;
            }
            json j = json::parse(r.body, nullptr, false);
            const json want = body.value("index_patterns", json::array());
            bool same = false;
            if (!j.is_discarded() && j.contains("index_templates"))
                for (const auto& t : j["index_templates"])
                    if (t.value("name", "") == name)
                        same = t["index_template"].value("index_patterns", json()) == want;
            if (!same) missing.push_back("template " + name + " (different index patterns)");
        }
        if (ilm_)
            for (const auto& [name, body] : policies)
                if (es_.call("GET", "/_ilm/policy/" + name).status == 404)
                    missing.push_back("ilm policy " + name);
        for (const auto& m : missing)
            std::cout << "FAIL: missing " << m << " (run: bts-ctl es setup URL)\n";
        if (missing.empty())
            std::cout << templates.size() << " templates and " << (ilm_ ? policies.size() : 0)
                      << " ILM policies present\n";
        if (!missing.empty()) rc = kFailed;
        std::cout << (rc == kOk ? "OK\n" : "FAILED\n");
        return rc;
    }

    const util::CommandLine& cli_;
    Server es_;
    bool ilm_ = true;
};

int kibana_import(const util::CommandLine& cli, const std::string& url) {
    Server kibana(cli, url);
    const std::string dir = cli.get("kibana-dir");
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw EsError{kUsage, dir + ": not a directory"};
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".ndjson") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw EsError{kUsage, dir + ": no .ndjson files"};
    int rc = kOk;
    for (const auto& f : files) {
        const std::string content = read_text(f.string());
        const std::string boundary = "----bts-ctl-kibana-import-7d1f0c";
        std::string body =
            "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
            f.filename().string() + "\"\r\nContent-Type: application/ndjson\r\n\r\n" + content +
            "\r\n--" + boundary + "--\r\n";
        auto r = kibana.call("POST", "/api/saved_objects/_import?overwrite=true", body,
                             {{"Content-Type", "multipart/form-data; boundary=" + boundary},
                              {"kbn-xsrf", "bts-ctl"}});
        json j = json::parse(r.body, nullptr, false);
        if (r.status != 200 || j.is_discarded() || !j.value("success", false)) {
            std::cout << f.filename().string() << ": FAILED (HTTP " << r.status << "): "
                      << (j.is_discarded() ? r.body.substr(0, 300)
                                           : j.value("errors", j).dump().substr(0, 600))
                      << "\n";
            rc = kFailed;
            continue;
        }
        std::cout << f.filename().string() << ": " << j.value("successCount", 0)
                  << " objects imported\n";
    }
    return rc;
}

}  // namespace

void add_es_options(util::CommandLine& cli) {
    cli.option("es-config-dir", "DIR", "es: index templates (templates/) and ILM policies (ilm/)",
               "config/elasticsearch");
    cli.option("es-user", "NAME", "es, kibana: basic-auth user");
    cli.option("es-password-file", "FILE", "es, kibana: file holding the basic-auth password");
    cli.option("es-api-key-file", "FILE",
               "es: file holding an API key (id:key or its base64 form)");
    cli.option("ca-file", "FILE", "es, kibana: extra CA certificates (PEM) for https://");
    cli.option("es-timeout", "DURATION", "es, kibana: timeout of each request", "30s");
    cli.option("kibana-dir", "DIR", "kibana import: the saved objects (*.ndjson)", "config/kibana");
}

bool is_es_command(const std::string& command) {
    return command == "es" || command == "kibana";
}

int run_es_command(const util::CommandLine& cli, const std::string& command,
                   const std::vector<std::string>& args) {
    try {
        if (command == "es") {
            if (args.size() != 2 || (args[0] != "setup" && args[0] != "check"))
                return cli.fail("usage: bts-ctl es setup|check URL");
            EsCommand es(cli, args[1]);
            return args[0] == "setup" ? es.setup() : es.check();
        }
        if (args.size() != 2 || args[0] != "import")
            return cli.fail("usage: bts-ctl kibana import URL");
        return kibana_import(cli, args[1]);
    } catch (const EsError& e) {
        std::cout << std::flush;
        std::cerr << cli.program() << ": " << e.message << "\n";
        return e.code;
    } catch (const std::exception& e) {
        std::cout << std::flush;
        std::cerr << cli.program() << ": " << e.what() << "\n";
        return kUsage;
    }
}

}  // namespace bts::ctl
