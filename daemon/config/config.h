// cdrd configuration: the typed result of config/cdrd.yaml plus CDRD_*
// environment overrides. Every key is declared once, in the key table in
// config_keys.cpp (name, type, range, reloadable, help), PgBouncer-style; the
// loader, the environment overrides, --help-config and the SIGHUP check all
// walk that table. Defaults are the member initializers below.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cdrd {

struct FreeswitchNode {
  std::string name;  // required, unique; used in logs and metrics
  std::string host = "127.0.0.1";
  int port = 8021;
  std::string password = "ClueCon";
  std::string format = "plain";  // "plain" or "json": the ESL event format subscribed to
  int heartbeat_timeout_s = 60;  // link declared dead after this long without any event
};

struct ApiKey {
  std::string key;                    // the secret presented by clients
  std::vector<std::string> accounts;  // account ids this key may read; "*" = all
};

// trunks.by_network[]: calls whose far end (sip_network_ip) is in `cidr` go
// through `trunk`.
struct TrunkNetwork {
  std::string cidr;  // "198.51.100.0/24", "2001:db8::/32", or one address
  std::string trunk;
};

bool operator==(const FreeswitchNode& a, const FreeswitchNode& b);
bool operator==(const ApiKey& a, const ApiKey& b);
bool operator==(const TrunkNetwork& a, const TrunkNetwork& b);

struct Config {
  // Directory for the spool, the rejects store and the embedded database.
  // Default /var/lib/cdrd.
  std::string state_dir = "/var/lib/cdrd";
  // This collector's name, stored in each record's `node`. Default: hostname.
  std::string node_name;

  // listen.http: "host:port" of the HTTP listener (ingest, read API,
  // /metrics, /healthz). Default 127.0.0.1:8080.
  std::string listen_http = "127.0.0.1:8080";
  // listen.api: "host:port" of a separate read-API listener. Default "" = the
  // read API is served on listen.http. When set, listen.http serves ingest
  // only and listen.api the read API only (/healthz, /readyz, /metrics on both).
  std::string listen_api;
  // TLS of each listener: PEM certificate chain and private key paths. Both
  // "" (default) = plain HTTP; both set = that listener speaks only TLS.
  std::string listen_http_tls_cert;
  std::string listen_http_tls_key;
  std::string listen_api_tls_cert;
  std::string listen_api_tls_key;

  // ingest.*: who may post CDRs (the ingest routes only).
  std::map<std::string, std::string> ingest_basic_auth;  // user -> password; {} (default) = no HTTP basic auth
  std::vector<std::string> ingest_allow_from;            // CIDRs allowed to post; [] (default) = any address

  // limits.*
  uint64_t max_body_bytes = 4u << 20;     // larger ingest bodies get 413. Default 4 MiB.
  uint64_t max_header_bytes = 64u << 10;  // larger request headers are refused. Default 64 KiB.
  int request_timeout_s = 30;             // a connection idle/slow this long is closed. Default 30.
  int max_connections = 4096;             // open HTTP connections, all listeners together. Default 4096.
  int drain_timeout_s = 20;               // SIGTERM: longest the whole stop may take. Default 20.

  // database.*
  std::string database_dsn = "embedded";   // "embedded" or a libpq URI/conninfo
  std::string embedded_bin_dir;            // PostgreSQL binaries; "" = auto-detect
  std::string embedded_user = "postgres";  // user the embedded server runs as when cdrd runs as root
  int read_pool_size = 4;                  // read API worker threads (one connection each); exports keep one free
  int statement_timeout_ms = 10000;        // read API query time limit
  int partitions_ahead_months = 3;         // monthly partitions created ahead of the current month
  int retention_months = 0;                // partitions older than this many months are dropped; 0 = keep all
  int writer_connections = 2;              // the batch writer's connections, each writing a share of every batch

  // batch.*
  int batch_max_rows = 1000;     // rows per COPY batch
  int batch_max_delay_ms = 200;  // longest a durable record waits for its batch to fill

  // spool.*
  uint64_t spool_max_bytes = 2ull << 30;       // uncommitted spool above this: ingest answers 503
  uint64_t spool_segment_bytes = 64ull << 20;  // segment file size

  // accounts.*: how account_id is resolved (cdr-fields.md).
  std::vector<std::string> account_variables = {"account_id", "ecallmgr_Account-ID"};
  std::vector<std::string> account_domain_variables = {"domain_name"};  // variables holding the SIP domain
  std::map<std::string, std::string> account_domains;                   // SIP domain -> account id
  std::string default_account = "default";

  // numbers.*: how caller_e164, callee_e164 and destination read a number
  // written without its country code.
  std::string numbers_default_region = "US";                   // ISO 3166 alpha-2 libphonenumber knows
  std::map<std::string, std::string> numbers_account_regions;  // account id -> region

  // trunks.*: how a leg's `trunk` is found; the first rule that gives a name wins.
  std::vector<std::string> trunk_variables = {"sip_gateway_name", "ecallmgr_Resource-ID"};
  std::vector<TrunkNetwork> trunk_networks;           // far end's address -> trunk, first CIDR that holds it
  std::map<std::string, std::string> trunk_profiles;  // sofia_profile_name -> trunk

  // recording.*: how a leg's `recording_url` is found.
  std::vector<std::string> recording_variables = {"recording_url", "ecallmgr_Recording-Url"};
  std::string recording_url_template;  // "https://rec.example/{record_path}"; "" = none

  std::vector<FreeswitchNode> freeswitch;
  std::vector<ApiKey> api_keys;
  // api.*: tokens and read limits.
  std::string api_token_secret;    // HMAC key of auth tokens; "" = state_dir/api_token.key (made on first start)
  int api_token_ttl_s = 3600;      // lifetime of a token from PUT /v2/api_auth. Default 1 hour.
  int api_max_exports = 2;         // concurrent streamed reads (paginate=false, CSV); more get 429. Default 2.
  int api_max_queued_reads = 256;  // read requests waiting for a read-pool thread; more get 503. Default 256.
  // Origins whose browsers may call the read API (CORS: OPTIONS preflights and
  // Access-Control-* headers); "*" = any. Default none.
  std::vector<std::string> api_cors_origins;
  // The longest list / summary window, and the default one (Kazoo's
  // crossbar maximum_range). Default 31 days and an hour.
  int api_max_window_s = 2682000;
  // Read API dialects mounted, in this order (api/<name>/). Default all four.
  std::vector<std::string> api_dialects{"kazoo", "portsip", "wavix", "yeti"};

  // log.*
  std::string log_level = "info";   // trace, debug, info, warn, error, critical, off
  std::string log_format = "text";  // text or json

  // Derived paths.
  std::string spool_dir() const { return state_dir + "/spool"; }
  std::string rejects_dir() const { return state_dir + "/rejects"; }
  std::string pgdata_dir() const { return state_dir + "/pgdata"; }
  std::string run_dir() const { return state_dir + "/run"; }
  std::string token_key_path() const { return state_dir + "/api_token.key"; }
};

// Loads `path` and applies CDRD_* overrides from `environ`-style strings
// ("CDRD_LISTEN_HTTP=0.0.0.0:8080"). On error returns false and sets *error
// to a message naming the file, line and key, e.g.
//   "cdrd.yaml:12: unknown key 'batch.max_rowz'"
//   "cdrd.yaml:7: listen.http: expected host:port, got 'x'"
//   "environment CDRD_BATCH_MAX_ROWS: expected an integer, got 'lots'"
bool load_config(const std::string& path, const std::vector<std::string>& environment, Config* out, std::string* error);

// Same, from YAML text (tests); `name` is used in messages in place of the path.
bool load_config_text(const std::string& yaml, const std::string& name, const std::vector<std::string>& environment,
                      Config* out, std::string* error);

// The process environment as "NAME=value" strings.
std::vector<std::string> process_environment();

// One line per key: "key  type  default  reload  help" (for --help-config and docs).
std::string describe_config_keys();

// The key table as data. Keys inside list items are named "freeswitch[].port".
struct ConfigKeyDescription {
  std::string path;           // "batch.max_rows"
  std::string type;           // "int 1..100000"
  std::string default_value;  // "1000", as config/cdrd.yaml shows it
  bool reloadable = false;    // SIGHUP applies it; otherwise it needs a restart
  std::string help;
};
std::vector<ConfigKeyDescription> list_config_keys();

// SIGHUP: true when `next` differs from `running` only in reloadable keys.
// Otherwise false, with *error naming every changed key that needs a restart.
bool config_reload_allowed(const Config& running, const Config& next, std::string* error);

}  // namespace cdrd
