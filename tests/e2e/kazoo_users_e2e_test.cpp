// End to end: Kazoo's users. A user made by `cdrd user create` logs in with
// PUT /v2/user_auth (md5("login:password") and the account, as Kazoo's
// cb_user_auth takes them), reads with the token what its owner_id owns,
// reads /accounts/{a}/users/{owner_id}/cdrs, and loses access when revoked;
// failed logins from one address are limited (429, Retry-After).
//
// Credentials worked out with `printf %s LOGIN:PASSWORD | md5sum`:
//   alice:secret -> 6f622058968bb90757e6c6ed79e5df81
//   carol:secret -> 11dffc0d5f272d1d5b120e0175b9bcf1
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using Headers = std::map<std::string, std::string>;
using Ids = std::vector<std::string>;
const Headers kAllKey = {{"X-Auth-Token", "all-key"}};
const char kAlice[] = "6f622058968bb90757e6c6ed79e5df81";
const char kCarol[] = "11dffc0d5f272d1d5b120e0175b9bcf1";
// 2024-01-15T10:00:00Z .. +1000 s.
const std::string kWindow = "created_from=63872532000&created_to=63872533000";

// Legs of acct-a: u1 and u3 are owned by user-1 (inbound, outbound), u2 by
// user-2, u4 by nobody; b1 is acct-b's, owned by user-1.
const std::vector<std::string> kRecords = {
    R"({"id":"202401-u1","account_id":"acct-a","timestamp":63872532100,"call_direction":"inbound",
 "billing_seconds":10,"billing_status":"answered","custom_channel_vars":{"owner_id":"user-1"}})",
    R"({"id":"202401-u2","account_id":"acct-a","timestamp":63872532200,"call_direction":"inbound",
 "custom_channel_vars":{"owner_id":"user-2"}})",
    R"({"id":"202401-u3","account_id":"acct-a","timestamp":63872532300,"call_direction":"outbound",
 "billing_seconds":20,"billing_status":"answered","custom_channel_vars":{"owner_id":"user-1"}})",
    R"({"id":"202401-u4","account_id":"acct-a","timestamp":63872532400,"call_direction":"outbound"})",
    R"({"id":"202401-b1","account_id":"acct-b","timestamp":63872532100,"custom_channel_vars":{"owner_id":"user-1"}})",
};

void insert_record(const std::string& dsn, const std::string& json) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, billing_seconds, call_direction, billing_status, "
      "interaction_id, source, record) SELECT r->>'id', to_timestamp((r->>'timestamp')::bigint - 62167219200), "
      "(r->>'timestamp')::bigint, r->>'account_id', r->>'id', COALESCE((r->>'billing_seconds')::int, 0), "
      "r->>'call_direction', r->>'billing_status', r->>'id', 'json_cdr', r FROM (SELECT $1::jsonb AS r) s",
      json);
  tx.commit();
}

Ids ids_of(const std::string& body) {
  Ids ids;
  const auto doc = parse_json(body);
  if (!doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) return ids;
  for (const auto& row : doc["data"].GetArray()) ids.emplace_back(row["id"].GetString());
  return ids;
}

std::string user_auth_body(const std::string& credentials, const std::string& account) {
  return R"({"data":{"credentials":")" + credentials + R"(","account_name":")" + account + R"("}})";
}

class KazooUsersE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_kazoo_users");
    // `cdrd user` runs with a configuration of its own on the same database.
    write_file(cli_.file("cdrd.yaml"),
               "state_dir: " + cli_.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    for (const std::string& r : kRecords) insert_record(dsn_, r);
  }
  CommandResult user(const std::string& args, const std::string& password = "") const {
    return run_command("cd " + cli_.path() + " && printf '%s\\n' '" + password + "' | " + CDRD_BINARY + " user " +
                       args + " -c cdrd.yaml");
  }
  HttpResponse login(const std::string& credentials, const std::string& account) {
    return http_request(cdrd_->port(), "PUT", "/v2/user_auth", user_auth_body(credentials, account),
                        {{"Content-Type", "application/json"}});
  }
  HttpResponse get(const std::string& target, const Headers& headers) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }

  TempDir dir_;
  TempDir cli_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(KazooUsersE2E, UserLogsInReadsItsOwnRowsAndIsRevoked) {
  CommandResult out = user("create --login alice --account acct-a --owner-id user-1", "secret");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  HttpResponse r = login(kAlice, "acct-a");
  ASSERT_EQ(r.status, 201) << r.body;
  auto doc = parse_json(r.body);
  const std::string token = doc["auth_token"].GetString();
  EXPECT_EQ(std::string(doc["data"]["account_id"].GetString()), "acct-a");
  EXPECT_EQ(std::string(doc["data"]["owner_id"].GetString()), "user-1");
  EXPECT_EQ(doc["data"]["accounts"].Size(), 1u);
  EXPECT_EQ(std::string(doc["status"].GetString()), "success");
  const Headers as_alice = {{"X-Auth-Token", token}};

  // Every read of the account is restricted to user-1's rows.
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?" + kWindow, as_alice).body), (Ids{"202401-u3", "202401-u1"}));
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs/interaction?" + kWindow, as_alice).body),
            (Ids{"202401-u3", "202401-u1"}));
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?paginate=false&" + kWindow, as_alice).body),
            (Ids{"202401-u3", "202401-u1"}));
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/202401-u1", as_alice).status, 200);
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/202401-u2", as_alice).status, 404);
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs/legs/202401-u2", as_alice).body), Ids{});
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs/legs/202401-u1", as_alice).body), Ids{"202401-u1"});
  r = get("/v2/accounts/acct-a/cdrs/summary?" + kWindow, as_alice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["totals"]["attempts"].GetInt64(), 2);
  EXPECT_EQ(parse_json(r.body)["data"]["totals"]["billed_seconds"].GetInt64(), 30);
  // Its own user route; another user's is refused; another account too.
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/users/user-1/cdrs?" + kWindow, as_alice).body),
            (Ids{"202401-u3", "202401-u1"}));
  EXPECT_EQ(get("/v2/accounts/acct-a/users/user-2/cdrs?" + kWindow, as_alice).status, 403);
  EXPECT_EQ(get("/v2/accounts/acct-b/cdrs?" + kWindow, as_alice).status, 403);

  // Revoked: the token stops working at once, and so does the login.
  out = user("revoke alice");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow, as_alice);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.body.find("the user alice has been revoked"), std::string::npos) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["auth_token"].GetString()), token);
  EXPECT_EQ(login(kAlice, "acct-a").status, 401);
}

TEST_F(KazooUsersE2E, UsersRouteListsAnOwnersCdrs) {
  // With a key: any user of the account.
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/users/user-2/cdrs?" + kWindow, kAllKey).body), Ids{"202401-u2"});
  EXPECT_EQ(ids_of(get("/v1/accounts/acct-a/users/user-1/cdrs?" + kWindow, kAllKey).body),
            (Ids{"202401-u3", "202401-u1"}));
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-b/users/user-1/cdrs?" + kWindow, kAllKey).body), Ids{"202401-b1"});
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/users/nobody/cdrs?" + kWindow, kAllKey).body), Ids{});
  // The interaction route under a user: inception_direction from call_direction.
  const HttpResponse r = get("/v2/accounts/acct-a/users/user-1/cdrs/interaction?" + kWindow, kAllKey);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 2u) << r.body;
  EXPECT_EQ(std::string(doc["data"][0]["inception_direction"].GetString()), "termination");  // u3 outbound
  EXPECT_EQ(std::string(doc["data"][1]["inception_direction"].GetString()), "origination");  // u1 inbound
  // A user without an owner_id reads the whole account.
  ASSERT_EQ(user("create --login carol --account acct-a", "secret").exit_code, 0);
  const HttpResponse login_carol = login(kCarol, "acct-a");
  ASSERT_EQ(login_carol.status, 201) << login_carol.body;
  EXPECT_FALSE(parse_json(login_carol.body)["data"].HasMember("owner_id"));
  const Headers as_carol = {{"X-Auth-Token", parse_json(login_carol.body)["auth_token"].GetString()}};
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?" + kWindow, as_carol).body).size(), 4u);
  EXPECT_EQ(get("/v2/accounts/acct-a/users/user-2/cdrs?" + kWindow, as_carol).status, 200);
  // Routes that do not exist under a user.
  EXPECT_EQ(get("/v2/accounts/acct-a/users/user-1/cdrs/summary", kAllKey).status, 404);
  EXPECT_EQ(get("/v2/accounts/acct-a/users/user-1", kAllKey).status, 404);
}

TEST_F(KazooUsersE2E, BadLoginsAre401Or400AndLimitedPerAddress) {
  ASSERT_EQ(user("create --login alice --account acct-a --owner-id user-1", "secret").exit_code, 0);
  // The wrong account, the wrong password: 401 in Kazoo's envelope.
  HttpResponse r = login(kAlice, "acct-b");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["error"].GetString()), "401");
  EXPECT_EQ(login("00000000000000000000000000000000", "acct-a").status, 401);
  // Bodies Kazoo's schema refuses: 400 naming the field (not counted).
  r = http_request(cdrd_->port(), "PUT", "/v2/user_auth", R"({"data":{"credentials":"secret","account_name":"a"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string(parse_json(r.body)["message"].GetString()).rfind("data.credentials", 0), 0u) << r.body;
  r = http_request(cdrd_->port(), "PUT", "/v2/user_auth", R"({"data":{"credentials":")" + std::string(kAlice) + "\"}}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(std::string(parse_json(r.body)["message"].GetString()).rfind("data.account_name", 0), 0u) << r.body;
  EXPECT_EQ(http_request(cdrd_->port(), "GET", "/v2/user_auth").status, 405);
  // A success clears the address's failures.
  ASSERT_EQ(login(kAlice, "acct-a").status, 201);
  // Ten failures in a minute (LoginLimiter's default), then 429 with
  // Retry-After, even for the right credentials.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(login("00000000000000000000000000000000", "acct-a").status, 401) << i;
  r = login(kAlice, "acct-a");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "too_many_requests");
  ASSERT_EQ(r.headers.count("retry-after"), 1u);
  const int wait = std::stoi(r.headers.at("retry-after"));
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 60);
}

}  // namespace
}  // namespace cdrd::test
