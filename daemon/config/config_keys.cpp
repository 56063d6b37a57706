// THE key table. Adding a key means adding its Config member (with its
// default) and one row here; config/cdrd.yaml must then document it (the
// config test checks that).
#include "daemon/config/config_keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "adapters/freeswitch/normalize.h"
#include "adapters/numbers/phone_numbers.h"
#include "daemon/config/config_values.h"
#include "daemon/ingest/ingest_guard.h"

namespace cdrd {

bool operator==(const FreeswitchNode& a, const FreeswitchNode& b) {
  return a.name == b.name && a.host == b.host && a.port == b.port && a.password == b.password && a.format == b.format &&
         a.heartbeat_timeout_s == b.heartbeat_timeout_s;
}

bool operator==(const ApiKey& a, const ApiKey& b) { return a.key == b.key && a.accounts == b.accounts; }

bool operator==(const TrunkNetwork& a, const TrunkNetwork& b) { return a.cidr == b.cidr && a.trunk == b.trunk; }

namespace config_internal {
namespace {

constexpr bool kReload = true;
constexpr bool kRestart = false;
constexpr int64_t kKiB = 1ll << 10;
constexpr int64_t kMiB = 1ll << 20;
constexpr int64_t kGiB = 1ll << 30;
constexpr int64_t kTiB = 1ll << 40;

template <class O>
Key<O> text(std::string_view path, std::string O::*m, bool reload, std::string_view help, unsigned flags = kNoFlags) {
  return Key<O>{path, Kind::kString, m, reload, help, 0, 0, {}, flags};
}

template <class O>
Key<O> integer(std::string_view path, int O::*m, int64_t min, int64_t max, bool reload, std::string_view help) {
  return Key<O>{path, Kind::kInt, m, reload, help, min, max, {}, kNoFlags};
}

template <class O>
Key<O> size(std::string_view path, uint64_t O::*m, int64_t min, int64_t max, bool reload, std::string_view help) {
  return Key<O>{path, Kind::kSize, m, reload, help, min, max, {}, kNoFlags};
}

// Without kNonEmpty, "" is accepted (= not set).
template <class O>
Key<O> host_port(std::string_view path, std::string O::*m, bool reload, std::string_view help,
                 unsigned flags = kNoFlags) {
  return Key<O>{path, Kind::kHostPort, m, reload, help, 0, 0, {}, flags};
}

template <class O>
Key<O> one_of(std::string_view path, std::string O::*m, std::string_view choices, bool reload, std::string_view help) {
  return Key<O>{path, Kind::kEnum, m, reload, help, 0, 0, choices, kNoFlags};
}

// Text that `check` accepts; `type` names it in --help-config.
template <class O>
Key<O> checked(std::string_view path, std::string O::*m, std::string_view type, std::string (*check)(std::string_view),
               bool reload, std::string_view help, unsigned flags = kNoFlags) {
  return Key<O>{path, Kind::kChecked, m, reload, help, 0, 0, type, flags, check};
}

template <class O>
Key<O> text_list(std::string_view path, std::vector<std::string> O::*m, bool reload, std::string_view help,
                 unsigned flags = kNoFlags) {
  return Key<O>{path, Kind::kStringList, m, reload, help, 0, 0, {}, flags};
}

template <class O>
Key<O> text_map(std::string_view path, std::map<std::string, std::string> O::*m, bool reload, std::string_view help) {
  return Key<O>{path, Kind::kStringMap, m, reload, help, 0, 0, {}, kNoFlags};
}

// A map whose values `check` accepts; `values` names them ("regions").
template <class O>
Key<O> checked_map(std::string_view path, std::map<std::string, std::string> O::*m, std::string_view values,
                   std::string (*check)(std::string_view), bool reload, std::string_view help) {
  return Key<O>{path, Kind::kStringMap, m, reload, help, 0, 0, values, kNoFlags, check};
}

std::string check_cidr(std::string_view text) {
  CidrBlock block;
  std::string why;
  return parse_cidr(text, &block, &why) ? std::string() : why;
}

template <class O, class Item>
Key<O> item_list(std::string_view path, std::vector<Item> O::*m, bool reload, std::string_view help) {
  return Key<O>{path, Kind::kItemList, m, reload, help, 0, 0, {}, kNoFlags};
}

template <class Owner>
void describe_rows(const std::vector<Key<Owner>>& keys, const std::string& prefix, bool reloadable,
                   std::vector<ConfigKeyDescription>* out);

// A list key is followed by the keys of its items, "freeswitch[].port".
template <class Owner>
void describe_items(const Key<Owner>& list, std::vector<ConfigKeyDescription>* out) {
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(std::declval<Owner>().*member)>;
        if constexpr (kIsItemList<T>) {
          describe_rows(item_keys<typename T::value_type>(), std::string(list.path) + "[].", list.reloadable, out);
        }
      },
      list.member);
}

template <class Owner>
void describe_rows(const std::vector<Key<Owner>>& keys, const std::string& prefix, bool reloadable,
                   std::vector<ConfigKeyDescription>* out) {
  const Owner defaults{};
  for (const Key<Owner>& key : keys) {
    ConfigKeyDescription d;
    d.path = prefix + std::string(key.path);
    d.type = type_name(key);
    d.default_value = key.has(kRequired) ? "(required)" : format_value(key, defaults);
    // An item key is reloadable exactly when its list is.
    d.reloadable = prefix.empty() ? key.reloadable : reloadable;
    d.help = std::string(key.help);
    if (key.has(kUnique)) d.help += " (unique)";
    out->push_back(std::move(d));
    if (key.kind == Kind::kItemList) describe_items(key, out);
  }
}

}  // namespace

const std::vector<Key<Config>>& config_keys() {
  static const std::vector<Key<Config>> keys = {
      text("state_dir", &Config::state_dir, kRestart,
           "spool, rejects and the embedded database live here; a relative path is from the working directory",
           kNonEmpty),
      text("node_name", &Config::node_name, kRestart, "this collector's name, stored in each record; \"\" = hostname"),
      host_port("listen.http", &Config::listen_http, kRestart,
                "HTTP listener: ingest, and the read API unless listen.api is set; /metrics, /healthz", kNonEmpty),
      host_port("listen.api", &Config::listen_api, kRestart,
                "separate read API listener; \"\" = the read API is on listen.http"),
      text("listen.http_tls_cert", &Config::listen_http_tls_cert, kRestart,
           "PEM certificate chain of listen.http; with http_tls_key = TLS only"),
      text("listen.http_tls_key", &Config::listen_http_tls_key, kRestart, "PEM private key of listen.http"),
      text("listen.api_tls_cert", &Config::listen_api_tls_cert, kRestart,
           "PEM certificate chain of listen.api; with api_tls_key = TLS only"),
      text("listen.api_tls_key", &Config::listen_api_tls_key, kRestart, "PEM private key of listen.api"),
      text_map("ingest.basic_auth", &Config::ingest_basic_auth, kReload,
               "user -> password for HTTP basic auth on the ingest routes; {} = none"),
      text_list("ingest.allow_from", &Config::ingest_allow_from, kReload,
                "CIDRs allowed to use the ingest routes; [] = any address"),
      size("limits.max_body_bytes", &Config::max_body_bytes, kKiB, kGiB, kReload, "larger ingest bodies get 413"),
      size("limits.max_header_bytes", &Config::max_header_bytes, kKiB, kMiB, kReload,
           "larger request headers are refused"),
      integer("limits.request_timeout_s", &Config::request_timeout_s, 1, 3600, kReload,
              "a connection idle or slow this long is closed"),
      integer("limits.max_connections", &Config::max_connections, 1, 1000000, kReload,
              "open HTTP connections, all listeners together; more wait in the kernel's backlog"),
      integer("limits.drain_timeout_s", &Config::drain_timeout_s, 1, 3600, kReload,
              "SIGTERM: longest the stop may take (requests in flight, the writer's batch); then exit 1"),
      text("database.dsn", &Config::database_dsn, kRestart,
           "embedded = private PostgreSQL under state_dir; else a libpq URI or conninfo", kNonEmpty),
      text("database.embedded.bin_dir", &Config::embedded_bin_dir, kRestart,
           "directory of initdb and postgres; \"\" = auto-detect"),
      text("database.embedded.user", &Config::embedded_user, kRestart,
           "user the embedded server runs as when cdrd runs as root", kNonEmpty),
      integer("database.read_pool_size", &Config::read_pool_size, 1, 64, kRestart,
              "read API threads, one connection each"),
      integer("database.statement_timeout_ms", &Config::statement_timeout_ms, 0, 3600000, kRestart,
              "read API query time limit; 0 = none"),
      integer("database.partitions_ahead_months", &Config::partitions_ahead_months, 0, 24, kRestart,
              "monthly partitions created ahead of the current month"),
      integer("database.retention_months", &Config::retention_months, 0, 1200, kRestart,
              "monthly partitions ending more than this many months ago are dropped; 0 = keep all"),
      integer("database.writer_connections", &Config::writer_connections, 1, 16, kRestart,
              "batch writer connections; each writes a share of every batch, the legs of one call together"),
      integer("batch.max_rows", &Config::batch_max_rows, 1, 100000, kRestart, "rows per COPY batch"),
      integer("batch.max_delay_ms", &Config::batch_max_delay_ms, 0, 60000, kRestart,
              "longest a durable record waits for its batch to fill"),
      size("spool.max_bytes", &Config::spool_max_bytes, kMiB, 16 * kTiB, kRestart,
           "uncommitted spool above this: ingest answers 503"),
      size("spool.segment_bytes", &Config::spool_segment_bytes, 64 * kKiB, 4 * kGiB, kRestart,
           "spool segment file size; less than spool.max_bytes"),
      text_list("accounts.variables", &Config::account_variables, kReload,
                "channel variables holding the account id, first found wins"),
      text_list("accounts.domain_variables", &Config::account_domain_variables, kReload,
                "channel variables holding the SIP domain, first found wins, when no account variable is set"),
      text_map("accounts.domains", &Config::account_domains, kReload,
               "SIP domain -> account id, when no variable names the account"),
      text("accounts.default", &Config::default_account, kReload, "account of records nothing else resolves",
           kNonEmpty),
      checked("numbers.default_region", &Config::numbers_default_region, "region", check_region, kReload,
              "region of numbers written without their country code (caller_e164, callee_e164, destination)",
              kNonEmpty),
      checked_map("numbers.account_regions", &Config::numbers_account_regions, "regions", check_region, kReload,
                  "account id -> region, for the accounts whose numbers are of another region"),
      text_list("trunks.variables", &Config::trunk_variables, kReload,
                "channel variables holding the trunk's name, first found wins (the first trunk rule)"),
      item_list("trunks.by_network", &Config::trunk_networks, kReload,
                "trunk of the legs whose far end (sip_network_ip) is in a CIDR, first match wins (the second rule)"),
      text_map("trunks.by_profile", &Config::trunk_profiles, kReload, "sofia_profile_name -> trunk (the third rule)"),
      text_list("recording.variables", &Config::recording_variables, kReload,
                "channel variables holding the recording's URL, first found wins"),
      checked("recording.url_template", &Config::recording_url_template, "URL template", check_url_template, kReload,
              "recording URL made of {variable}s when no recording variable is set; \"\" = none"),
      item_list("freeswitch", &Config::freeswitch, kRestart, "ESL inbound connections to media servers"),
      item_list("api.keys", &Config::api_keys, kReload, "read API credentials; CDRD_API_KEY adds one for [\"*\"]"),
      text("api.token_secret", &Config::api_token_secret, kRestart,
           "HMAC key that signs auth tokens; \"\" = state_dir/api_token.key, made on first start"),
      integer("api.token_ttl_s", &Config::api_token_ttl_s, 60, int64_t{7} * 86400, kReload,
              "lifetime of a token from PUT /v2/api_auth"),
      integer("api.max_exports", &Config::api_max_exports, 1, 64, kReload,
              "concurrent streamed reads (paginate=false, CSV); more get 429"),
      integer("api.max_queued_reads", &Config::api_max_queued_reads, 1, 100000, kRestart,
              "read requests waiting for a read-pool thread; more get 503"),
      text_list("api.cors_origins", &Config::api_cors_origins, kReload,
                "origins (scheme://host[:port]) whose browsers may call the read API (CORS); \"*\" = any"),
      integer("api.max_window_s", &Config::api_max_window_s, 60, int64_t{366} * 86400, kReload,
              "the longest created_from..created_to window of a list or summary, and the default one"),
      text_list("api.dialects", &Config::api_dialects, kRestart,
                "read API dialects mounted, in this order: kazoo (/v1, /v2), portsip (/api/cdrs), wavix (/v1/cdr),"
                " yeti (/api/rest/customer/v1)"),
      one_of("log.level", &Config::log_level, "trace|debug|info|warn|error|critical|off", kReload,
             "least severity logged"),
      one_of("log.format", &Config::log_format, "text|json", kReload, "json = one JSON object per line"),
  };
  return keys;
}

template <>
const std::vector<Key<FreeswitchNode>>& item_keys<FreeswitchNode>() {
  static const std::vector<Key<FreeswitchNode>> keys = {
      text("name", &FreeswitchNode::name, kRestart, "names the media server in logs and metrics",
           kRequired | kUnique | kNonEmpty),
      text("host", &FreeswitchNode::host, kRestart, "event socket address", kNonEmpty),
      integer("port", &FreeswitchNode::port, 1, 65535, kRestart, "event socket port"),
      text("password", &FreeswitchNode::password, kRestart, "event socket password"),
      one_of("format", &FreeswitchNode::format, "plain|json", kRestart, "event format subscribed to"),
      integer("heartbeat_timeout_s", &FreeswitchNode::heartbeat_timeout_s, 1, 3600, kRestart,
              "the link is declared dead after this long without an event"),
  };
  return keys;
}

template <>
const std::vector<Key<ApiKey>>& item_keys<ApiKey>() {
  static const std::vector<Key<ApiKey>> keys = {
      text("key", &ApiKey::key, kReload, "the secret, sent as X-Auth-Token", kRequired | kUnique | kNonEmpty),
      text_list("accounts", &ApiKey::accounts, kReload, "account ids this key may read; \"*\" = all",
                kRequired | kNonEmpty),
  };
  return keys;
}

template <>
const std::vector<Key<TrunkNetwork>>& item_keys<TrunkNetwork>() {
  static const std::vector<Key<TrunkNetwork>> keys = {
      checked("cidr", &TrunkNetwork::cidr, "CIDR", check_cidr, kReload,
              "IPv4 or IPv6 network (198.51.100.0/24, 2001:db8::/32) or one address", kRequired | kNonEmpty),
      text("trunk", &TrunkNetwork::trunk, kReload, "the trunk's name", kRequired | kNonEmpty),
  };
  return keys;
}

std::string environment_name(std::string_view path) {
  std::string name = "CDRD_";
  for (char c : path) name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace config_internal

std::vector<ConfigKeyDescription> list_config_keys() {
  std::vector<ConfigKeyDescription> out;
  config_internal::describe_rows(config_internal::config_keys(), "", false, &out);
  return out;
}

std::string describe_config_keys() {
  const std::vector<ConfigKeyDescription> keys = list_config_keys();
  size_t path_w = 0, type_w = 0, default_w = 0;
  for (const ConfigKeyDescription& k : keys) {
    path_w = std::max(path_w, k.path.size());
    type_w = std::max(type_w, k.type.size());
    default_w = std::max(default_w, k.default_value.size());
  }
  std::string out;
  for (const ConfigKeyDescription& k : keys) {
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<7}  {}\n", k.path, path_w, k.type, type_w, k.default_value,
                       default_w, k.reloadable ? "reload" : "restart", k.help);
  }
  return out;
}

bool config_reload_allowed(const Config& running, const Config& next, std::string* error) {
  std::string changed;
  for (const auto& key : config_internal::config_keys()) {
    if (key.reloadable || config_internal::same_value(key, running, next)) continue;
    changed += (changed.empty() ? "" : ", ") + std::string(key.path);
  }
  if (changed.empty()) return true;
  *error = "a restart is needed to change " + changed;
  return false;
}

}  // namespace cdrd
