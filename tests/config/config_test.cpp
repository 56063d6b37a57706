// The configuration loader against the key table: defaults, every key, the
// error messages (file, line, key path), environment overrides, the SIGHUP
// check, --help-config and the shipped config/cdrd.yaml.
#include <gtest/gtest.h>

#include <limits.h>
#include <unistd.h>
#include <filesystem>

#include <fstream>
#include <sstream>

#include "daemon/config/config.h"
#include "daemon/config/normalize_options.h"

#include "tests/support/test_files.h"

namespace cdrd {
namespace {

struct Loaded {
  bool ok = false;
  Config config;
  std::string error;
};

Loaded load(const std::string& yaml, const std::vector<std::string>& env = {}) {
  Loaded r;
  r.ok = load_config_text(yaml, "cdrd.yaml", env, &r.config, &r.error);
  return r;
}

// The error of a load that must fail.
std::string error_of(const std::string& yaml, const std::vector<std::string>& env = {}) {
  const Loaded r = load(yaml, env);
  EXPECT_FALSE(r.ok) << yaml;
  return r.error;
}

std::string hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  gethostname(host, sizeof(host) - 1);
  return host;
}

TEST(Config, EmptyFileGivesTheDefaults) {
  for (const std::string yaml : {"", "# only a comment\n", "---\n"}) {
    const Loaded r = load(yaml);
    ASSERT_TRUE(r.ok) << r.error;
    const Config& c = r.config;
    EXPECT_EQ(c.state_dir, "/var/lib/cdrd");
    EXPECT_EQ(c.node_name, hostname());
    EXPECT_EQ(c.listen_http, "127.0.0.1:8080");
    EXPECT_EQ(c.max_body_bytes, 4u * 1024 * 1024);
    EXPECT_EQ(c.max_header_bytes, 64u * 1024);
    EXPECT_EQ(c.request_timeout_s, 30);
    EXPECT_EQ(c.database_dsn, "embedded");
    EXPECT_EQ(c.embedded_bin_dir, "");
    EXPECT_EQ(c.embedded_user, "postgres");
    EXPECT_EQ(c.read_pool_size, 4);
    EXPECT_EQ(c.statement_timeout_ms, 10000);
    EXPECT_EQ(c.partitions_ahead_months, 3);
    EXPECT_EQ(c.writer_connections, 2);
    EXPECT_EQ(c.batch_max_rows, 1000);
    EXPECT_EQ(c.batch_max_delay_ms, 200);
    EXPECT_EQ(c.spool_max_bytes, 2ull << 30);
    EXPECT_EQ(c.spool_segment_bytes, 64ull << 20);
    EXPECT_EQ(c.account_variables, (std::vector<std::string>{"account_id", "ecallmgr_Account-ID"}));
    EXPECT_EQ(c.account_domain_variables, std::vector<std::string>{"domain_name"});
    EXPECT_TRUE(c.account_domains.empty());
    EXPECT_EQ(c.default_account, "default");
    EXPECT_TRUE(c.freeswitch.empty());
    EXPECT_TRUE(c.api_keys.empty());
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.log_format, "text");
  }
}

TEST(Config, ParsesEveryKey) {
  const Loaded r = load(R"(
state_dir: /srv/cdrd
node_name: collector-7
listen:
  http: "[::1]:9090"
limits:
  max_body_bytes: 1MiB
  max_header_bytes: 8192
  request_timeout_s: 45
database:
  dsn: postgresql://cdrd@db/cdrd
  embedded:
    bin_dir: /usr/lib/postgresql/15/bin
    user: cdrd
  read_pool_size: 6
  statement_timeout_ms: 2500
  partitions_ahead_months: 6
batch:
  max_rows: 500
  max_delay_ms: 50
spool:
  max_bytes: 10GiB
  segment_bytes: 16MiB
accounts:
  variables: [acct, ecallmgr_Account-ID]
  domain_variables: [sip_to_host, domain_name]
  domains:
    example.com: acct-ex
    other.org: acct-other
  default: fallback
freeswitch:
  - name: fs1
    host: 10.0.0.1
    port: 8022
    password: secret
    format: json
    heartbeat_timeout_s: 20
  - name: fs2
api:
  keys:
    - key: k1
      accounts: ["*"]
    - key: k2
      accounts: [a, b]
log:
  level: debug
  format: json
)");
  ASSERT_TRUE(r.ok) << r.error;
  const Config& c = r.config;
  EXPECT_EQ(c.state_dir, "/srv/cdrd");
  EXPECT_EQ(c.node_name, "collector-7");
  EXPECT_EQ(c.listen_http, "[::1]:9090");
  EXPECT_EQ(c.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.max_header_bytes, 8192u);
  EXPECT_EQ(c.request_timeout_s, 45);
  EXPECT_EQ(c.database_dsn, "postgresql://cdrd@db/cdrd");
  EXPECT_EQ(c.embedded_bin_dir, "/usr/lib/postgresql/15/bin");
  EXPECT_EQ(c.embedded_user, "cdrd");
  EXPECT_EQ(c.read_pool_size, 6);
  EXPECT_EQ(c.statement_timeout_ms, 2500);
  EXPECT_EQ(c.partitions_ahead_months, 6);
  EXPECT_EQ(c.batch_max_rows, 500);
  EXPECT_EQ(c.batch_max_delay_ms, 50);
  EXPECT_EQ(c.spool_max_bytes, 10ull << 30);
  EXPECT_EQ(c.spool_segment_bytes, 16ull << 20);
  EXPECT_EQ(c.account_variables, (std::vector<std::string>{"acct", "ecallmgr_Account-ID"}));
  EXPECT_EQ(c.account_domain_variables, (std::vector<std::string>{"sip_to_host", "domain_name"}));
  EXPECT_EQ(c.account_domains,
            (std::map<std::string, std::string>{{"example.com", "acct-ex"}, {"other.org", "acct-other"}}));
  EXPECT_EQ(c.default_account, "fallback");
  ASSERT_EQ(c.freeswitch.size(), 2u);
  EXPECT_EQ(c.freeswitch[0].name, "fs1");
  EXPECT_EQ(c.freeswitch[0].host, "10.0.0.1");
  EXPECT_EQ(c.freeswitch[0].port, 8022);
  EXPECT_EQ(c.freeswitch[0].password, "secret");
  EXPECT_EQ(c.freeswitch[0].format, "json");
  EXPECT_EQ(c.freeswitch[0].heartbeat_timeout_s, 20);
  // Unset item keys take the item defaults.
  EXPECT_EQ(c.freeswitch[1].name, "fs2");
  EXPECT_EQ(c.freeswitch[1].host, "127.0.0.1");
  EXPECT_EQ(c.freeswitch[1].port, 8021);
  EXPECT_EQ(c.freeswitch[1].password, "ClueCon");
  EXPECT_EQ(c.freeswitch[1].format, "plain");
  EXPECT_EQ(c.freeswitch[1].heartbeat_timeout_s, 60);
  ASSERT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.api_keys[0].key, "k1");
  EXPECT_EQ(c.api_keys[0].accounts, std::vector<std::string>{"*"});
  EXPECT_EQ(c.api_keys[1].key, "k2");
  EXPECT_EQ(c.api_keys[1].accounts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
}

TEST(Config, UnknownKeysAreNamedWithTheirLine) {
  EXPECT_EQ(error_of("state_dir: /x\nstat_dir: /y\n"), "cdrd.yaml:2: unknown key 'stat_dir'");
  EXPECT_EQ(error_of("state_dir: /tmp/x\nbatch:\n  max_rows: 10\n  max_rowz: 5\n"),
            "cdrd.yaml:4: unknown key 'batch.max_rowz'");
  EXPECT_EQ(error_of("database:\n  embedded:\n    usr: pg\n"), "cdrd.yaml:3: unknown key 'database.embedded.usr'");
  EXPECT_EQ(error_of("listen:\n  http: 127.0.0.1:1\n  https: 127.0.0.1:2\n"),
            "cdrd.yaml:3: unknown key 'listen.https'");
  // The first problem in document order is the one reported.
  EXPECT_EQ(error_of("zzz: 1\nbatch:\n  max_rows: lots\n"), "cdrd.yaml:1: unknown key 'zzz'");
  EXPECT_EQ(error_of("batch:\n  max_rows: 1\nbatch:\n  max_delay_ms: 1\n"), "cdrd.yaml:3: duplicate key 'batch'");
}

TEST(Config, BadValuesNameTheKeyAndLine) {
  // int
  EXPECT_EQ(error_of("batch:\n  max_rows: lots\n"), "cdrd.yaml:2: batch.max_rows: expected an integer, got 'lots'");
  EXPECT_EQ(error_of("state_dir: /x\nbatch:\n  max_rows: 0\n"),
            "cdrd.yaml:3: batch.max_rows: must be between 1 and 100000, got 0");
  EXPECT_EQ(error_of("batch:\n  max_rows: 1.5\n"), "cdrd.yaml:2: batch.max_rows: expected an integer, got '1.5'");
  EXPECT_EQ(error_of("database:\n  writer_connections: 0\n"),
            "cdrd.yaml:2: database.writer_connections: must be between 1 and 16, got 0");
  EXPECT_EQ(error_of("database:\n  read_pool_size: 99999999999999999999\n"),
            "cdrd.yaml:2: database.read_pool_size: must be between 1 and 64, got 99999999999999999999");
  // size
  EXPECT_EQ(error_of("spool:\n  max_bytes: big\n"),
            "cdrd.yaml:2: spool.max_bytes: expected a size (bytes, or a number with KiB, MiB, GiB or TiB), got 'big'");
  EXPECT_EQ(error_of("spool:\n  max_bytes: 10XB\n"),
            "cdrd.yaml:2: spool.max_bytes: expected a size (bytes, or a number with KiB, MiB, GiB or TiB), got '10XB'");
  EXPECT_EQ(error_of("limits:\n  max_body_bytes: 512\n"),
            "cdrd.yaml:2: limits.max_body_bytes: must be between 1KiB and 1GiB, got 512");
  // enum
  EXPECT_EQ(error_of("log:\n  level: loud\n"),
            "cdrd.yaml:2: log.level: expected one of trace, debug, info, warn, error, critical, off, got 'loud'");
  EXPECT_EQ(error_of("log:\n  format: xml\n"), "cdrd.yaml:2: log.format: expected one of text, json, got 'xml'");
  // host:port
  EXPECT_EQ(error_of("listen:\n  http: x\n"), "cdrd.yaml:2: listen.http: expected host:port or [ipv6]:port, got 'x'");
  // listen.api may be "" (not set); listen.http may not.
  EXPECT_EQ(error_of("listen:\n  http: \"\"\n"), "cdrd.yaml:2: listen.http: expected host:port or [ipv6]:port, got ''");
  EXPECT_TRUE(load("listen:\n  api: \"\"\n").ok);
  EXPECT_EQ(error_of("listen:\n  api: x\n"), "cdrd.yaml:2: listen.api: expected host:port or [ipv6]:port, got 'x'");
  EXPECT_EQ(error_of("listen:\n  http: :8080\n"),
            "cdrd.yaml:2: listen.http: expected host:port or [ipv6]:port, got ':8080'");
  EXPECT_EQ(error_of("listen:\n  http: ::1:8080\n"),
            "cdrd.yaml:2: listen.http: expected host:port or [ipv6]:port, got '::1:8080'");
  EXPECT_EQ(error_of("listen:\n  http: host:0\n"),
            "cdrd.yaml:2: listen.http: expected host:port with a port between 1 and 65535, got 'host:0'");
  EXPECT_EQ(error_of("listen:\n  http: host:65536\n"),
            "cdrd.yaml:2: listen.http: expected host:port with a port between 1 and 65535, got 'host:65536'");
  EXPECT_EQ(error_of("listen:\n  http: host:http\n"),
            "cdrd.yaml:2: listen.http: expected host:port with a port between 1 and 65535, got 'host:http'");
  // list
  EXPECT_EQ(error_of("accounts:\n  variables: account_id\n"),
            "cdrd.yaml:2: accounts.variables: expected a list of strings, got a scalar");
  EXPECT_EQ(error_of("accounts:\n  variables:\n    - a\n    - {x: 1}\n"),
            "cdrd.yaml:4: accounts.variables[1]: expected a string, got a map");
  EXPECT_EQ(error_of("accounts:\n  domain_variables: domain_name\n"),
            "cdrd.yaml:2: accounts.domain_variables: expected a list of strings, got a scalar");
  // map
  EXPECT_EQ(error_of("accounts:\n  domains: [a, b]\n"),
            "cdrd.yaml:2: accounts.domains: expected a map of strings, got a list");
  EXPECT_EQ(error_of("accounts:\n  domains:\n    example.com: [a]\n"),
            "cdrd.yaml:3: accounts.domains[example.com]: expected a string, got a list");
  // the wrong kind of node
  EXPECT_EQ(error_of("batch:\n  max_rows:\n    a: 1\n"), "cdrd.yaml:2: batch.max_rows: expected an integer, got a map");
  EXPECT_EQ(error_of("listen: 8080\n"), "cdrd.yaml:1: listen: expected a map, got a scalar");
  EXPECT_EQ(error_of("state_dir: [a]\n"), "cdrd.yaml:1: state_dir: expected a string, got a list");
  EXPECT_EQ(error_of("node_name:\n"), "cdrd.yaml:1: node_name: expected a string, got nothing");
  EXPECT_EQ(error_of("- a\n- b\n"), "cdrd.yaml:1: expected a map of keys at the top level, got a list");
  // strings that may not be empty
  EXPECT_EQ(error_of("database:\n  dsn: \"\"\n"), "cdrd.yaml:2: database.dsn: must not be empty");
}

TEST(Config, SizesTakeSuffixes) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"2048", 2048},       {"2KiB", 2048},       {"2KB", 2048},         {"2 KiB", 2048},
      {"3MiB", 3ull << 20}, {"3MB", 3ull << 20},  {"3mib", 3ull << 20},  {"1GiB", 1ull << 30},
      {"1GB", 1ull << 30},  {"1 GB", 1ull << 30}, {"1048576", 1u << 20}, {"1024MiB", 1ull << 30},
  };
  for (const auto& [text, bytes] : cases) {
    const Loaded r = load("limits:\n  max_body_bytes: " + text + "\n");
    ASSERT_TRUE(r.ok) << text << ": " << r.error;
    EXPECT_EQ(r.config.max_body_bytes, bytes) << text;
  }
  const Loaded big = load("spool:\n  max_bytes: 2TiB\n  segment_bytes: 1TB\n");
  ASSERT_FALSE(big.ok);  // segment_bytes is at most 4GiB
  EXPECT_EQ(big.error, "cdrd.yaml:3: spool.segment_bytes: must be between 64KiB and 4GiB, got 1TB");
  const Loaded tb = load("spool:\n  max_bytes: 2TB\n");
  ASSERT_TRUE(tb.ok) << tb.error;
  EXPECT_EQ(tb.config.spool_max_bytes, 2ull << 40);
  EXPECT_EQ(error_of("spool:\n  max_bytes: 99999999999999999999GiB\n"),
            "cdrd.yaml:2: spool.max_bytes: must be between 1MiB and 16TiB, got 99999999999999999999GiB");
}

TEST(Config, SegmentMustBeSmallerThanTheSpool) {
  EXPECT_EQ(error_of("spool:\n  max_bytes: 64MiB\n  segment_bytes: 64MiB\n"),
            "cdrd.yaml:3: spool.segment_bytes: must be less than spool.max_bytes (64MiB), got 64MiB");
  EXPECT_EQ(error_of("spool:\n  max_bytes: 32MiB\n"),
            "cdrd.yaml:2: spool.segment_bytes: must be less than spool.max_bytes (32MiB), got 64MiB");
  EXPECT_EQ(error_of("", {"CDRD_SPOOL_SEGMENT_BYTES=4GiB"}),
            "environment CDRD_SPOOL_SEGMENT_BYTES: spool.segment_bytes: must be less than spool.max_bytes (2GiB), got "
            "4GiB");
}

TEST(Config, DialectsAreKnownNamesEachOnce) {
  EXPECT_EQ(error_of("api:\n  dialects: [kazoo, sipx]\n"),
            "cdrd.yaml:2: api.dialects: unknown dialect 'sipx'; each of kazoo, portsip, wavix, yeti at most once");
  EXPECT_EQ(error_of("api:\n  dialects: [yeti, kazoo, yeti]\n"),
            "cdrd.yaml:2: api.dialects: repeated dialect 'yeti'; each of kazoo, portsip, wavix, yeti at most once");
  EXPECT_TRUE(load("api:\n  dialects: [wavix]\n", {}).ok);
}

TEST(Config, FreeswitchItemErrorsNameTheItem) {
  const std::string two = "freeswitch:\n  - name: fs1\n  - name: fs2\n";
  EXPECT_EQ(error_of(two + "    port: 99999\n"),
            "cdrd.yaml:4: freeswitch[1].port: must be between 1 and 65535, got 99999");
  EXPECT_EQ(error_of("freeswitch:\n  - name: fs1\n    pasword: x\n"),
            "cdrd.yaml:3: unknown key 'freeswitch[0].pasword'");
  EXPECT_EQ(error_of(two + "    format: xml\n"),
            "cdrd.yaml:4: freeswitch[1].format: expected one of plain, json, got 'xml'");
  EXPECT_EQ(error_of("freeswitch:\n  - name: fs1\n  - host: h\n"),
            "cdrd.yaml:3: freeswitch[1]: missing required key 'name'");
  EXPECT_EQ(error_of("freeswitch:\n  - name: fs1\n  - name: fs1\n"),
            "cdrd.yaml:3: freeswitch[1].name: must be unique, same as freeswitch[0].name");
  // Document order: the duplicate comes before the bad port of a later item.
  EXPECT_EQ(error_of("freeswitch:\n  - name: a\n  - name: a\n  - name: b\n    port: x\n"),
            "cdrd.yaml:3: freeswitch[1].name: must be unique, same as freeswitch[0].name");
  EXPECT_EQ(error_of("freeswitch:\n  - fs1\n"), "cdrd.yaml:2: freeswitch[0]: expected a map, got a scalar");
  EXPECT_EQ(error_of("freeswitch:\n  name: fs1\n"), "cdrd.yaml:1: freeswitch: expected a list of maps, got a map");
  EXPECT_EQ(error_of("freeswitch:\n  - name: fs1\n    name: fs2\n"), "cdrd.yaml:3: duplicate key 'freeswitch[0].name'");
}

TEST(Config, ApiKeyItemErrorsNameTheItem) {
  EXPECT_EQ(error_of("api:\n  keys:\n    - key: a\n      accounts: ['*']\n    - key: b\n      accounts: []\n"),
            "cdrd.yaml:6: api.keys[1].accounts: must not be empty");
  EXPECT_EQ(error_of("api:\n  keys:\n    - accounts: ['*']\n"), "cdrd.yaml:3: api.keys[0]: missing required key 'key'");
  EXPECT_EQ(error_of("api:\n  keys:\n    - key: a\n"), "cdrd.yaml:3: api.keys[0]: missing required key 'accounts'");
  EXPECT_EQ(error_of("api:\n  keys:\n    - key: ''\n      accounts: ['*']\n"),
            "cdrd.yaml:3: api.keys[0].key: must not be empty");
  // The secret itself is not repeated in the message.
  EXPECT_EQ(error_of("api:\n  keys:\n    - key: s3cret\n      accounts: [a]\n    - key: s3cret\n      accounts: [b]\n"),
            "cdrd.yaml:5: api.keys[1].key: must be unique, same as api.keys[0].key");
}

TEST(Config, SyntaxErrorsAndMissingFiles) {
  const std::string e = error_of("batch:\n  max_rows: [1, 2\n");
  EXPECT_EQ(e.rfind("cdrd.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("end of sequence"), std::string::npos) << e;

  Config c;
  std::string error;
  EXPECT_FALSE(load_config("/nonexistent/dir/cdrd.yaml", {}, &c, &error));
  EXPECT_EQ(error, "/nonexistent/dir/cdrd.yaml: No such file or directory");
  EXPECT_FALSE(load_config("/", {}, &c, &error));
  EXPECT_EQ(error, "/: Is a directory");
}

TEST(Config, EnvironmentOverridesTheFile) {
  const Loaded r = load("listen:\n  http: 127.0.0.1:1\nbatch:\n  max_rows: 10\n",
                        {"PATH=/bin", "CDRD_LISTEN_HTTP=0.0.0.0:9000", "CDRD_DATABASE_DSN=host=db dbname=cdrd",
                         "CDRD_BATCH_MAX_ROWS=77", "CDRD_DATABASE_EMBEDDED_USER=pgrun", "CDRD_SPOOL_MAX_BYTES=3GiB",
                         "CDRD_NODE_NAME=from-env", "CDRD_LOG_LEVEL=warn", "NOT_CDRD_BATCH_MAX_ROWS=x"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.listen_http, "0.0.0.0:9000");
  EXPECT_EQ(r.config.database_dsn, "host=db dbname=cdrd");
  EXPECT_EQ(r.config.batch_max_rows, 77);
  EXPECT_EQ(r.config.embedded_user, "pgrun");
  EXPECT_EQ(r.config.spool_max_bytes, 3ull << 30);
  EXPECT_EQ(r.config.node_name, "from-env");
  EXPECT_EQ(r.config.log_level, "warn");
}

TEST(Config, BadEnvironmentIsNamed) {
  EXPECT_EQ(error_of("", {"CDRD_BATCH_MAX_ROWS=lots"}),
            "environment CDRD_BATCH_MAX_ROWS: expected an integer, got 'lots'");
  EXPECT_EQ(error_of("", {"CDRD_LISTEN_HTTP=nowhere"}),
            "environment CDRD_LISTEN_HTTP: expected host:port or [ipv6]:port, got 'nowhere'");
  EXPECT_EQ(error_of("", {"CDRD_BATCH_MAX_ROWZ=5"}), "environment CDRD_BATCH_MAX_ROWZ: no such configuration key");
  // Lists and maps are file-only.
  EXPECT_EQ(error_of("", {"CDRD_ACCOUNTS_VARIABLES=a"}),
            "environment CDRD_ACCOUNTS_VARIABLES: no such configuration key");
  // Sorted by name, so the report does not depend on the environment's order.
  EXPECT_EQ(error_of("", {"CDRD_ZZZ=1", "CDRD_BATCH_MAX_ROWS=0"}),
            "environment CDRD_BATCH_MAX_ROWS: must be between 1 and 100000, got 0");
  // A good file does not hide a bad environment, and a bad file is reported first.
  EXPECT_EQ(error_of("batch:\n  max_rows: x\n", {"CDRD_BATCH_MAX_ROWS=lots"}),
            "cdrd.yaml:2: batch.max_rows: expected an integer, got 'x'");
}

TEST(Config, ApiKeyFromTheEnvironment) {
  const Loaded r = load("api:\n  keys:\n    - key: file-key\n      accounts: [a]\n", {"CDRD_API_KEY=env-secret"});
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.config.api_keys.size(), 2u);
  EXPECT_EQ(r.config.api_keys[0].key, "file-key");
  EXPECT_EQ(r.config.api_keys[1].key, "env-secret");
  EXPECT_EQ(r.config.api_keys[1].accounts, std::vector<std::string>{"*"});

  EXPECT_EQ(error_of("", {"CDRD_API_KEY="}), "environment CDRD_API_KEY: must not be empty");
  EXPECT_EQ(error_of("api:\n  keys:\n    - key: same\n      accounts: [a]\n", {"CDRD_API_KEY=same"}),
            "environment CDRD_API_KEY: the same key is already in api.keys");
}

TEST(Config, ReloadAllowsOnlyReloadableChanges) {
  const Loaded base = load("node_name: n\napi:\n  keys:\n    - key: a\n      accounts: ['*']\n");
  ASSERT_TRUE(base.ok) << base.error;

  Config next = base.config;
  next.log_level = "debug";
  next.max_body_bytes = 1 << 20;
  next.api_keys.push_back(ApiKey{"b", {"acct"}});
  next.account_domains["example.com"] = "x";
  next.account_domain_variables = {"sip_req_host"};
  std::string error;
  EXPECT_TRUE(config_reload_allowed(base.config, next, &error)) << error;

  next.listen_http = "127.0.0.1:9999";
  next.batch_max_rows = 5;
  EXPECT_FALSE(config_reload_allowed(base.config, next, &error));
  EXPECT_EQ(error, "a restart is needed to change listen.http, batch.max_rows");

  Config fs = base.config;
  fs.freeswitch.push_back(FreeswitchNode{"fs1"});
  EXPECT_FALSE(config_reload_allowed(base.config, fs, &error));
  EXPECT_EQ(error, "a restart is needed to change freeswitch");
}

TEST(Config, DescribeListsEveryKey) {
  const std::vector<ConfigKeyDescription> keys = list_config_keys();
  std::vector<std::string> paths;
  paths.reserve(keys.size());
  for (const auto& k : keys) paths.push_back(k.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"state_dir",
                                             "node_name",
                                             "listen.http",
                                             "listen.api",
                                             "listen.http_tls_cert",
                                             "listen.http_tls_key",
                                             "listen.api_tls_cert",
                                             "listen.api_tls_key",
                                             "ingest.basic_auth",
                                             "ingest.allow_from",
                                             "limits.max_body_bytes",
                                             "limits.max_header_bytes",
                                             "limits.request_timeout_s",
                                             "limits.max_connections",
                                             "limits.drain_timeout_s",
                                             "database.dsn",
                                             "database.embedded.bin_dir",
                                             "database.embedded.user",
                                             "database.read_pool_size",
                                             "database.statement_timeout_ms",
                                             "database.partitions_ahead_months",
                                             "database.retention_months",
                                             "database.writer_connections",
                                             "batch.max_rows",
                                             "batch.max_delay_ms",
                                             "spool.max_bytes",
                                             "spool.segment_bytes",
                                             "accounts.variables",
                                             "accounts.domain_variables",
                                             "accounts.domains",
                                             "accounts.default",
                                             "numbers.default_region",
                                             "numbers.account_regions",
                                             "trunks.variables",
                                             "trunks.by_network",
                                             "trunks.by_network[].cidr",
                                             "trunks.by_network[].trunk",
                                             "trunks.by_profile",
                                             "recording.variables",
                                             "recording.url_template",
                                             "freeswitch",
                                             "freeswitch[].name",
                                             "freeswitch[].host",
                                             "freeswitch[].port",
                                             "freeswitch[].password",
                                             "freeswitch[].format",
                                             "freeswitch[].heartbeat_timeout_s",
                                             "api.keys",
                                             "api.keys[].key",
                                             "api.keys[].accounts",
                                             "api.token_secret",
                                             "api.token_ttl_s",
                                             "api.max_exports",
                                             "api.max_queued_reads",
                                             "api.cors_origins",
                                             "api.max_window_s",
                                             "api.dialects",
                                             "log.level",
                                             "log.format"}));

  const std::string text = describe_config_keys();
  std::istringstream lines(text);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, keys.size());
    const ConfigKeyDescription& k = keys[i++];
    EXPECT_EQ(line.rfind(k.path + " ", 0), 0u) << line;
    EXPECT_NE(line.find(k.type), std::string::npos) << line;
    EXPECT_NE(line.find(k.default_value), std::string::npos) << line;
    EXPECT_NE(line.find(k.reloadable ? " reload " : " restart "), std::string::npos) << line;
    EXPECT_NE(line.find(k.help), std::string::npos) << line;
  }
  EXPECT_EQ(i, keys.size());
  EXPECT_NE(text.find("batch.max_rows"), std::string::npos);
  const auto key = [&](const std::string& path) {
    for (const auto& k : keys) {
      if (k.path == path) return k;
    }
    ADD_FAILURE() << "no key " << path;
    return ConfigKeyDescription{};
  };
  EXPECT_EQ(key("batch.max_rows").type, "int 1..100000");
  EXPECT_EQ(key("batch.max_rows").default_value, "1000");
  EXPECT_FALSE(key("batch.max_rows").reloadable);
  EXPECT_EQ(key("limits.max_body_bytes").type, "size 1KiB..1GiB");
  EXPECT_EQ(key("limits.max_body_bytes").default_value, "4MiB");
  EXPECT_TRUE(key("limits.max_body_bytes").reloadable);
  EXPECT_EQ(key("accounts.domain_variables").type, "list of strings");
  EXPECT_EQ(key("accounts.domain_variables").default_value, "[domain_name]");
  EXPECT_TRUE(key("accounts.domain_variables").reloadable);
  EXPECT_EQ(key("freeswitch[].name").default_value, "(required)");
  EXPECT_EQ(key("listen.api").type, "host:port");
  EXPECT_EQ(key("listen.api").default_value, "\"\"");
  // The normalizers' keys (issue 12), all applied by SIGHUP.
  EXPECT_EQ(key("numbers.default_region").type, "region");
  EXPECT_EQ(key("numbers.default_region").default_value, "US");
  EXPECT_EQ(key("numbers.account_regions").type, "map of regions");
  EXPECT_EQ(key("numbers.account_regions").default_value, "{}");
  EXPECT_EQ(key("trunks.variables").default_value, "[sip_gateway_name, ecallmgr_Resource-ID]");
  EXPECT_EQ(key("trunks.by_network").type, "list of maps");
  EXPECT_EQ(key("trunks.by_network[].cidr").type, "CIDR");
  EXPECT_EQ(key("trunks.by_network[].cidr").default_value, "(required)");
  EXPECT_EQ(key("trunks.by_network[].trunk").default_value, "(required)");
  EXPECT_EQ(key("trunks.by_profile").type, "map of strings");
  EXPECT_EQ(key("recording.variables").default_value, "[recording_url, ecallmgr_Recording-Url]");
  EXPECT_EQ(key("recording.url_template").type, "URL template");
  EXPECT_EQ(key("recording.url_template").default_value, "\"\"");
  for (const char* path : {"numbers.default_region", "numbers.account_regions", "trunks.variables", "trunks.by_network",
                           "trunks.by_network[].cidr", "trunks.by_network[].trunk", "trunks.by_profile",
                           "recording.variables", "recording.url_template"}) {
    EXPECT_TRUE(key(path).reloadable) << path;
  }
  EXPECT_NE(describe_config_keys().find("trunks.by_network[].cidr"), std::string::npos);
}

TEST(Config, NormalizerKeysHaveTheirDefaults) {
  const Loaded r = load("");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.numbers_default_region, "US");
  EXPECT_TRUE(r.config.numbers_account_regions.empty());
  EXPECT_EQ(r.config.trunk_variables, (std::vector<std::string>{"sip_gateway_name", "ecallmgr_Resource-ID"}));
  EXPECT_TRUE(r.config.trunk_networks.empty());
  EXPECT_TRUE(r.config.trunk_profiles.empty());
  EXPECT_EQ(r.config.recording_variables, (std::vector<std::string>{"recording_url", "ecallmgr_Recording-Url"}));
  EXPECT_EQ(r.config.recording_url_template, "");
}

TEST(Config, ParsesTheNormalizerKeys) {
  const Loaded r = load(R"(
numbers:
  default_region: FR
  account_regions:
    acct-uk: GB
    acct-de: DE
trunks:
  variables: [sip_gateway_name]
  by_network:
    - cidr: 198.51.100.0/24
      trunk: carrier-a
    - cidr: 2001:db8:5::/48
      trunk: carrier-b
    - cidr: 192.0.2.7
      trunk: carrier-c
  by_profile:
    external: carrier-x
recording:
  variables: [my_recording]
  url_template: https://rec.example/{record_path}/{record_name}
)");
  ASSERT_TRUE(r.ok) << r.error;
  const Config& c = r.config;
  EXPECT_EQ(c.numbers_default_region, "FR");
  EXPECT_EQ(c.numbers_account_regions, (std::map<std::string, std::string>{{"acct-de", "DE"}, {"acct-uk", "GB"}}));
  EXPECT_EQ(c.trunk_variables, std::vector<std::string>{"sip_gateway_name"});
  ASSERT_EQ(c.trunk_networks.size(), 3u);
  EXPECT_EQ(c.trunk_networks[0].cidr, "198.51.100.0/24");
  EXPECT_EQ(c.trunk_networks[0].trunk, "carrier-a");
  EXPECT_EQ(c.trunk_networks[1].cidr, "2001:db8:5::/48");
  EXPECT_EQ(c.trunk_networks[2].cidr, "192.0.2.7");
  EXPECT_EQ(c.trunk_profiles, (std::map<std::string, std::string>{{"external", "carrier-x"}}));
  EXPECT_EQ(c.recording_variables, std::vector<std::string>{"my_recording"});
  EXPECT_EQ(c.recording_url_template, "https://rec.example/{record_path}/{record_name}");

  // The same options as the normalizers get them (the HTTP routes, the ESL clients, `cdrd renormalize`).
  const NormalizeOptions o = normalize_options_from(c);
  EXPECT_EQ(o.node, c.node_name);
  EXPECT_EQ(o.app_version, CDRD_VERSION);
  EXPECT_EQ(o.accounts.variables, c.account_variables);
  EXPECT_EQ(o.accounts.default_account, "default");
  EXPECT_EQ(o.numbers.default_region, "FR");
  EXPECT_EQ(o.numbers.region_for("acct-uk"), "GB");
  EXPECT_EQ(o.numbers.region_for("acct-other"), "FR");
  EXPECT_EQ(o.trunks.variables, std::vector<std::string>{"sip_gateway_name"});
  ASSERT_EQ(o.trunks.by_network.size(), 3u);
  EXPECT_EQ(o.trunks.by_network[0].trunk, "carrier-a");
  EXPECT_FALSE(o.trunks.by_network[0].network.network.v6);
  EXPECT_EQ(o.trunks.by_network[0].network.prefix_len, 24);
  EXPECT_TRUE(o.trunks.by_network[1].network.network.v6);
  EXPECT_EQ(o.trunks.by_network[1].network.prefix_len, 48);
  EXPECT_EQ(o.trunks.by_network[2].network.prefix_len, 32);
  EXPECT_EQ(o.trunks.by_profile.at("external"), "carrier-x");
  EXPECT_EQ(o.recording.variables, std::vector<std::string>{"my_recording"});
  EXPECT_EQ(o.recording.url_template, c.recording_url_template);
}

TEST(Config, BadNormalizerValuesNameTheKey) {
  EXPECT_EQ(error_of("numbers:\n  default_region: XX\n"),
            "cdrd.yaml:2: numbers.default_region: expected a region code libphonenumber knows (ISO 3166 alpha-2 in "
            "capitals: US, FR, GB, DE...), got 'XX'");
  EXPECT_EQ(error_of("numbers:\n  default_region: fr\n"),
            "cdrd.yaml:2: numbers.default_region: expected a region code libphonenumber knows (ISO 3166 alpha-2 in "
            "capitals: US, FR, GB, DE...), got 'fr'");
  EXPECT_EQ(error_of("numbers:\n  default_region: \"\"\n"), "cdrd.yaml:2: numbers.default_region: must not be empty");
  EXPECT_EQ(error_of("numbers:\n  account_regions:\n    acct-a: FR\n    acct-b: France\n"),
            "cdrd.yaml:4: numbers.account_regions[acct-b]: expected a region code libphonenumber knows (ISO 3166 "
            "alpha-2 in capitals: US, FR, GB, DE...), got 'France'");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - cidr: 198.51.100.0/24\n      trunk: a\n"
                     "    - cidr: 198.51.100.0/33\n      trunk: b\n"),
            "cdrd.yaml:5: trunks.by_network[1].cidr: '198.51.100.0/33': the prefix length must be 0..32");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - cidr: carrier.example.com\n      trunk: a\n"),
            "cdrd.yaml:3: trunks.by_network[0].cidr: 'carrier.example.com' is not an IPv4 or IPv6 address or CIDR "
            "(e.g. 10.0.0.0/8, 2001:db8::/32)");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - cidr: 2001:db8::/129\n      trunk: a\n"),
            "cdrd.yaml:3: trunks.by_network[0].cidr: '2001:db8::/129': the prefix length must be 0..128");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - cidr: 10.0.0.0/8\n"),
            "cdrd.yaml:3: trunks.by_network[0]: missing required key 'trunk'");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - trunk: a\n"),
            "cdrd.yaml:3: trunks.by_network[0]: missing required key 'cidr'");
  EXPECT_EQ(error_of("trunks:\n  by_network:\n    - cidr: 10.0.0.0/8\n      trunk: a\n      name: x\n"),
            "cdrd.yaml:5: unknown key 'trunks.by_network[0].name'");
  EXPECT_EQ(error_of("trunks:\n  by_profile: [external]\n"),
            "cdrd.yaml:2: trunks.by_profile: expected a map of strings, got a list");
  EXPECT_EQ(error_of("recording:\n  url_template: https://rec.example/{record_path\n"),
            "cdrd.yaml:2: recording.url_template: the '{' at offset 20 is not closed by a '}'");
  EXPECT_EQ(error_of("recording:\n  url_template: https://rec.example/{}\n"),
            "cdrd.yaml:2: recording.url_template: an empty variable name '{}' at offset 20");
  EXPECT_EQ(error_of("recording:\n  url_template: https://rec.example/x}\n"),
            "cdrd.yaml:2: recording.url_template: a '}' at offset 21 closes no '{'");
  EXPECT_EQ(error_of("numbers:\n  default_regions: US\n"), "cdrd.yaml:2: unknown key 'numbers.default_regions'");
}

TEST(Config, NormalizerScalarsFromTheEnvironment) {
  const Loaded r = load("", {"CDRD_NUMBERS_DEFAULT_REGION=GB", "CDRD_RECORDING_URL_TEMPLATE=https://r/{uuid}.wav"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.config.numbers_default_region, "GB");
  EXPECT_EQ(r.config.recording_url_template, "https://r/{uuid}.wav");
  EXPECT_EQ(error_of("", {"CDRD_NUMBERS_DEFAULT_REGION=UK"}),
            "environment CDRD_NUMBERS_DEFAULT_REGION: expected a region code libphonenumber knows (ISO 3166 alpha-2 "
            "in capitals: US, FR, GB, DE...), got 'UK'");
}

TEST(Config, NormalizerKeysReloadOnSighup) {
  const Loaded base = load("");
  ASSERT_TRUE(base.ok) << base.error;
  Config next = base.config;
  next.numbers_default_region = "FR";
  next.numbers_account_regions["a"] = "DE";
  next.trunk_variables = {};
  next.trunk_networks.push_back(TrunkNetwork{"10.0.0.0/8", "t"});
  next.trunk_profiles["external"] = "t";
  next.recording_variables = {};
  next.recording_url_template = "https://r/{x}";
  std::string error;
  EXPECT_TRUE(config_reload_allowed(base.config, next, &error)) << error;
}

TEST(Config, ShippedExampleLoadsAndDocumentsEveryKey) {
  Config c;
  std::string error;
  ASSERT_TRUE(load_config(CDRD_EXAMPLE_CONFIG, {}, &c, &error)) << error;
  // "./state" is relative to the working directory, made absolute at load.
  EXPECT_EQ(c.state_dir, (std::filesystem::current_path() / "state").string());
  EXPECT_EQ(c.listen_http, "127.0.0.1:8080");
  EXPECT_EQ(c.database_dsn, "embedded");
  EXPECT_EQ(c.node_name, hostname());
  ASSERT_EQ(c.api_keys.size(), 1u);
  EXPECT_EQ(c.api_keys[0].key, "change-me");
  EXPECT_EQ(c.api_keys[0].accounts, std::vector<std::string>{"*"});

  // Apart from the quick-start values, the example holds the defaults.
  Config defaults;
  ASSERT_TRUE(load_config_text("", "defaults", {}, &defaults, &error)) << error;
  c.state_dir = defaults.state_dir;
  EXPECT_TRUE(config_reload_allowed(defaults, c, &error)) << error;
  EXPECT_EQ(c.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(c.max_header_bytes, defaults.max_header_bytes);
  EXPECT_EQ(c.request_timeout_s, defaults.request_timeout_s);
  EXPECT_EQ(c.account_variables, defaults.account_variables);
  EXPECT_EQ(c.account_domain_variables, defaults.account_domain_variables);
  EXPECT_EQ(c.account_domains, defaults.account_domains);
  EXPECT_EQ(c.default_account, defaults.default_account);
  EXPECT_EQ(c.numbers_default_region, defaults.numbers_default_region);
  EXPECT_EQ(c.trunk_variables, defaults.trunk_variables);
  EXPECT_EQ(c.trunk_networks, defaults.trunk_networks);
  EXPECT_EQ(c.recording_variables, defaults.recording_variables);
  EXPECT_EQ(c.recording_url_template, defaults.recording_url_template);
  EXPECT_EQ(c.log_level, defaults.log_level);
  EXPECT_EQ(c.log_format, defaults.log_format);

  // Each key has its documentation line, with the table's type and default.
  const std::string text = test::read_file(CDRD_EXAMPLE_CONFIG);
  for (const ConfigKeyDescription& k : list_config_keys()) {
    const std::string doc =
        k.path + " (" + k.type + ", default " + k.default_value + ", " + (k.reloadable ? "reload" : "restart") + ")";
    EXPECT_NE(text.find(doc), std::string::npos) << "config/cdrd.yaml does not document: " << doc;
  }
}

}  // namespace
}  // namespace cdrd
