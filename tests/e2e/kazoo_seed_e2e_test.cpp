// End to end: the two Kazoo seed documents (000 and 003 in ../shared/seeds,
// read at test time) against the real daemon, key by key, as the other
// dialects' tests do with theirs (issue 13, section 7).
//
// One leg is posted as FreeSWITCH's mod_json_cdr sends it: the 2017 sample's
// A-leg (3da8bf84-..., 1001 -> 1002, started 2018-01-11T10:25:44.534355Z) in
// account acct-a, with the channel variables a Kazoo platform's ecallmgr sets
// (ecallmgr_Endpoint-ID, ...), which become custom_channel_vars.endpoint_id
// and so on.
//
// What the sample does not carry, worked out from its variables:
//   - no fax_* variable (it was a voice call): the eight fax_* fields;
//   - no cav_* variable: no custom_application_vars;
//   - no sip_h_*, sip_rh_* or sip_i_* variable: no custom_sip_headers.
// Kazoo fields that FreeSWITCH never sends and cdrd does not invent (seed
// 003's "not intended to be exhaustive ... some fields may not be part"):
//   cid_type, handling_server_name, event_name, event_category, server_id,
//   custom_channel_vars.tenant_id (no such ecallmgr variable either).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// Before dialect_test_support.h, which defines the parse_json this declares.
#include "tests/e2e/e2e_util.h"

#include "tests/api_dialects/dialect_test_support.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"
#include "tests/support/test_files.h"

namespace cdrd::test {
namespace {

using Headers = std::map<std::string, std::string>;
const Headers kAKey = {{"X-Auth-Token", "a-key"}};

const std::string kCdrId = "201801-3da8bf84-c133-4959-9e24-e72875cb33a1";
// 2018-01-11T00:00:00Z and a day later, in Gregorian seconds (Unix 1515628800 + 62167219200).
const std::string kWindow = "created_from=63682848000&created_to=63682934400";

// The ecallmgr variables of a Kazoo platform, as FreeSWITCH writes them.
const std::map<std::string, std::string> kEcallmgrVariables = {
    {"ecallmgr_Endpoint-ID", "endpoint-7"}, {"ecallmgr_Access-Group", "group-2"},
    {"ecallmgr_Username", "user1001"},      {"ecallmgr_Realm", "pbx.example"},
    {"ecallmgr_Inception", "on-net"},       {"ecallmgr_Authorizing-ID", "device-9"},
    {"ecallmgr_Account-ID", "acct-a"},
};

std::string a_leg_cdr() {
  rapidjson::Document doc = parse_json(read_sample("json_cdr_cgrates_2017.json"));
  auto& alloc = doc.GetAllocator();
  rapidjson::Value& variables = doc["variables"];
  variables.AddMember("account_id", "acct-a", alloc);
  for (const auto& [name, value] : kEcallmgrVariables) {
    variables.AddMember(rapidjson::Value(name, alloc), rapidjson::Value(value, alloc), alloc);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  doc.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// The property names of one "Resource Parameters" table of seed 003: the
// lines "<name> <description> no" after `heading` and before the next
// "Operations".
std::vector<std::string> seed_003_properties(const std::string& heading) {
  const std::string text = seed_text("003");
  size_t at = text.find(heading);
  if (at == std::string::npos) throw std::runtime_error("seed 003 has no " + heading);
  at = text.find("Modifiable\n", at);
  const size_t end = text.find("\nOperations", at);
  std::vector<std::string> names;
  size_t line_start = text.find('\n', at) + 1;
  while (line_start < end) {
    const size_t line_end = text.find('\n', line_start);
    const std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.size() < 4 || line.compare(line.size() - 3, 3, " no") != 0) continue;
    names.push_back(line.substr(0, line.find(' ')));
  }
  return names;
}

// The member at a dotted path, nullptr when absent.
const rapidjson::Value* at_path(const rapidjson::Value& object, const std::string& path) {
  const rapidjson::Value* v = &object;
  size_t from = 0;
  while (true) {
    const size_t dot = path.find('.', from);
    const std::string name = path.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    if (!v->IsObject()) return nullptr;
    const auto it = v->FindMember(name.c_str());
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
    if (dot == std::string::npos) return v;
    from = dot + 1;
  }
}

class KazooSeedE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_kazoo_seed");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
    const HttpResponse r = http_request(cdrd_->port(), "POST", "/ingest/freeswitch/json", a_leg_cdr(),
                                        {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == 1; })) << cdrd_->log();
  }
  HttpResponse get(const std::string& target, const Headers& headers = kAKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

TEST_F(KazooSeedE2E, Seed000GetCdrHasEachKeyOfTheExampleWithItsType) {
  const rapidjson::Document seed = seed_example(seed_text("000"), "curl -X GET");
  ASSERT_TRUE(seed.HasMember("data") && seed["data"].IsObject());
  const rapidjson::Value& want = seed["data"];
  ASSERT_EQ(want.MemberCount(), 47U);

  const HttpResponse r = get("/v2/accounts/acct-a/cdrs/" + kCdrId);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("data") && doc["data"].IsObject()) << r.body.substr(0, 300);
  const rapidjson::Value& ours = doc["data"];

  std::vector<std::string> absent;
  for (const auto& m : want.GetObject()) {
    const std::string key = m.name.GetString();
    const auto it = ours.FindMember(key.c_str());
    if (it == ours.MemberEnd()) {
      absent.push_back(key);
      continue;
    }
    EXPECT_EQ(json_type(it->value), json_type(m.value)) << "key " << key;
  }
  // Only what the sample does not carry (see the top of this file), in the seed's order.
  EXPECT_EQ(absent, (std::vector<std::string>{"custom_application_vars", "custom_sip_headers", "fax_bad_rows",
                                              "fax_ecm_used", "fax_result_code", "fax_result_text", "fax_success",
                                              "fax_total_pages", "fax_transfer_rate", "fax_transferred_pages"}));
  // The seed's custom_channel_vars is an object of strings; so is ours.
  for (const auto& m : ours["custom_channel_vars"].GetObject()) EXPECT_TRUE(m.value.IsString()) << m.name.GetString();
  // Values worked out from the sample: 1001 called 1002, 71 s from created to hangup, 67.54 s billed.
  EXPECT_EQ(std::string(ours["caller_id_number"].GetString()), "1001");
  EXPECT_EQ(std::string(ours["callee_id_number"].GetString()), "1002");
  EXPECT_EQ(std::string(ours["call_direction"].GetString()), "inbound");
  EXPECT_EQ(std::string(ours["hangup_cause"].GetString()), "NORMAL_CLEARING");
  EXPECT_EQ(ours["duration_seconds"].GetInt64(), 71);
  EXPECT_EQ(ours["billing_seconds"].GetInt64(), 68);

  // The seed's error body: code, message and request_id, all strings.
  const rapidjson::Document seed_error = seed_example(seed_text("000"), "\"user_agent\": \"string\"");
  const HttpResponse missing = get("/v2/accounts/acct-a/cdrs/201801-nope");
  EXPECT_EQ(missing.status, 404);
  const auto error = parse_json(missing.body);
  ASSERT_TRUE(error.IsObject()) << missing.body;
  ASSERT_EQ(keys_of(seed_error), (std::vector<std::string>{"code", "message", "request_id"}));
  for (const auto& m : seed_error.GetObject()) {
    ASSERT_TRUE(error.HasMember(m.name)) << m.name.GetString() << ": " << missing.body;
    EXPECT_EQ(json_type(error[m.name]), json_type(m.value)) << m.name.GetString();
  }
}

TEST_F(KazooSeedE2E, Seed003CdrDetailsHasEveryPropertyFreeswitchCanGive) {
  const std::vector<std::string> properties = seed_003_properties("CDR Details");
  ASSERT_EQ(properties.size(), 34U);
  ASSERT_EQ(properties.front(), "id");
  ASSERT_EQ(properties.back(), "server_id");

  const HttpResponse r = get("/v2/accounts/acct-a/cdrs/" + kCdrId);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = parse_json(r.body);
  const rapidjson::Value& ours = doc["data"];
  std::vector<std::string> absent;
  for (const std::string& property : properties) {
    const rapidjson::Value* v = at_path(ours, property);
    if (v == nullptr) {
      absent.push_back(property);
    } else if (property.rfind("custom_channel_vars.", 0) == 0) {
      EXPECT_TRUE(v->IsString()) << property;
    }
  }
  EXPECT_EQ(absent, (std::vector<std::string>{"custom_channel_vars.tenant_id", "cid_type", "handling_server_name",
                                              "event_name", "event_category", "server_id"}));
  // The ecallmgr variables, in Kazoo's spelling.
  EXPECT_EQ(std::string(at_path(ours, "custom_channel_vars.endpoint_id")->GetString()), "endpoint-7");
  EXPECT_EQ(std::string(at_path(ours, "custom_channel_vars.access_group")->GetString()), "group-2");
  EXPECT_EQ(std::string(at_path(ours, "custom_channel_vars.authorizing_id")->GetString()), "device-9");
  EXPECT_EQ(std::string(at_path(ours, "custom_channel_vars.account_id")->GetString()), "acct-a");
}

TEST_F(KazooSeedE2E, Seed003ListHasItsPropertiesInFullRowsAndKazoosColumnsOtherwise) {
  const std::vector<std::string> properties = seed_003_properties("Resource Parameters");
  ASSERT_EQ(properties,
            (std::vector<std::string>{"id", "digits_dialed", "duration_seconds", "billing_seconds", "ringing_seconds",
                                      "call_direction", "timestamp", "hangup_cause", "call_id", "to_uri", "from_uri"}));
  // detail=full: every property.
  HttpResponse r = get("/v2/accounts/acct-a/cdrs?" + kWindow + "&detail=full");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 1U) << r.body.substr(0, 300);
  for (const std::string& property : properties) EXPECT_TRUE(doc["data"][0].HasMember(property.c_str())) << property;

  // Kazoo's list row (cb_cdrs' columns): the properties it has, and the
  // ones "not part of the listing" as the seed warns.
  r = get("/v2/accounts/acct-a/cdrs?" + kWindow);
  ASSERT_EQ(r.status, 200) << r.body;
  doc = parse_json(r.body);
  ASSERT_EQ(doc["data"].Size(), 1U);
  std::vector<std::string> absent;
  for (const std::string& property : properties) {
    if (!doc["data"][0].HasMember(property.c_str())) absent.push_back(property);
  }
  EXPECT_EQ(absent,
            (std::vector<std::string>{"digits_dialed", "ringing_seconds", "call_direction", "to_uri", "from_uri"}));
}

TEST_F(KazooSeedE2E, Seed003CsvByOctetStreamAndAuthTokenOnV1) {
  // The seed's example: Accept: application/octet-stream, the token as auth_token, /v1.
  const HttpResponse auth = http_request(cdrd_->port(), "PUT", "/v2/api_auth", R"({"data":{"api_key":"a-key"}})", {});
  ASSERT_EQ(auth.status, 201) << auth.body;
  const std::string token = parse_json(auth.body)["auth_token"].GetString();
  const HttpResponse r =
      get("/v1/accounts/acct-a/cdrs?" + kWindow + "&auth_token=" + token, {{"Accept", "application/octet-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("content-type"), "text/csv; charset=utf-8");
  const size_t header_end = r.body.find('\n');
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_EQ(r.body.compare(0, 17, "\"ID\",\"call_id\",\"c"), 0) << r.body.substr(0, 200);
  // One line per leg: the header and this one.
  const std::string row = r.body.substr(header_end + 1);
  EXPECT_EQ(row.compare(0, kCdrId.size() + 2, "\"" + kCdrId + "\""), 0) << row.substr(0, 200);
  EXPECT_EQ(std::count(row.begin(), row.end(), '\n'), 1);
}

}  // namespace
}  // namespace cdrd::test
