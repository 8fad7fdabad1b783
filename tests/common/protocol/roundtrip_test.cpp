// Property tests: random operations of every supported type survive binary ↔ JSON ↔ binary, and
// malformed bytes or JSON give a ProtocolError naming the field, never a crash.
#include "common/protocol/json.hpp"
#include "common/protocol/raw.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

namespace bts::protocol {
namespace {

// Fills any protocol value with random content, walking fields() like the serializers.
class Randomizer {
public:
    explicit Randomizer(std::uint64_t seed) : rng_(seed) {}

    template <class T>
    void operator()(std::string_view, T& v) { fill(v); }

    std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }

    void fill(bool& v) { v = below(2); }
    void fill(std::uint8_t& v) { v = std::uint8_t(below(256)); }
    void fill(std::uint16_t& v) { v = std::uint16_t(below(65536)); }
    void fill(std::uint32_t& v) { v = std::uint32_t(rng_()); }
    void fill(std::uint64_t& v) { v = below(2) ? rng_() : below(1000); }
    void fill(std::int64_t& v) { v = below(2) ? std::int64_t(rng_()) : std::int64_t(below(1000)); }
    void fill(std::string& s) {
        s.resize(below(12));
        for (auto& c : s) c = char('a' + below(26));
    }
    void fill(Blob& b) {
        b.data.resize(below(40));
        for (auto& c : b.data) c = std::uint8_t(below(256));
    }
    template <std::size_t N>
    void fill(FixedBytes<N>& b) {
        for (auto& c : b.data) c = std::uint8_t(below(256));
    }
    void fill(TimePointSec& t) { t.seconds = std::uint32_t(rng_()); }
    template <std::uint8_t S, std::uint8_t T>
    void fill(ObjectIdT<S, T>& id) {
        id.instance = below(2) ? below(1ULL << 40) : below(200);
    }
    void fill(ObjectId& id) { id = ObjectId{1, std::uint8_t(below(20)), below(1ULL << 40)}; }
    void fill(VoteId& v) { v.content = std::uint32_t(below(4)) | (std::uint32_t(below(1 << 20)) << 8); }
    void fill(PublicKey& k) {
        crypto::PublicKeyBytes b;
        for (auto& c : b) c = std::uint8_t(below(256));
        b[0] = below(2) ? 2 : 3;
        k = PublicKey(b);
    }
    void fill(Address& a) {
        for (auto& c : a.bytes) c = std::uint8_t(below(256));
    }
    void fill(FutureExtensions&) {}
    void fill(VoidT&) {}
    void fill(SpecialAuthority& sa) {
        sa = SpecialAuthority{};
        sa.tag = std::uint32_t(below(2));
        if (sa.tag == 1) {
            fill(sa.asset);
            fill(sa.num_top_holders);
        }
    }
    void fill(HtlcHash& h) {
        h.tag = std::uint32_t(below(4));
        h.digest.resize(h.tag == 2 ? 32 : 20);
        for (auto& c : h.digest) c = std::uint8_t(below(256));
    }
    void fill(Predicate& p) {
        p = Predicate{};
        p.tag = std::uint32_t(below(3));
        if (p.tag == 0) { fill(p.account_id); fill(p.text); }
        if (p.tag == 1) { fill(p.asset_id); fill(p.text); }
        if (p.tag == 2) fill(p.block_id);
    }
    void fill(Operation& op) {
        // Nested proposals stay shallow so sizes stay bounded.
        std::size_t n = std::variant_size_v<Operation>;
        std::size_t index;
        do {
            index = below(n);
            std::uint32_t tag = 0;
            // Find the tag of alternative `index`.
            for (std::uint32_t t = 0; t < 80; ++t)
                if (op_index_for_tag(t) == int(index)) tag = t;
            ASSERT_TRUE(make_operation(tag, op));
        } while (depth_ > 0 && std::holds_alternative<ProposalCreateOp>(op));
        ++depth_;
        std::visit([this](auto& o) { fill(o); }, op);
        --depth_;
    }
    template <class T>
    void fill(std::optional<T>& o) {
        if (below(2)) {
            o.emplace();
            fill(*o);
        } else {
            o.reset();
        }
    }
    template <class T>
    void fill(std::vector<T>& v) {
        v.resize(below(4));
        for (auto& e : v) fill(e);
    }
    template <class T, class C>
    void fill(FlatSet<T, C>& s) {
        fill(s.items);
        s.normalize();
    }
    template <class K, class V, class C>
    void fill(FlatMap<K, V, C>& m) {
        m.items.resize(below(4));
        for (auto& [k, v] : m.items) {
            fill(k);
            fill(v);
        }
        m.normalize();
    }
    template <class T>
    void fill(Extension<T>& e) {
        T::fields(e.value, *this);
    }
    template <class T>
        requires requires(T& t, int& v) { T::fields(t, v); }
    void fill(T& value) {
        T::fields(value, *this);
    }

private:
    std::mt19937_64 rng_;
    int depth_ = 0;
};

TEST(RoundTrip, RandomOperationsOfEveryTypeBinaryJsonBinary) {
    Randomizer rnd(20261125);
    std::vector<int> seen(std::variant_size_v<Operation>, 0);
    for (int i = 0; i < 5000; ++i) {
        SignedTransaction tx;
        rnd.fill(tx.ref_block_num);
        rnd.fill(tx.ref_block_prefix);
        rnd.fill(tx.expiration);
        tx.operations.resize(1 + rnd.below(3));
        for (auto& op : tx.operations) {
            rnd.fill(op);
            seen[op.index()]++;
        }
        tx.signatures.resize(rnd.below(3));
        for (auto& s : tx.signatures)
            for (auto& c : s) c = std::uint8_t(rnd.below(256));

        Bytes bytes = pack_signed(tx);
        SignedTransaction decoded = unpack_signed(bytes);
        ASSERT_EQ(decoded, tx) << "binary round trip, iteration " << i;
        for (const char* prefix : {"BTS", "TEST"}) {
            JsonOptions opt{.key_prefix = prefix};
            std::string text = to_json_text(tx, opt);
            SignedTransaction from_json = signed_transaction_from_json(Json::parse(text), opt);
            ASSERT_EQ(from_json, tx) << "JSON round trip, iteration " << i << ": " << text;
            ASSERT_EQ(pack_signed(from_json), bytes);
        }
    }
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_GT(seen[i], 0) << "operation alternative " << i;
}

TEST(RoundTrip, TruncatedAndGarbageBytesNeverCrash) {
    Randomizer rnd(7);
    std::mt19937_64 rng(99);
    int errors = 0;
    for (int i = 0; i < 2000; ++i) {
        SignedTransaction tx;
        tx.operations.resize(1);
        rnd.fill(tx.operations[0]);
        Bytes bytes = pack_signed(tx);
        // Cut it somewhere, or flip a byte.
        Bytes bad = bytes;
        if (i % 2) {
            bad.resize(rng() % bytes.size());
        } else {
            bad[rng() % bad.size()] ^= std::uint8_t(1 + rng() % 255);
        }
        try {
            auto decoded = unpack_signed(bad);
            (void)decoded;
        } catch (const ProtocolError& e) {
            ++errors;
            EXPECT_FALSE(std::string(e.what()).empty());
        }
    }
    EXPECT_GT(errors, 1000);
    // A huge length prefix must not allocate gigabytes.
    Bytes huge = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f};
    EXPECT_THROW((void)unpack_signed(huge), ProtocolError);
}

TEST(JsonErrors, NameTheFieldPath) {
    auto parse = [](const std::string& text) -> std::string {
        try {
            (void)transaction_from_json(Json::parse(text));
        } catch (const ProtocolError& e) {
            return e.what();
        }
        return "no error";
    };
    std::string head = R"({"ref_block_num":1,"ref_block_prefix":2,"expiration":"2020-01-01T00:00:00","operations":[)";
    EXPECT_EQ(parse(head + R"([0,{"fee":{"amount":1,"asset_id":"1.3.0"},"from":"1.2.1","to":"1.2.2","amount":{"amount":5,"asset_id":"1.2.0"}}]]})"),
              R"(operations[0][1].amount.asset_id: expected an id like "1.3.N", got "1.2.0")");
    EXPECT_EQ(parse(head + R"([0,{"fee":{"amount":"x","asset_id":"1.3.0"}}]]})"),
              R"(operations[0][1].fee.amount: expected an integer, got "x")");
    EXPECT_EQ(parse(head + R"([99,{}]]})"), "operations[0]: operation 99 (unknown) is not supported");
    EXPECT_EQ(parse(head + R"([4,{}]]})"), "operations[0]: operation 4 (fill_order) is not supported");
    EXPECT_EQ(parse(R"({"ref_block_num":70000})"), "ref_block_num: out of range: 70000");
    EXPECT_EQ(parse(R"({"expiration":"2020-01-01 00:00"})"),
              R"(expiration: expected a time like "2016-04-06T08:29:27", got "2020-01-01 00:00")");
    EXPECT_EQ(parse(head + R"([0,{"memo":{"from":"BTS1111"}}]]})").substr(0, 30), "operations[0][1].memo.from: pu");
}

TEST(Validate, ChecksLikeBitsharesCore) {
    TransferOp t;
    t.from.instance = 5;
    t.to.instance = 5;
    t.amount.amount = 1;
    EXPECT_EQ(validate(t), "from != to");
    t.to.instance = 6;
    EXPECT_EQ(validate(t), std::nullopt);
    t.amount.amount = 0;
    EXPECT_EQ(validate(t), "amount.amount > 0");
    LimitOrderCreateOp l;
    l.amount_to_sell = {10, {0}};
    l.min_to_receive = {10, {0}};
    EXPECT_EQ(validate(l), "amount_to_sell.asset_id != min_to_receive.asset_id");
}

TEST(Tapos, FromBlockIdMatchesTheProtocolNotes) {
    // id 0121eac085abf4dc… → block 19,000,000 → ref_block_num 60096, ref_block_prefix 3707022213.
    BlockId id{};
    auto bytes = *crypto::from_hex("0121eac085abf4dc000000000000000000000000");
    std::copy(bytes.begin(), bytes.end(), id.data.begin());
    EXPECT_EQ(block_num_from_id(id), 19000000u);
    auto t = tapos_from_block_id(id);
    EXPECT_EQ(t.ref_block_num, 60096);
    EXPECT_EQ(t.ref_block_prefix, 3707022213u);
}

TEST(Time, IsoRoundTrip) {
    EXPECT_EQ(to_iso_string(TimePointSec{1459931367}), "2016-04-06T08:29:27");
    EXPECT_EQ(from_iso_string("2016-04-06T08:29:27")->seconds, 1459931367u);
    EXPECT_EQ(from_iso_string("2106-02-07T06:28:15")->seconds, 0xffffffffu);
    EXPECT_EQ(from_iso_string("2016-04-06T08:29:27Z")->seconds, 1459931367u);
    EXPECT_FALSE(from_iso_string("2016-04-06"));
}

}  // namespace
}  // namespace bts::protocol
