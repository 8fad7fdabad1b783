// bts-ctl es setup|check (the real program) against the Elasticsearch emulator: templates and ILM
// policies installed, real plugin documents accepted under them, cluster checks and their exit
// codes.
#include "actors/collector/documents.hpp"
#include "common/net/http_server.hpp"
#include "es_capture.hpp"
#include "es_emulator.hpp"
#include "http_sync.hpp"
#include "process.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

using bts::test::EsEmulator;
using bts::test::run_program;
using nlohmann::json;

namespace {

const std::string kConfigDir = std::string(BTS_SOURCE_ROOT) + "/config/elasticsearch";

bts::test::RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--es-config-dir", kConfigDir});
    return run_program(bts::test::built_program("src/tools/bts-ctl/bts-ctl"), args, {},
                       std::chrono::seconds(60));
}

std::vector<std::string> template_names() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(kConfigDir + "/templates"))
        out.push_back(e.path().stem().string());
    return out;
}

}  // namespace

TEST(BtsCtlEs, SetupInstallsTemplatesAndPoliciesThenChecks) {
    EsEmulator es({});
    auto r = ctl({"es", "setup", es.url()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Elasticsearch 8.13.0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("health: green"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("disk: es-emulator 42% used"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nOK\n"), std::string::npos) << r.out;
    ASSERT_GE(template_names().size(), 6u);
    for (const auto& name : template_names()) EXPECT_TRUE(es.has_template(name)) << name;
    EXPECT_EQ(bts::test::http_call("GET", es.url() + "/_ilm/policy/bts-chain-history").status, 200);
    // A second setup is harmless; check alone passes.
    EXPECT_EQ(ctl({"es", "setup", es.url()}).exit_code, 0);
    r = ctl({"es", "check", es.url()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Real plugin documents (the witness_node capture) go in under our templates without one error,
// and the fields dashboards use get the types the templates give them.
TEST(BtsCtlEs, PluginDocumentsFitTheTemplates) {
    EsEmulator es({});
    ASSERT_EQ(ctl({"es", "setup", es.url()}).exit_code, 0);
    for (const auto& c : bts::test::load_es_capture()) {
        if (c.path != "/_bulk") continue;
        auto r = bts::test::http_call("POST", es.url() + "/_bulk", c.body,
                                      {{"Content-Type", "application/json"}});
        ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
        json j = json::parse(r.body);
        ASSERT_EQ(j["errors"], false) << r.body.substr(0, 3000);
    }
    auto m = bts::test::http_json("GET", es.url() + "/bitshares-*/_mapping");
    const json& p = m["bitshares-2026-12"]["mappings"]["properties"];
    EXPECT_EQ(p["block_data"]["properties"]["block_time"]["type"], "date");
    EXPECT_EQ(p["operation_type"]["type"], "integer");
    EXPECT_EQ(p["account_history"]["properties"]["account"]["type"], "keyword");
    auto o = bts::test::http_json("GET", es.url() + "/objects-balance/_mapping");
    EXPECT_EQ(o["objects-balance"]["mappings"]["properties"]["balance"]["type"], "long");
}

// The shipped metric templates carry exactly bts-collector's mappings (documents.cpp).
TEST(BtsCtlEs, MetricTemplatesMatchTheCollector) {
    for (const auto& [name, body] : bts::collector::index_templates("bts")) {
        const std::string file = kConfigDir + "/templates/bts-stress-" + name.substr(4) + ".json";
        std::ifstream in(file);
        ASSERT_TRUE(in) << file;
        json shipped = json::parse(in);
        json collector = json::parse(body);
        EXPECT_EQ(shipped["template"]["mappings"], collector["template"]["mappings"]) << file;
        EXPECT_EQ(shipped["index_patterns"], collector["index_patterns"]) << file;
        EXPECT_GT(shipped["priority"].get<int>(), collector["priority"].get<int>())
            << file << " must win";
    }
}

TEST(BtsCtlEs, CheckFailsWhenTemplatesAreMissing) {
    EsEmulator es({});
    auto r = ctl({"es", "check", es.url()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("FAIL: missing template bitshares"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("FAIL: missing ilm policy bts-chain-history"), std::string::npos) << r.out;
}

TEST(BtsCtlEs, DiskWatermarks) {
    EsEmulator es({});
    es.set_disk_percent(87);
    auto r = ctl({"es", "setup", es.url()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("warning: es-emulator is above the low disk watermark"), std::string::npos)
        << r.out;
    es.set_disk_percent(91);
    r = ctl({"es", "check", es.url()});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("above the high disk watermark"), std::string::npos) << r.out;
    es.set_disk_percent(96);
    r = ctl({"es", "check", es.url()});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("flood-stage"), std::string::npos) << r.out;
}

TEST(BtsCtlEs, OldVersionRefused) {
    EsEmulator::Options o;
    o.version = "6.8.23";
    EsEmulator es(o);
    auto r = ctl({"es", "setup", es.url()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("6.8.23 is too old"), std::string::npos) << r.err;
    EXPECT_FALSE(es.has_template("bitshares"));
}

TEST(BtsCtlEs, Credentials) {
    EsEmulator::Options o;
    o.username = "elastic";
    o.password = "s3cret-pw";
    EsEmulator es(o);
    bts::test::TempDir dir;
    const auto pw = dir.write("pw", "s3cret-pw\n", 0600);
    auto r = ctl({"es", "setup", es.url(), "--es-user", "elastic", "--es-password-file", pw});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    r = ctl({"es", "check", es.url()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;
    // In the URL: refused before any request, and never echoed.
    auto url = es.url();
    url.insert(7, "elastic:s3cret-pw@");
    r = ctl({"es", "check", url});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ((r.out + r.err).find("s3cret-pw"), std::string::npos) << r.out << r.err;
}

TEST(BtsCtlEs, UsageAndUnreachable) {
    auto r = ctl({"es", "setup"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("usage: bts-ctl es setup|check URL"), std::string::npos) << r.err;
    r = ctl({"es", "frobnicate", "http://127.0.0.1:1"});
    EXPECT_EQ(r.exit_code, 2);
    r = ctl({"es", "check", "http://127.0.0.1:" + std::to_string(bts::test::free_port())});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    r = ctl({"es", "check", "ftp://x"});
    EXPECT_EQ(r.exit_code, 2);
    // A broken template file is named.
    bts::test::TempDir dir;
    std::filesystem::create_directories(dir.file("ilm"));
    std::filesystem::create_directories(dir.file("templates"));
    dir.write("ilm/p.json", "{\"policy\":{}}");
    dir.write("templates/broken.json", "{\"index_patterns\": [");
    EsEmulator es({});
    r = run_program(bts::test::built_program("src/tools/bts-ctl/bts-ctl"),
                    {"es", "setup", es.url(), "--es-config-dir", dir.path()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("templates/broken.json: not a JSON object"), std::string::npos) << r.err;
    // --help lists the commands.
    r = run_program(bts::test::built_program("src/tools/bts-ctl/bts-ctl"), {"--help"});
    EXPECT_NE(r.out.find("es setup URL"), std::string::npos);
    EXPECT_NE(r.out.find("kibana import URL"), std::string::npos);
}

// bts-ctl kibana import against a stand-in for Kibana's saved-objects import API: the multipart
// upload, the kbn-xsrf header, overwrite=true, and failures reported with exit code 1.
TEST(BtsCtlKibana, ImportPostsTheSavedObjects) {
    boost::asio::io_context ioc;
    std::mutex mu;
    std::vector<bts::net::HttpServerRequest> seen;
    bool fail_next = false;
    bts::net::HttpServerOptions o;
    o.limits.max_body_bytes = 8u << 20;
    bts::net::HttpServer kibana(ioc, o, [&](const bts::net::HttpServerRequest& r) {
        std::lock_guard lock(mu);
        seen.push_back(r);
        if (fail_next)
            return bts::net::HttpServerResponse{
                200, "application/json",
                R"({"success":false,"successCount":0,"errors":[{"id":"x","error":{"type":"missing_references"}}]})"};
        std::size_t n = 0;
        for (std::size_t pos = r.body.find("\"coreMigrationVersion\""); pos != std::string::npos;
             pos = r.body.find("\"coreMigrationVersion\"", pos + 1))
            ++n;
        return bts::net::HttpServerResponse{
            200, "application/json",
            json{{"success", true}, {"successCount", n}, {"errors", json::array()}}.dump()};
    });
    std::thread t([&] { ioc.run(); });
    const std::string url = "http://127.0.0.1:" + std::to_string(kibana.port());
    const std::string dir = std::string(BTS_SOURCE_ROOT) + "/config/kibana";
    auto r =
        run_program(bts::test::built_program("src/tools/bts-ctl/bts-ctl"),
                    {"kibana", "import", url, "--kibana-dir", dir}, {}, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("bts-stress.ndjson: 25 objects imported"), std::string::npos) << r.out;
    {
        std::lock_guard lock(mu);
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].method, "POST");
        EXPECT_EQ(seen[0].target, "/api/saved_objects/_import?overwrite=true");
        EXPECT_FALSE(seen[0].header("kbn-xsrf").empty());
        EXPECT_NE(seen[0].header("content-type").find("multipart/form-data; boundary="),
                  std::string::npos);
        EXPECT_NE(seen[0].body.find("filename=\"bts-stress.ndjson\""), std::string::npos);
        fail_next = true;
    }
    r = run_program(bts::test::built_program("src/tools/bts-ctl/bts-ctl"),
                    {"kibana", "import", url, "--kibana-dir", dir}, {}, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("missing_references"), std::string::npos) << r.out;
    boost::asio::post(ioc, [&] { kibana.stop(); });
    t.join();
}
