// Replays what a real witness_node's elasticsearch/es_objects plugins sent into the ES emulator
// over real HTTP, byte for byte, and checks every reply is what Elasticsearch 7/8 answers and every
// bulk action is applied exactly once (documents by index and _id, deletes honoured).
#include "es_capture.hpp"
#include "es_emulator.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using bts::test::EsEmulator;
using nlohmann::json;

namespace {

using Captured = bts::test::CapturedRequest;
std::vector<Captured> load_capture() {
    return bts::test::load_es_capture();
}

struct RawReply {
    int status = 0;
    std::string headers;
    std::string body;
};

// One request on a fresh connection, written as the plugin's libcurl wrote it (its headers; Host
// and Content-Length recomputed for this port and body).
RawReply send_raw(std::uint16_t port, const Captured& c) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{60, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RawReply r;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return r;
    }
    std::string req = c.method + " " + c.path + " HTTP/1.1\r\n";
    for (const auto& [k, v] : c.headers) {
        if (k == "Host")
            req += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
        else if (k != "Content-Length")
            req += k + ": " + v + "\r\n";
    }
    if (c.method == "POST" || !c.body.empty())
        req += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
    req += "\r\n" + c.body;
    for (std::size_t off = 0; off < req.size();) {
        ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    std::string buf;
    char tmp[65536];
    std::size_t head_end = std::string::npos, length = 0;
    for (;;) {
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
        if (head_end == std::string::npos &&
            (head_end = buf.find("\r\n\r\n")) != std::string::npos) {
            r.headers = buf.substr(0, head_end);
            auto cl = r.headers.find("content-length: ");
            length = cl == std::string::npos ? 0 : std::stoul(r.headers.substr(cl + 16));
        }
        if (head_end != std::string::npos && buf.size() >= head_end + 4 + length) break;
    }
    ::close(fd);
    if (head_end == std::string::npos) return r;
    r.status = std::stoi(r.headers.substr(9, 3));
    r.body = buf.substr(head_end + 4, length);
    return r;
}

// The reference model: what Elasticsearch holds after each action.
using Key = std::pair<std::string, std::string>;  // index, _id

void replay_and_check(const std::string& version) {
    SCOPED_TRACE("Elasticsearch " + version);
    EsEmulator::Options opt;
    opt.version = version;
    EsEmulator es(opt);
    const auto capture = load_capture();
    ASSERT_EQ(capture.size(), 9u);
    std::map<Key, json> model;
    std::map<Key, std::uint64_t> versions;
    std::size_t index_actions = 0, deletes = 0, bulks = 0;
    for (const auto& c : capture) {
        RawReply r = send_raw(es.port(), c);
        ASSERT_NE(r.status, 0) << "no reply to " << c.method << " " << c.path;
        EXPECT_NE(r.headers.find("x-elastic-product: Elasticsearch"), std::string::npos);
        json j = json::parse(r.body, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << c.path << ": " << r.body;
        if (c.path == "/_nodes") {
            // check_status(): the plugin only needs a non-empty body; ES answers 200 with node
            // info.
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(j["_nodes"]["successful"], 1);
            ASSERT_EQ(j["nodes"].size(), 1u);
            EXPECT_EQ(j["nodes"].begin().value()["version"], version);
            continue;
        }
        if (c.path == "/") {
            // get_version(): 200 and version.number, whose major decides whether _type is sent.
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(j["version"]["number"], version);
            EXPECT_EQ(j["tagline"], "You Know, for Search");
            continue;
        }
        ASSERT_EQ(c.path, "/_bulk");
        ++bulks;
        // handle_bulk_response(): anything but 200 with "errors": false stops the node.
        ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
        EXPECT_EQ(j["errors"], false) << r.body.substr(0, 2000);
        ASSERT_TRUE(j["items"].is_array());
        // Walk the request's actions alongside the reply's items.
        std::size_t item = 0, pos = 0;
        const std::string& b = c.body;
        while (pos < b.size()) {
            auto nl = b.find('\n', pos);
            json action = json::parse(b.substr(pos, nl - pos));
            pos = nl + 1;
            const std::string kind = action.begin().key();
            const json& meta = action.begin().value();
            Key key{meta.at("_index"), meta.at("_id")};
            ASSERT_LT(item, j["items"].size());
            const json& res = j["items"][item++];
            ASSERT_TRUE(res.contains(kind)) << res.dump();
            const json& it = res[kind];
            EXPECT_EQ(it["_index"], key.first);
            EXPECT_EQ(it["_id"], key.second);
            EXPECT_EQ(it["_primary_term"], 1);
            EXPECT_TRUE(it["_seq_no"].is_number_unsigned());
            EXPECT_EQ(it["_shards"]["failed"], 0);
            EXPECT_FALSE(it.contains("error")) << it.dump();
            if (kind == "delete") {
                ++deletes;
                const bool existed = model.erase(key) > 0;
                EXPECT_EQ(it["result"], existed ? "deleted" : "not_found");
                EXPECT_EQ(it["status"], existed ? 200 : 404);
                if (existed) {
                    EXPECT_EQ(it["_version"], versions[key] + 1);
                }
                versions.erase(key);
                continue;
            }
            ASSERT_EQ(kind, "index");
            ++index_actions;
            auto src_end = b.find('\n', pos);
            json source = json::parse(b.substr(pos, src_end - pos));
            pos = src_end + 1;
            const bool existed = model.count(key) > 0;
            model[key] = source;
            versions[key] = existed ? versions[key] + 1 : 1;
            EXPECT_EQ(it["result"], existed ? "updated" : "created");
            EXPECT_EQ(it["status"], existed ? 200 : 201);
            EXPECT_EQ(it["_version"], versions[key]);
        }
        EXPECT_EQ(item, j["items"].size()) << "one item per action";
    }
    EXPECT_EQ(bulks, 5u);
    EXPECT_GT(index_actions, 200u);
    EXPECT_GT(deletes, 0u);
    // Every document the model holds is there once with the source sent last; nothing else is.
    std::map<std::string, std::size_t> per_index;
    for (const auto& [key, source] : model) {
        ++per_index[key.first];
        ASSERT_TRUE(es.has_document(key.first, key.second)) << key.first << "/" << key.second;
        RawReply r = send_raw(es.port(), {"GET", "/" + key.first + "/_doc/" + key.second, "", {}});
        ASSERT_EQ(r.status, 200);
        EXPECT_EQ(json::parse(r.body)["_source"], source) << key.first << "/" << key.second;
    }
    std::size_t total = 0;
    for (const auto& [index, n] : per_index) {
        EXPECT_EQ(es.count(index), n) << index;
        total += n;
    }
    EXPECT_EQ(es.count("*"), total);
    EXPECT_EQ(es.count("objects-limitorder"), per_index["objects-limitorder"]);
    auto stats = es.stats();
    EXPECT_EQ(stats["items"], index_actions + deletes);
    EXPECT_EQ(stats["items_created"].get<std::size_t>() + stats["items_updated"].get<std::size_t>(),
              index_actions);
    EXPECT_EQ(stats["items_rejected"], 0);
    EXPECT_EQ(stats["items_400"], 0);

    // The plugin's own query API (elasticsearch-mode 1 or 2): get_operation_by_id and
    // get_account_history, exactly as elasticsearch_plugin.cpp writes them.
    json doc = json::parse(
        send_raw(es.port(), {"GET", "/bitshares-2026-12/_doc/2.9.0", "", {}}).body)["_source"];
    const std::string op_id = doc["account_history"]["operation_id"];
    const std::string account = doc["account_history"]["account"];
    const std::vector<std::pair<std::string, std::string>> h = {
        {"Content-Type", "application/json"}, {"User-Agent", "bitshares-core/6.1"}};
    RawReply r = send_raw(
        es.port(), {"POST", "/bitshares-*/_search",
                    "\n   {\n      \"query\": {\n         \"match\":\n         {\n            "
                    "\"account_history.operation_id\": \"" +
                        op_id + "\"\n         }\n      }\n   }\n   ",
                    h});
    ASSERT_EQ(r.status, 200) << r.body;
    json s = json::parse(r.body);
    ASSERT_GE(s["hits"]["hits"].size(), 1u);
    EXPECT_EQ(s["hits"]["hits"][0]["_source"]["account_history"]["operation_id"], op_id);
    for (const std::string range : {" AND operation_id_num: [0 TO 1000000]", ""}) {
        r = send_raw(
            es.port(),
            {"POST", "/bitshares-*/_search",
             "{ \"size\": 3, \"sort\" : [{ \"operation_id_num\" : {\"order\" : \"desc\"}}], "
             "\"query\": { \"bool\": { \"must\": [ { \"query_string\": { \"query\": "
             "\"account_history.account: " +
                 account + range + "\" } } ] } } }",
             h});
        ASSERT_EQ(r.status, 200) << r.body;
        s = json::parse(r.body);
        std::size_t expected = 0;
        for (const auto& [key, source] : model)
            if (key.first.starts_with("bitshares-") &&
                source["account_history"]["account"] == account)
                ++expected;
        EXPECT_EQ(s["hits"]["total"]["value"], expected);
        ASSERT_EQ(s["hits"]["hits"].size(), std::min<std::size_t>(3, expected));
        for (std::size_t i = 1; i < s["hits"]["hits"].size(); ++i)
            EXPECT_GT(s["hits"]["hits"][i - 1]["_source"]["operation_id_num"].get<long>(),
                      s["hits"]["hits"][i]["_source"]["operation_id_num"].get<long>());
    }
    // sync_db's delete_all_from_database(): _delete_by_query with match_all.
    const std::size_t orders = es.count("objects-limitorder");
    r = send_raw(es.port(), {"POST", "/objects-limitorder/_delete_by_query",
                             R"({"query":{"match_all":{}}})", h});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["deleted"], orders);
    EXPECT_EQ(es.count("objects-limitorder"), 0u);
}

}  // namespace

TEST(EsPluginReplay, Elasticsearch8) {
    replay_and_check("8.13.0");
}
TEST(EsPluginReplay, Elasticsearch7) {
    replay_and_check("7.17.0");
}

// Below 7 the plugins add "_type":"_doc" to every action: ES 7 accepts it, ES 8 refuses the bulk.
TEST(EsPluginReplay, TypeInActionLine) {
    const std::string body =
        "{\"index\":{\"_index\":\"objects-account\",\"_type\":\"_doc\",\"_id\":\"1.2.0\"}}\n"
        "{\"id\":\"1.2.0\"}\n"
        "{\"delete\":{\"_index\":\"objects-account\",\"_type\":\"_doc\",\"_id\":\"1.2.0\"}}\n";
    const Captured c{"POST", "/_bulk", body, {{"Content-Type", "application/json"}}};
    EsEmulator::Options o7;
    o7.version = "7.17.0";
    EsEmulator es7(o7);
    RawReply r = send_raw(es7.port(), c);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["errors"], false);
    EsEmulator es8({});
    r = send_raw(es8.port(), c);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json::parse(r.body)["error"]["reason"],
              "Action/metadata line [1] contains an unknown parameter [_type]");
    EXPECT_EQ(es8.count("*"), 0u);
}

// A delete into an index that does not exist is an item error in ES (no auto-create for deletes):
// the plugin would stop the node, so operators must create indices (templates) before feeding.
TEST(EsPluginReplay, DeleteInMissingIndexIsAnError) {
    EsEmulator es({});
    RawReply r =
        send_raw(es.port(), {"POST",
                             "/_bulk",
                             "{\"delete\":{\"_id\":\"1.7.0\",\"_index\":\"objects-limitorder\"}}\n",
                             {{"Content-Type", "application/json"}}});
    ASSERT_EQ(r.status, 200);
    json j = json::parse(r.body);
    EXPECT_EQ(j["errors"], true);
    EXPECT_EQ(j["items"][0]["delete"]["status"], 404);
    EXPECT_EQ(j["items"][0]["delete"]["error"]["type"], "index_not_found_exception");
    // In an existing index, a missing _id is "not_found" and not an error.
    send_raw(es.port(), {"POST",
                         "/_bulk",
                         "{\"index\":{\"_id\":\"1.7.1\",\"_index\":\"objects-limitorder\"}}\n{}\n",
                         {{"Content-Type", "application/json"}}});
    r = send_raw(es.port(), {"POST",
                             "/_bulk",
                             "{\"delete\":{\"_id\":\"1.7.0\",\"_index\":\"objects-limitorder\"}}\n",
                             {{"Content-Type", "application/json"}}});
    j = json::parse(r.body);
    EXPECT_EQ(j["errors"], false);
    EXPECT_EQ(j["items"][0]["delete"]["result"], "not_found");
    EXPECT_EQ(j["items"][0]["delete"]["status"], 404);
}
