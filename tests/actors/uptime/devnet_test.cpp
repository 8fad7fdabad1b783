// The real bts-uptime program against real bts-devnet nodes on loopback: UP, another genesis
// (WRONG_CHAIN), block production stopped (STALE), a closed port (DOWN) and a silent listener
// (TIMEOUT). Results are read from a PULL socket, as the collector reads them.
#include "common/wire.hpp"
#include "fake_targets.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace {

using namespace std::chrono_literals;

struct Devnet {
    std::unique_ptr<bts::test::ChildProcess> proc;
    std::string url;
    std::string chain_id;
};

Devnet start_devnet(const bts::test::TempDir& dir, const std::string& name, std::vector<std::string> args) {
    Devnet d;
    args.insert(args.begin(), {"--port", "0"});
    d.proc = std::make_unique<bts::test::ChildProcess>(bts::test::built_program("src/actors/devnet/bts-devnet"), args,
                                                       dir.file(name + ".log"));
    EXPECT_TRUE(d.proc->wait_for_log("listening on ws://", 20s)) << d.proc->log();
    std::smatch m;
    const std::string log = d.proc->log();
    if (std::regex_search(log, m, std::regex("listening on (ws://[0-9.]+:\\d+) chain_id=([0-9a-f]{64})"))) {
        d.url = m[1];
        d.chain_id = m[2];
    }
    EXPECT_FALSE(d.url.empty()) << log;
    return d;
}

TEST(UptimeDevnet, ClassifiesRealNodes) {
    bts::test::TempDir dir;
    // Another genesis = another chain id: the built-in genesis file with one more line.
    const char* data = std::getenv("BTS_TEST_DATA");
    ASSERT_NE(data, nullptr);
    std::ifstream in(std::string(data) + "/../../config/genesis-dev.toml");
    ASSERT_TRUE(in) << "config/genesis-dev.toml not found";
    std::stringstream genesis;
    genesis << in.rdbuf() << "\n# another chain for the uptime test\n";
    const std::string other_genesis = dir.write("genesis-other.toml", genesis.str());

    Devnet main = start_devnet(dir, "devnet-main", {"--block-interval", "1s"});
    Devnet other = start_devnet(dir, "devnet-other", {"--block-interval", "1s", "--genesis", other_genesis});
    // bts-devnet has no command to pause block production: a node producing at its slowest
    // (30 s, GRAPHENE_MAX_BLOCK_INTERVAL) stands in for it, with stale_after = 3s below — its head
    // block is older than that 27 s out of every 30.
    Devnet paused = start_devnet(dir, "devnet-paused", {"--block-interval", "30s"});
    ASSERT_FALSE(main.chain_id.empty());
    ASSERT_NE(main.chain_id, other.chain_id);
    ASSERT_EQ(main.chain_id, paused.chain_id);
    bts::uptime::testing::SilentListener silent;
    const auto closed = bts::uptime::testing::closed_port();

    zmq::context_t ctx(1);
    zmq::socket_t pull(ctx, zmq::socket_type::pull);
    pull.bind("tcp://127.0.0.1:*");
    pull.set(zmq::sockopt::rcvtimeo, 1000);
    const std::string pull_ep = pull.get(zmq::sockopt::last_endpoint);

    auto ep = [&](const std::string& name, const std::string& url, const std::string& extra = {}) {
        return "[[endpoint]]\nname = \"" + name + "\"\nurl = \"" + url + "\"\nchain_id = \"" + main.chain_id + "\"\n" +
               extra;
    };
    const std::string toml = "[uptime]\ninterval = \"1s\"\ntimeout = \"800ms\"\npub = \"\"\npush = \"" + pull_ep +
                             "\"\n" + ep("devnet", main.url) + ep("devnet-other-chain", other.url) +
                             ep("devnet-paused", paused.url, "stale_after = \"3s\"\n") +
                             ep("closed", "ws://127.0.0.1:" + std::to_string(closed) + "/") +
                             ep("silent", "ws://127.0.0.1:" + std::to_string(silent.port()) + "/");
    bts::test::ChildProcess uptime(bts::test::built_program("src/actors/uptime/bts-uptime"),
                                   {"--config", dir.write("uptime.toml", toml)}, dir.file("uptime.log"));

    const std::map<std::string, std::string> want = {{"devnet", "UP"},
                                                     {"devnet-other-chain", "WRONG_CHAIN"},
                                                     {"devnet-paused", "STALE"},
                                                     {"closed", "DOWN"},
                                                     {"silent", "TIMEOUT"}};
    std::map<std::string, bts::wire::UptimeResult> last;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    auto satisfied = [&] {
        for (const auto& [name, status] : want) {
            if (!last.count(name) || last[name].status != status) return false;
        }
        return true;
    };
    while (std::chrono::steady_clock::now() < deadline && !satisfied()) {
        zmq::message_t msg;
        if (!pull.recv(msg)) continue;
        const auto decoded = bts::wire::decode(msg.to_string_view());
        ASSERT_TRUE(decoded.ok()) << decoded.error();
        const auto& r = std::get<bts::wire::UptimeResult>(*decoded);
        last[r.endpoint] = r;
    }
    for (const auto& [name, status] : want) {
        EXPECT_EQ(last[name].status, status) << name << ": " << last[name].error << "\n" << uptime.log();
    }
    const auto& up = last["devnet"];
    EXPECT_EQ(up.chain_id, main.chain_id);
    EXPECT_GT(up.connect_us, 0u);
    EXPECT_GT(up.rpc_us, 0u);
    EXPECT_LT(up.head_block_age_s, 3.0);
    EXPECT_GT(last["devnet-paused"].head_block_age_s, 3.0);
    EXPECT_EQ(last["devnet-other-chain"].chain_id, other.chain_id);
    EXPECT_TRUE(uptime.running());
}

}  // namespace
