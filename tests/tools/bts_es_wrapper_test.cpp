// bts-es-wrapper (the real program) in front of the Elasticsearch emulator loaded with real plugin
// documents: every endpoint, ≥ 40 write/admin/script attempts refused without reaching the
// emulator, fuzzed paths and query strings, rate limit, CORS, TLS, access log, configuration
// errors.
#include "es_capture.hpp"
#include "es_emulator.hpp"
#include "http_sync.hpp"
#include "process.hpp"
#include "tools/bts-es-wrapper/wrapper.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <thread>

using bts::test::ChildProcess;
using bts::test::EsEmulator;
using bts::test::http_call;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kWrapper = "src/tools/bts-es-wrapper/bts-es-wrapper";

void load_capture(const EsEmulator& es) {
    for (const auto& c : bts::test::load_es_capture())
        if (c.path == "/_bulk") {
            auto r = http_call("POST", es.url() + "/_bulk", c.body,
                               {{"Content-Type", "application/json"}});
            ASSERT_EQ(r.status, 200);
            ASSERT_EQ(json::parse(r.body)["errors"], false);
        }
}

// A running wrapper with its config file; waits until it answers.
class Wrapper {
  public:
    Wrapper(const EsEmulator& es, const std::string& extra = {}) {
        port_ = bts::test::free_port();
        log_ = dir_.file("access.log");
        config_ =
            dir_.write("wrapper.toml", "[wrapper]\nport = " + std::to_string(port_) +
                                           "\nes_url = \"" + es.url() + "\"\naccess_log = \"" +
                                           log_ + "\"\nrate = 10000\nburst = 10000\n" + extra);
        proc_ = std::make_unique<ChildProcess>(bts::test::built_program(kWrapper),
                                               std::vector<std::string>{"--config", config_},
                                               dir_.file("out.log"));
        for (int i = 0; i < 600; ++i) {
            auto r = http_call("GET", url() + "/openapi.json");
            if (r.ok()) return;
            std::this_thread::sleep_for(50ms);
        }
        ADD_FAILURE() << "wrapper did not come up: " << proc_->log();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    bool running() { return proc_->running(); }
    std::string access_log() const {
        std::ifstream in(log_);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    std::string output() const { return proc_->log(); }

  private:
    bts::test::TempDir dir_;
    std::uint16_t port_ = 0;
    std::string log_, config_;
    std::unique_ptr<ChildProcess> proc_;
};

json get_json(const std::string& url, int* status = nullptr) {
    auto r = http_call("GET", url);
    if (status) *status = r.status;
    return json::parse(r.body, nullptr, false);
}

}  // namespace

class WrapperTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        es_ = new EsEmulator({});
        load_capture(*es_);
        wrapper_ = new Wrapper(*es_);
    }
    static void TearDownTestSuite() {
        delete wrapper_;
        delete es_;
    }
    static EsEmulator* es_;
    static Wrapper* wrapper_;
};
EsEmulator* WrapperTest::es_ = nullptr;
Wrapper* WrapperTest::wrapper_ = nullptr;

TEST_F(WrapperTest, CommunityEndpoints) {
    const std::string u = wrapper_->url();
    // The plugin's documents: find an account with several operations.
    auto all = es_->documents("bitshares-*");
    ASSERT_GT(all.size(), 100u);
    std::map<std::string, std::size_t> per_account;
    for (const auto& d : all) ++per_account[d["account_history"]["account"]];
    auto busiest = std::max_element(per_account.begin(), per_account.end(),
                                    [](auto& a, auto& b) { return a.second < b.second; });
    const std::string account = busiest->first;
    int status = 0;
    json h = get_json(u + "/get_account_history?account_id=" + account + "&size=5", &status);
    ASSERT_EQ(status, 200) << h.dump();
    ASSERT_TRUE(h.is_array());
    ASSERT_EQ(h.size(), std::min<std::size_t>(5, busiest->second));
    for (const auto& op : h) EXPECT_EQ(op["account_history"]["account"], account);
    for (std::size_t i = 1; i < h.size(); ++i)
        EXPECT_GE(h[i - 1]["block_data"]["block_time"].get<std::string>(),
                  h[i]["block_data"]["block_time"].get<std::string>());
    // Paging: from_ continues where size stopped (sorted by operation number).
    json p1 = get_json(u + "/get_account_history?account_id=" + account +
                       "&size=2&sort_by=operation_id_num");
    json p2 = get_json(u + "/get_account_history?account_id=" + account +
                       "&size=2&from_=2&sort_by=operation_id_num");
    ASSERT_EQ(p1.size(), 2u);
    ASSERT_GE(p2.size(), 1u);
    EXPECT_LT(p1[1]["operation_id_num"].get<long>(), p2[0]["operation_id_num"].get<long>());
    // type=count: buckets by operation_type.
    json c = get_json(u + "/get_account_history?account_id=" + account +
                      "&type=count&agg_field=operation_type&size=50");
    ASSERT_TRUE(c.is_array()) << c.dump();
    std::size_t total = 0;
    for (const auto& b : c) {
        EXPECT_TRUE(b.contains("key"));
        total += b["doc_count"].get<std::size_t>();
    }
    EXPECT_EQ(total, busiest->second);
    // operation_type filter.
    const int type = h[0]["operation_type"];
    json t =
        get_json(u + "/get_account_history?operation_type=" + std::to_string(type) + "&size=100");
    for (const auto& op : t) EXPECT_EQ(op["operation_type"], type);
    // get_single_operation and get_trx.
    const std::string op_id = h[0]["account_history"]["operation_id"];
    json one = get_json(u + "/get_single_operation?operation_id=" + op_id);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0]["account_history"]["operation_id"], op_id);
    const std::string trx = h[0]["block_data"]["trx_id"];
    json tx = get_json(u + "/get_trx?trx=" + trx);
    ASSERT_GE(tx.size(), 1u);
    for (const auto& op : tx) EXPECT_EQ(op["block_data"]["trx_id"], trx);
    // is_alive: the capture is old, so out_of_sync with the head block named.
    json alive = get_json(u + "/is_alive");
    EXPECT_TRUE(alive.contains("server_time"));
    EXPECT_TRUE(alive["head_block_time"].is_string()) << alive.dump();
    EXPECT_TRUE(alive["status"] == "ok" || alive["status"] == "out_of_sync");
    // Bad parameters are 400, not 500.
    get_json(u + "/get_account_history?account_id=nobody", &status);
    EXPECT_EQ(status, 400);
    get_json(u + "/get_trx?trx=xyz", &status);
    EXPECT_EQ(status, 400);
    get_json(u + "/get_account_history?size=100000", &status);
    EXPECT_EQ(status, 403);
    // OpenAPI document.
    json api = get_json(u + "/openapi.json", &status);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(api["openapi"], "3.0.3");
    for (const char* p : {"/get_account_history", "/get_single_operation", "/get_trx", "/is_alive"})
        EXPECT_TRUE(api["paths"].contains(p)) << p;
}

TEST_F(WrapperTest, PassThrough) {
    const std::string u = wrapper_->url();
    auto r = http_call("POST", u + "/bitshares-*/_search",
                       R"({"size":3,"query":{"term":{"operation_type":0}}})");
    ASSERT_EQ(r.status, 200) << r.body;
    json j = json::parse(r.body);
    EXPECT_LE(j["hits"]["hits"].size(), 3u);
    r = http_call("GET", u + "/objects-*/_count");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["count"], es_->count("objects-*"));
    r = http_call("GET", u + "/bitshares-*/_search?q=operation_type:0&size=2");
    ASSERT_EQ(r.status, 200) << r.body;
    r = http_call("POST", u + "/_msearch",
                  "{\"index\":\"objects-account\"}\n{\"size\":1}\n{\"index\":\"bitshares-*\"}\n{"
                  "\"size\":2}\n",
                  {{"Content-Type", "application/x-ndjson"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["responses"].size(), 2u);
    r = http_call("GET", u + "/objects-balance/_mapping");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(json::parse(r.body).contains("objects-balance"));
    // _cat/indices lists only allowed indices, even when others exist.
    http_call("POST", es_->url() + "/_bulk",
              "{\"index\":{\"_index\":\"secret-keys\",\"_id\":\"1\"}}\n{\"k\":1}\n",
              {{"Content-Type", "application/json"}});
    r = http_call("GET", u + "/_cat/indices?format=json");
    ASSERT_EQ(r.status, 200) << r.body;
    std::set<std::string> names;
    for (const auto& row : json::parse(r.body)) names.insert(row["index"]);
    EXPECT_TRUE(names.count("objects-account"));
    EXPECT_FALSE(names.count("secret-keys"));
    // Elasticsearch's own errors come back as they are.
    r = http_call("POST", u + "/bitshares-*/_search", R"({"query":{"fuzzy":{"a":"b"}}})");
    EXPECT_EQ(r.status, 400);
    // CORS.
    r = http_call("GET", u + "/objects-*/_count", {}, {{"Origin", "https://example.org"}});
    EXPECT_EQ(r.header("access-control-allow-origin"), "*");
    r = http_call("OPTIONS", u + "/bitshares-*/_search", {}, {{"Origin", "https://example.org"}});
    EXPECT_EQ(r.status, 204);
    EXPECT_NE(r.header("access-control-allow-methods").find("POST"), std::string::npos);
}

// The table: every write, admin and script attempt is refused and never reaches Elasticsearch.
TEST_F(WrapperTest, RefusalsNeverReachElasticsearch) {
    struct Case {
        std::string method, path, body;
        int status;
    };
    const std::string ndj = "application/x-ndjson";
    const std::vector<Case> cases = {
        {"POST", "/_bulk", "{\"index\":{\"_index\":\"bitshares-x\"}}\n{}\n", 403},
        {"POST", "/bitshares-2026-12/_bulk", "{\"index\":{}}\n{}\n", 403},
        {"PUT", "/bitshares-2026-12/_doc/1", "{}", 403},
        {"POST", "/bitshares-2026-12/_doc", "{}", 403},
        {"DELETE", "/bitshares-2026-12/_doc/2.9.0", "", 403},
        {"GET", "/bitshares-2026-12/_doc/2.9.0", "", 403},
        {"PUT", "/bitshares-2026-12/_create/1", "{}", 403},
        {"POST", "/bitshares-2026-12/_update/2.9.0", "{\"doc\":{}}", 403},
        {"POST", "/bitshares-*/_delete_by_query", "{\"query\":{\"match_all\":{}}}", 403},
        {"POST", "/bitshares-*/_update_by_query", "{}", 403},
        {"POST", "/_reindex", "{\"source\":{\"index\":\"bitshares-*\"},\"dest\":{\"index\":\"x\"}}",
         403},
        {"PUT", "/_snapshot/repo", "{\"type\":\"fs\"}", 403},
        {"POST", "/_snapshot/repo/snap/_restore", "", 403},
        {"PUT", "/_cluster/settings", "{\"persistent\":{}}", 403},
        {"GET", "/_cluster/settings", "", 403},
        {"GET", "/_cluster/health", "", 403},
        {"PUT", "/bitshares-new", "{}", 403},
        {"DELETE", "/bitshares-2026-12", "", 403},
        {"DELETE", "/objects-*", "", 403},
        {"POST", "/bitshares-2026-12/_close", "", 403},
        {"POST", "/bitshares-2026-12/_open", "", 403},
        {"PUT", "/bitshares-2026-12/_settings", "{\"index\":{\"blocks.read_only\":true}}", 403},
        {"PUT", "/_security/user/evil", "{\"password\":\"x\"}", 403},
        {"GET", "/_security/_authenticate", "", 403},
        {"PUT", "/_index_template/x", "{}", 403},
        {"PUT", "/_ilm/policy/x", "{}", 403},
        {"PUT", "/_ingest/pipeline/x", "{}", 403},
        {"PUT", "/_scripts/evil", "{\"script\":{\"lang\":\"painless\",\"source\":\"1\"}}", 403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"script\":{\"script\":\"doc['a'].value > 1\"}}}", 403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"function_score\":{\"script_score\":{\"script\":{\"source\":\"1\"}}}}}",
         403},
        {"POST", "/bitshares-*/_search", "{\"script_fields\":{\"x\":{\"script\":\"1\"}}}", 403},
        {"POST", "/bitshares-*/_search",
         "{\"aggs\":{\"x\":{\"scripted_metric\":{\"map_script\":\"1\",\"combine_script\":\"1\","
         "\"reduce_script\":\"1\"}}}}",
         403},
        {"POST", "/bitshares-*/_search",
         "{\"aggs\":{\"t\":{\"terms\":{\"field\":\"operation_type\"},\"aggs\":{\"b\":{\"bucket_"
         "script\":{\"script\":\"1\"}}}}}}",
         403},
        {"POST", "/bitshares-*/_search",
         "{\"runtime_mappings\":{\"x\":{\"type\":\"long\",\"script\":\"emit(1)\"}}}", 403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"terms\":{\"a\":{\"id\":\"stored-script-id\"}}},\"script\":{\"id\":\"s\"}}",
         403},
        {"POST", "/bitshares-*/_search", "{\"size\":100000}", 403},
        {"POST", "/bitshares-*/_search", "{\"from\":9999,\"size\":100}", 403},
        {"GET", "/bitshares-*/_search?size=5000", "", 403},
        {"POST", "/bitshares-*/_search",
         "{\"aggs\":{\"t\":{\"terms\":{\"field\":\"account_history.account\",\"size\":50000}}}}",
         403},
        {"POST", "/bitshares-*/_search",
         "{\"aggs\":{\"a\":{\"terms\":{\"field\":\"x\",\"size\":100},\"aggs\":{\"b\":{\"terms\":{"
         "\"field\":\"y\",\"size\":100}}}}}}",
         403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"regexp\":{\"operation_history.op\":\".*\"}}}", 403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"wildcard\":{\"operation_history.op\":\"*transfer*\"}}}", 403},
        {"POST", "/bitshares-*/_search", "{\"query\":{\"query_string\":{\"query\":\"*abc\"}}}",
         403},
        {"POST", "/bitshares-*/_search", "{\"query\":{\"query_string\":{\"query\":\"op:/.*/\"}}}",
         403},
        {"GET", "/bitshares-*/_search?q=*foo", "", 403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"terms\":{\"account_history.account\":{\"index\":\"secret\",\"id\":\"1\","
         "\"path\":\"a\"}}}}",
         403},
        {"POST", "/bitshares-*/_search",
         "{\"query\":{\"more_like_this\":{\"like\":[{\"_index\":\"secret\",\"_id\":\"1\"}]}}}",
         403},
        {"POST", "/secret-keys/_search", "{}", 403},
        {"POST", "/*/_search", "{}", 403},
        {"POST", "/_all/_search", "{}", 403},
        {"POST", "/_search", "{}", 403},
        {"POST", "/bitshares-*,-bitshares-2026-12/_search", "{}", 403},
        {"POST", "/remote:bitshares-*/_search", "{}", 403},
        {"GET", "/.security/_search", "", 403},
        {"GET", "/_cat/indices/secret-*", "", 403},
        {"GET", "/_nodes", "", 403},
        {"GET", "/_tasks", "", 403},
        {"POST", "/_sql", "{\"query\":\"select 1\"}", 403},
        {"POST", "/bitshares-*/_search?scroll=1m", "{}", 403},
        {"POST", "/bitshares-*/_search?expand_wildcards=all", "{}", 403},
        {"POST", "/bitshares-*/_pit?keep_alive=1m", "", 403},
        {"GET", "/secret-keys/_mapping", "", 403},
        {"POST", "/bitshares-*/_msearch", "{\"index\":\"secret-keys\"}\n{}\n", 403},
        {"POST", "/_msearch", "{}\n{\"query\":{\"script\":{\"script\":\"1\"}}}\n", 403},
        {"PATCH", "/bitshares-*/_search", "{}", 403},
        {"POST", "/bitshares-*/_search", "{not json", 400},
        {"POST", "/bitshares-*/_search", std::string(100 * 1024, ' '), 413},
    };
    ASSERT_GE(cases.size(), 40u);
    es_->clear_received();
    for (const auto& c : cases) {
        bts::net::HttpHeaders h;
        if (!c.body.empty())
            h.emplace_back("Content-Type",
                           c.path.find("_msearch") != std::string::npos ? ndj : "application/json");
        auto r = http_call(c.method, wrapper_->url() + c.path, c.body, h);
        ASSERT_TRUE(r.ok()) << c.method << " " << c.path << ": " << r.error;
        EXPECT_EQ(r.status, c.status)
            << c.method << " " << c.path << " " << c.body.substr(0, 80) << " → " << r.body;
        if (c.status == 403) {
            json j = json::parse(r.body, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << r.body;
            EXPECT_EQ(j["status"], 403);
            EXPECT_FALSE(j["error"]["reason"].get<std::string>().empty());
        }
    }
    EXPECT_EQ(es_->received(), std::vector<std::string>{})
        << "refused requests reached Elasticsearch";
    EXPECT_TRUE(es_->has_document("bitshares-2026-12", "2.9.0"));
}

// What goes upstream carries our bounds: search timeout and terminate_after.
TEST(WrapperGuard, BoundsArePropagated) {
    bts::eswrapper::WrapperConfig cfg;
    auto g = bts::eswrapper::guard_passthrough(cfg, "POST", "/bitshares-*/_search", "timeout=1h",
                                               R"({"timeout":"1h","terminate_after":0,"size":5})");
    ASSERT_EQ(g.status, 200) << g.reason;
    json b = json::parse(g.body);
    EXPECT_EQ(b["timeout"], "10000ms");
    EXPECT_EQ(b["terminate_after"], 1000000);
    EXPECT_EQ(g.es_path, "/bitshares-*/_search");
    g = bts::eswrapper::guard_passthrough(cfg, "POST", "/bitshares-*/_search", "",
                                          R"({"timeout":"2s"})");
    EXPECT_EQ(json::parse(g.body)["timeout"], "2s");
    g = bts::eswrapper::guard_passthrough(cfg, "GET", "/objects-*/_count", "q=name:alice", "");
    EXPECT_EQ(g.es_path, "/objects-*/_count?q=name%3Aalice&terminate_after=1000000");
}

// Random paths, methods and query strings: no crash, every answer well-formed, the service stays
// up.
TEST_F(WrapperTest, FuzzedRequests) {
    std::mt19937 rng(20261204);
    const std::vector<std::string> pieces = {
        "_search",     "_count",    "_msearch", "_mapping", "_cat",     "indices",
        "bitshares-*", "objects-*", "*",        "..",       "%2e%2e",   "%00",
        "%ff",         "_doc",      "get_trx",  "a,b",      "",         "?",
        "&",           "=",         "%",        "%zz",      "\xc3\x28", "get_account_history",
        "is_alive"};
    // (No HEAD: bts::net::HttpClient waits for a body after a HEAD; the server side is covered by
    // http_server_test.)
    const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    const std::vector<std::string> params = {
        "size",    "from",         "from_",   "q",    "account_id",
        "trx",     "operation_id", "sort_by", "type", "agg_field",
        "timeout", "filter_path",  "x",       "",     "operation_type"};
    auto rnd = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    std::set<int> statuses;
    for (int i = 0; i < 600; ++i) {
        std::string path;
        for (std::size_t k = 0, n = 1 + rnd(4); k < n; ++k)
            path += "/" + pieces[rnd(pieces.size())];
        std::string query;
        for (std::size_t k = 0, n = rnd(4); k < n; ++k) {
            std::string v;
            for (std::size_t c = 0, m = rnd(12); c < m; ++c)
                v += "0123456789abcdef*-:.%+/"[rnd(23)];
            query += (query.empty() ? "?" : "&") + params[rnd(params.size())] + "=" + v;
        }
        std::string body = rnd(3) == 0 ? "{\"size\":" + std::to_string(rnd(20000)) + "}" : "";
        auto r = http_call(methods[rnd(methods.size())], wrapper_->url() + path + query, body);
        ASSERT_TRUE(r.ok()) << path << query << ": " << r.error;
        statuses.insert(r.status);
        EXPECT_TRUE(r.status < 500 || r.status == 502)
            << path << query << " → " << r.status << " " << r.body;
    }
    EXPECT_TRUE(wrapper_->running());
    EXPECT_EQ(http_call("GET", wrapper_->url() + "/openapi.json").status, 200);
    EXPECT_GT(statuses.size(), 2u);
}

TEST_F(WrapperTest, AccessLog) {
    http_call("GET", wrapper_->url() + "/is_alive");
    std::string log;
    for (int i = 0; i < 200 && log.find("/is_alive") == std::string::npos; ++i) {
        std::this_thread::sleep_for(25ms);
        log = wrapper_->access_log();
    }
    ASSERT_NE(log.find("/is_alive"), std::string::npos);
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        json j = json::parse(line, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << line;
        EXPECT_TRUE(j.contains("status") && j.contains("client") && j.contains("ms"));
    }
}

TEST(Wrapper, RateLimitPerClient) {
    EsEmulator es({});
    Wrapper w(es, "");
    // A second instance with a tight limit.
    bts::test::TempDir dir;
    const auto port = bts::test::free_port();
    const auto cfg =
        dir.write("w.toml", "[wrapper]\nport = " + std::to_string(port) + "\nes_url = \"" +
                                es.url() + "\"\naccess_log = \"\"\nrate = 0.01\nburst = 3\n");
    ChildProcess p(bts::test::built_program(kWrapper), {"--config", cfg}, dir.file("out.log"));
    const std::string u = "http://127.0.0.1:" + std::to_string(port);
    bool up = false;
    for (int i = 0; i < 600 && !up; ++i) {
        up = http_call("GET", u + "/openapi.json").ok();
        if (!up) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(up) << p.log();
    // The probe used one token; two more pass, then 429 with Retry-After (0.01/s: no refill
    // meanwhile).
    EXPECT_EQ(http_call("GET", u + "/openapi.json").status, 200);
    EXPECT_EQ(http_call("GET", u + "/openapi.json").status, 200);
    es.clear_received();
    auto r = http_call("GET", u + "/objects-*/_count");
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(r.header("retry-after").empty());
    EXPECT_TRUE(es.received().empty());
}

TEST(Wrapper, UpstreamDownOrSlow) {
    EsEmulator es({});
    Wrapper w(es, "es_timeout = \"1500ms\"\nsearch_timeout = \"1s\"\n");
    es.set_faults({{"stall", 1.0, std::chrono::milliseconds(0)}});
    auto r = http_call("GET", w.url() + "/objects-*/_count");
    EXPECT_EQ(r.status, 504) << r.body;
    es.set_faults({{"refuse", 1.0, std::chrono::milliseconds(0)}});
    r = http_call("GET", w.url() + "/objects-*/_count");
    EXPECT_EQ(r.status, 502) << r.body;
    es.set_faults({});
    EXPECT_TRUE(w.running());
}

TEST(Wrapper, Tls) {
    bts::test::TempDir dir;
    auto made = bts::test::run_program(
        "/usr/bin/openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             dir.file("key.pem"), "-out", dir.file("cert.pem"), "-days", "2",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    if (made.exit_code != 0) GTEST_SKIP() << "openssl cannot make a test certificate: " << made.err;
    EsEmulator es({});
    const auto port = bts::test::free_port();
    const auto cfg =
        dir.write("w.toml", "[wrapper]\nport = " + std::to_string(port) + "\nes_url = \"" +
                                es.url() + "\"\ntls_cert = \"" + dir.file("cert.pem") +
                                "\"\ntls_key = \"" + dir.file("key.pem") + "\"\n");
    ChildProcess p(bts::test::built_program(kWrapper), {"--config", cfg}, dir.file("out.log"));
    ASSERT_TRUE(p.wait_for_log("listening on https://", 30s)) << p.log();
    boost::asio::io_context ioc;
    bts::net::HttpClientConfig hc;
    hc.tls.ca_file = dir.file("cert.pem");
    bts::net::HttpClient client(ioc, hc);
    bts::net::HttpRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(port) + "/openapi.json";
    bts::net::HttpResponse out;
    client.request(std::move(req), [&](bts::net::HttpResponse&& r) { out = std::move(r); });
    ioc.run();
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_EQ(out.status, 200);
    // Plain HTTP to the TLS port gets nowhere.
    EXPECT_NE(http_call("GET", "http://127.0.0.1:" + std::to_string(port) + "/openapi.json").status,
              200);
}

TEST(Wrapper, ProgramAndConfig) {
    auto exe = bts::test::built_program(kWrapper);
    auto r = bts::test::run_program(exe, {"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("get_account_history"), std::string::npos);
    r = bts::test::run_program(exe, {"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("bts-es-wrapper"), std::string::npos);
    bts::test::TempDir dir;
    auto bad = dir.write("bad.toml", "[wrapper]\nmax_sise = 10\n");
    r = bts::test::run_program(exe, {"--config", bad, "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad.toml"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("max_sise"), std::string::npos) << r.err;
    bad = dir.write("bad2.toml", "[wrapper]\nallowed_indices = [\"*\"]\n");
    r = bts::test::run_program(exe, {"--config", bad, "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("wrapper.allowed_indices"), std::string::npos) << r.err;
    bad = dir.write("bad3.toml", "[wrapper]\nes_url = \"http://elastic:pw@127.0.0.1:9200\"\n");
    r = bts::test::run_program(exe, {"--config", bad, "--check"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.find("pw@"), std::string::npos) << r.err;
    r = bts::test::run_program(
        exe, {"--config", std::string(BTS_SOURCE_ROOT) + "/config/es-wrapper.toml", "--check"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}
