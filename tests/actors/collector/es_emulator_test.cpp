// The Elasticsearch emulator behaves as Elasticsearch 8 documents it, over real HTTP.
#include "es_emulator.hpp"
#include "http_sync.hpp"

#include <gtest/gtest.h>

using bts::test::EsEmulator;
using bts::test::http_call;
using bts::test::http_json;
using nlohmann::json;

namespace {
const char* kNdjson = "application/x-ndjson";

bts::net::HttpResponse bulk(const EsEmulator& es, const std::string& body, bts::net::HttpHeaders h = {}) {
    h.emplace_back("Content-Type", kNdjson);
    return http_call("POST", es.url() + "/_bulk", body, h);
}
}  // namespace

TEST(EsEmulator, InfoAndHealth) {
    EsEmulator es({});
    auto info = http_json("GET", es.url() + "/");
    EXPECT_EQ(info["version"]["number"], "8.13.0");
    auto r = http_call("GET", es.url() + "/");
    EXPECT_EQ(r.header("x-elastic-product"), "Elasticsearch");
    EXPECT_EQ(http_json("GET", es.url() + "/_cluster/health")["status"], "green");
}

TEST(EsEmulator, BulkCreateConflictsAndPerItemResults) {
    EsEmulator es({});
    std::string body =
        "{\"create\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{\"a\":1}\n"
        "{\"create\":{\"_index\":\"t\",\"_id\":\"2\"}}\n{\"a\":2}\n";
    auto r = bulk(es, body);
    ASSERT_TRUE(r.ok()) << r.error;
    auto j = json::parse(r.body);
    EXPECT_EQ(j["errors"], false);
    ASSERT_EQ(j["items"].size(), 2u);
    EXPECT_EQ(j["items"][0]["create"]["status"], 201);
    EXPECT_EQ(j["items"][0]["create"]["result"], "created");
    // Replay: both conflict, nothing is stored twice.
    j = json::parse(bulk(es, body).body);
    EXPECT_EQ(j["errors"], true);
    EXPECT_EQ(j["items"][1]["create"]["status"], 409);
    EXPECT_EQ(j["items"][1]["create"]["error"]["type"], "version_conflict_engine_exception");
    EXPECT_EQ(es.count("t"), 2u);
    EXPECT_EQ(http_json("GET", es.url() + "/t/_count")["count"], 2);
}

TEST(EsEmulator, RejectsMalformedBulkRequests) {
    EsEmulator es({});
    EXPECT_EQ(bulk(es, "{\"create\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{\"a\":1}").status, 400);  // no final \n
    EXPECT_EQ(bulk(es, "not json\n").status, 400);
    EXPECT_EQ(bulk(es, "{\"upsert\":{}}\n{}\n").status, 400);
    auto r = http_call("POST", es.url() + "/_bulk", "{\"index\":{}}\n{}\n", {{"Content-Type", "text/plain"}});
    EXPECT_EQ(r.status, 406);
}

TEST(EsEmulator, ChecksDocumentsAgainstTemplateMappings) {
    EsEmulator es({});
    json tmpl = json::parse(R"({"index_patterns":["m-*"],"priority":200,"template":{"mappings":{
        "dynamic_templates":[{"strings":{"match_mapping_type":"string","mapping":{"type":"keyword"}}}],
        "properties":{"n":{"type":"long"},"when":{"type":"date"},"blob":{"type":"object","enabled":false},
                      "o":{"properties":{"flag":{"type":"boolean"}}}}}}})");
    EXPECT_EQ(http_json("PUT", es.url() + "/_index_template/m", tmpl.dump())["acknowledged"], true);
    EXPECT_TRUE(es.has_template("m"));
    std::string body =
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"ok\"}}\n{\"n\":5,\"when\":\"2024-01-01T00:00:00Z\",\"blob\":{\"x\":[1,\"a\"]},\"o\":{\"flag\":true}}\n"
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"str\"}}\n{\"n\":\"abc\"}\n"
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"obj\"}}\n{\"o\":5}\n"
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"bool\"}}\n{\"o\":{\"flag\":\"yes\"}}\n"
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"dyn\"}}\n{\"s\":\"x\"}\n"
        "{\"index\":{\"_index\":\"m-1\",\"_id\":\"dyn2\"}}\n{\"s\":{\"y\":1}}\n";
    auto j = json::parse(bulk(es, body).body);
    ASSERT_EQ(j["items"].size(), 6u);
    EXPECT_EQ(j["items"][0]["index"]["status"], 201);
    EXPECT_EQ(j["items"][1]["index"]["status"], 400);
    EXPECT_EQ(j["items"][1]["index"]["error"]["type"], "mapper_parsing_exception");
    EXPECT_EQ(j["items"][2]["index"]["status"], 400);
    EXPECT_EQ(j["items"][3]["index"]["status"], 400);
    EXPECT_EQ(j["items"][4]["index"]["status"], 201);
    EXPECT_EQ(j["items"][5]["index"]["status"], 400);  // s is a keyword now
}

TEST(EsEmulator, ExternalVersionsRefuseOlderRevisions) {
    EsEmulator es({});
    auto item = [](int version, int value) {
        return "{\"index\":{\"_index\":\"v\",\"_id\":\"k\",\"version\":" + std::to_string(version) +
               ",\"version_type\":\"external\"}}\n{\"value\":" + std::to_string(value) + "}\n";
    };
    auto status = [&](const std::string& body) { return json::parse(bulk(es, body).body)["items"][0]["index"]["status"]; };
    EXPECT_EQ(status(item(2, 20)), 201);
    EXPECT_EQ(status(item(1, 10)), 409);
    EXPECT_EQ(status(item(2, 20)), 409);
    EXPECT_EQ(status(item(3, 30)), 200);
    EXPECT_EQ(es.documents("v").at(0)["value"], 30);
}

TEST(EsEmulator, CountAndSearchWithQueriesAndAggregations) {
    EsEmulator es({});
    std::string body;
    for (int i = 0; i < 20; ++i)
        body += "{\"create\":{\"_index\":\"q-" + std::to_string(i % 2) + "\",\"_id\":\"" + std::to_string(i) +
                "\"}}\n{\"run\":{\"id\":\"r" + std::to_string(i % 4) + "\"},\"tx\":{\"sent\":" + std::to_string(i) + "}}\n";
    ASSERT_EQ(json::parse(bulk(es, body).body)["errors"], false);
    EXPECT_EQ(http_json("GET", es.url() + "/q-*/_count")["count"], 20);
    EXPECT_EQ(http_json("GET", es.url() + "/q-0,q-1/_count")["count"], 20);
    EXPECT_EQ(http_json("POST", es.url() + "/q-*/_count", R"({"query":{"term":{"run.id":"r1"}}})")["count"], 5);
    auto s = http_json("POST", es.url() + "/q-*/_search",
                       R"({"size":3,"sort":[{"tx.sent":{"order":"desc"}}],"query":{"bool":{"filter":[{"range":{"tx.sent":{"gte":10}}}]}},
                           "aggs":{"sent":{"sum":{"field":"tx.sent"}},"runs":{"cardinality":{"field":"run.id"}},"top":{"max":{"field":"tx.sent"}}}})");
    EXPECT_EQ(s["hits"]["total"]["value"], 10);
    ASSERT_EQ(s["hits"]["hits"].size(), 3u);
    EXPECT_EQ(s["hits"]["hits"][0]["_source"]["tx"]["sent"], 19);
    EXPECT_EQ(s["aggregations"]["sent"]["value"], 145.0);  // 10 + ... + 19
    EXPECT_EQ(s["aggregations"]["runs"]["value"], 4);
    EXPECT_EQ(s["aggregations"]["top"]["value"], 19.0);
    EXPECT_EQ(http_json("POST", es.url() + "/q-*/_search", R"({"size":10001})")["_http_status"], 400);
    EXPECT_EQ(http_json("POST", es.url() + "/q-*/_search", R"({"query":{"fuzzy":{}}})")["_http_status"], 400);
    auto doc = http_json("GET", es.url() + "/q-1/_doc/3");
    EXPECT_EQ(doc["found"], true);
    EXPECT_EQ(doc["_source"]["tx"]["sent"], 3);
}

TEST(EsEmulator, InjectsItemFaultsAtTheConfiguredFraction) {
    EsEmulator es({});
    es.set_faults({{"items_429", 1.0 / 3.0, std::chrono::milliseconds(0)}});
    std::string body;
    for (int i = 0; i < 600; ++i)
        body += "{\"create\":{\"_index\":\"f\",\"_id\":\"" + std::to_string(i) + "\"}}\n{\"i\":" + std::to_string(i) + "}\n";
    auto j = json::parse(bulk(es, body).body);
    int rejected = 0;
    for (const auto& it : j["items"])
        if (it["create"]["status"] == 429) {
            ++rejected;
            EXPECT_EQ(it["create"]["error"]["type"], "es_rejected_execution_exception");
        }
    EXPECT_GT(rejected, 150);
    EXPECT_LT(rejected, 250);
    EXPECT_EQ(es.count("f"), 600u - static_cast<std::size_t>(rejected));
}

TEST(EsEmulator, ConnectionLevelFaultsAndSchedule) {
    EsEmulator es({});
    es.set_faults(bts::test::parse_fault_schedule("refuse:300ms,unavailable:300ms,drop:300ms"));
    auto r = http_call("GET", es.url() + "/");
    EXPECT_FALSE(r.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    EXPECT_EQ(es.current_fault(), "unavailable");
    EXPECT_EQ(http_call("GET", es.url() + "/").status, 503);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(es.current_fault(), "drop");
    EXPECT_FALSE(http_call("GET", es.url() + "/").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(es.current_fault(), "ok");
    EXPECT_EQ(http_call("GET", es.url() + "/").status, 200);
    auto stats = es.stats();
    EXPECT_GE(stats["refused_connections"], 1);
    EXPECT_GE(stats["unavailable"], 1);
    EXPECT_GE(stats["dropped"], 1);
    // Over HTTP too.
    EXPECT_EQ(http_json("POST", es.url() + "/_emulator/faults",
                        R"({"phases":[{"mode":"bulk_429","duration_ms":0}]})")["acknowledged"], true);
    EXPECT_EQ(bulk(es, "{\"create\":{\"_index\":\"t\",\"_id\":\"1\"}}\n{}\n").status, 429);
    EXPECT_THROW(bts::test::parse_fault_schedule("explode:1s"), std::invalid_argument);
}

TEST(EsEmulator, StallHoldsTheRequestUntilThePhaseEnds) {
    EsEmulator es({});
    es.set_faults({{"stall", 1.0, std::chrono::milliseconds(500)}});
    auto t0 = std::chrono::steady_clock::now();
    auto r = http_call("GET", es.url() + "/");
    EXPECT_FALSE(r.ok());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
}

TEST(EsEmulator, RequiresConfiguredCredentials) {
    EsEmulator::Options es_opt;
    es_opt.api_key = "aWQ6a2V5";
    EsEmulator es(es_opt);
    EXPECT_EQ(http_call("GET", es.url() + "/").status, 401);
    EXPECT_EQ(http_call("GET", es.url() + "/", {}, {{"Authorization", "ApiKey aWQ6a2V5"}}).status, 200);
    EsEmulator::Options basic_opt;
    basic_opt.username = "elastic";
    basic_opt.password = "pw";
    EsEmulator basic(basic_opt);
    EXPECT_EQ(http_call("GET", basic.url() + "/", {}, {{"Authorization", "Basic ZWxhc3RpYzpwdw=="}}).status, 200);
    EXPECT_EQ(http_call("GET", basic.url() + "/", {}, {{"Authorization", "Basic eDp5"}}).status, 401);
}
