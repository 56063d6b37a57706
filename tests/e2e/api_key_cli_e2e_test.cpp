// End to end: `cdrd api-key create|list|revoke` with the real binary, and
// the stored key and its tokens against the running daemon: the key reads
// its account only, and revoking it voids both the key and its tokens. With
// database.dsn: embedded the command works whether the daemon runs (its
// server is used) or not (the command starts and stops the server itself).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

CommandResult cdrd_command(const std::string& args) { return run_command(std::string(CDRD_BINARY) + " " + args); }

// The value of the output line "<name>: value", or "".
std::string field(const std::string& output, const std::string& name) {
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ": ", 0) == 0) return line.substr(name.size() + 2);
  }
  return "";
}

struct CreatedKey {
  std::string key_id;
  std::string key;
};

CreatedKey create_key(const std::string& config_path, const std::string& accounts_args, CommandResult* out) {
  *out = cdrd_command("api-key create " + accounts_args + " --name e2e -c " + config_path);
  return {field(out->output, "key_id"), field(out->output, "key")};
}

std::string message_of(const HttpResponse& r) {
  const auto doc = parse_json(r.body);
  return doc.IsObject() && doc.HasMember("message") ? doc["message"].GetString() : "";
}

HttpResponse get_cdr(int port, const std::string& account, const std::string& uuid, const std::string& credential) {
  return http_request(port, "GET", "/v2/accounts/" + account + "/cdrs/201801-" + uuid, "",
                      {{"X-Auth-Token", credential}});
}

HttpResponse post_cdr(int port, const std::string& uuid, const std::string& account) {
  return http_request(port, "POST", "/ingest/freeswitch/json", unique_cdr(uuid, account),
                      {{"Content-Type", "application/json"}});
}

std::string token_for(int port, const std::string& key) {
  const HttpResponse r = http_request(port, "PUT", "/v2/api_auth", "{\"data\":{\"api_key\":\"" + key + "\"}}");
  if (r.status != 201) return "";
  return parse_json(r.body)["auth_token"].GetString();
}

TEST(ApiKeyCliE2E, StoredKeyReadsItsAccountOnlyUntilRevokedWithItsTokens) {
  TempDir dir;
  const std::string dsn = create_migrated_database("e2e_api_key_cli");
  CdrdProcess cdrd(dir.path(), dsn);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string a_uuid = random_uuid();
  const std::string b_uuid = random_uuid();
  ASSERT_EQ(post_cdr(cdrd.port(), a_uuid, "acct-a").status, 200);
  ASSERT_EQ(post_cdr(cdrd.port(), b_uuid, "acct-b").status, 200);
  ASSERT_TRUE(eventually([&] { return query_count(dsn, "SELECT count(*) FROM cdrs") == 2; }));

  CommandResult out;
  const CreatedKey key = create_key(cdrd.config_path(), "--account acct-a", &out);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  ASSERT_EQ(key.key.rfind("cdrd_" + key.key_id + "_", 0), 0u) << out.output;
  EXPECT_EQ(query_count(dsn, "SELECT count(*) FROM api_keys WHERE key_id = '" + key.key_id + "'"), 1);

  // The key reads its account, and only it.
  HttpResponse r = get_cdr(cdrd.port(), "acct-a", a_uuid, key.key);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["data"]["id"].GetString()), "201801-" + a_uuid);
  r = get_cdr(cdrd.port(), "acct-b", b_uuid, key.key);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(message_of(r), "these credentials may not read account acct-b");
  r = http_request(cdrd.port(), "GET", "/v2/accounts/acct-b/cdrs", "", {{"Authorization", "Bearer " + key.key}});
  EXPECT_EQ(r.status, 403) << r.body;

  // Its token likewise.
  const HttpResponse minted =
      http_request(cdrd.port(), "PUT", "/v2/api_auth", "{\"data\":{\"api_key\":\"" + key.key + "\"}}");
  ASSERT_EQ(minted.status, 201) << minted.body;
  const auto doc = parse_json(minted.body);
  EXPECT_EQ(std::string(doc["data"]["account_id"].GetString()), "acct-a");
  const std::string token = doc["auth_token"].GetString();
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-a", a_uuid, token).status, 200);
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-b", b_uuid, token).status, 403);

  // A key of the right shape that was never stored, and another secret for this key_id.
  const std::string forged = "cdrd_" + key.key_id + "_" + std::string(43, 'A');
  r = get_cdr(cdrd.port(), "acct-a", a_uuid, forged);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(token_for(cdrd.port(), forged), "");

  // list: the id and the accounts, never the key.
  out = cdrd_command("api-key list -c " + cdrd.config_path());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find(key.key_id + "\tacct-a\te2e\t"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find(key.key.substr(key.key.rfind('_') + 1)), std::string::npos) << out.output;

  out = cdrd_command("api-key revoke " + key.key_id + " -c " + cdrd.config_path());
  EXPECT_EQ(out.exit_code, 0) << out.output;
  r = get_cdr(cdrd.port(), "acct-a", a_uuid, key.key);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(message_of(r), "the API key " + key.key_id + " has been revoked");
  r = get_cdr(cdrd.port(), "acct-a", a_uuid, token);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(message_of(r).find("revoked"), std::string::npos) << r.body;
  EXPECT_EQ(token_for(cdrd.port(), key.key), "") << "a revoked key gets no token";

  out = cdrd_command("api-key list -c " + cdrd.config_path());
  EXPECT_EQ(field(out.output, "key"), "");
  // The revoked column is filled: the line ends in a timestamp, not "-".
  const size_t line = out.output.find(key.key_id);
  ASSERT_NE(line, std::string::npos) << out.output;
  const std::string row = out.output.substr(line, out.output.find('\n', line) - line);
  EXPECT_EQ(row.back(), 'Z') << row;

  out = cdrd_command("api-key revoke " + key.key_id + " -c " + cdrd.config_path());
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find(key.key_id), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("already revoked"), std::string::npos) << out.output;
  out = cdrd_command("api-key revoke 0123456789abcdef -c " + cdrd.config_path());
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("no API key 0123456789abcdef"), std::string::npos) << out.output;
}

TEST(ApiKeyCliE2E, KeyForSeveralAccountsAndBadArguments) {
  TempDir dir;
  const std::string dsn = create_migrated_database("e2e_api_key_args");
  CdrdProcess cdrd(dir.path(), dsn);
  ASSERT_TRUE(cdrd.start()) << cdrd.log();
  const std::string a_uuid = random_uuid();
  const std::string b_uuid = random_uuid();
  const std::string c_uuid = random_uuid();
  ASSERT_EQ(post_cdr(cdrd.port(), a_uuid, "acct-a").status, 200);
  ASSERT_EQ(post_cdr(cdrd.port(), b_uuid, "acct-b").status, 200);
  ASSERT_EQ(post_cdr(cdrd.port(), c_uuid, "acct-c").status, 200);
  ASSERT_TRUE(eventually([&] { return query_count(dsn, "SELECT count(*) FROM cdrs") == 3; }));

  CommandResult out;
  const CreatedKey key = create_key(cdrd.config_path(), "--account acct-a --account acct-b", &out);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-a", a_uuid, key.key).status, 200);
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-b", b_uuid, key.key).status, 200);
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-c", c_uuid, key.key).status, 403);
  const HttpResponse minted =
      http_request(cdrd.port(), "PUT", "/v2/api_auth", "{\"data\":{\"api_key\":\"" + key.key + "\"}}");
  ASSERT_EQ(minted.status, 201);
  const auto doc = parse_json(minted.body);
  EXPECT_EQ(std::string(doc["data"]["account_id"].GetString()), "acct-a");  // the first account
  ASSERT_EQ(doc["data"]["accounts"].Size(), 2u);
  EXPECT_EQ(std::string(doc["data"]["accounts"][1].GetString()), "acct-b");

  // No account: CLI11 refuses before anything is stored (exit 2, like a bad configuration).
  out = cdrd_command("api-key create -c " + cdrd.config_path());
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("--account"), std::string::npos) << out.output;
  out = cdrd_command("api-key create --account '' -c " + cdrd.config_path());
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("account id must not be empty"), std::string::npos) << out.output;
  EXPECT_EQ(query_count(dsn, "SELECT count(*) FROM api_keys"), 1);
  // The daemon's own flags still work beside the subcommand.
  EXPECT_EQ(cdrd_command("--check-config -c " + cdrd.config_path()).exit_code, 0);
}

// database.dsn: embedded. First no daemon: the command starts the embedded
// server (initdb included), stores the key and stops the server, so the
// daemon can then start on the same data directory. Then with the daemon
// running: the command goes through its socket in state_dir/run.
TEST(ApiKeyCliE2E, EmbeddedDatabaseWithTheDaemonStoppedAndRunning) {
  TempDir dir;
  const std::string state = dir.path() + "/state";
  const std::string cli_config = dir.path() + "/cli.yaml";
  std::ofstream(cli_config) << "state_dir: " << state << "\ndatabase:\n  dsn: embedded\nlog:\n  level: warn\n";

  CommandResult out;
  const CreatedKey offline = create_key(cli_config, "--account acct-a", &out);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  ASSERT_FALSE(offline.key.empty()) << out.output;
  struct stat st {};
  EXPECT_EQ(::stat((state + "/pgdata/PG_VERSION").c_str(), &st), 0) << "initdb by the command";
  EXPECT_NE(::stat((state + "/pgdata/postmaster.pid").c_str(), &st), 0) << "the command stopped its server";

  CdrdProcess cdrd(state, "embedded");
  ASSERT_TRUE(cdrd.start(true, 180)) << cdrd.log();
  const std::string a_uuid = random_uuid();
  ASSERT_EQ(post_cdr(cdrd.port(), a_uuid, "acct-a").status, 200);
  HttpResponse r;
  ASSERT_TRUE(eventually([&] {
    r = get_cdr(cdrd.port(), "acct-a", a_uuid, offline.key);
    return r.status == 200;
  })) << r.body
      << cdrd.log();
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-b", a_uuid, offline.key).status, 403);

  // The daemon is running: the command uses its server.
  const CreatedKey online = create_key(cli_config, "--account acct-a", &out);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-a", a_uuid, online.key).status, 200);
  out = cdrd_command("api-key revoke " + offline.key_id + " -c " + cli_config);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-a", a_uuid, offline.key).status, 401);
  EXPECT_EQ(get_cdr(cdrd.port(), "acct-a", a_uuid, online.key).status, 200);
  // ... and left it running.
  EXPECT_EQ(http_request(cdrd.port(), "GET", "/readyz").status, 200);
  out = cdrd_command("api-key list -c " + cli_config);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find(offline.key_id), std::string::npos) << out.output;
  EXPECT_NE(out.output.find(online.key_id), std::string::npos) << out.output;

  cdrd.signal(SIGTERM);
  ASSERT_EQ(cdrd.wait_exit(90), 0) << cdrd.log();
  // Stopped again: revoke the second key offline; the restarted daemon refuses it.
  out = cdrd_command("api-key revoke " + online.key_id + " -c " + cli_config);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  CdrdProcess again(state, "embedded");
  ASSERT_TRUE(again.start(true, 180)) << again.log();
  r = get_cdr(again.port(), "acct-a", a_uuid, online.key);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(message_of(r), "the API key " + online.key_id + " has been revoked");
  again.signal(SIGTERM);
  EXPECT_EQ(again.wait_exit(90), 0) << again.log();
}

}  // namespace
}  // namespace cdrd::test
