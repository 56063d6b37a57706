// End to end: PUT /v2/api_auth trades a configured key for a token, and the
// token is accepted like the key (X-Auth-Token, Bearer, ?auth_token) for its
// own account only; expired, tampered and withdrawn tokens get 401.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "daemon/auth/token_signer.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::string kSecret = "e2e token secret, 32 bytes long.";
const long long kTimestamp = 63682885615LL;  // the 2017 sample's end
const std::string kWindow =
    "created_from=" + std::to_string(kTimestamp - 3600) + "&created_to=" + std::to_string(kTimestamp + 3600);

// api.token_secret for the cdrd started while it lives (CdrdProcess writes
// its own api: block, so the environment override is the way in).
class ScopedTokenSecret {
 public:
  explicit ScopedTokenSecret(const std::string& secret) { ::setenv("CDRD_API_TOKEN_SECRET", secret.c_str(), 1); }
  ~ScopedTokenSecret() { ::unsetenv("CDRD_API_TOKEN_SECRET"); }
};

HttpResponse put_api_auth(int port, const std::string& body, const std::string& path = "/v2/api_auth") {
  return http_request(port, "PUT", path, body, {{"Content-Type", "application/json"}});
}

std::string api_auth_body(const std::string& key) { return "{\"data\":{\"api_key\":\"" + key + "\"}}"; }

std::string message_of(const HttpResponse& r) {
  const auto doc = parse_json(r.body);
  return doc.IsObject() && doc.HasMember("message") ? doc["message"].GetString() : "";
}

// The ids in a list reply's data, in order.
std::vector<std::string> list_ids(const HttpResponse& r) {
  std::vector<std::string> ids;
  const auto doc = parse_json(r.body);
  if (!doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) return ids;
  for (const auto& item : doc["data"].GetArray()) ids.emplace_back(item["id"].GetString());
  return ids;
}

std::string get_token(int port, const std::string& key) {
  const HttpResponse r = put_api_auth(port, api_auth_body(key));
  if (r.status != 201) return "";
  return parse_json(r.body)["auth_token"].GetString();
}

class ApiAuthE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_api_auth");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    for (const auto& [uuid, account] : {std::make_pair(a_uuid_, "acct-a"), std::make_pair(b_uuid_, "acct-b")}) {
      ASSERT_EQ(http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", unique_cdr(uuid, account),
                             {{"Content-Type", "application/json"}})
                    .status,
                200);
    }
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 2; }));
  }
  HttpResponse list(const std::string& account, const std::map<std::string, std::string>& headers,
                    const std::string& extra_query = "") {
    return http_request(cdrd_->port(), "GET", "/v2/accounts/" + account + "/cdrs?" + kWindow + extra_query, "",
                        headers);
  }

  ScopedTokenSecret secret_{kSecret};
  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
  const std::string a_uuid_ = random_uuid();
  const std::string b_uuid_ = random_uuid();
};

TEST_F(ApiAuthE2E, ConfiguredKeyGetsATokenThatReadsItsAccountInEveryCredentialForm) {
  const HttpResponse r = put_api_auth(cdrd_->port(), api_auth_body("a-key"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(std::string(doc["status"].GetString()), "success");
  EXPECT_EQ(std::string(doc["request_id"].GetString()), r.headers.at("x-request-id"));
  EXPECT_TRUE(doc["timestamp"].IsString());
  const auto& data = doc["data"];
  EXPECT_EQ(std::string(data["account_id"].GetString()), "acct-a");
  ASSERT_EQ(data["accounts"].Size(), 1u);
  EXPECT_EQ(std::string(data["accounts"][0].GetString()), "acct-a");
  EXPECT_EQ(data["expires_in"].GetInt(), 3600);  // api.token_ttl_s default
  const std::string expires_at = data["expires_at"].GetString();
  std::tm tm{};
  ASSERT_NE(strptime(expires_at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << expires_at;
  const std::string token = doc["auth_token"].GetString();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(token.find("a-key"), std::string::npos);

  // The expiry inside the token is the one announced.
  TokenClaims claims;
  ASSERT_EQ(TokenSigner(kSecret).verify(token, static_cast<int64_t>(std::time(nullptr)), &claims), TokenStatus::kValid);
  EXPECT_EQ(claims.expires_at, static_cast<int64_t>(timegm(&tm)));

  const std::vector<std::string> expected = {"201801-" + a_uuid_};
  EXPECT_EQ(list_ids(list("acct-a", {{"X-Auth-Token", token}})), expected);
  EXPECT_EQ(list_ids(list("acct-a", {{"Authorization", "Bearer " + token}})), expected);
  const HttpResponse by_param = list("acct-a", {}, "&auth_token=" + url_encode(token));
  EXPECT_EQ(by_param.status, 200) << by_param.body;
  EXPECT_EQ(list_ids(by_param), expected);
  const HttpResponse one =
      http_request(cdrd_->port(), "GET", "/v2/accounts/acct-a/cdrs/201801-" + a_uuid_, "", {{"X-Auth-Token", token}});
  EXPECT_EQ(one.status, 200) << one.body;
}

TEST_F(ApiAuthE2E, TheRouteIsAlsoUnderV1AndWithoutPrefix) {
  EXPECT_EQ(put_api_auth(cdrd_->port(), api_auth_body("a-key"), "/v1/api_auth").status, 201);
  EXPECT_EQ(put_api_auth(cdrd_->port(), api_auth_body("a-key"), "/api_auth").status, 201);
  const HttpResponse all = put_api_auth(cdrd_->port(), api_auth_body("all-key"));
  ASSERT_EQ(all.status, 201) << all.body;
  EXPECT_EQ(std::string(parse_json(all.body)["data"]["account_id"].GetString()), "*");
}

TEST_F(ApiAuthE2E, TokenForAccountAIsForbiddenOnB) {
  const std::string token = get_token(cdrd_->port(), "a-key");
  ASSERT_FALSE(token.empty());
  const HttpResponse r = list("acct-b", {{"X-Auth-Token", token}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(message_of(r), "these credentials may not read account acct-b");
  const HttpResponse one =
      http_request(cdrd_->port(), "GET", "/v2/accounts/acct-b/cdrs/201801-" + b_uuid_, "", {{"X-Auth-Token", token}});
  EXPECT_EQ(one.status, 403) << one.body;
  // The all-key's token reads B.
  EXPECT_EQ(list_ids(list("acct-b", {{"X-Auth-Token", get_token(cdrd_->port(), "all-key")}})),
            std::vector<std::string>{"201801-" + b_uuid_});
}

TEST_F(ApiAuthE2E, TamperedTokenIs401) {
  const std::string token = get_token(cdrd_->port(), "a-key");
  ASSERT_FALSE(token.empty());
  // A payload naming acct-b with the MAC of acct-a's token.
  TokenClaims claims;
  ASSERT_EQ(TokenSigner(kSecret).verify(token, static_cast<int64_t>(std::time(nullptr)), &claims), TokenStatus::kValid);
  claims.accounts = {"acct-b"};
  const std::string other = TokenSigner("not the daemon's key, 32 bytes..").sign(claims);
  const std::string forged = other.substr(0, other.find('.')) + token.substr(token.find('.'));
  std::string flipped = token;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  for (const auto& [bad, account] : {std::make_pair(forged, "acct-b"), std::make_pair(flipped, "acct-a"),
                                     std::make_pair(other, "acct-b"), std::make_pair(token + "x", "acct-a")}) {
    const HttpResponse r = list(account, {{"X-Auth-Token", bad}});
    EXPECT_EQ(r.status, 401) << bad << " " << r.body;
    EXPECT_EQ(message_of(r), "the auth token is not valid") << bad;
  }
}

TEST_F(ApiAuthE2E, ExpiredTokenIs401SayingExpired) {
  TokenClaims claims;
  claims.accounts = {"acct-a"};
  claims.config_key_digest = config_key_digest("a-key");
  claims.expires_at = static_cast<int64_t>(std::time(nullptr)) - 10;
  const HttpResponse expired = list("acct-a", {{"X-Auth-Token", TokenSigner(kSecret).sign(claims)}});
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_NE(message_of(expired).find("expired"), std::string::npos) << expired.body;
  // The control: the same token with a future expiry is accepted, so the 401
  // above is the expiry and not the test's key.
  claims.expires_at = static_cast<int64_t>(std::time(nullptr)) + 600;
  EXPECT_EQ(list_ids(list("acct-a", {{"X-Auth-Token", TokenSigner(kSecret).sign(claims)}})),
            std::vector<std::string>{"201801-" + a_uuid_});
}

TEST_F(ApiAuthE2E, BadBodiesAre400NamingTheField) {
  const std::map<std::string, std::string> cases = {
      {"", "not JSON"},
      {"{\"data\":", "not JSON"},
      {"[]", "JSON object"},
      {"{}", "data:"},
      {"{\"data\":\"a-key\"}", "data:"},
      {"{\"data\":{}}", "data.api_key: missing"},
      {"{\"data\":{\"api_key\":5}}", "data.api_key"},
      {"{\"data\":{\"api_key\":\"\"}}", "data.api_key"},
  };
  for (const auto& [body, expected] : cases) {
    const HttpResponse r = put_api_auth(cdrd_->port(), body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    const auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;
    EXPECT_EQ(std::string(doc["code"].GetString()), "invalid_body");
    EXPECT_NE(message_of(r).find(expected), std::string::npos) << body << " -> " << r.body;
    EXPECT_TRUE(doc.HasMember("request_id"));
  }
}

TEST_F(ApiAuthE2E, UnknownKeyIs401AndOtherMethodsAre405) {
  const HttpResponse wrong = put_api_auth(cdrd_->port(), api_auth_body("no-such-key"));
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(message_of(wrong), "the API key is not valid");
  // A token is not a key.
  EXPECT_EQ(put_api_auth(cdrd_->port(), api_auth_body(get_token(cdrd_->port(), "a-key"))).status, 401);
  for (const char* method : {"GET", "POST"}) {
    const HttpResponse r = http_request(cdrd_->port(), method, "/v2/api_auth", api_auth_body("a-key"));
    EXPECT_EQ(r.status, 405) << method << " " << r.body;
  }
}

TEST_F(ApiAuthE2E, RemovingTheKeyFromTheConfigurationVoidsItsTokens) {
  const std::string token = get_token(cdrd_->port(), "a-key");
  ASSERT_EQ(list("acct-a", {{"X-Auth-Token", token}}).status, 200);
  std::string config;
  {
    std::ifstream in(cdrd_->config_path());
    std::stringstream ss;
    ss << in.rdbuf();
    config = ss.str();
  }
  const std::string a_key_entry = "    - key: a-key\n      accounts: [\"acct-a\"]\n";
  ASSERT_NE(config.find(a_key_entry), std::string::npos) << config;
  std::ofstream(cdrd_->config_path()) << replace_all(config, a_key_entry, "");
  cdrd_->signal(SIGHUP);
  HttpResponse r;
  ASSERT_TRUE(eventually([&] {
    r = list("acct-a", {{"X-Auth-Token", token}});
    return r.status == 401;
  })) << r.body
      << cdrd_->log();
  EXPECT_NE(message_of(r).find("no longer configured"), std::string::npos) << r.body;
  // Still signed, still unexpired: only the key's removal refuses it.
  TokenClaims claims;
  EXPECT_EQ(TokenSigner(kSecret).verify(token, static_cast<int64_t>(std::time(nullptr)), &claims), TokenStatus::kValid);
}

// Without api.token_secret, cdrd makes state_dir/api_token.key on its first
// start and reuses it: a token outlives a restart.
TEST(ApiAuthKeyFileE2E, TokenKeyFileIsMadeOnceAndTokensOutliveARestart) {
  TempDir dir;
  const std::string dsn = create_migrated_database("e2e_api_key_file");
  std::string token;
  std::string key_bytes;
  {
    CdrdProcess cdrd(dir.path(), dsn);
    ASSERT_TRUE(cdrd.start()) << cdrd.log();
    struct stat st {};
    const std::string key_path = dir.path() + "/api_token.key";
    ASSERT_EQ(::stat(key_path.c_str(), &st), 0) << cdrd.log();
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 32);
    std::ifstream in(key_path, std::ios::binary);
    key_bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    token = get_token(cdrd.port(), "a-key");
    ASSERT_FALSE(token.empty());
    TokenClaims claims;
    EXPECT_EQ(TokenSigner(key_bytes).verify(token, static_cast<int64_t>(std::time(nullptr)), &claims),
              TokenStatus::kValid);
    cdrd.signal(SIGTERM);
    ASSERT_EQ(cdrd.wait_exit(), 0) << cdrd.log();
  }
  CdrdProcess again(dir.path(), dsn);
  ASSERT_TRUE(again.start()) << again.log();
  const HttpResponse r =
      http_request(again.port(), "GET", "/v2/accounts/acct-a/cdrs?" + kWindow, "", {{"X-Auth-Token", token}});
  EXPECT_EQ(r.status, 200) << r.body;
  std::ifstream in(dir.path() + "/api_token.key", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), key_bytes);
}

}  // namespace
}  // namespace cdrd::test
