// Reading and checking the bts-collector configuration.
#include "actors/collector/config.hpp"

#include "common/control/curve.hpp"
#include "common/util/log.hpp"
#include "common/util/zmq_endpoint.hpp"
#include "common/wire.hpp"

#include <filesystem>

namespace bts::collector {
namespace {

CurveConfig read_curve(const util::TomlTable& t) {
    t.reject_unknown_keys({"secret_cert", "allowed_clients", "insecure"});
    CurveConfig c;
    c.secret_cert = t.get_string("secret_cert", c.secret_cert);
    c.allowed_clients = t.get_string("allowed_clients", c.allowed_clients);
    c.insecure = t.get_bool("insecure", c.insecure);
    return c;
}

void validate_curve(const CurveConfig& c, const std::string& endpoint, const std::string& key) {
    if (endpoint.empty()) return;
    auto refused = control::check_plaintext(endpoint, c.enabled(), c.insecure);
    util::check_config(!refused, key + ".secret_cert", refused.value_or(""));
    util::check_config(!c.enabled() || !c.allowed_clients.empty(), key + ".allowed_clients",
                       "set the directory of allowed clients' public certificates");
}

}  // namespace

CollectorConfig CollectorConfig::from_toml(const util::TomlDoc& doc) {
    doc.reject_unknown_keys({"log", "collector", "store", "elasticsearch"});
    CollectorConfig c;

    util::TomlTable col = doc.table("collector");
    col.reject_unknown_keys({"instance", "listen", "publish", "curve", "publish_curve", "receive_hwm",
                             "totals_delay", "totals_linger", "stats_interval", "drain_on_stop"});
    c.instance = col.get_string("instance", c.instance);
    c.listen = col.get_string("listen", c.listen);
    c.publish = col.get_string("publish", c.publish);
    c.curve = read_curve(col.table("curve"));
    c.publish_curve = read_curve(col.table("publish_curve"));
    c.receive_hwm = col.get_size("receive_hwm", c.receive_hwm, 1, 100'000'000);
    c.totals_delay = col.get_duration("totals_delay", c.totals_delay);
    c.totals_linger = col.get_duration("totals_linger", c.totals_linger);
    c.stats_interval = col.get_duration("stats_interval", c.stats_interval, std::chrono::milliseconds(100));
    c.drain_on_stop = col.get_duration("drain_on_stop", c.drain_on_stop);

    util::TomlTable st = doc.table("store");
    st.reject_unknown_keys({"enabled", "path", "commit_interval", "commit_rows"});
    c.store.enabled = st.get_bool("enabled", c.store.enabled);
    c.store.path = st.get_string("path", c.store.path);
    c.store.commit_interval = st.get_duration("commit_interval", c.store.commit_interval,
                                              std::chrono::milliseconds(1), std::chrono::seconds(60));
    c.store.commit_rows = st.get_size("commit_rows", c.store.commit_rows, 1);

    util::TomlTable es = doc.table("elasticsearch");
    es.reject_unknown_keys({"enabled", "url", "username", "password", "password_file", "api_key",
                            "api_key_file", "index_prefix", "install_templates", "tls_verify",
                            "ca_file", "bulk_max_docs", "bulk_max_bytes", "flush_interval",
                            "request_timeout", "backoff_init", "backoff_max", "spool_dir",
                            "spool_max_bytes", "spool_segment_bytes", "spool_sync_interval",
                            "dead_letter_file"});
    EsConfig& e = c.es;
    e.enabled = es.get_bool("enabled", e.enabled);
    e.url = es.get_string("url", e.url);
    e.username = es.get_string("username", e.username);
    e.password = es.get_string("password", e.password);
    e.password_file = es.get_string("password_file", e.password_file);
    e.api_key = es.get_string("api_key", e.api_key);
    e.api_key_file = es.get_string("api_key_file", e.api_key_file);
    e.index_prefix = es.get_string("index_prefix", e.index_prefix);
    e.install_templates = es.get_bool("install_templates", e.install_templates);
    e.tls_verify = es.get_bool("tls_verify", e.tls_verify);
    e.ca_file = es.get_string("ca_file", e.ca_file);
    e.bulk_max_docs = es.get_size("bulk_max_docs", e.bulk_max_docs, 1, 1'000'000);
    e.bulk_max_bytes = es.get_size("bulk_max_bytes", e.bulk_max_bytes, 1024, 1ull << 31);
    e.flush_interval = es.get_duration("flush_interval", e.flush_interval);
    e.request_timeout = es.get_duration("request_timeout", e.request_timeout, std::chrono::milliseconds(100));
    e.backoff_init = es.get_duration("backoff_init", e.backoff_init, std::chrono::milliseconds(1));
    e.backoff_max = es.get_duration("backoff_max", e.backoff_max, std::chrono::milliseconds(1));
    e.spool_dir = es.get_string("spool_dir", e.spool_dir);
    e.spool_max_bytes = es.get_size("spool_max_bytes", e.spool_max_bytes, 1024);
    e.spool_segment_bytes = es.get_size("spool_segment_bytes", e.spool_segment_bytes, 1024);
    e.spool_sync_interval = es.get_duration("spool_sync_interval", e.spool_sync_interval);
    e.dead_letter_file = es.get_string("dead_letter_file", e.dead_letter_file);
    return c;
}

void CollectorConfig::validate() const {
    util::check_config(!listen.empty(), "collector.listen", "must not be empty");
    // The endpoints' own form first: a wrong value is reported against its own key, not against
    // the CURVE settings the plain-TCP rule would then name.
    if (const auto why = util::zmq_endpoint_error(listen)) util::check_config(false, "collector.listen", *why);
    if (!publish.empty()) {
        if (const auto why = util::zmq_endpoint_error(publish)) util::check_config(false, "collector.publish", *why);
    }
    if (const auto why = wire::validate_id(instance)) {
        util::check_config(false, "collector.instance", "\"" + util::printable(instance, 140) + "\": " + *why);
    }
    validate_curve(curve, listen, "collector.curve");
    validate_curve(publish_curve, publish, "collector.publish_curve");
    util::check_config(!curve.enabled() || !publish_curve.enabled() ||
                           curve.allowed_clients == publish_curve.allowed_clients,
                       "collector.publish_curve.allowed_clients",
                       "must equal collector.curve.allowed_clients (one zauth allow-list per process)");
    util::check_config(totals_linger >= totals_delay, "collector.totals_linger",
                       "must be at least collector.totals_delay");
    util::check_config(store.enabled || es.enabled, "store.enabled",
                       "enable the embedded store, Elasticsearch, or both");
    if (store.enabled) util::check_config(!store.path.empty(), "store.path", "must not be empty");
    if (es.enabled) {
        util::check_config(es.url.rfind("http://", 0) == 0 || es.url.rfind("https://", 0) == 0,
                           "elasticsearch.url", "must start with http:// or https://");
        // The URL is logged; credentials belong in username/password or api_key (never logged).
        const std::string authority = es.url.substr(es.url.find("//") + 2, es.url.find('/', es.url.find("//") + 2) -
                                                                               (es.url.find("//") + 2));
        util::check_config(authority.find('@') == std::string::npos, "elasticsearch.url",
                           "must not contain credentials (use username/password or api_key)");
        util::check_config(!es.index_prefix.empty() && es.index_prefix.find_first_of("*,/ \"\\|<>?#") ==
                                                           std::string::npos,
                           "elasticsearch.index_prefix", "must be a valid index name prefix");
        for (char ch : es.index_prefix)
            util::check_config(!(ch >= 'A' && ch <= 'Z'), "elasticsearch.index_prefix",
                               "must be lower case (an Elasticsearch index name rule)");
        util::check_config(!es.spool_dir.empty(), "elasticsearch.spool_dir", "must not be empty");
        util::check_config(es.backoff_max >= es.backoff_init, "elasticsearch.backoff_max",
                           "must be at least elasticsearch.backoff_init");
        util::check_config(es.spool_segment_bytes <= es.spool_max_bytes, "elasticsearch.spool_segment_bytes",
                           "must not exceed elasticsearch.spool_max_bytes");
        util::check_config(es.password.empty() || es.password_file.empty(), "elasticsearch.password_file",
                           "give password or password_file, not both");
        util::check_config(es.api_key.empty() || es.api_key_file.empty(), "elasticsearch.api_key_file",
                           "give api_key or api_key_file, not both");
        bool basic = !es.username.empty();
        bool key = !es.api_key.empty() || !es.api_key_file.empty();
        util::check_config(!(basic && key), "elasticsearch.api_key", "use basic auth or an API key, not both");
        util::check_config(basic || (es.password.empty() && es.password_file.empty()),
                           "elasticsearch.username", "a password needs a username");
        if (!es.ca_file.empty())
            util::check_config(std::filesystem::exists(es.ca_file), "elasticsearch.ca_file", "file not found");
    }
}

}  // namespace bts::collector
