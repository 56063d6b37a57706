// End to end: docs/openapi.yaml describes what a running cdrd really answers.
// A table of requests covering every documented operation (and most documented
// statuses) is sent to a real cdrd; each answer is recorded (method, templated
// path, status, content type, headers, body) and
// tests/openapi/check_responses.py validates them all against the document.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
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
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

const std::string kDoc = std::string(CDRD_SOURCE_DIR) + "/docs/openapi.yaml";

using Headers = std::map<std::string, std::string>;
const Headers kAllKey = {{"X-Auth-Token", "all-key"}};
const Headers kAKey = {{"X-Auth-Token", "a-key"}};  // may read acct-a only

// The document's templated paths.
const std::string kList = "/v2/accounts/{account_id}/cdrs";
const std::string kGet = "/v2/accounts/{account_id}/cdrs/{cdr_id}";
const std::string kLegs = "/v2/accounts/{account_id}/cdrs/legs/{interaction_id}";
const std::string kInteraction = "/v2/accounts/{account_id}/cdrs/interaction";
const std::string kSummary = "/v2/accounts/{account_id}/cdrs/summary";
const std::string kApiAuth = "/v2/api_auth";
const std::string kUserAuth = "/v2/user_auth";
const std::string kUserList = "/v2/accounts/{account_id}/users/{user_id}/cdrs";
const std::string kUserInteraction = "/v2/accounts/{account_id}/users/{user_id}/cdrs/interaction";
const std::string kIngestJson = "/ingest/freeswitch/json";
const std::string kIngestXml = "/ingest/freeswitch/xml";
const std::string kImport = "/ingest/cdr";

// The 2017 sample: account "default" (no account variable), one A-leg.
const std::string kUuid2017 = "3da8bf84-c133-4959-9e24-e72875cb33a1";
const std::string kId2017 = "201801-" + kUuid2017;
const long long kEnd2017 = 63682885615LL;
const std::string kWindow2017 =
    "created_from=" + std::to_string(kEnd2017 - 3600) + "&created_to=" + std::to_string(kEnd2017 + 3600);
// The two 2018 samples: account "192.168.56.202" (their SIP domain), 22.7 hours apart.
const std::string kAccount2018 = "192.168.56.202";
const std::string kWindow2018 = "created_from=63688163300&created_to=63688245000";
// A CDR posted form-encoded for acct-a, the account a-key may read.
const std::string kUuidA = "0e0e0e0e-aaaa-4aaa-8aaa-000000000001";
const std::string kIdA = "201801-" + kUuidA;

const std::vector<RouteRequest> kRoutes = {
    // Operations.
    {"GET", "/healthz", "/healthz", {}, "", 200},
    {"GET", "/readyz", "/readyz", {}, "", 200},
    {"GET", "/metrics", "/metrics", {}, "", 200},
    // Ingest: bad input (the samples are posted by the fixture).
    {"POST", kIngestJson, kIngestJson, {{"Content-Type", "application/json"}}, "{}", 400},
    {"POST", kIngestJson, kIngestJson, {}, "this is not a CDR", 400},
    {"POST", kIngestXml, kIngestXml, {{"Content-Type", "application/xml"}}, "<cdr><variables/>", 400},
    {"POST", kIngestJson, kIngestJson, {}, std::string(size_t{100} * 1024, 'x'), 413},  // limits.max_body_bytes: 64KiB
    // List.
    {"GET", kList, "/v2/accounts/" + kAccount2018 + "/cdrs?" + kWindow2018 + "&ascending=true", kAllKey, "", 200},
    {"GET", kList, "/v1/accounts/default/cdrs?" + kWindow2017, kAllKey, "", 200},
    {"GET", kList, "/accounts/default/cdrs?" + kWindow2017 + "&page_size=1000", kAllKey, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017, {{"Authorization", "Bearer all-key"}}, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&auth_token=all-key", {}, "", 200},
    {"GET", kList, "/v2/accounts/acct-a/cdrs?" + kWindow2017, kAKey, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs", {}, "", 401},
    {"GET", kList, "/v2/accounts/default/cdrs", {{"X-Auth-Token", "not-a-key"}}, "", 401},
    {"GET", kList, "/v2/accounts/default/cdrs", kAKey, "", 403},
    {"GET", kList, "/v2/accounts/default/cdrs?page_size=0", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?page_size=1001", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?created_from=63682000000&created_to=63685000000", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?created_from=yesterday", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?start_key=forged", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?ascending=sideways", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?accept=xml", kAllKey, "", 400},
    // Get by id.
    {"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017, kAllKey, "", 200},
    {"GET", kGet, "/v1/accounts/acct-a/cdrs/" + kIdA, kAKey, "", 200},
    {"GET", kGet, "/v2/accounts/default/cdrs/201801-no-such-call", kAllKey, "", 404},
    {"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017 + "?accept=xml", kAllKey, "", 400},
    {"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017, {}, "", 401},
    {"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017, kAKey, "", 403},
    // Legs.
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/" + kUuid2017, kAllKey, "", 200},
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/no-such-call", kAllKey, "", 200},
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/" + kId2017, kAllKey, "", 200},
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/" + kUuid2017 + "?accept=xml", kAllKey, "", 400},
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/" + kUuid2017, {}, "", 401},
    {"GET", kLegs, "/v2/accounts/default/cdrs/legs/" + kUuid2017, kAKey, "", 403},
    // Interaction.
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?" + kWindow2017, kAllKey, "", 200},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?page_size=many", kAllKey, "", 400},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction", {}, "", 401},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction", kAKey, "", 403},
    // Summary: the credential is checked before the route's parameters.
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary", {}, "", 401},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary", kAKey, "", 403},
    // Requests that match no operation (x-other-requests).
    {"GET", "/no/such/route", "/no/such/route", {}, "", 404},
    {"GET", "/v2/accounts/default", "/v2/accounts/default", kAllKey, "", 404},
    {"GET", kIngestJson, kIngestJson, {}, "", 405},
    {"GET", kIngestXml, kIngestXml, {}, "", 405},
    {"POST", kList, "/v2/accounts/default/cdrs", kAllKey, "{}", 405},
    {"PUT", kInteraction, "/v2/accounts/default/cdrs/interaction", kAllKey, "{}", 405},
    {"DELETE", "/healthz", "/healthz", {}, "", 501},
    // Summary (issue 4 item 3).
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?" + kWindow2017, kAllKey, "", 200},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?" + kWindow2017 + "&group_by=day", kAllKey, "", 200},
    {"GET", kSummary, "/v2/accounts/" + kAccount2018 + "/cdrs/summary?" + kWindow2018 + "&group_by=hour", kAllKey, "",
     200},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?group_by=week", kAllKey, "", 400},
    // Tokens (item 4).
    {"PUT", kApiAuth, kApiAuth, {{"Content-Type", "application/json"}}, R"({"data":{"api_key":"a-key"}})", 201},
    {"PUT", kApiAuth, "/v1/api_auth", {}, R"({"data":{"api_key":"not-a-key"}})", 401},
    {"PUT", kApiAuth, kApiAuth, {}, R"({"data":{}})", 400},
    {"GET", kApiAuth, kApiAuth, {}, "", 405},
    // Import (item 6).
    {"POST",
     kImport,
     kImport,
     {{"Content-Type", "application/json"}},
     R"({"call_id":"imp-1","account_id":"acct-imp","timestamp":63682885615,"billing_seconds":5})",
     200},
    {"POST",
     kImport,
     kImport,
     {{"Content-Type", "application/x-ndjson"}},
     "{\"call_id\":\"imp-2\",\"account_id\":\"acct-imp\",\"timestamp\":63682885615}\n{\"call_id\":7}\n",
     200},
    {"POST",
     kImport,
     kImport + "?account_id=acct-imp",
     {{"Content-Type", "text/csv"}},
     "call_id,timestamp\r\nimp-3,63682885615\r\n",
     200},
    {"POST", kImport, kImport, {{"Content-Type", "application/json"}}, R"([{"call_id":7}])", 400},
    {"POST", kImport, kImport, {{"Content-Type", "application/pdf"}}, "%PDF-1.4 not a CDR", 415},
    // Filters, paginate=false, CSV (items 1 and 2).
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&filter_callee_id_number=100*", kAllKey, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&filter_no_such_field=1", kAllKey, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&filter_billing_seconds=abc", kAllKey, "", 400},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&paginate=false", kAllKey, "", 200},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?" + kWindow2017 + "&filter_leg=A", kAllKey, "", 200},
    // Kazoo's parameters (issue 13, section 2).
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&descending=true&detail=full&tz=Europe/Berlin",
     kAllKey, "", 200},
    {"GET", kList,
     "/v2/accounts/default/cdrs?" + kWindow2017 +
         "&ascending=1&utc_offset=-18000&has_key=custom_channel_vars&filter_not_leg=B&value_missing=trunk" +
         "&filter_hangup_cause=" + url_encode(R"(["NORMAL_CLEARING","USER_BUSY"])"),
     kAllKey, "", 200},
    {"GET", kList, "/v1/accounts/default/cdrs?" + kWindow2017 + "&paginate=false", kAllKey, "", 200},
    {"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017 + "&accept=csv&file_name=calls.csv", kAllKey, "", 200},
    {"GET",
     kList,
     "/v2/accounts/default/cdrs?" + kWindow2017 + "&detail=full",
     {{"X-Auth-Token", "all-key"}, {"Accept", "text/comma-separated-values"}, {"X-File-Name", "full.csv"}},
     "",
     200},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?" + kWindow2017 + "&detail=full", kAllKey, "", 200},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?" + kWindow2017 + "&accept=csv", kAllKey, "", 200},
    {"GET", kInteraction, "/v2/accounts/default/cdrs/interaction?" + kWindow2017 + "&paginate=false", kAllKey, "", 200},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?" + kWindow2017 + "&format=kazoo", kAllKey, "", 200},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?" + kWindow2017 + "&group_by=hour&tz=America/New_York",
     kAllKey, "", 200},
    {"GET", kSummary, "/v2/accounts/default/cdrs/summary?format=kazoo&group_by=day", kAllKey, "", 400},
    // Users (the owner's rows) and the CORS preflights.
    {"GET", kUserList, "/v2/accounts/default/users/owner-1/cdrs?" + kWindow2017, kAllKey, "", 200},
    {"GET", kUserList, "/v1/accounts/default/users/owner-1/cdrs?" + kWindow2017, kAllKey, "", 200},
    {"GET", kUserList, "/v2/accounts/default/users/owner-1/cdrs?page_size=0", kAllKey, "", 400},
    {"GET", kUserList, "/v2/accounts/default/users/owner-1/cdrs", kAKey, "", 403},
    {"GET", kUserList, "/v2/accounts/default/users/owner-1/cdrs", {}, "", 401},
    {"GET", kUserInteraction, "/v2/accounts/default/users/owner-1/cdrs/interaction?" + kWindow2017, kAllKey, "", 200},
    {"GET", kUserInteraction, "/v2/accounts/default/users/owner-1/cdrs/interaction", kAKey, "", 403},
    {"OPTIONS",
     kList,
     "/v2/accounts/default/cdrs",
     {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "GET"}},
     "",
     200},
    {"OPTIONS", kUserAuth, "/v2/user_auth", {{"Origin", "https://ui.example"}}, "", 200},
    {"PUT", kUserAuth, kUserAuth, {}, R"({"data":{"credentials":"secret","account_name":"default"}})", 400},
    {"PUT",
     kUserAuth,
     "/v1/user_auth",
     {},
     R"({"data":{"credentials":"00000000000000000000000000000000",)"
     R"("account_name":"default"}})",
     401},
    {"GET", kUserAuth, kUserAuth, {}, "", 405},
    {"GET",
     kList,
     "/v2/accounts/default/cdrs?" + kWindow2017,
     {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}},
     "",
     200},
    {"GET",
     kList,
     "/v2/accounts/default/cdrs?" + kWindow2017,
     {{"X-Auth-Token", "all-key"}, {"Accept", "application/octet-stream"}},
     "",
     200},
    {"GET",
     kGet,
     "/v2/accounts/default/cdrs/" + kId2017,
     {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}},
     "",
     200},
    {"GET",
     kLegs,
     "/v2/accounts/default/cdrs/legs/" + kUuid2017,
     {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}},
     "",
     200},
};

using CheckerResult = CommandResult;

CheckerResult run_checker(const std::string& doc, const std::string& records = "", bool partial = false) {
  return run_openapi_checker(doc, records, partial);
}

// database.statement_timeout_ms for the cdrd started while this lives (the
// generated configuration already has a database: block, so it goes through
// the documented CDRD_* override). Short, so that a query held up by a lock
// answers 504 soon.
class StatementTimeoutEnv {
 public:
  explicit StatementTimeoutEnv(int ms) { ::setenv(kName, std::to_string(ms).c_str(), 1); }
  ~StatementTimeoutEnv() { ::unsetenv(kName); }

 private:
  static constexpr const char* kName = "CDRD_DATABASE_STATEMENT_TIMEOUT_MS";
};

TEST(OpenApiDocument, LoadsAndEveryRefResolves) {
  const CheckerResult ok = run_checker(kDoc);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("OK"), std::string::npos) << ok.output;

  // The check is not vacuous: a dangling $ref is caught and named.
  TempDir dir;
  const std::string broken = dir.path() + "/broken.yaml";
  std::string text = read_file(kDoc);
  const std::string ref = "$ref: \"#/components/schemas/Cdr\"";
  ASSERT_NE(text.find(ref), std::string::npos);
  std::ofstream(broken) << replace_all(text, ref, "$ref: \"#/components/schemas/NoSuchSchema\"");
  const CheckerResult bad = run_checker(broken);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("$ref does not resolve: #/components/schemas/NoSuchSchema"), std::string::npos)
      << bad.output;
}

TEST(OpenApiDocument, CheckerNamesTheRouteAndJsonPathOfAMismatch) {
  // A get-by-id answer whose record has a string timestamp and no call_id.
  HttpResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}, {"x-request-id", "r1"}};
  r.body = R"({"data":{"id":"201801-x","account_id":"a","timestamp":"soon"},"request_id":"r1",)"
           R"("status":"success","timestamp":"2026-01-01T00:00:00Z"})";
  ResponseLog log;
  log.add({"GET", kGet, "/v2/accounts/a/cdrs/201801-x", {}, "", 200}, r);
  // And a 418 nobody documented.
  HttpResponse teapot;
  teapot.status = 418;
  teapot.headers = {{"content-type", "application/json"}};
  teapot.body = "{}";
  log.add({"GET", "/healthz", "/healthz", {}, "", 200}, teapot);
  TempDir dir;
  log.write(dir.path() + "/records.json");
  const CheckerResult result = run_checker(kDoc, dir.path() + "/records.json");
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("GET " + kGet +
                               " (/v2/accounts/a/cdrs/201801-x) -> 200: application/json body at "
                               "$.data.timestamp: 'soon' is not of type 'integer'"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("at $.data: 'call_id' is a required property"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("GET /healthz (/healthz) -> 418: status 418 is not documented"), std::string::npos)
      << result.output;
  // Operations nobody called are named too.
  EXPECT_NE(result.output.find("PUT /v2/api_auth: documented, but no request was sent to it"), std::string::npos)
      << result.output;
}

HttpResponse json_response(int status, const std::string& body, Headers extra = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}, {"x-request-id", "r1"}};
  r.headers.insert(extra.begin(), extra.end());
  r.body = body;
  return r;
}

// The document's schemas held to hand-written answers of every shape, among
// them those the live test cannot cause on demand (429, a full read queue).
TEST(OpenApiDocument, AcceptsHandWrittenAnswersOfEveryShape) {
  const std::string envelope = R"("request_id":"r1","status":"success","timestamp":"2026-01-01T00:00:00Z")";
  const std::string counters =
      R"("attempts":4,"answered":2,"busy":1,"noanswer":0,"failed":1,"rejected":1,"billed_seconds":130,)"
      R"("billed_minutes":2.17,"asr":0.5,"acd":65.0,"ner":1.0)";
  const std::string no_calls =
      R"("attempts":0,"answered":0,"busy":0,"noanswer":0,"failed":0,"rejected":0,"billed_seconds":0,)"
      R"("billed_minutes":0,"asr":null,"acd":null,"ner":null)";
  ResponseLog log;
  log.add({"GET", kSummary, "/v2/accounts/a/cdrs/summary?group_by=day", {}, "", 200},
          json_response(200, R"({"data":{"account_id":"a","created_from":63682882015,"created_to":63682889215,)"
                             R"("group_by":"day","totals":{)" +
                                 counters +
                                 R"(},"buckets":[{"start":"2018-01-11T00:00:00Z",)"
                                 R"("start_gregorian":63682848000,)" +
                                 counters + "}]}," + envelope + "}"));
  log.add({"GET", kSummary, "/v2/accounts/a/cdrs/summary", {}, "", 200},
          json_response(200, R"({"data":{"account_id":"a","created_from":63682882015,"created_to":63682889215,)"
                             R"("totals":{)" +
                                 no_calls + R"(},"buckets":[]},)" + envelope + "}"));
  log.add({"PUT", kApiAuth, kApiAuth, {}, "", 201},
          json_response(201, R"({"auth_token":"eyJ.sig","data":{"account_id":"a","accounts":["a","b"],)"
                             R"("expires_at":"2026-01-01T01:00:00Z","expires_in":3600},)" +
                                 envelope + "}"));
  log.add(
      {"POST", kImport, kImport, {}, "", 200},
      json_response(200, R"({"status":"success","request_id":"r1","data":{"accepted":1,)"
                         R"("rejected":[{"line":2,"code":"invalid_field","message":"call_id: expected a string"}]}})"));
  log.add({"POST", kImport, kImport, {}, "", 400},
          json_response(400, R"({"code":"no_valid_rows","message":"no row is valid","request_id":"r1",)"
                             R"("rejected":[{"line":1,"code":"missing_field","message":"timestamp is missing"}]})"));
  HttpResponse csv;
  csv.status = 200;
  csv.headers = {{"content-type", "text/csv; charset=utf-8"},
                 {"x-request-id", "r1"},
                 {"content-disposition", "attachment; filename=\"cdrs-a-63682882015-63682889215.csv\""},
                 {"transfer-encoding", "chunked"}};
  csv.body = "id,call_id,account_id,timestamp\r\n201801-x,x,a,63682885615\r\n";
  log.add({"GET", kList, "/v2/accounts/a/cdrs?filter_callee_id_number=4420*&paginate=false", {}, "", 200}, csv);
  // The read API's errors: Kazoo's envelope with code.
  const auto kazoo_error = [](int status, const std::string& code, const std::string& message) {
    return R"({"auth_token":"","request_id":"r1","node":"bm9kZQ","version":"0.1.0",)"
           R"("timestamp":"2026-01-01T00:00:00Z","status":"error","message":")" +
           message + R"(","error":")" + std::to_string(status) + R"(","data":{"message":")" + message +
           R"("},"code":")" + code + R"("})";
  };
  log.add({"GET", kList, "/v2/accounts/a/cdrs?paginate=false", {}, "", 429},
          json_response(429, kazoo_error(429, "too_many_exports", "2 exports run"), {{"retry-after", "1"}}));
  log.add({"GET", kList, "/v2/accounts/a/cdrs", {}, "", 503},
          json_response(503, kazoo_error(503, "too_many_requests", "retry"), {{"retry-after", "1"}}));
  log.add({"PUT", kUserAuth, kUserAuth, {}, "", 429},
          json_response(429, kazoo_error(429, "too_many_requests", "too many failed logins"), {{"retry-after", "42"}}));
  log.add({"PUT", kUserAuth, kUserAuth, {}, "", 201},
          json_response(201, R"({"auth_token":"eyJ.sig","data":{"account_id":"a","accounts":["a"],"owner_id":"u1",)"
                             R"("expires_at":"2026-01-01T01:00:00Z","expires_in":3600},)" +
                                 envelope + "}"));
  // Kazoo's rows and its CSV, Kazoo's summary.
  log.add({"GET", kInteraction, "/v2/accounts/a/cdrs/interaction", {}, "", 200},
          json_response(200, R"({"data":[{"id":"202401-x","call_id":"x","caller_id_number":"","caller_id_name":"",)"
                             R"("callee_id_number":"","callee_id_name":"","duration_seconds":"","billing_seconds":0,)"
                             R"("timestamp":"63872532000","hangup_cause":"","disposition":"","other_leg_call_id":"",)"
                             R"("owner_id":"","to":"","from":"","direction":"","request":"","authorizing_id":"",)"
                             R"("cost":"0","dialed_number":"","calling_from":"","datetime":"2024-01-15 10:00:00",)"
                             R"("unix_timestamp":"1705312800","rfc_1036":"Mon, 15 Jan 2024 10:00:00 GMT",)"
                             R"("iso_8601":"2024-01-15","iso_8601_combined":"2024-01-15T10:00:00Z","call_type":"",)"
                             R"("rate":"0.0","rate_name":"","bridge_id":"","recording_url":"","media_recordings":[],)"
                             R"("media_server":"","call_priority":"","interaction_id":"",)"
                             R"("inception_direction":"termination"}],"page_size":1,)" +
                                 envelope + "}"));
  log.add({"GET", kSummary, "/v2/accounts/a/cdrs/summary?format=kazoo", {}, "", 200},
          json_response(200, R"({"data":{"inbound":{},"outbound":{"carrier.example":{"international":)"
                             R"({"total":60,"uk-mobile":60}}}},)" +
                                 envelope + "}"));
  HttpResponse kazoo_csv;
  kazoo_csv.status = 200;
  kazoo_csv.headers = {{"content-type", "text/csv; charset=utf-8"},
                       {"x-request-id", "r1"},
                       {"content-disposition", "attachment; filename=\"result.csv\""}};
  kazoo_csv.body = "\"ID\",\"call_id\",\"caller_id_number\"\n\"202401-x\",\"x\",\"\"\n";
  log.add({"GET", kList, "/v2/accounts/a/cdrs?accept=csv", {}, "", 200}, kazoo_csv);
  // A CSV answer without Content-Disposition is caught.
  csv.headers.erase("content-disposition");
  log.add({"GET", kGet, "/v2/accounts/a/cdrs/201801-x", {}, "", 200}, csv);
  TempDir dir;
  log.write(dir.path() + "/records.json");
  const CheckerResult result = run_checker(kDoc, dir.path() + "/records.json", /*partial=*/true);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("header Content-Disposition is missing (text/csv requires it)"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("1 failure(s)"), std::string::npos) << result.output;
}

class OpenApiE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_openapi");
    StatementTimeoutEnv timeout(1000);
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_, "limits:\n  max_body_bytes: 64KiB\n");
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
  }

  HttpResponse send(const RouteRequest& rq, int port = 0) {
    HttpResponse r = http_request(port ? port : cdrd_->port(), rq.method, rq.target, rq.body, rq.headers);
    log_.add(rq, r);
    EXPECT_EQ(r.status, rq.expected_status) << rq.method << " " << rq.target << ": " << r.body.substr(0, 300);
    return r;
  }

  // Every sample through the route of its format, and one form-encoded CDR
  // for acct-a with mod_json_cdr's ?uuid=.
  void ingest_samples() {
    size_t posted = 0;
    for (const char* name :
         {"json_cdr_cgrates_2013a.json", "json_cdr_cgrates_2013b.json", "json_cdr_cgrates_2015.json",
          "json_cdr_cgrates_2017.json", "json_cdr_cgrates_2018a.json", "json_cdr_cgrates_2018b.json"}) {
      send({"POST", kIngestJson, kIngestJson, {{"Content-Type", "application/json"}}, read_sample(name), 200});
      ++posted;
    }
    for (const char* name :
         {"xml_cdr_fsdocs_2014_refused_unanswered.xml", "xml_cdr_tinycdr_2009_originator_cancel.xml"}) {
      send({"POST", kIngestXml, kIngestXml, {{"Content-Type", "application/xml"}}, read_sample(name), 200});
      ++posted;
    }
    send({"POST",
          kIngestJson,
          kIngestJson + "?uuid=a_" + kUuidA,
          {{"Content-Type", "application/x-www-form-urlencoded"}},
          "cdr=" + url_encode(unique_cdr(kUuidA, "acct-a")),
          200});
    ++posted;
    ASSERT_TRUE(eventually([&] {
      return query_count(dsn_, "SELECT count(*) FROM cdrs") == static_cast<long long>(posted);
    })) << cdrd_->log();
  }

  // Two pages of the 2018 account: the first names next_start_key, the second
  // (from it) is the last.
  void page_through() {
    const std::string first = "/v2/accounts/" + kAccount2018 + "/cdrs?" + kWindow2018 + "&page_size=1";
    const HttpResponse page1 = send({"GET", kList, first, kAllKey, "", 200});
    const auto doc = parse_json(page1.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("next_start_key")) << page1.body;
    const std::string key = doc["next_start_key"].GetString();
    const HttpResponse page2 = send({"GET", kList, first + "&start_key=" + url_encode(key), kAllKey, "", 200});
    const auto doc2 = parse_json(page2.body);
    ASSERT_TRUE(doc2.IsObject() && doc2.HasMember("start_key")) << page2.body;
    EXPECT_FALSE(doc2.HasMember("next_start_key")) << page2.body;
  }

  // PUT /v2/user_auth for a user made by `cdrd user create` (its own
  // configuration on the same database): 201 with printf %s alice:secret | md5sum.
  void log_a_user_in() {
    TempDir cli;
    write_file(cli.file("cdrd.yaml"),
               "state_dir: " + cli.file("state") + "\ndatabase:\n  dsn: \"" + dsn_ + "\"\nlog:\n  level: warn\n");
    const CommandResult made = run_command("cd " + cli.path() + " && printf '%s\\n' secret | " + CDRD_BINARY +
                                           " user create --login alice --account default --owner-id owner-1"
                                           " -c cdrd.yaml");
    ASSERT_EQ(made.exit_code, 0) << made.output;
    send({"PUT",
          kUserAuth,
          kUserAuth,
          {{"Content-Type", "application/json"}},
          R"({"data":{"credentials":"6f622058968bb90757e6c6ed79e5df81","account_name":"default"}})",
          201});
  }

  // 504: a lock held on cdrs keeps the read waiting past statement_timeout.
  void read_past_the_statement_timeout() {
    pqxx::connection c(dsn_);
    pqxx::work tx(c);
    tx.exec("LOCK TABLE cdrs IN ACCESS EXCLUSIVE MODE");
    send({"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017, kAllKey, "", 504});
    send({"GET", kList, "/v2/accounts/default/cdrs?" + kWindow2017, kAllKey, "", 504});
    tx.abort();
  }

  // 503s: a second cdrd whose database is not there (nothing listens on port 1).
  void ask_a_cdrd_without_database() {
    TempDir dir;
    CdrdProcess lonely(dir.path(), "postgresql://cdrd@127.0.0.1:1/none?connect_timeout=2");
    ASSERT_TRUE(lonely.start(/*wait_ready=*/false)) << lonely.log();
    send({"GET", "/readyz", "/readyz", {}, "", 503}, lonely.port());
    send({"GET", kGet, "/v2/accounts/default/cdrs/" + kId2017, kAllKey, "", 503}, lonely.port());
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
  ResponseLog log_;
};

TEST_F(OpenApiE2E, EveryDocumentedRouteAnswersWithTheDocumentedShape) {
  ingest_samples();
  for (const RouteRequest& rq : kRoutes) send(rq);
  log_a_user_in();
  page_through();
  read_past_the_statement_timeout();
  ask_a_cdrd_without_database();

  const std::string records = dir_.path() + "/openapi-responses.json";
  log_.write(records);
  const CheckerResult result = run_checker(kDoc, records);
  std::cout << result.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("OK"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace cdrd::test
