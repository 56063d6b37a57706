// End to end: the read API as a Kazoo crossbar client expects it (issue 13,
// section 2; Kazoo 4.3's cb_cdrs, crossbar_view, crossbar_filter and
// api_util are the reference), against the real cdrd on legs written with
// plain SQL so that every value is known:
//
//   T0 = 63872532000 = 2024-01-15T10:00:00Z (Unix 1705312800), a Monday.
//   k1  inbound  end T0+95  (95 s), NORMAL_CLEARING, owner user-1, authorizing_id dev-1, Kazoo rate vars
//   k2  outbound end T0+200 (10 s), USER_BUSY, owner user-2, resource_id carrier-1, to +44 2079460001
//   k3  inbound  end T0+300 (40 s), NO_ANSWER, no owner, no authorizing_id, rate_name us, from a carrier
//   k4  outbound end T0+400 (65 s), owner user-1, resource_id carrier-2, to +44 7700900123, rate_name uk-mobile
//   k5  outbound end T0+500, a loopback half (resource_id): never in the summary
//   k6  outbound end T0+600 (25 s), resource_id, to +1 800 5551234 (toll free US)
//   k7  outbound end T0+700, no resource_id: not in Kazoo's summary
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <csignal>
#include <ctime>
#include <functional>
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
const Headers kAllKey = {{"X-Auth-Token", "all-key"}};
const Headers kAKey = {{"X-Auth-Token", "a-key"}};
constexpr long long kT0 = 63872532000LL;
constexpr long long kGregorianUnixOffset = 62167219200LL;
const std::string kWindow = "created_from=" + std::to_string(kT0) + "&created_to=" + std::to_string(kT0 + 1000);

// Typed columns filled from the record, as the writer does.
const char* const kInsertSql =
    "INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, duration_seconds, billing_seconds, call_direction, "
    "hangup_cause, billing_status, caller_id_number, callee_id_number, from_uri, to_uri, interaction_id, "
    "media_server, leg, source, is_loopback, record) "
    "SELECT r->>'id', to_timestamp((r->>'timestamp')::bigint - 62167219200), (r->>'timestamp')::bigint, "
    "r->>'account_id', COALESCE(r->>'call_id', r->>'id'), COALESCE((r->>'duration_seconds')::int, 0), "
    "COALESCE((r->>'billing_seconds')::int, 0), r->>'call_direction', r->>'hangup_cause', r->>'billing_status', "
    "r->>'caller_id_number', r->>'callee_id_number', r->>'from_uri', r->>'to_uri', r->>'interaction_id', "
    "r->>'media_server', r->>'leg', 'json_cdr', COALESCE((r->>'is_loopback')::boolean, false), r "
    "FROM (SELECT $1::jsonb AS r) s";

// The same record as tests/api/kazoo_row_test.cpp's R1, in acct-a.
const std::string kK1 =
    R"({"id":"202401-abc","call_id":"abc","account_id":"acct-a","timestamp":63872532095,"duration_seconds":95,
 "billing_seconds":90,"caller_id_number":"1001","caller_id_name":"Ann \"A\", Ltd","callee_id_number":"+14155550100",
 "hangup_cause":"NORMAL_CLEARING","disposition":"ANSWER","other_leg_call_id":"def","call_direction":"inbound",
 "to":"14155550100@pbx.example","from":"1001@pbx.example","request":"14155550100@pbx.example",
 "from_uri":"1001@pbx.example","media_server":"fs1","interaction_id":"63872531990-aa11",
 "started_at":"2024-01-15T10:00:00.123456Z","recording_url":"https://rec/x.wav",
 "custom_channel_vars":{"account_id":"acct-a","authorizing_id":"dev-1","owner_id":"user-1",
 "account_billing":"per_minute","rate":"0.02","rate_name":"us-ca","bridge_id":"abc","media_recordings":"rec-1",
 "call_priority":"high"},"rating":{"kazoo_cost":400}})";

const std::vector<std::string> kOthers = {
    R"({"id":"202401-k2","call_id":"k2call","account_id":"acct-a","timestamp":63872532200,"duration_seconds":10,
 "billing_seconds":0,"call_direction":"outbound","hangup_cause":"USER_BUSY","to":"+442079460001@carrier.example",
 "from":"1001@pbx.example","custom_channel_vars":{"owner_id":"user-2","resource_id":"carrier-1"}})",
    R"({"id":"202401-k3","account_id":"acct-a","timestamp":63872532300,"duration_seconds":40,"billing_seconds":30,
 "call_direction":"inbound","hangup_cause":"NO_ANSWER","from":"+14155550100@sip.carrier.net","to":"1001@pbx.example",
 "custom_channel_vars":{"rate_name":"us"}})",
    R"({"id":"202401-k4","account_id":"acct-a","timestamp":63872532400,"duration_seconds":65,"billing_seconds":60,
 "call_direction":"outbound","hangup_cause":"NORMAL_CLEARING","to":"+447700900123@carrier.example",
 "custom_channel_vars":{"owner_id":"user-1","resource_id":"carrier-2","rate_name":"uk-mobile"}})",
    R"({"id":"202401-k5","account_id":"acct-a","timestamp":63872532500,"billing_seconds":99,"is_loopback":true,
 "call_direction":"outbound","hangup_cause":"NORMAL_CLEARING","to":"+447700900123@carrier.example",
 "custom_channel_vars":{"resource_id":"carrier-2"}})",
    R"({"id":"202401-k6","account_id":"acct-a","timestamp":63872532600,"duration_seconds":25,"billing_seconds":20,
 "call_direction":"outbound","hangup_cause":"NORMAL_CLEARING","to":"+18005551234@tf.example",
 "custom_channel_vars":{"resource_id":"carrier-3"}})",
    R"({"id":"202401-k7","account_id":"acct-a","timestamp":63872532700,"billing_seconds":77,
 "call_direction":"outbound","hangup_cause":"NORMAL_CLEARING","to":"+447700900123@carrier.example",
 "custom_channel_vars":{}})",
};

// k1's CSV line (kazoo_row_test.cpp works it out).
const std::string kK1Csv =
    "\"202401-abc\",\"abc\",\"1001\",\"Ann \"\"A\"\", Ltd\",\"+14155550100\",\"\",\"95\",\"90\",\"63872532000\","
    "\"NORMAL_CLEARING\",\"ANSWER\",\"def\",\"user-1\",\"14155550100@pbx.example\",\"1001@pbx.example\",\"inbound\","
    "\"14155550100@pbx.example\",\"dev-1\",\"400\",\"14155550100\",\"1001\",\"2024-01-15 10:00:00\",\"1705312800\","
    "\"Mon, 15 Jan 2024 10:00:00 GMT\",\"2024-01-15\",\"2024-01-15T10:00:00Z\",\"per_minute\",\"0.02\",\"us-ca\","
    "\"abc\",\"https://rec/x.wav\",\"rec-1\",\"fs1\",\"high\",\"63872531990-aa11\"\n";

void insert_record(const std::string& dsn, const std::string& json) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  tx.exec_params(kInsertSql, json);
  tx.commit();
}

std::vector<std::string> ids_of(const std::string& body) {
  std::vector<std::string> ids;
  const auto doc = parse_json(body);
  EXPECT_TRUE(doc.IsObject() && doc.HasMember("data") && doc["data"].IsArray()) << body.substr(0, 300);
  if (!doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) return ids;
  for (const auto& row : doc["data"].GetArray()) ids.emplace_back(row["id"].GetString());
  return ids;
}

std::string header(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

class KazooE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_kazoo");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    insert_record(dsn_, kK1);
    for (const std::string& r : kOthers) insert_record(dsn_, r);
  }
  HttpResponse get(const std::string& target, const Headers& headers = kAllKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  std::vector<std::string> list_ids(const std::string& query) {
    const HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return ids_of(r.body);
  }
  // Rewrites the configuration's api block and reloads it (SIGHUP); waits
  // until `applied` says the running cdrd uses it.
  void reload_api(const std::string& lines, const std::function<bool()>& applied) {
    std::string config = read_file(cdrd_->config_path());
    const size_t at = config.find("api:\n") + 5;
    config.insert(at, lines);
    write_file(cdrd_->config_path(), config);
    cdrd_->signal(SIGHUP);
    ASSERT_TRUE(eventually(applied)) << cdrd_->log();
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

void expect_kazoo_error(const HttpResponse& r, int status, const std::string& code, const std::string& auth_token) {
  EXPECT_EQ(r.status, status) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(std::string(doc["status"].GetString()), "error") << r.body;
  EXPECT_EQ(std::string(doc["error"].GetString()), std::to_string(status)) << r.body;
  EXPECT_EQ(std::string(doc["code"].GetString()), code) << r.body;
  const std::string message = doc["message"].GetString();
  EXPECT_FALSE(message.empty());
  ASSERT_TRUE(doc["data"].IsObject()) << r.body;
  EXPECT_EQ(std::string(doc["data"]["message"].GetString()), message);
  EXPECT_EQ(std::string(doc["request_id"].GetString()), header(r, "x-request-id"));
  EXPECT_EQ(std::string(doc["auth_token"].GetString()), auth_token);
  EXPECT_EQ(std::string(doc["version"].GetString()), CDRD_VERSION);
  EXPECT_GT(doc["node"].GetStringLength(), 0u);
  EXPECT_EQ(doc["timestamp"].GetStringLength(), 20u) << r.body;  // 2026-01-01T00:00:00Z
}

TEST_F(KazooE2E, ErrorsAreKazoosEnvelopeKeepingCode) {
  expect_kazoo_error(get("/v2/accounts/acct-a/cdrs", {}), 401, "unauthorized", "");
  expect_kazoo_error(get("/v2/accounts/acct-b/cdrs", kAKey), 403, "forbidden", "");  // a key is never echoed
  expect_kazoo_error(get("/v2/accounts/acct-a/cdrs/202401-nope"), 404, "not_found", "");
  expect_kazoo_error(get("/v2/accounts/acct-a/cdrs?page_size=0"), 400, "invalid_parameter", "");
  expect_kazoo_error(get("/v2/accounts/acct-a/nothing"), 404, "not_found", "");
  expect_kazoo_error(http_request(cdrd_->port(), "POST", "/v2/accounts/acct-a/cdrs", "{}", kAllKey), 405,
                     "method_not_allowed", "");
  expect_kazoo_error(http_request(cdrd_->port(), "PUT", "/v2/api_auth", "{}", {}), 400, "invalid_body", "");
  // A token is echoed, as Kazoo's envelope does.
  const HttpResponse auth = http_request(cdrd_->port(), "PUT", "/v2/api_auth", R"({"data":{"api_key":"a-key"}})", {});
  ASSERT_EQ(auth.status, 201) << auth.body;
  const std::string token = parse_json(auth.body)["auth_token"].GetString();
  expect_kazoo_error(get("/v2/accounts/acct-b/cdrs", {{"X-Auth-Token", token}}), 403, "forbidden", token);
  expect_kazoo_error(get("/v2/accounts/acct-a/cdrs/202401-nope", {{"X-Auth-Token", token}}), 404, "not_found", token);
}

TEST_F(KazooE2E, ListAndInteractionRowsAreKazoosGetIsTheWholeRecord) {
  HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_id=202401-abc");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 1u);
  const auto& row = doc["data"][0];
  EXPECT_EQ(row.MemberCount(), 35u);  // cb_cdrs ?COLUMNS
  EXPECT_EQ(std::string(row["timestamp"].GetString()), "63872532000");
  EXPECT_EQ(std::string(row["datetime"].GetString()), "2024-01-15 10:00:00");
  EXPECT_EQ(std::string(row["cost"].GetString()), "400");
  EXPECT_EQ(std::string(row["rate"].GetString()), "0.02");
  EXPECT_EQ(std::string(row["owner_id"].GetString()), "user-1");
  EXPECT_EQ(std::string(row["direction"].GetString()), "inbound");
  EXPECT_EQ(std::string(row["dialed_number"].GetString()), "14155550100");
  EXPECT_EQ(row["duration_seconds"].GetInt64(), 95);
  EXPECT_FALSE(row.HasMember("custom_channel_vars"));
  EXPECT_FALSE(row.HasMember("account_id"));

  // /cdrs/interaction: one row per call (k5, a loopback half, is none),
  // with inception_direction (authorizing_id set: origination).
  r = get("/v2/accounts/acct-a/cdrs/interaction?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(r.body),
            (std::vector<std::string>{"202401-k7", "202401-k6", "202401-k4", "202401-k3", "202401-k2", "202401-abc"}));
  doc = parse_json(r.body);
  EXPECT_EQ(doc["data"][5].MemberCount(), 36u);
  EXPECT_EQ(std::string(doc["data"][5]["inception_direction"].GetString()), "origination");
  EXPECT_EQ(std::string(doc["data"][4]["inception_direction"].GetString()), "termination");

  // GET /cdrs/{id}: the whole stored record.
  r = get("/v2/accounts/acct-a/cdrs/202401-abc");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = parse_json(r.body);
  EXPECT_EQ(doc["data"], parse_json(kK1));

  // detail=full: the stored records in the list too.
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_id=202401-abc&detail=full");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"][0], parse_json(kK1));
}

TEST_F(KazooE2E, CsvIsKazoosColumnsQuotingAndFileName) {
  // Kazoo's third CSV type, X-File-Name, utc_offset.
  HttpResponse r =
      get("/v2/accounts/acct-a/cdrs?" + kWindow + "&ascending=1&utc_offset=-18000",
          {{"X-Auth-Token", "all-key"}, {"Accept", "text/comma-separated-values"}, {"X-File-Name", "calls.csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(header(r, "content-disposition"), "attachment; filename=\"calls.csv\"");
  const std::string head = r.body.substr(0, r.body.find('\n') + 1);
  const std::string first_columns = "\"ID\",\"call_id\",\"caller_id_number\",\"caller_id_name\",";
  EXPECT_EQ(head.compare(0, first_columns.size(), first_columns), 0) << head;
  EXPECT_EQ(head.substr(head.size() - 18), ",\"interaction_id\"\n");
  const std::string shifted =
      std::string(kK1Csv).replace(kK1Csv.find("2024-01-15 10:00:00"), 19, "2024-01-15 05:00:00");
  EXPECT_EQ(r.body.substr(head.size(), shifted.size()), shifted);  // ascending: k1 first
  size_t lines = 0;
  for (char c : r.body) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 8u);  // the header and k1..k7

  // accept=csv and file_name as parameters; no offset: UTC.
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&accept=csv&file_name=export.csv&filter_id=202401-abc");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "content-disposition"), "attachment; filename=\"export.csv\"");
  EXPECT_EQ(r.body.substr(r.body.find('\n') + 1), kK1Csv);
  // Without a name: Kazoo's result.csv. accept=json wins over the Accept header.
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_id=202401-abc",
          {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  EXPECT_EQ(header(r, "content-disposition"), "attachment; filename=\"result.csv\"");
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&accept=json",
          {{"X-Auth-Token", "all-key"}, {"Accept", "text/csv"}});
  EXPECT_EQ(header(r, "content-type"), "application/json");
  // The interaction CSV has inception_direction last.
  r = get("/v2/accounts/acct-a/cdrs/interaction?" + kWindow + "&accept=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.substr(r.body.find('\n') - 22, 23), ",\"inception_direction\"\n");
}

TEST_F(KazooE2E, OrderParametersAndUnknownOnesIgnored) {
  const std::vector<std::string> newest = {"202401-k7", "202401-k6", "202401-k5", "202401-k4",
                                           "202401-k3", "202401-k2", "202401-abc"};
  const std::vector<std::string> oldest(newest.rbegin(), newest.rend());
  EXPECT_EQ(list_ids(""), newest);
  EXPECT_EQ(list_ids("&descending=true"), newest);
  EXPECT_EQ(list_ids("&ascending=1"), oldest);
  EXPECT_EQ(list_ids("&ascending=true&descending=true"), newest);
  EXPECT_EQ(list_ids("&descending=false"), oldest);
  EXPECT_EQ(list_ids("&colour=blue&account_id=acct-b&end_key=x"), newest);
  // Still a 400 for a known parameter's bad value.
  const HttpResponse bad = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&ascending=sideways");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(std::string(parse_json(bad.body)["message"].GetString()).rfind("ascending:", 0), 0u);
}

TEST_F(KazooE2E, V1ListsAreNeverPaginatedV2Pages) {
  HttpResponse r = get("/v1/accounts/acct-a/cdrs?" + kWindow + "&page_size=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "transfer-encoding"), "chunked");
  auto doc = parse_json(r.body);
  EXPECT_EQ(doc["data"].Size(), 7u);
  EXPECT_FALSE(doc.HasMember("next_start_key"));
  r = get("/v1/accounts/acct-a/cdrs/interaction?" + kWindow + "&page_size=2&paginate=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"].Size(), 6u);
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&page_size=2");
  doc = parse_json(r.body);
  EXPECT_EQ(doc["data"].Size(), 2u);
  EXPECT_TRUE(doc.HasMember("next_start_key"));
  doc = parse_json(get("/accounts/acct-a/cdrs?" + kWindow + "&page_size=2").body);  // no prefix: as v2
  EXPECT_EQ(doc["data"].Size(), 2u);
}

TEST_F(KazooE2E, WindowIsThirtyOneDaysAndAnHourInclusiveAndConfigurable) {
  // Both ends are in the window.
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?created_from=63872532095&created_to=63872532200").body),
            (std::vector<std::string>{"202401-k2", "202401-abc"}));
  // 2,682,000 s is a window; one second more is a 400.
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs?created_from=" + std::to_string(kT0 + 1000 - 2682000) +
                "&created_to=" + std::to_string(kT0 + 1000))
                .status,
            200);
  const HttpResponse over = get("/v2/accounts/acct-a/cdrs?created_from=" + std::to_string(kT0 + 999 - 2682000) +
                                "&created_to=" + std::to_string(kT0 + 1000));
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(std::string(parse_json(over.body)["message"].GetString()),
            "created_from: created_to " + std::to_string(kT0 + 1000) +
                " is more than 2682000 seconds from created_from " + std::to_string(kT0 + 999 - 2682000));
  // Without created_from: the 2,682,000 s up to created_to (or now).
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?created_to=" + std::to_string(kT0 + 95 + 2682000)).body),
            (std::vector<std::string>{"202401-k7", "202401-k6", "202401-k5", "202401-k4", "202401-k3", "202401-k2",
                                      "202401-abc"}));
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-a/cdrs?created_to=" + std::to_string(kT0 + 96 + 2682000)).body).size(), 6u);
  const long long now = static_cast<long long>(std::time(nullptr)) + kGregorianUnixOffset;
  insert_record(dsn_, R"({"id":"w-in","account_id":"acct-w","timestamp":)" + std::to_string(now - 2682000 + 600) + "}");
  insert_record(dsn_,
                R"({"id":"w-out","account_id":"acct-w","timestamp":)" + std::to_string(now - 2682000 - 600) + "}");
  EXPECT_EQ(ids_of(get("/v2/accounts/acct-w/cdrs").body), std::vector<std::string>{"w-in"});
  // api.max_window_s, reloaded.
  reload_api("  max_window_s: 3600\n",
             [&] { return get("/v2/accounts/acct-w/cdrs").body.find("\"w-in\"") == std::string::npos; });
  EXPECT_EQ(
      get("/v2/accounts/acct-a/cdrs?created_from=" + std::to_string(kT0) + "&created_to=" + std::to_string(kT0 + 3600))
          .status,
      200);
  EXPECT_EQ(
      get("/v2/accounts/acct-a/cdrs?created_from=" + std::to_string(kT0) + "&created_to=" + std::to_string(kT0 + 3601))
          .status,
      400);
}

TEST_F(KazooE2E, FiltersAsCrossbarFilter) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(list_ids("&filter_hangup_cause=" + url_encode(R"(["USER_BUSY","NO_ANSWER"])")),
            (Ids{"202401-k3", "202401-k2"}));
  EXPECT_EQ(list_ids("&filter_not_hangup_cause=NORMAL_CLEARING"), (Ids{"202401-k3", "202401-k2"}));
  EXPECT_EQ(list_ids("&has_key=custom_channel_vars.owner_id"), (Ids{"202401-k4", "202401-k2", "202401-abc"}));
  EXPECT_EQ(list_ids("&key_missing=custom_channel_vars.resource_id"), (Ids{"202401-k7", "202401-k3", "202401-abc"}));
  EXPECT_EQ(list_ids("&has_value=recording_url"), Ids{"202401-abc"});
  EXPECT_EQ(list_ids("&value_missing=recording_url&filter_not_is_loopback=true"),
            (Ids{"202401-k7", "202401-k6", "202401-k4", "202401-k3", "202401-k2"}));
  EXPECT_EQ(list_ids("&filter_call_id=202401-k2call"), Ids{"202401-k2"});  // YYYYMM- dropped
  EXPECT_EQ(list_ids("&filter_custom_channel_vars.owner_id=user-1"), (Ids{"202401-k4", "202401-abc"}));
  EXPECT_EQ(list_ids("&filter_custom_channel_vars.owner_id=" + url_encode(R"(["user-1","user-2"])")),
            (Ids{"202401-k4", "202401-k2", "202401-abc"}));
  EXPECT_EQ(list_ids("&filter_rating.kazoo_cost=400"), Ids{"202401-abc"});  // any depth, numbers as text
  EXPECT_EQ(list_ids("&filter_custom_channel_vars.rate_name="),
            (Ids{"202401-k7", "202401-k6", "202401-k5", "202401-k2"}));
  // The interaction route and the summary take them too.
  EXPECT_EQ(
      ids_of(get("/v2/accounts/acct-a/cdrs/interaction?" + kWindow + "&filter_not_hangup_cause=NORMAL_CLEARING").body),
      (Ids{"202401-k3", "202401-k2"}));
  const auto summary = parse_json(
      get("/v2/accounts/acct-a/cdrs/summary?" + kWindow + "&filter_hangup_cause=" + url_encode(R"(["USER_BUSY"])"))
          .body);
  EXPECT_EQ(summary["data"]["totals"]["attempts"].GetInt64(), 1);
}

TEST_F(KazooE2E, SummaryKeepsCdrdsDocumentAndGivesKazoosOnAsk) {
  HttpResponse r = get("/v2/accounts/acct-a/cdrs/summary?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(r.body)["data"]["totals"]["attempts"].GetInt64(), 6);  // k5 is a loopback half
  r = get("/v2/accounts/acct-a/cdrs/summary?" + kWindow + "&format=kazoo");
  ASSERT_EQ(r.status, 200) << r.body;
  // Kazoo's view: inbound without authorizing_id (k3, by the caller's
  // domain); outbound with a resource_id (k2, k4, k6, by the callee's
  // domain); the classifier of the dialed number; billable seconds in total
  // and per rate_name.
  EXPECT_EQ(parse_json(r.body)["data"],
            parse_json(R"({"inbound":{"sip.carrier.net":{"unknown":{"total":30,"us":30}}},)"
                       R"("outbound":{"carrier.example":{"international":{"total":60,"uk-mobile":60}},)"
                       R"("tf.example":{"tollfree_us":{"total":20}}}})"))
      << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["status"].GetString()), "success");
  // Nothing in the window: both directions, empty.
  r = get("/v2/accounts/acct-a/cdrs/summary?created_from=63872000000&created_to=63872000001&format=kazoo");
  EXPECT_EQ(parse_json(r.body)["data"], parse_json(R"({"inbound":{},"outbound":{}})"));
}

TEST_F(KazooE2E, TimeZonesShiftDatetimeFullRecordsAndSummaryBuckets) {
  HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_id=202401-abc&tz=America/New_York");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["data"][0]["datetime"].GetString()), "2024-01-15 05:00:00");
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&filter_id=202401-abc&detail=full&tz=Europe/Berlin");
  EXPECT_EQ(std::string(parse_json(r.body)["data"][0]["started_at"].GetString()), "2024-01-15T11:00:00.123456+01:00");
  // Every leg ends in the hour from 10:00Z: 05:00 in New York.
  for (const std::string& zone : {std::string("tz=America/New_York"), std::string("utc_offset=-18000")}) {
    r = get("/v2/accounts/acct-a/cdrs/summary?" + kWindow + "&group_by=hour&" + zone);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto doc = parse_json(r.body);
    ASSERT_EQ(doc["data"]["buckets"].Size(), 1u) << r.body;
    EXPECT_EQ(std::string(doc["data"]["buckets"][0]["start"].GetString()), "2024-01-15T05:00:00-05:00");
    EXPECT_EQ(doc["data"]["buckets"][0]["start_gregorian"].GetInt64(), kT0);
  }
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs?tz=Europe/Berlin&utc_offset=3600").status, 400);
}

TEST_F(KazooE2E, CorsForTheListedOriginsOnly) {
  const Headers preflight = {{"Origin", "https://ui.example"}, {"Access-Control-Request-Method", "GET"}};
  // Default: no origin is listed.
  HttpResponse r = http_request(cdrd_->port(), "OPTIONS", "/v2/accounts/acct-a/cdrs", "", preflight);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "access-control-allow-origin"), "");
  reload_api("  cors_origins: [\"https://ui.example\"]\n", [&] {
    return header(http_request(cdrd_->port(), "OPTIONS", "/v2/accounts/acct-a/cdrs", "", preflight),
                  "access-control-allow-origin") == "https://ui.example";
  });
  r = http_request(cdrd_->port(), "OPTIONS", "/v2/accounts/acct-a/cdrs", "", preflight);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header(r, "access-control-allow-methods"), "OPTIONS, GET");
  EXPECT_NE(header(r, "access-control-allow-headers").find("x-auth-token"), std::string::npos);
  EXPECT_NE(header(r, "access-control-expose-headers").find("x-request-id"), std::string::npos);
  EXPECT_EQ(header(r, "access-control-max-age"), "86400");
  EXPECT_EQ(header(r, "vary"), "Origin");
  r = http_request(cdrd_->port(), "OPTIONS", "/v2/user_auth", "", preflight);
  EXPECT_EQ(header(r, "access-control-allow-methods"), "OPTIONS, PUT");
  // Every answer to that origin carries them: a page, an error, a stream.
  Headers from_ui = kAllKey;
  from_ui["Origin"] = "https://ui.example";
  EXPECT_EQ(header(get("/v2/accounts/acct-a/cdrs?" + kWindow, from_ui), "access-control-allow-origin"),
            "https://ui.example");
  EXPECT_EQ(header(get("/v2/accounts/acct-a/cdrs?page_size=0", from_ui), "access-control-allow-origin"),
            "https://ui.example");
  EXPECT_EQ(header(get("/v2/accounts/acct-a/cdrs?paginate=false&" + kWindow, from_ui), "access-control-allow-origin"),
            "https://ui.example");
  // Another origin: nothing.
  r = http_request(cdrd_->port(), "OPTIONS", "/v2/accounts/acct-a/cdrs", "",
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "access-control-allow-origin"), "");
  EXPECT_EQ(header(get("/v2/accounts/acct-a/cdrs?" + kWindow,
                       {{"X-Auth-Token", "all-key"}, {"Origin", "https://evil.example"}}),
                   "access-control-allow-origin"),
            "");
}

}  // namespace
}  // namespace cdrd::test
