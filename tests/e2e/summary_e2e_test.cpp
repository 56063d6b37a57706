// End to end: samples posted through mod_json_cdr and mod_xml_cdr, then
// GET .../cdrs/summary over the real daemon. Every number is worked out by
// hand from the sample files (README.md "Summary" has the definitions). The
// billing columns of migration 006 (trunk, country, charges, ...) are put in
// with SQL once the daemon runs, then read through its route.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "daemon/db/migrations.h"
#include "tests/e2e/cdrd_process.h"
#include "tests/e2e/e2e_util.h"
#include "tests/e2e/http_client.h"
#include "tests/support/pg_server.h"

namespace cdrd::test {
namespace {

const std::map<std::string, std::string> kAllKey = {{"X-Auth-Token", "all-key"}};
const std::map<std::string, std::string> kAKey = {{"X-Auth-Token", "a-key"}};

// The summary's counters; ratios and minutes are compared to 4 decimals,
// nullopt for a JSON null.
struct Counters {
  long long attempts, answered, busy, noanswer, failed, rejected, billed_seconds;
  double billed_minutes;
  std::optional<double> asr, acd, ner;
};

void expect_ratio(const rapidjson::Value& object, const char* name, std::optional<double> want,
                  const std::string& what) {
  ASSERT_TRUE(object.HasMember(name)) << what << ": no " << name;
  const rapidjson::Value& got = object[name];
  if (!want) {
    EXPECT_TRUE(got.IsNull()) << what << ": " << name << " should be null";
    return;
  }
  ASSERT_TRUE(got.IsNumber()) << what << ": " << name << " is not a number";
  EXPECT_NEAR(got.GetDouble(), *want, 1e-9) << what << ": " << name;
}

void expect_counters(const rapidjson::Value& object, const Counters& want, const std::string& what) {
  ASSERT_TRUE(object.IsObject()) << what;
  const std::pair<const char*, long long> counts[] = {{"attempts", want.attempts},
                                                      {"answered", want.answered},
                                                      {"busy", want.busy},
                                                      {"noanswer", want.noanswer},
                                                      {"failed", want.failed},
                                                      {"rejected", want.rejected},
                                                      {"billed_seconds", want.billed_seconds}};
  for (const auto& [name, value] : counts) {
    ASSERT_TRUE(object.HasMember(name) && object[name].IsInt64()) << what << ": " << name;
    EXPECT_EQ(object[name].GetInt64(), value) << what << ": " << name;
  }
  expect_ratio(object, "billed_minutes", want.billed_minutes, what);
  expect_ratio(object, "asr", want.asr, what);
  expect_ratio(object, "acd", want.acd, what);
  expect_ratio(object, "ner", want.ner, what);
}

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  value.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void set_variable(rapidjson::Document& doc, const char* name, const std::string& value) {
  auto& variables = doc["variables"];
  auto it = variables.FindMember(name);
  if (it != variables.MemberEnd()) {
    it->value.SetString(value, doc.GetAllocator());
  } else {
    variables.AddMember(rapidjson::Value(name, doc.GetAllocator()), rapidjson::Value(value, doc.GetAllocator()),
                        doc.GetAllocator());
  }
}

// The 2017 sample (answered at 1515666347.954373, ended at 1515666415.494269
// = 2018-01-11T10:26:55Z, billmsec 67540 -> 68 s) under a new uuid in
// acct-a. With a cause it is never answered and fails with that cause (the
// last app is bridge, so originate_failed_cause names it); its end moves
// by `end_shift` seconds.
std::string variant_2017(const std::string& cause = "", long long end_shift = 0) {
  rapidjson::Document doc = parse_json(unique_cdr(random_uuid(), "acct-a"));
  if (!cause.empty()) {
    set_variable(doc, "answer_uepoch", "0");
    set_variable(doc, "originate_failed_cause", cause);
    set_variable(doc, "hangup_cause", cause);
    set_variable(doc, "end_uepoch", std::to_string(1515666415494269LL + end_shift * 1000000));
  }
  return to_text(doc);
}

constexpr long long kEnd2017 = 63682885615LL;  // 2018-01-11T10:26:55Z
constexpr long long kHour10 = 63682884000LL;   // 2018-01-11T10:00:00Z
constexpr long long kDay11 = 63682848000LL;    // 2018-01-11T00:00:00Z

// Billing rows of acct-bill, all ending 2018-02-10T12:00:00Z (Gregorian
// 63685483200). Calls i-1 (A no trunk 65 s, B carrier-1 60 s), i-2 (B1
// carrier-1 failed, A 125 s, B2 carrier-2 120 s), i-3 through loopback/ (A
// carrier-1 30 s, the loopback half, B 28 s) and g4 alone (busy on
// carrier-2). i-1 and i-2 go to US, i-3 and g4 to GB.
constexpr long long kBillEnd = 63685483200LL;
const char* const kBillRows =
    "('201802-e1a', 'i-1', 'A', 'answered', 'NORMAL_CLEARING', 65, false, NULL, 'US', 0.1, 'USD', NULL, NULL),"
    "('201802-e1b', 'i-1', 'B', 'answered', 'NORMAL_CLEARING', 60, false, 'carrier-1', 'US', NULL, NULL, 0.0001, "
    "'USD'),"
    "('201802-e2b1', 'i-2', 'B', 'failed', 'NORMAL_TEMPORARY_FAILURE', 0, false, 'carrier-1', 'US', NULL, NULL, "
    "0.0001, 'USD'),"
    "('201802-e2a', 'i-2', 'A', 'answered', 'NORMAL_CLEARING', 125, false, NULL, 'US', 0.2, 'USD', NULL, NULL),"
    "('201802-e2b2', 'i-2', 'B', 'answered', 'NORMAL_CLEARING', 120, false, 'carrier-2', 'US', NULL, NULL, 0.0001, "
    "'USD'),"
    "('201802-e3a', 'i-3', 'A', 'answered', 'NORMAL_CLEARING', 30, false, 'carrier-1', 'GB', 0.2, 'EUR', 0.2, 'EUR'),"
    "('201802-e3l', 'i-3', 'B', 'answered', 'NORMAL_CLEARING', 30, true, NULL, 'GB', 5, 'USD', 5, 'USD'),"
    "('201802-e3b', 'i-3', 'B', 'answered', 'NORMAL_CLEARING', 28, false, NULL, 'GB', 0.1, 'EUR', NULL, NULL),"
    "('201802-e4', NULL, 'A', 'busy', 'USER_BUSY', 0, false, 'carrier-2', 'GB', NULL, NULL, NULL, NULL)";

// A bucket's or the totals' "calls": attempts, answered, billed_seconds, and
// ASR / ACD as the exact decimal strings (nullopt for null).
struct Calls {
  long long attempts, answered, billed_seconds;
  std::optional<std::string> asr, acd;
};

void expect_calls(const rapidjson::Value& object, const Calls& want, const std::string& what) {
  ASSERT_TRUE(object.IsObject() && object.HasMember("calls") && object["calls"].IsObject()) << what;
  const rapidjson::Value& calls = object["calls"];
  EXPECT_EQ(calls["attempts"].GetInt64(), want.attempts) << what;
  EXPECT_EQ(calls["answered"].GetInt64(), want.answered) << what;
  EXPECT_EQ(calls["billed_seconds"].GetInt64(), want.billed_seconds) << what;
  const std::pair<const char*, const std::optional<std::string>*> ratios[] = {{"asr", &want.asr}, {"acd", &want.acd}};
  for (const auto& [name, ratio] : ratios) {
    ASSERT_TRUE(calls.HasMember(name)) << what << ": no calls." << name;
    if (!*ratio) {
      EXPECT_TRUE(calls[name].IsNull()) << what << ": calls." << name;
    } else {
      ASSERT_TRUE(calls[name].IsString()) << what << ": calls." << name << " is not a string";
      EXPECT_EQ(std::string(calls[name].GetString()), **ratio) << what << ": calls." << name;
    }
  }
}

// "charges" as its JSON text: the sums must be strings, exactly as written.
void expect_charges(const rapidjson::Value& object, const std::string& want, const std::string& what) {
  ASSERT_TRUE(object.IsObject() && object.HasMember("charges")) << what;
  EXPECT_EQ(to_text(object["charges"]), want) << what;
}

class SummaryE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = create_migrated_database("e2e_summary");
    cdrd_ = std::make_unique<CdrdProcess>(dir_.path(), dsn_);
    ASSERT_TRUE(cdrd_->start()) << cdrd_->log();
  }
  void post(const std::string& route, const std::string& body, const char* content_type) {
    const HttpResponse r = http_request(cdrd_->port(), "POST", route, body, {{"Content-Type", content_type}});
    ASSERT_EQ(r.status, 200) << route << ": " << r.body;
  }
  // kBillRows into the daemon's database, in a partition of their own month.
  void insert_bill_rows() {
    pqxx::connection conn(dsn_);
    std::string error;
    const auto month = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(kBillEnd - 62167219200LL));
    ASSERT_TRUE(ensure_partitions(conn, month, 0, &error)) << error;
    pqxx::work tx(conn);
    tx.exec(std::string("INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, source, record, interaction_id, "
                        "leg, billing_status, hangup_cause, billing_seconds, is_loopback, trunk, destination_country, "
                        "customer_charge, customer_currency, vendor_charge, vendor_currency) "
                        "SELECT v.id, to_timestamp(") +
            std::to_string(kBillEnd - 62167219200LL) + "), " + std::to_string(kBillEnd) +
            ", 'acct-bill', v.id, 'json_cdr', '{}', v.i, v.leg, v.status, v.cause, v.billed, v.loopback, v.trunk, "
            "v.country, v.cc, v.ccur, v.vc, v.vcur FROM (VALUES " +
            kBillRows + ") v(id, i, leg, status, cause, billed, loopback, trunk, country, cc, ccur, vc, vcur)");
    tx.commit();
  }
  void wait_rows(long long n) {
    ASSERT_TRUE(eventually([&] { return query_count(dsn_, "SELECT count(*) FROM cdrs") == n; }));
  }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = kAllKey) {
    return http_request(cdrd_->port(), "GET", target, "", headers);
  }
  // The summary's data object; fails the test unless the reply is a 200 envelope.
  rapidjson::Document summary(const std::string& account, long long from, long long to, const std::string& extra = "") {
    const HttpResponse r = get("/v2/accounts/" + account + "/cdrs/summary?created_from=" + std::to_string(from) +
                               "&created_to=" + std::to_string(to) + extra);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = parse_json(r.body);
    EXPECT_TRUE(doc.IsObject() && doc.HasMember("data") && doc["data"].IsObject()) << r.body;
    if (doc.IsObject()) {
      EXPECT_EQ(std::string(doc["status"].GetString()), "success");
      EXPECT_TRUE(doc.HasMember("request_id") && doc.HasMember("timestamp"));
    }
    return doc;
  }

  TempDir dir_;
  std::string dsn_;
  std::unique_ptr<CdrdProcess> cdrd_;
};

// Each sample in its own account and window (one hour either side of its
// end), the two 2018 samples together.
TEST_F(SummaryE2E, EverySampleCountsInItsAccountAndWindow) {
  for (const char* name :
       {"json_cdr_cgrates_2013a.json", "json_cdr_cgrates_2013b.json", "json_cdr_cgrates_2015.json",
        "json_cdr_cgrates_2017.json", "json_cdr_cgrates_2018a.json", "json_cdr_cgrates_2018b.json"}) {
    post("/ingest/freeswitch/json", read_sample(name), "application/json");
  }
  for (const char* name :
       {"xml_cdr_tinycdr_2009_originator_cancel.xml", "xml_cdr_fsdocs_2014_refused_unanswered.xml"}) {
    post("/ingest/freeswitch/xml", read_sample(name), "application/xml");
  }
  wait_rows(8);

  struct Expectation {
    const char* account;
    long long end;  // the sample's timestamp
    Counters counters;
  };
  // billed_minutes = billed / 60 to 2 decimals; an answered sample has ASR 1,
  // NER 1 and ACD = its billed seconds.
  const Expectation samples[] = {
      // 2013a: answered, billmsec 20977 -> 21 s; account = domain_name.
      {"192.168.56.10", 63535926832LL, {1, 1, 0, 0, 0, 0, 21, 0.35, 1.0, 21.0, 1.0}},
      // 2013b: answered, 3920 ms -> 4 s; no account variable nor domain: "default".
      {"default", 63542829060LL, {1, 1, 0, 0, 0, 0, 4, 0.07, 1.0, 4.0, 1.0}},
      // 2015: answered, 65039 ms -> 66 s.
      {"cgrates.org", 63603499994LL, {1, 1, 0, 0, 0, 0, 66, 1.1, 1.0, 66.0, 1.0}},
      // 2017: answered, 67540 ms -> 68 s (68 / 60 = 1.1333).
      {"default", kEnd2017, {1, 1, 0, 0, 0, 0, 68, 1.13, 1.0, 68.0, 1.0}},
      // tinycdr 2009: the caller cancelled before answer (ORIGINATOR_CANCEL): noanswer; NER 1, no ACD.
      {"192.168.6.32", 63410140427LL, {1, 0, 0, 1, 0, 0, 0, 0.0, 0.0, std::nullopt, 1.0}},
      // fsdocs 2014: refused at once with NORMAL_CLEARING: failed, not CALL_REJECTED; NER 0.
      {"default", 63566493098LL, {1, 0, 0, 0, 1, 0, 0, 0.0, 0.0, std::nullopt, 0.0}},
  };
  for (const auto& s : samples) {
    const auto doc = summary(s.account, s.end - 3600, s.end + 3600);
    const auto& data = doc["data"];
    EXPECT_EQ(std::string(data["account_id"].GetString()), s.account);
    EXPECT_EQ(data["created_from"].GetInt64(), s.end - 3600);
    EXPECT_EQ(data["created_to"].GetInt64(), s.end + 3600);
    EXPECT_FALSE(data.HasMember("group_by"));
    expect_counters(data["totals"], s.counters, std::string(s.account) + " @ " + std::to_string(s.end));
    EXPECT_EQ(data["buckets"].Size(), 0u);
  }

  // 2018a (ended 2018-03-13T12:29:24Z, 60 s) and 2018b (2018-03-14T11:09:48Z,
  // 21 s), both in 192.168.56.202: 81 s = 1.35 min, ACD 81 / 2 = 40.5.
  const auto doc = summary("192.168.56.202", 63688163364LL - 10, 63688244988LL + 10, "&group_by=day");
  const auto& data = doc["data"];
  EXPECT_EQ(std::string(data["group_by"].GetString()), "day");
  expect_counters(data["totals"], {2, 2, 0, 0, 0, 0, 81, 1.35, 1.0, 40.5, 1.0}, "2018 totals");
  ASSERT_EQ(data["buckets"].Size(), 2u);
  EXPECT_EQ(std::string(data["buckets"][0]["start"].GetString()), "2018-03-13T00:00:00Z");
  EXPECT_EQ(data["buckets"][0]["start_gregorian"].GetInt64(), 63688118400LL);
  expect_counters(data["buckets"][0], {1, 1, 0, 0, 0, 0, 60, 1.0, 1.0, 60.0, 1.0}, "2018-03-13");
  EXPECT_EQ(std::string(data["buckets"][1]["start"].GetString()), "2018-03-14T00:00:00Z");
  EXPECT_EQ(data["buckets"][1]["start_gregorian"].GetInt64(), 63688204800LL);
  expect_counters(data["buckets"][1], {1, 1, 0, 0, 0, 0, 21, 0.35, 1.0, 21.0, 1.0}, "2018-03-14");
}

// Every billing_status in one account: the 2017 sample answered (68 s,
// ended 10:26:55), busy at the same time, noanswer and CALL_REJECTED an
// hour later, another failure a day later.
TEST_F(SummaryE2E, EveryStatusGroupedByHourAndDay) {
  post("/ingest/freeswitch/json", variant_2017(), "application/json");
  post("/ingest/freeswitch/json", variant_2017("USER_BUSY"), "application/json");
  post("/ingest/freeswitch/json", variant_2017("NO_ANSWER", 3600), "application/json");
  post("/ingest/freeswitch/json", variant_2017("CALL_REJECTED", 3600), "application/json");
  post("/ingest/freeswitch/json", variant_2017("NORMAL_TEMPORARY_FAILURE", 86400), "application/json");
  wait_rows(5);
  const long long from = kDay11;
  const long long to = kDay11 + 2LL * 86400 - 1;

  // attempts 5; answered 1, busy 1, noanswer 1, failed 2 (one CALL_REJECTED);
  // ASR 1/5, ACD 68/1, NER (1+1+1+1)/5.
  const Counters totals = {5, 1, 1, 1, 2, 1, 68, 1.13, 0.2, 68.0, 0.8};
  expect_counters(summary("acct-a", from, to)["data"]["totals"], totals, "ungrouped");

  auto doc = summary("acct-a", from, to, "&group_by=hour");
  auto* data = &doc["data"];
  EXPECT_EQ(std::string((*data)["group_by"].GetString()), "hour");
  expect_counters((*data)["totals"], totals, "hour totals");
  ASSERT_EQ((*data)["buckets"].Size(), 3u);
  const auto& b = (*data)["buckets"];
  EXPECT_EQ(std::string(b[0]["start"].GetString()), "2018-01-11T10:00:00Z");
  EXPECT_EQ(b[0]["start_gregorian"].GetInt64(), kHour10);
  // answered + busy: ASR 1/2, ACD 68, NER 2/2.
  expect_counters(b[0], {2, 1, 1, 0, 0, 0, 68, 1.13, 0.5, 68.0, 1.0}, "10:00");
  EXPECT_EQ(std::string(b[1]["start"].GetString()), "2018-01-11T11:00:00Z");
  EXPECT_EQ(b[1]["start_gregorian"].GetInt64(), kHour10 + 3600);
  // noanswer + rejected: nothing answered (ACD null), NER 2/2.
  expect_counters(b[1], {2, 0, 0, 1, 1, 1, 0, 0.0, 0.0, std::nullopt, 1.0}, "11:00");
  EXPECT_EQ(std::string(b[2]["start"].GetString()), "2018-01-12T10:00:00Z");
  EXPECT_EQ(b[2]["start_gregorian"].GetInt64(), kHour10 + 86400);
  expect_counters(b[2], {1, 0, 0, 0, 1, 0, 0, 0.0, 0.0, std::nullopt, 0.0}, "12th 10:00");

  doc = summary("acct-a", from, to, "&group_by=day");
  data = &doc["data"];
  ASSERT_EQ((*data)["buckets"].Size(), 2u);
  EXPECT_EQ(std::string((*data)["buckets"][0]["start"].GetString()), "2018-01-11T00:00:00Z");
  // 4 legs: ASR 1/4, NER 4/4.
  expect_counters((*data)["buckets"][0], {4, 1, 1, 1, 1, 1, 68, 1.13, 0.25, 68.0, 1.0}, "11th");
  EXPECT_EQ(std::string((*data)["buckets"][1]["start"].GetString()), "2018-01-12T00:00:00Z");
  expect_counters((*data)["buckets"][1], {1, 0, 0, 0, 1, 0, 0, 0.0, 0.0, std::nullopt, 0.0}, "12th");

  // An empty window: zero totals, null ratios, no buckets.
  doc = summary("acct-a", kDay11 - 86400, kDay11 - 1, "&group_by=hour");
  expect_counters(doc["data"]["totals"], {0, 0, 0, 0, 0, 0, 0, 0.0, std::nullopt, std::nullopt, std::nullopt}, "empty");
  EXPECT_EQ(doc["data"]["buckets"].Size(), 0u);

  // The same under /v1/ and with no prefix, with auth_token as the credential.
  const std::string query = "/accounts/acct-a/cdrs/summary?created_from=" + std::to_string(from) +
                            "&created_to=" + std::to_string(to) + "&auth_token=a-key";
  for (const char* prefix : {"/v1", ""}) {
    const HttpResponse r = get(std::string(prefix) + query, {});
    ASSERT_EQ(r.status, 200) << prefix << ": " << r.body;
    expect_counters(parse_json(r.body)["data"]["totals"], totals, prefix);
  }
}

TEST_F(SummaryE2E, BadParametersAre400NamingThemAndOtherAccountsAre403) {
  post("/ingest/freeswitch/json", variant_2017(), "application/json");
  wait_rows(1);
  const std::string window =
      "?created_from=" + std::to_string(kDay11) + "&created_to=" + std::to_string(kDay11 + 86399);
  const struct {
    std::string query;
    std::string names;
  } bad[] = {
      {window + "&group_by=week", "group_by"},
      {window + "&group_by=", "group_by"},
      // 32 days is past the window's limit of 31 days and an hour (2,682,000 s).
      {"?created_from=" + std::to_string(kDay11) + "&created_to=" + std::to_string(kDay11 + 32LL * 86400),
       "created_from: created_to " + std::to_string(kDay11 + 32LL * 86400) + " is more than 2682000 seconds"},
      {"?created_from=yesterday", "created_from"},
      {window + "&group_by=country", "group_by: expected one of hour, day, trunk, destination_country"},
      {window + "&filter_billing_seconds=abc", "filter_billing_seconds"},
      {window + "&filter_billing_seconds=" + url_encode("[68,\"x\"]"), "filter_billing_seconds"},
      {window + "&format=xml", "format: expected cdrd or kazoo"},
      {window + "&format=kazoo&group_by=day", "group_by"},
      {window + "&utc_offset=abc", "utc_offset"},
      {window + "&tz=Mars/Olympus", "tz"},
  };
  for (const auto& b : bad) {
    const HttpResponse r = get("/v2/accounts/acct-a/cdrs/summary" + b.query);
    EXPECT_EQ(r.status, 400) << b.query << ": " << r.body;
    const auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("code") && doc.HasMember("message") && doc.HasMember("request_id"))
        << r.body;
    EXPECT_EQ(std::string(doc["code"].GetString()), "invalid_parameter") << r.body;
    EXPECT_NE(std::string(doc["message"].GetString()).find(b.names), std::string::npos) << r.body;
  }
  // Kazoo's rules: a parameter the route does not know is ignored, and any
  // path into the record is a filter (an absent field reads as "").
  for (const std::string& fine : {window + "&page_size=10", window + "&colour=blue", window + "&filter_nope=A",
                                  window + "&filter_account_id=acct-b", window + "&filter_leg="}) {
    const HttpResponse r = get("/v2/accounts/acct-a/cdrs/summary" + fine);
    EXPECT_EQ(r.status, 200) << fine << ": " << r.body;
  }
  // a-key reads acct-a only; no key at all is 401.
  HttpResponse r = get("/v2/accounts/acct-b/cdrs/summary" + window, kAKey);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(std::string(parse_json(r.body)["code"].GetString()), "forbidden");
  EXPECT_EQ(get("/v2/accounts/acct-a/cdrs/summary" + window, {}).status, 401);
  r = get("/v2/accounts/acct-a/cdrs/summary" + window, kAKey);
  ASSERT_EQ(r.status, 200) << r.body;
  expect_counters(parse_json(r.body)["data"]["totals"], {1, 1, 0, 0, 0, 0, 68, 1.13, 1.0, 68.0, 1.0}, "acct-a");
  // Only GET.
  EXPECT_EQ(http_request(cdrd_->port(), "POST", "/v2/accounts/acct-a/cdrs/summary" + window, "", kAllKey).status, 405);
}

// group_by a billing column, call counters, exact charges, and the list's
// filters, through the daemon's route.
TEST_F(SummaryE2E, CallsChargesGroupByColumnAndFilters) {
  insert_bill_rows();
  const long long from = kBillEnd - 3600;
  const long long to = kBillEnd + 3600;

  // Legs (the loopback half left out): e1a e1b e2b1 e2a e2b2 e3a e3b e4: answered 6, busy e4, failed e2b1;
  // billed 65+60+125+120+30+28 = 428 (7.13 min); ASR 6/8, ACD 428/6, NER 7/8. Calls i-1 (65 s, its longest
  // answered leg), i-2 (125), i-3 (30), e4 (busy): ASR 3/4, ACD 220/3. USD 0.1 + 0.2 and 3 x 0.0001; EUR 0.2 +
  // 0.1 and 0.2.
  const Counters legs = {8, 6, 1, 0, 1, 0, 428, 7.13, 0.75, 71.3333, 0.875};
  const Calls calls = {4, 3, 220, "0.7500", "73.3333"};
  const std::string charges = R"({"EUR":{"customer":"0.3","vendor":"0.2"},"USD":{"customer":"0.3","vendor":"0.0003"}})";
  auto doc = summary("acct-bill", from, to);
  expect_counters(doc["data"]["totals"], legs, "totals");
  expect_calls(doc["data"]["totals"], calls, "totals");
  expect_charges(doc["data"]["totals"], charges, "totals");

  doc = summary("acct-bill", from, to, "&group_by=trunk");
  auto* data = &doc["data"];
  EXPECT_EQ(std::string((*data)["group_by"].GetString()), "trunk");
  expect_counters((*data)["totals"], legs, "trunk totals");
  expect_calls((*data)["totals"], calls, "trunk totals");
  expect_charges((*data)["totals"], charges, "trunk totals");
  ASSERT_EQ((*data)["buckets"].Size(), 3u);
  const auto& t = (*data)["buckets"];
  // carrier-1: e1b (60 s), e2b1 (failed), e3a (30 s); i-2 has only its failed leg here.
  EXPECT_EQ(std::string(t[0]["key"].GetString()), "carrier-1");
  EXPECT_FALSE(t[0].HasMember("start"));
  expect_counters(t[0], {3, 2, 0, 0, 1, 0, 90, 1.5, 0.6667, 45.0, 0.6667}, "carrier-1");
  expect_calls(t[0], {3, 2, 90, "0.6667", "45.0000"}, "carrier-1");
  expect_charges(t[0], R"({"EUR":{"customer":"0.2","vendor":"0.2"},"USD":{"customer":"0","vendor":"0.0002"}})",
                 "carrier-1");
  // carrier-2: e2b2 (120 s), e4 (busy).
  EXPECT_EQ(std::string(t[1]["key"].GetString()), "carrier-2");
  expect_counters(t[1], {2, 1, 1, 0, 0, 0, 120, 2.0, 0.5, 120.0, 1.0}, "carrier-2");
  expect_calls(t[1], {2, 1, 120, "0.5000", "120.0000"}, "carrier-2");
  expect_charges(t[1], R"({"USD":{"customer":"0","vendor":"0.0001"}})", "carrier-2");
  // No trunk: e1a (65 s), e2a (125 s), e3b (28 s): 218 / 3 = 72.6667.
  EXPECT_TRUE(t[2]["key"].IsNull());
  expect_counters(t[2], {3, 3, 0, 0, 0, 0, 218, 3.63, 1.0, 72.6667, 1.0}, "no trunk");
  expect_calls(t[2], {3, 3, 218, "1.0000", "72.6667"}, "no trunk");
  expect_charges(t[2], R"({"EUR":{"customer":"0.1","vendor":"0"},"USD":{"customer":"0.3","vendor":"0"}})", "no trunk");

  // A-legs only, per country: GB e3a (30 s) and e4 (busy); US e1a (65 s) and e2a (125 s).
  doc = summary("acct-bill", from, to, "&group_by=destination_country&filter_leg=A");
  data = &doc["data"];
  expect_counters((*data)["totals"], {4, 3, 1, 0, 0, 0, 220, 3.67, 0.75, 73.3333, 1.0}, "A totals");
  expect_calls((*data)["totals"], calls, "A totals");
  expect_charges((*data)["totals"],
                 R"({"EUR":{"customer":"0.2","vendor":"0.2"},"USD":{"customer":"0.3","vendor":"0"}})", "A totals");
  ASSERT_EQ((*data)["buckets"].Size(), 2u);
  const auto& c = (*data)["buckets"];
  EXPECT_EQ(std::string(c[0]["key"].GetString()), "GB");
  expect_counters(c[0], {2, 1, 1, 0, 0, 0, 30, 0.5, 0.5, 30.0, 1.0}, "A GB");
  expect_calls(c[0], {2, 1, 30, "0.5000", "30.0000"}, "A GB");
  expect_charges(c[0], R"({"EUR":{"customer":"0.2","vendor":"0.2"}})", "A GB");
  EXPECT_EQ(std::string(c[1]["key"].GetString()), "US");
  expect_counters(c[1], {2, 2, 0, 0, 0, 0, 190, 3.17, 1.0, 95.0, 1.0}, "A US");
  expect_calls(c[1], {2, 2, 190, "1.0000", "95.0000"}, "A US");
  expect_charges(c[1], R"({"USD":{"customer":"0.3","vendor":"0"}})", "A US");

  // A prefix filter per hour: i-2's legs (by id; filter_call_id would drop the "201802-" as Kazoo does), one
  // bucket: e2b1 (failed), e2a (125 s), e2b2 (120 s), one call of 125 s.
  doc = summary("acct-bill", from, to, "&group_by=hour&filter_id=201802-e2*");
  data = &doc["data"];
  ASSERT_EQ((*data)["buckets"].Size(), 1u);
  EXPECT_EQ(std::string((*data)["buckets"][0]["start"].GetString()), "2018-02-10T12:00:00Z");
  expect_counters((*data)["buckets"][0], {3, 2, 0, 0, 1, 0, 245, 4.08, 0.6667, 122.5, 0.6667}, "i-2 12:00");
  expect_calls((*data)["buckets"][0], {1, 1, 125, "1.0000", "125.0000"}, "i-2 12:00");
  expect_charges((*data)["buckets"][0], R"({"USD":{"customer":"0.2","vendor":"0.0002"}})", "i-2 12:00");

  // Nothing in the window: zero calls, null ratios, no charges.
  doc = summary("acct-bill", from, to, "&filter_leg=X");
  expect_calls(doc["data"]["totals"], {0, 0, 0, std::nullopt, std::nullopt}, "empty");
  expect_charges(doc["data"]["totals"], "{}", "empty");
}

}  // namespace
}  // namespace cdrd::test
