// End to end: the OpenAPI documents of the PortSIP (seed 001), Wavix (seed
// 002) and Yeti (seed 004) dialects describe what a running cdrd really
// answers. For each dialect a real cdrd gets calls posted as FreeSWITCH sends
// them and a `cdrd user` for the login routes; then requests covering every
// documented operation and most documented statuses (200/201, 400, 401,
// 403/404, 405, 429) are sent, recorded (openapi_contract.h) and validated
// with tests/openapi/check_responses.py, which also fails for a documented
// operation no request reached.
//
// Data (the dialect tests' own): PortSIP and Wavix read copies of the 2017
// sample (1001 -> 1002, ended 2018-01-11T10:26:55Z) in acct-a, one in acct-b;
// Yeti reads an inbound call (its A-leg in through gateway carrier-in, a
// trunk by trunks.variables) two hours old whose second attempt answered.
#include <gtest/gtest.h>

#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/e2e/openapi_contract.h"
#include "tests/support/call_chain.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using Headers = std::map<std::string, std::string>;

const std::string kPortsipDoc = std::string(CDRD_SOURCE_DIR) + "/docs/openapi-portsip.yaml";
const std::string kWavixDoc = std::string(CDRD_SOURCE_DIR) + "/docs/openapi-wavix.yaml";
const std::string kYetiDoc = std::string(CDRD_SOURCE_DIR) + "/docs/openapi-yeti.yaml";

const Headers kAKey = {{"Authorization", "Bearer a-key"}};      // reads acct-a only
const Headers kAllKey = {{"Authorization", "Bearer all-key"}};  // reads every account
const Headers kBadKey = {{"Authorization", "Bearer not-a-key"}};
const Headers kJson = {{"Content-Type", "application/json"}};
const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

// The 2017 sample's copies: one call each, ended 2018-01-11T10:26:55Z.
const std::vector<std::string> kCopies = {"c0000000-0000-4000-8000-000000000001",
                                          "c0000000-0000-4000-8000-000000000002"};
const std::string kOtherUuid = "d0000000-0000-4000-8000-000000000001";  // acct-b's
std::string cdr_id(const std::string& uuid) { return "201801-" + uuid; }

class DialectOpenApiE2E : public ::testing::Test {
 protected:
  void start(const std::string& db_name) {
    dsn_ = create_migrated_database(db_name);
    // Yeti's incoming CDRs are the calls that came in from a trunk.
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_, "trunks:\n  variables: [sip_gateway_name]\n");
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
  }

  void post_json(const std::string& body) {
    const HttpResponse r = http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", body, kJson);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void post_sample_copies() {
    for (const std::string& uuid : kCopies) post_json(unique_cdr(uuid, "acct-a"));
    post_json(unique_cdr(kOtherUuid, "acct-b"));
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 3; })) << cdrd_->log();
  }

  // `cdrd user create` with its own configuration on the same database.
  void create_user(const std::string& login, const std::string& password) {
    const TempDir cli;
    write_file(cli.file("cdrd.yaml"),
               "state_dir: " + cli.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
    const CommandResult made =
        run_command("cd " + cli.path() + " && printf %s '" + password + "' | " + std::string(CDRD_BINARY) +
                    " user create --login " + login + " --account acct-a -c cdrd.yaml");
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }

  HttpResponse send(const RouteRequest& rq) {
    HttpResponse r = http_request(cdrd_->port(), rq.method, rq.target, rq.body, rq.headers);
    log_.add(rq, r);
    EXPECT_EQ(r.status, rq.expected_status) << rq.method << " " << rq.target << ": " << r.body.substr(0, 300);
    return r;
  }

  // Failed logins until the address is refused: 401s, then one 429.
  void fail_logins_until_refused(const RouteRequest& bad_login) {
    for (int i = 0; i < 20; ++i) {
      const HttpResponse r =
          http_request(cdrd_->port(), bad_login.method, bad_login.target, bad_login.body, bad_login.headers);
      RouteRequest rq = bad_login;
      rq.expected_status = r.status;
      log_.add(rq, r);
      if (r.status == 429) {
        EXPECT_GE(std::stoi(r.headers.count("retry-after") ? r.headers.at("retry-after") : "0"), 1) << r.body;
        return;
      }
      EXPECT_EQ(r.status, 401) << r.body;
    }
    ADD_FAILURE() << "no 429 after 20 failed logins to " << bad_login.target;
  }

  // Writes the records and checks them against `doc`, every operation covered.
  void expect_as_documented(const std::string& doc) {
    const std::string records = dir_.path() + "/openapi-responses.json";
    log_.write(records);
    const CommandResult result = run_openapi_checker(doc, records);
    std::cout << result.output;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("OK"), std::string::npos) << result.output;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
  ResponseLog log_;
};

TEST(DialectOpenApiDocument, EveryDocumentLoads) {
  for (const std::string& doc : {kPortsipDoc, kWavixDoc, kYetiDoc}) {
    const CommandResult result = run_openapi_checker(doc);
    EXPECT_EQ(result.exit_code, 0) << doc << ":\n" << result.output;
    EXPECT_NE(result.output.find("OK"), std::string::npos) << doc << ":\n" << result.output;
  }
}

TEST_F(DialectOpenApiE2E, PortsipAnswersAsDocumented) {
  ASSERT_NO_FATAL_FAILURE(start("e2e_openapi_portsip"));
  ASSERT_NO_FATAL_FAILURE(post_sample_copies());
  ASSERT_NO_FATAL_FAILURE(create_user("pbx-user", "pbx pass+1"));
  const std::string list = "/api/cdrs";
  const std::string one = "/api/cdrs/{id}";
  const std::string login = "/api/login";
  const std::string oauth = "/api/login/oauth/token";
  const std::string window = "start_time=2018-01-11T00:00:00Z&end_time=2018-01-12T00:00:00Z";
  const std::string id = cdr_id(kCopies[0]);
  const std::vector<RouteRequest> routes = {
      {"GET", list, list + "?" + window, kAKey, "", 200},
      {"GET", list, list + "?" + window + "&top=1&skip=1&caller=100*&callee=1002&direction=INTERNAL_CALL", kAKey, "",
       200},
      {"GET", list, list + "?" + window + "&account_id=acct-b&trunk=carrier*", kAllKey, "", 200},
      {"GET", list, list + "?" + window + "&auth_token=a-key", {}, "", 200},
      {"GET", list, list + "?" + window, {{"X-Auth-Token", "a-key"}}, "", 200},
      {"GET", list, list + "?" + window + "&top=0", kAKey, "", 400},
      {"GET", list, list + "?start_time=yesterday", kAKey, "", 400},
      {"GET", list, list + "?" + window, kAllKey, "", 400},  // must name account_id
      {"GET", list, list + "?" + window, {}, "", 401},
      {"GET", list, list + "?" + window, kBadKey, "", 401},
      {"GET", list, list + "?" + window + "&account_id=acct-b", kAKey, "", 403},
      {"GET", one, "/api/cdrs/" + id, kAKey, "", 200},
      {"GET", one, "/api/cdrs/" + cdr_id(kOtherUuid) + "?account_id=acct-b", kAllKey, "", 200},
      {"GET", one, "/api/cdrs/" + id, kAllKey, "", 400},
      {"GET", one, "/api/cdrs/" + id, {}, "", 401},
      {"GET", one, "/api/cdrs/" + id + "?account_id=acct-b", kAKey, "", 403},
      {"GET", one, "/api/cdrs/" + cdr_id(kOtherUuid), kAKey, "", 404},
      {"GET", one, "/api/cdrs/201801-nothing", kAKey, "", 404},
      {"POST", login, login, kJson, R"({"username":"pbx-user","password":"pbx pass+1"})", 200},
      {"POST", login, login, kForm, "username=pbx-user&password=pbx+pass%2B1", 200},
      {"POST", login, login, kJson, R"({"username":"pbx-user"})", 400},
      {"POST", login, login, kJson, R"({"username":"pbx-user","password":"wrong"})", 401},
      {"POST", oauth, oauth, kForm, "grant_type=password&username=pbx-user&password=pbx+pass%2B1&scope=all", 200},
      {"POST", oauth, oauth, kJson, R"({"grant_type":"password","username":"pbx-user","password":"pbx pass+1"})", 200},
      {"POST", oauth, oauth, kForm, "grant_type=refresh_token&refresh_token=x", 400},
      {"POST", oauth, oauth, kForm, "grant_type=password&username=nobody&password=x", 401},
      // Requests that match no operation (x-other-requests).
      {"POST", list, list, kAKey, "", 405},
      {"DELETE", one, "/api/cdrs/" + id, kAKey, "", 501},
      {"OPTIONS", list, list, {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "GET"}}, "", 405},
      {"GET", login, login, {}, "", 405},
      {"GET", oauth, oauth, {}, "", 405},
      {"GET", "/api/cdrs/a/b", "/api/cdrs/a/b", kAKey, "", 404},
  };
  for (const RouteRequest& rq : routes) send(rq);

  // The login's token reads the user's one account.
  const HttpResponse token =
      http_request(cdrd_->port(), "POST", login, R"({"username":"pbx-user","password":"pbx pass+1"})", kJson);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string access = parse_json(token.body)["access_token"].GetString();
  send({"GET", list, list + "?" + window, {{"Authorization", "Bearer " + access}}, "", 200});

  fail_logins_until_refused({"POST", login, login, kJson, R"({"username":"pbx-user","password":"wrong"})", 401});
  expect_as_documented(kPortsipDoc);
}

TEST_F(DialectOpenApiE2E, WavixAnswersAsDocumented) {
  ASSERT_NO_FATAL_FAILURE(start("e2e_openapi_wavix"));
  ASSERT_NO_FATAL_FAILURE(post_sample_copies());
  const std::string list = "/v1/cdr";
  const std::string all = "/v1/cdr/all";
  const std::string one = "/v1/cdr/{uuid}";
  const std::string day = "from=2018-01-11&to=2018-01-11&type=received";
  const std::string& uuid = kCopies[0];
  const std::vector<RouteRequest> routes = {
      {"GET", list, list + "?" + day, kAKey, "", 200},
      {"GET", list, list + "?" + day + "&disposition=all&page=2&per_page=1&from_search=1001&to_search=100", kAKey, "",
       200},
      {"GET", list, list + "?" + day + "&account_id=acct-b&sip_trunk=32882", kAllKey, "", 200},
      {"GET", list, list + "?" + day + "&appid=a-key", {}, "", 200},
      {"GET", list, "/v1/cdr?from=2018-01-11&to=2018-01-11&type=placed", {{"X-Auth-Token", "a-key"}}, "", 200},
      {"GET", list, list + "?" + day + "&per_page=0", kAKey, "", 400},
      {"GET", list, "/v1/cdr?from=2018-01-11&to=2018-01-11", kAKey, "", 400},  // no type
      {"GET", list, list + "?" + day, kAllKey, "", 400},                       // must name account_id
      {"GET", list, list + "?" + day, {}, "", 401},
      {"GET", list, list + "?" + day + "&appid=nope", {}, "", 401},
      {"GET", list, list + "?" + day + "&account_id=acct-b", kAKey, "", 403},
      {"GET", all, all + "?" + day + "&disposition=all", kAKey, "", 200},
      {"GET", all, all + "?" + day, {{"Authorization", "Bearer a-key"}, {"Accept", "text/csv"}}, "", 200},
      {"GET", all, all + "?from=2018-01-11&to=2018-01-11&type=sideways", kAKey, "", 400},
      {"GET", all, all + "?" + day, {}, "", 401},
      {"GET", all, all + "?" + day + "&account_id=acct-b", kAKey, "", 403},
      {"GET", one, "/v1/cdr/" + uuid, kAKey, "", 200},
      {"GET", one, "/v1/cdr/" + uuid + "?show_transcription=false&appid=a-key", {}, "", 200},
      {"GET", one, "/v1/cdr/" + kOtherUuid + "?account_id=acct-b", kAllKey, "", 200},
      {"GET", one, "/v1/cdr/" + uuid + "?show_transcription=maybe", kAKey, "", 400},
      {"GET", one, "/v1/cdr/" + uuid, {}, "", 401},
      {"GET", one, "/v1/cdr/" + uuid + "?account_id=acct-b", kAKey, "", 403},
      {"GET", one, "/v1/cdr/" + kOtherUuid, kAKey, "", 404},
      {"GET", one, "/v1/cdr/ffffffff-0000-4000-8000-000000000000", kAKey, "", 404},
      // Requests that match no operation (x-other-requests).
      {"POST", list, list, kAKey, "", 405},
      {"DELETE", one, "/v1/cdr/" + uuid, kAKey, "", 501},
      {"OPTIONS", list, list, {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "GET"}}, "", 405},
      {"PUT", all, all, kAKey, "", 405},
      {"GET", "/v1/cdr/a/b", "/v1/cdr/a/b", kAKey, "", 404},
  };
  for (const RouteRequest& rq : routes) send(rq);
  expect_as_documented(kWavixDoc);
}

// Yeti's call (yeti_e2e_test.cpp's): the A-leg in from the trunk; B1 rings
// 1..21 s unanswered; B2 starts at 22 s, answered at 24 s, ends at 62 s.
constexpr int64_t kSecond = 1000000;

std::string yeti_leg(const std::string& uuid, const std::string& account, int64_t base_us, int64_t start_s,
                     int64_t answer_s, int64_t end_s, std::map<std::string, std::string> v) {
  v["uuid"] = uuid;
  v["account_id"] = account;
  v["start_uepoch"] = std::to_string(base_us + start_s * kSecond);
  v["answer_uepoch"] = answer_s == 0 ? "0" : std::to_string(base_us + answer_s * kSecond);
  v["end_uepoch"] = std::to_string(base_us + end_s * kSecond);
  v["caller_id_number"] = "33170363950";
  v["destination_number"] = "33170363951";
  v["callee_id_number"] = "33170363951";
  if (v.count("hangup_cause") == 0) v["hangup_cause"] = "NORMAL_CLEARING";
  return chain_json_cdr(v);
}

TEST_F(DialectOpenApiE2E, YetiAnswersAsDocumented) {
  ASSERT_NO_FATAL_FAILURE(start("e2e_openapi_yeti"));
  // Two hours ago: inside the default window (the last 24 hours).
  const int64_t base_us = (static_cast<int64_t>(std::time(nullptr)) - 7200) * kSecond;
  for (const std::string& account : {std::string("acct-a"), std::string("acct-b")}) {
    const std::string tag = account == "acct-a" ? "1" : "2";
    const std::string a = "e000000" + tag + "-0000-4000-8000-00000000000a";
    const std::map<std::string, std::string> from_a = {
        {"direction", "outbound"}, {"originator", a}, {"originating_leg_uuid", a}};
    std::map<std::string, std::string> b1 = from_a;
    b1["hangup_cause"] = "NO_ANSWER";
    post_json(yeti_leg(a, account, base_us, 0, 2, 62, {{"direction", "inbound"}, {"sip_gateway_name", "carrier-in"}}));
    post_json(yeti_leg("e000000" + tag + "-0000-4000-8000-0000000000b1", account, base_us, 1, 0, 21, b1));
    post_json(yeti_leg("e000000" + tag + "-0000-4000-8000-0000000000b2", account, base_us, 22, 24, 62, from_a));
  }
  ASSERT_TRUE(eventually([&] {
    return query_count(dsn_, "SELECT count(*) FROM cdrs WHERE direction_class = 'inbound'") == 6;
  })) << cdrd_->log();
  const auto row_seq = [&](const std::string& call_id) {
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT row_seq::text FROM cdrs WHERE call_id = $1", call_id)[0].as<std::string>();
  };
  const std::string b2 = row_seq("e0000001-0000-4000-8000-0000000000b2");
  const std::string other_b2 = row_seq("e0000002-0000-4000-8000-0000000000b2");
  ASSERT_NO_FATAL_FAILURE(create_user("yuser", "y3ti pass"));

  const std::string auth = "/api/rest/customer/v1/auth";
  const std::string list = "/api/rest/customer/v1/incoming-cdrs";
  const std::string one = "/api/rest/customer/v1/incoming-cdrs/{id}";
  const Headers vnd = {{"Content-Type", "application/vnd.api+json"}};
  const std::string good_login = R"({"auth":{"login":"yuser","password":"y3ti pass"}})";
  const std::string bad_login = R"({"auth":{"login":"yuser","password":"wrong"}})";
  const std::vector<RouteRequest> routes = {
      {"POST", auth, auth, vnd, good_login, 201},
      {"POST", auth, auth, kJson, good_login, 201},
      {"POST", auth, auth, kJson, R"({"login":"yuser"})", 400},
      {"POST", auth, auth, vnd, bad_login, 401},
      {"GET", list, list, kAKey, "", 200},
      {"GET", list, list, {{"Authorization", "a-key"}}, "", 200},
      {"GET", list, list + "?page%5Bsize%5D=1&page%5Bnumber%5D=2&sort=-duration,time-start", kAKey, "", 200},
      {"GET", list, list + "?page[size]=1&filter[duration_gteq]=0&filter[success_eq]=true", kAKey, "", 200},
      {"GET", list, list + "?filter[dst-prefix-routing_start]=3317&auth_token=a-key", {}, "", 200},
      {"GET", list, list + "?account_id=acct-b", {{"X-Auth-Token", "all-key"}}, "", 200},
      {"GET", list, list + "?filter[account_id_eq]=acct-b", kAllKey, "", 200},
      {"GET", list, list + "?sort=time-connect", kAKey, "", 400},
      {"GET", list, list + "?filter[legb-local-tag_eq]=x", kAKey, "", 400},
      {"GET", list, list + "?page[size]=1001", kAKey, "", 400},
      {"GET", list, list, kAllKey, "", 400},  // must name the account
      {"GET", list, list, {}, "", 401},
      {"GET", list, list, {{"Authorization", "not-a-key"}}, "", 401},
      {"GET", list, list + "?account_id=acct-b", kAKey, "", 403},
      {"GET", one, list + "/" + b2, kAKey, "", 200},
      {"GET", one, list + "/" + other_b2 + "?account_id=acct-b", kAllKey, "", 200},
      {"GET", one, list + "/abc", kAKey, "", 400},
      {"GET", one, list + "/" + b2, {}, "", 401},
      {"GET", one, list + "/" + b2 + "?account_id=acct-b", kAKey, "", 403},
      {"GET", one, list + "/" + other_b2, kAKey, "", 404},
      {"GET", one, list + "/999999999", kAKey, "", 404},
      // Requests that match no operation (x-other-requests).
      {"GET", auth, auth, {}, "", 405},
      {"POST", list, list, kAKey, "{}", 405},
      {"DELETE", one, list + "/" + b2, kAKey, "", 501},
      {"OPTIONS", list, list, {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "GET"}}, "", 405},
      {"GET", "/api/rest/customer/v1/accounts", "/api/rest/customer/v1/accounts", kAKey, "", 404},
  };
  for (const RouteRequest& rq : routes) send(rq);

  // The login's token, sent as yeti's clients send it.
  const HttpResponse login = http_request(cdrd_->port(), "POST", auth, good_login, vnd);
  ASSERT_EQ(login.status, 201) << login.body;
  const std::string jwt = parse_json(login.body)["jwt"].GetString();
  send({"GET", list, list, {{"Authorization", jwt}}, "", 200});
  send({"GET", one, list + "/" + b2, {{"Authorization", "Bearer " + jwt}}, "", 200});

  fail_logins_until_refused({"POST", auth, auth, vnd, bad_login, 401});
  expect_as_documented(kYetiDoc);
}

}  // namespace
}  // namespace cdrd::test
